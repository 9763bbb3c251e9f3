"""Every row of the fault tables (bot/faults.py) has a case here, most of them real errors from a
real database; a row without a case fails the last tests."""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.faults import (
    DATABASE_RULES,
    SEND_RULES,
    Fault,
    SendFault,
    causes,
    classify,
    classify_send,
    describe,
)
from storage.db import Database
from storage.models import User
from storage.prepared import Prepared


def _sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    exc.sqlite_errorcode = code  # type: ignore[attr-defined]
    exc.sqlite_errorname = message  # type: ignore[attr-defined]
    return exc


def _wrapped(driver_error: BaseException) -> DBAPIError:
    """A driver's error as SQLAlchemy hands it on: a DBAPIError whose cause chain holds it."""
    try:
        try:
            raise driver_error
        except BaseException as exc:
            raise DBAPIError("SELECT 1", None, exc) from exc  # type: ignore[arg-type]
    except DBAPIError as wrapped:
        return wrapped


DOWN = Fault.DATABASE_UNAVAILABLE
pg = asyncpg.exceptions
# (rule case, the exception, the fault) -- constructed where the real error needs a server stopping
CONSTRUCTED: list[tuple[str, BaseException, Fault]] = [
    ("SQLite: busy", _wrapped(_sqlite_error(5, "SQLITE_BUSY")), DOWN),
    ("SQLite: I/O", _wrapped(_sqlite_error(778, "SQLITE_IOERR_WRITE")), DOWN),
    ("SQLite: full", _sqlite_error(13, "SQLITE_FULL"), DOWN),
    ("SQLite: read-only", _sqlite_error(8, "SQLITE_READONLY"), DOWN),
    ("PostgreSQL: starting up", _wrapped(pg.CannotConnectNowError("starting up")), DOWN),
    ("PostgreSQL: shutting down", _wrapped(pg.AdminShutdownError("terminating")), DOWN),
    ("PostgreSQL: crash", pg.CrashShutdownError("crash"), DOWN),
    ("PostgreSQL: too many connections", pg.TooManyConnectionsError("x"), DOWN),
    ("PostgreSQL: deadlock", _wrapped(pg.DeadlockDetectedError("x")), DOWN),
    ("PostgreSQL: serialization", pg.SerializationError("x"), DOWN),
    ("PostgreSQL: I/O", pg.PostgresIOError("x"), DOWN),
    (
        "asyncpg: closed in the middle of an operation",
        _wrapped(pg.ConnectionDoesNotExistError("connection was closed in the middle of operation")),
        DOWN,
    ),
    ("asyncpg: connection is closed", pg.InterfaceError("connection is closed"), DOWN),
    ("invalidated", DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True), DOWN),  # type: ignore[arg-type]
    ("pool timeout", PoolTimeout("QueuePool limit reached"), DOWN),
    ("refused", ConnectionRefusedError(111, "Connect call failed"), DOWN),
    ("several addresses failed", OSError("Multiple exceptions: [Errno 111] ..."), DOWN),
    ("timed out", TimeoutError(), DOWN),
    ("PostgreSQL: NUL", _wrapped(pg.CharacterNotInRepertoireError("0x00")), Fault.BAD_INPUT),
    ("PostgreSQL: out of range", pg.NumericValueOutOfRangeError("x"), Fault.BAD_INPUT),
    ("SQLite: integer too large", OverflowError("Python int too large to convert to SQLite INTEGER"), Fault.BAD_INPUT),
    ("lone surrogate", UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), Fault.BAD_INPUT),
    ("a bug", RuntimeError("a bug"), Fault.BUG),
    ("a bug", KeyError("answers"), Fault.BUG),
    ("a missing file is not the network", FileNotFoundError(2, "No such file"), Fault.BUG),
    ("SQLite: no such table (our mistake)", _wrapped(_sqlite_error(1, "SQLITE_ERROR")), Fault.BUG),
    ("a transaction left failed", PendingRollbackError("rollback first"), Fault.BUG),
]


@pytest.mark.parametrize(("case", "exc", "fault"), CONSTRUCTED, ids=[c[0] for c in CONSTRUCTED])
def test_constructed_case(case: str, exc: BaseException, fault: Fault) -> None:
    assert classify(exc) is fault


