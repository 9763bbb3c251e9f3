"""What a failure means, decided in one place.

A turn that fails is one of three faults:

- DATABASE_UNAVAILABLE: the database could not be reached or could not commit now (a lock timeout,
  a failed write, a server shutting down or starting up, a dropped connection). Nothing was
  applied: the update is not acknowledged (webhook: 503, Telegram delivers it again; polling: it
  is not confirmed) and is tried again.
- BAD_INPUT: the update carried something the database refuses to store (a value out of range, a
  character it cannot hold). Nothing was applied; the user gets a polite answer and the update is
  acknowledged, since delivering it again would fail again.
- BUG: anything else. Logged with its traceback (without user data), the user is told, and the
  update is acknowledged.

A Bot API call that fails is RETRY (network, timeouts, 5xx, flood control: the reply stays owed),
BLOCKED (the user blocked the bot: nothing more is sent to them), REFUSED (Telegram will never
accept this request: it is skipped) or BUG.

Each rule is a row of a table; tests/test_fault_table.py has a case for every row.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut


class Fault(StrEnum):
    DATABASE_UNAVAILABLE = "database_unavailable"
    BAD_INPUT = "bad_input"
    BUG = "bug"


class SendFault(StrEnum):
    RETRY = "retry"
    BLOCKED = "blocked"
    REFUSED = "refused"
    BUG = "bug"


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps: SQLAlchemy's `orig`, then `__cause__` / `__context__`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        if isinstance(orig, BaseException) and id(orig) not in seen:
            current = orig
        else:
            current = current.__cause__ or current.__context__


# SQLite result codes (the primary code: the low byte of sqlite_errorcode) meaning "not now".
SQLITE_TRANSIENT = {
    5: "SQLITE_BUSY: another connection holds the lock past the busy timeout",
    6: "SQLITE_LOCKED",
    7: "SQLITE_NOMEM",
    8: "SQLITE_READONLY: the file cannot be written now",
    10: "SQLITE_IOERR: a read, write or sync of the file failed (a full or read-only disk, a failed COMMIT)",
    13: "SQLITE_FULL: the disk is full",
    14: "SQLITE_CANTOPEN: the file cannot be opened now",
    15: "SQLITE_PROTOCOL: a WAL lock race",
}
# PostgreSQL SQLSTATEs (or their two-character class) meaning "not now".
POSTGRES_TRANSIENT = {
    "08": "connection exception (refused, closed in the middle of an operation, lost)",
    "53": "insufficient resources (too many connections, disk full, out of memory)",
    "57P01": "admin shutdown (terminating connection due to administrator command)",
    "57P02": "crash shutdown",
    "57P03": "cannot connect now (the database system is starting up / shutting down)",
    "57P04": "database dropped",
    "57P05": "idle session timeout",
    "57014": "query canceled (statement timeout)",
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock not available",
    "58": "system error (I/O error)",
    "25P03": "idle-in-transaction timeout",
}
POSTGRES_BAD_INPUT = {"22": "data exception (a NUL or an untranslatable character, a value out of range)"}


def _sqlite_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(exc, sqlite3.Error) and isinstance(code, int) else None


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) and len(state) == 5 else None


def _matches(state: str | None, table: dict[str, str]) -> bool:
    return state is not None and (state in table or state[:2] in table)


NETWORK_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
    errno.EADDRNOTAVAIL,
}


def _network_error(exc: BaseException) -> bool:
    """A connection that failed. asyncio reports several failed addresses as one OSError without an
    errno; a file that is missing (ENOENT) is not a network error."""
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return True
    return type(exc) is OSError and (exc.errno is None or exc.errno in NETWORK_ERRNOS)


def _driver_module(exc: BaseException) -> str:
    return type(exc).__module__.split(".")[0]


@dataclass(frozen=True)
class Rule:
    case: str
    test: Callable[[BaseException], bool]
    fault: Fault


def _sqlite_transient(e: BaseException) -> bool:
    return _sqlite_code(e) in SQLITE_TRANSIENT


def _postgres_transient(e: BaseException) -> bool:
    return _matches(_sqlstate(e), POSTGRES_TRANSIENT)


def _asyncpg_lost(e: BaseException) -> bool:
    return _driver_module(e) == "asyncpg" and type(e).__name__ in ASYNCPG_LOST


def _invalidated(e: BaseException) -> bool:
    return isinstance(e, DBAPIError) and e.connection_invalidated


def _postgres_bad_input(e: BaseException) -> bool:
    return _matches(_sqlstate(e), POSTGRES_BAD_INPUT)


ASYNCPG_LOST = ("ConnectionDoesNotExistError", "InterfaceError", "InternalClientError")
# The first matching row wins; a row is tried on every exception of the chain before the next row.
DATABASE_RULES = (
    Rule("SQLite: busy, locked, I/O error, disk full, read-only", _sqlite_transient, Fault.DATABASE_UNAVAILABLE),
    Rule(
        "PostgreSQL: connection, shutdown, start-up, resources, locks", _postgres_transient, Fault.DATABASE_UNAVAILABLE
    ),
    Rule("asyncpg: the connection is closed or was lost (no SQLSTATE)", _asyncpg_lost, Fault.DATABASE_UNAVAILABLE),
    Rule("SQLAlchemy invalidated the connection", _invalidated, Fault.DATABASE_UNAVAILABLE),
    Rule(
        "SQLAlchemy's pool had no connection in time", lambda e: isinstance(e, PoolTimeout), Fault.DATABASE_UNAVAILABLE
    ),
    Rule("the server cannot be reached: refused, reset, timed out", _network_error, Fault.DATABASE_UNAVAILABLE),
    Rule("PostgreSQL refuses the data: a NUL, a value out of range", _postgres_bad_input, Fault.BAD_INPUT),
    Rule("SQLite: an integer too large", lambda e: isinstance(e, OverflowError), Fault.BAD_INPUT),
    Rule("text that cannot be encoded: a lone surrogate", lambda e: isinstance(e, UnicodeError), Fault.BAD_INPUT),
)


def classify(exc: BaseException) -> Fault:
    """The fault a failed turn is."""
    chain = list(causes(exc))
    for rule in DATABASE_RULES:
        if any(rule.test(e) for e in chain):
            return rule.fault
    return Fault.BUG


@dataclass(frozen=True)
class SendRule:
    case: str
    types: tuple[type[BaseException], ...]
    fault: SendFault


SEND_RULES = (
    SendRule("the user blocked the bot or deleted their account", (Forbidden,), SendFault.BLOCKED),
    SendRule("the token was revoked", (InvalidToken,), SendFault.BUG),
    SendRule(
        "a request Telegram will never accept: chat not found, bad text", (BadRequest, ChatMigrated), SendFault.REFUSED
    ),
    SendRule("flood control: wait and retry", (RetryAfter,), SendFault.RETRY),
    SendRule("network error, timeout, 5xx from the Bot API", (NetworkError, TimedOut), SendFault.RETRY),
    SendRule("a timeout of our own around the call, a socket error", (TimeoutError, OSError), SendFault.RETRY),
)


def classify_send(exc: BaseException) -> SendFault:
    """What a failed Bot API call means for the reply it carried."""
    for rule in SEND_RULES:
        if isinstance(exc, rule.types):
            return rule.fault
    return SendFault.BUG


def describe(exc: BaseException) -> str:
    """One line naming the failure, with nothing a user typed in it: database errors are reduced to
    their class and code (a driver's message can quote the value it refused)."""
    parts = []
    for e in causes(exc):
        name = f"{type(e).__module__.split('.')[0]}.{type(e).__qualname__}"
        if _sqlite_code(e) is not None:
            parts.append(f"{name}[{getattr(e, 'sqlite_errorname', '')}]")
        elif _sqlstate(e) is not None:
            parts.append(f"{name}[{_sqlstate(e)}]")
        elif isinstance(e, StatementError | DBAPIError) or _driver_module(e) in ("asyncpg", "sqlite3"):
            parts.append(name)
        else:
            parts.append(f"{name}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": "))
    return " <- ".join(parts)


def format_bug(exc: BaseException) -> str:
    """A bug's traceback for the log: every frame, and `describe` in place of the messages."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    return f"{describe(exc)}\nTraceback (most recent call last):\n{frames}".rstrip()
