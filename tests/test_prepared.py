"""Prepared statements (storage/prepared.py) and SQLite's transaction and checkpoint handling.

A prepared statement must write and read exactly what SQLAlchemy's own execution does, on both
databases, and fail with the same exception classes."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from dialogs.session import DialogRecord
from storage.db import WAL_LIMIT_FRAMES, Checkpointer, Database
from storage.models import DialogState, Turn, User, UTCDateTime
from storage.prepared import Prepared
from storage.sessions import _SESSION, load_session, save_session

NOW = datetime(2026, 11, 22, 21, 30, 15, 123456, tzinfo=UTC)

_INSERT_USER = Prepared(
    User.insert().values(
        id=bindparam("id"), language=bindparam("language"), created_at=bindparam("at"), updated_at=bindparam("at")
    )
)
_INSERT_STATE = Prepared(
    DialogState.insert().values(
        user_id=bindparam("uid"),
        dialog=bindparam("dialog"),
        state=bindparam("state"),
        answers=bindparam("answers"),
        history=bindparam("history"),
        version=bindparam("version"),
        updated_at=bindparam("at"),
    )
)


def _write_both_ways(conn: Connection) -> None:
    # user 1 and its state through SQLAlchemy, user 2 through the prepared statements
    conn.execute(User.insert().values(id=1, language="zh", created_at=NOW, updated_at=NOW))
    conn.execute(
        DialogState.insert().values(
            user_id=1,
            dialog="check",
            state="months",
            answers={"location": "mainland", "months": 6, "名": "值"},
            history=["location", "provider"],
            version=3,
            updated_at=NOW,
        )
    )
    _INSERT_USER.run(conn, {"id": 2, "language": "zh", "at": NOW})
    _INSERT_STATE.run(
        conn,
        {
            "uid": 2,
            "dialog": "check",
            "state": "months",
            "answers": {"location": "mainland", "months": 6, "名": "值"},
            "history": ["location", "provider"],
            "version": 3,
            "at": NOW,
        },
    )


def _read_both_ways(conn: Connection) -> tuple[list[tuple], list[tuple]]:
    through_sqlalchemy = [tuple(r) for r in conn.execute(_SESSION.statement, {"uid": 1}).all()]
    prepared = _SESSION.rows(conn, {"uid": 2})
    return through_sqlalchemy, prepared


async def test_prepared_statements_write_and_read_what_sqlalchemy_does(database_url: str) -> None:
    db = Database(database_url)
    await db.upgrade()
    await db.run(_write_both_ways)
    by_sqlalchemy, by_prepared = await db.run(_read_both_ways)
    assert by_sqlalchemy == by_prepared
    (row,) = by_prepared
    assert row[3] is None  # blocked_at
    assert row[7] == {"location": "mainland", "months": 6, "名": "值"}
    assert row[8] == ["location", "provider"]
    # Stored values are identical too: compare the raw columns, read back through SQLAlchemy.
    raw = await db.run(lambda c: [tuple(r[1:]) for r in c.execute(select(User).order_by(User.c.id)).all()])
    assert raw[0] == raw[1]
    await db.dispose()


async def test_column_defaults_are_applied_and_literals_kept(database_url: str) -> None:
    """reminders_enabled has a Python-side default; version + 1 in the upsert is a literal."""
    db = Database(database_url)
    await db.upgrade()

    def turn(conn: Connection) -> tuple[bool, int]:
        session = load_session(conn, 77, "en")  # creates the user with the prepared INSERT
        session.records["check"] = DialogRecord("provider", {}, [], changed=True)
        save_session(conn, session)
        again = load_session(conn, 77, "en")
        again.records["check"] = DialogRecord("product", {}, ["provider"], changed=True)
        save_session(conn, again)
        enabled = conn.execute(select(User.c.reminders_enabled).where(User.c.id == 77)).scalar_one()
        version = conn.execute(select(DialogState.c.version).where(DialogState.c.user_id == 77)).scalar_one()
        return enabled, version

    enabled, version = await db.run(turn)
    assert enabled is True
    assert version == 2
    await db.dispose()


async def test_driver_errors_come_out_as_sqlalchemy_errors_and_roll_back(database_url: str) -> None:
    db = Database(database_url)
    await db.upgrade()
    await db.run(lambda c: _INSERT_USER.run(c, {"id": 5, "language": "en", "at": NOW}))

    def twice(conn: Connection) -> None:
        _INSERT_USER.run(conn, {"id": 6, "language": "en", "at": NOW})
        _INSERT_USER.run(conn, {"id": 5, "language": "en", "at": NOW})  # duplicate key

    with pytest.raises(IntegrityError):
        await db.run(twice)
    ids = await db.run(lambda c: sorted(c.execute(select(User.c.id)).scalars()))
    assert ids == [5]  # user 6 was rolled back with the failed turn
    await db.dispose()


async def test_naive_datetimes_are_refused_as_by_sqlalchemy(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    await db.upgrade()
    with pytest.raises(ValueError, match="naive"):
        await db.run(lambda c: _INSERT_USER.run(c, {"id": 9, "language": "en", "at": datetime(2026, 1, 1)}))
    await db.dispose()


async def test_sqlite_commits_do_not_checkpoint_and_the_checkpointer_does(tmp_path: Path) -> None:
    """The database file only grows when a checkpoint copies pages back from the WAL."""
    path = tmp_path / "wal.db"
    db = Database(f"sqlite:///{path}")
    await db.upgrade()
    assert db._checkpointer is not None
    db._checkpointer.stop()  # hold checkpoints to see what commits alone do
    size = path.stat().st_size

    def one_turn(conn: Connection, uid: int) -> None:
        session = load_session(conn, uid, "en")
        session.records["check"] = DialogRecord("provider", {"location": "mainland"}, [], changed=True)
        save_session(conn, session)

    for uid in range(1, 400):
        await db.run(one_turn, uid)
    # SQLite's automatic checkpoint (every 1,000 pages) would have copied pages back by now.
    assert Path(f"{path}-wal").stat().st_size > 1000 * 4096
    assert path.stat().st_size == size

    checkpointer = Checkpointer(str(path), interval=0.02)
    checkpointer.start()
    await db.run(one_turn, 1000)  # writers go on meanwhile
    for _ in range(100):
        if path.stat().st_size > size:
            break
        await asyncio.sleep(0.02)
    checkpointer.stop()
    assert path.stat().st_size > size
    users = await db.run(lambda c: c.execute(select(func.count()).select_from(User)).scalar_one())
    assert users == 400
    await db.dispose()


async def test_the_wal_starts_over_under_sustained_writes(tmp_path: Path) -> None:
    """Writes that never pause leave no moment when the Checkpointer has copied every frame back,
    and SQLite starts the WAL over only then: past the WAL limit the writer checkpoints itself."""
    path = tmp_path / "busy.db"
    db = Database(f"sqlite:///{path}")
    await db.upgrade()
    raw = db._sqlite.connection().connection.dbapi_connection  # type: ignore[union-attr]
    assert raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_LIMIT_FRAMES
    raw.execute("PRAGMA wal_autocheckpoint=300")  # scaled down

    def one_turn(conn: Connection, uid: int) -> None:
        session = load_session(conn, uid, "en")
        session.records["check"] = DialogRecord(
            "provider", {"location": "mainland", "pad": "x" * 3000}, [], changed=True
        )
        save_session(conn, session)

    wal = Path(f"{path}-wal")
    largest = 0
    for uid in range(1, 1500):
        await db.run(one_turn, uid)
        largest = max(largest, wal.stat().st_size)
    # The turns write ~6,000 frames (25 MB), which a WAL that never starts over would hold.
    assert largest < 600 * 4120, largest
    users = await db.run(lambda c: c.execute(select(func.count()).select_from(User)).scalar_one())
    assert users == 1499
    await db.dispose()


async def test_a_failed_commit_is_reported_and_the_next_turn_works(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE that cannot get the lock fails like SQLAlchemy would (OperationalError)."""
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}", busy_timeout_ms=50)
    await db.upgrade()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        await db.run(lambda c: _INSERT_USER.run(c, {"id": 1, "language": "en", "at": NOW}))
    other.execute("ROLLBACK")
    await db.run(lambda c: _INSERT_USER.run(c, {"id": 1, "language": "en", "at": NOW}))
    turns = await db.run(lambda c: c.execute(select(Turn.c.id)).all())
    assert turns == []
    assert await db.run(lambda c: c.execute(select(User.c.id)).scalars().all()) == [1]
    await db.dispose()