async def _raised(db: Database, fn: Callable[..., object]) -> BaseException:
    try:
        await db.run(fn)
    except BaseException as exc:
        return exc
    raise AssertionError("no error")


async def test_real_sqlite_lock_timeout_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}", busy_timeout_ms=50)
    await db.upgrade()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert classify(await _raised(db, lambda c: c.execute(text("SELECT 1")))) is Fault.DATABASE_UNAVAILABLE
    finally:
        other.execute("ROLLBACK")
        await db.dispose()


async def test_real_sqlite_mistake_and_overflow(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    try:
        assert classify(await _raised(db, lambda c: c.execute(text("SELECT * FROM nowhere")))) is Fault.BUG
        huge = Prepared(select(User.c.id).where(User.c.id == bindparam("id")))
        assert classify(await _raised(db, lambda c: huge.rows(c, {"id": 2**70}))) is Fault.BAD_INPUT
    finally:
        await db.dispose()


async def test_real_postgresql_errors(postgres_url: str) -> None:
    db = Database(postgres_url)
    await db.upgrade()
    try:
        nul = await _raised(db, lambda c: c.execute(text("SELECT CAST(:v AS text)"), {"v": "a\x00SECRET"}))
        assert classify(nul) is Fault.BAD_INPUT and "SECRET" not in describe(nul)
        huge = Prepared(select(User.c.id).where(User.c.id == bindparam("id")))
        big = await _raised(db, lambda c: huge.rows(c, {"id": 2**70}))
        assert classify(big) is Fault.BAD_INPUT and str(2**70) not in describe(big)
        assert classify(await _raised(db, lambda c: c.execute(text("SELECT * FROM nowhere")))) is Fault.BUG
    finally:
        await db.dispose()
    unreachable = Database("postgresql://postgres@127.0.0.1:1/nowhere")
    try:
        assert classify(await _raised(unreachable, lambda c: c.execute(text("SELECT 1")))) is Fault.DATABASE_UNAVAILABLE
    finally:
        await unreachable.dispose()


def test_every_database_rule_has_a_case() -> None:
    covered = {
        next(r.case for r in DATABASE_RULES if any(r.test(e) for e in _chain(exc)))
        for _, exc, f in CONSTRUCTED
        if f is not Fault.BUG
    }
    assert covered == {r.case for r in DATABASE_RULES}


def _chain(exc: BaseException) -> list[BaseException]:

    return list(causes(exc))


def _retry_after() -> RetryAfter:
    with warnings.catch_warnings():  # PTB 22 warns of its own coming change of `retry_after`'s type
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return RetryAfter(timedelta(seconds=3))


SENDS: list[tuple[BaseException, SendFault]] = [
    (Forbidden("Forbidden: bot was blocked by the user"), SendFault.BLOCKED),
    (InvalidToken("Unauthorized"), SendFault.BUG),
    (BadRequest("Bad Request: chat not found"), SendFault.REFUSED),
    (ChatMigrated(-100123), SendFault.REFUSED),
    (_retry_after(), SendFault.RETRY),
    (NetworkError("Bad Gateway"), SendFault.RETRY),
    (TimedOut(), SendFault.RETRY),
    (TimeoutError(), SendFault.RETRY),
    (ConnectionResetError(), SendFault.RETRY),
    (RuntimeError("a bug"), SendFault.BUG),
]


@pytest.mark.parametrize(("exc", "fault"), SENDS, ids=[type(e).__name__ for e, _ in SENDS])
def test_send_case(exc: BaseException, fault: SendFault) -> None:
    assert classify_send(exc) is fault


def test_every_send_rule_has_a_case() -> None:
    covered = {
        next(r.case for r in SEND_RULES if isinstance(e, r.types)) for e, _ in SENDS if not isinstance(e, RuntimeError)
    }
    assert covered == {r.case for r in SEND_RULES}


def test_describe_names_the_failure_without_what_was_typed() -> None:
    exc = _wrapped(asyncpg.exceptions.DataError("invalid input for query argument $1: 'P1234567' (too long)"))
    line = describe(exc)
    assert "DBAPIError" in line and "P1234567" not in line
    assert describe(RuntimeError("plain bug")) == "builtins.RuntimeError: plain bug"