async def test_one_name_bound_twice_takes_the_same_value(database_url: str) -> None:
    db = Database(database_url)
    await db.upgrade()
    await db.run(lambda c: _INSERT_USER.run(c, {"id": 3, "language": "en", "at": NOW}))
    twice = Prepared(select(User.c.id).where(User.c.id == bindparam("x"), User.c.id < bindparam("x") + 1))
    assert await db.run(lambda c: twice.rows(c, {"x": 3})) == [(3,)]
    assert await db.run(lambda c: twice.rows(c, {"x": 4})) == []
    await db.dispose()


async def test_one_datetime_bound_to_many_rows_is_converted_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn binds its one `now` to every row and statement it writes; converting it is not free
    (UTCDateTime, then SQLite's text form), so it is done once per value, and each row still gets it."""
    calls: list[datetime] = []
    convert = UTCDateTime.process_bind_param

    def counting(self: UTCDateTime, value: datetime | None, dialect: object) -> datetime | None:
        calls.append(value)  # type: ignore[arg-type]
        return convert(self, value, dialect)

    monkeypatch.setattr(UTCDateTime, "process_bind_param", counting)
    db = Database(sqlite_url)
    await db.upgrade()
    now, later = datetime(2026, 11, 23, 7, 0, tzinfo=UTC), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    rows = [{"id": i, "language": "en", "at": now} for i in range(1, 6)] + [{"id": 6, "language": "en", "at": later}]
    insert = Prepared(_INSERT_USER.statement)  # compiled afresh, under the counting converter
    await db.run(lambda c: insert.run_many(c, rows))
    again = Prepared(_INSERT_STATE.statement)  # another statement binding the same value
    state = {"uid": 6, "dialog": "check", "state": "s", "answers": {}, "history": [], "version": 1, "at": later}
    await db.run(lambda c: again.run(c, state))
    assert calls == [now, later]
    stored = await db.run(lambda c: c.execute(select(User.c.created_at).order_by(User.c.id)).scalars().all())
    assert stored == [now] * 5 + [later]
    await db.dispose()
