"""The database: one transaction per call to `Database.run`, on SQLite or PostgreSQL.

Repository functions are plain synchronous functions of a SQLAlchemy `Connection`, so the same
SQL serves both databases. On SQLite they run inline on the event loop (storage/sqlite_tx.py).
On PostgreSQL they run through asyncpg with `AsyncConnection.run_sync`, so the loop never waits
on the network.

SQLite's WAL checkpoints (copying committed pages back into the database file, with an fsync)
run in a background thread on a connection of their own, not inside whichever commit crossed
the threshold: a commit then only appends to the WAL. Durability is unchanged; only which
thread waits for the checkpoint is.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from storage.session_cache import DEFAULT_CAPACITY, SessionCache
from storage.sqlite_tx import SqliteTransactions

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
CHECKPOINT_INTERVAL_S = 0.5  # the WAL grows by at most this long's commits before it is copied back
# SQLite starts the WAL over from its beginning only when a write finds every frame copied back,
# which under sustained writes the Checkpointer never achieves: frames are appended while it
# copies. Past this many frames (~256 MB) the committing connection checkpoints itself (SQLite's
# own automatic checkpoint): it copies what the Checkpointer has not yet copied and syncs, and the
# next write starts the WAL over. That pause (tens of ms: two fsyncs) comes every few seconds at
# full load with a limit of 64 MB, enough to show in the p99; at 256 MB, once in ~7 s at 1,000
# turns/s, it stays out of it.
WAL_LIMIT_FRAMES = 65_536
# The newest migration in storage/migrations/versions (tests/test_storage.py checks it against
# Alembic's own answer). A database already there starts without importing Alembic, which costs a
# third of a second of start-up.
SCHEMA_HEAD = "0006"


class DatabaseUrlError(ValueError):
    pass


def normalize_url(raw: str) -> URL:
    """Accept sqlite[+driver]:// and postgres[ql][+driver]://; pick the driver we run with."""
    try:
        url = make_url(raw)
    except Exception as exc:  # SQLAlchemy raises ArgumentError with a long message
        raise DatabaseUrlError(f"not a database URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite")
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseUrlError(f"unsupported database {backend!r}: use sqlite or postgresql")


def alembic_config() -> Config:
    from alembic.config import Config  # imported on use: alembic costs start-up time otherwise

    cfg = Config()
    cfg.set_main_option("script_location", "storage:migrations")
    return cfg


def _at_head(conn: Connection) -> bool:
    if not inspect(conn).has_table("alembic_version"):
        return False
    return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))} == {SCHEMA_HEAD}


def _upgrade(conn: Connection) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


class Database:
    def __init__(
        self,
        raw_url: str,
        sqlite_synchronous: str = "NORMAL",
        busy_timeout_ms: int = 5000,
        session_cache_size: int = DEFAULT_CAPACITY,
    ) -> None:
        self.url = normalize_url(raw_url)
        self._sqlite: SqliteTransactions | None = None
        self._async: AsyncEngine | None = None
        self._checkpointer: Checkpointer | None = None
        if self.url.get_backend_name() == "sqlite":
            engine = create_engine(self.url, json_serializer=_json_dumps, json_deserializer=orjson.loads)
            _configure_sqlite(engine, sqlite_synchronous, busy_timeout_ms)
            sessions = SessionCache(session_cache_size) if session_cache_size > 0 else None
            self._sqlite = SqliteTransactions(engine, on_connect=self._start_checkpointer, sessions=sessions)
        else:
            from sqlalchemy.ext.asyncio import create_async_engine  # PostgreSQL only: costs start-up time

            self._async = create_async_engine(
                self.url, pool_pre_ping=True, json_serializer=_json_dumps, json_deserializer=orjson.loads
            )

    def _start_checkpointer(self, path: str) -> None:
        if self._checkpointer is None and path and path != ":memory:":
            self._checkpointer = Checkpointer(path)
            self._checkpointer.start()

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    async def run(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(connection, ...)` in one transaction, committed before this returns."""
        if self._sqlite is not None:
            return await self._sqlite.run(fn, *args, **kwargs)
        assert self._async is not None
        async with self._async.begin() as aconn:
            return await aconn.run_sync(fn, *args, **kwargs)

    async def run_together(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Like `run`, for when other turns are in flight: on SQLite they may share one transaction
        (storage/sqlite_tx.py); each still returns only after that transaction committed."""
        if self._sqlite is not None:
            return await self._sqlite.run(fn, *args, share=True, **kwargs)
        return await self.run(fn, *args, **kwargs)

    @property
    def session_cache(self) -> SessionCache | None:
        """Recently active users' sessions (SQLite; storage/session_cache.py)."""
        return self._sqlite.sessions if self._sqlite is not None else None

    @property
    def shared_commits(self) -> int:
        """SQLite transactions that more than one turn shared."""
        return self._sqlite.shared_commits if self._sqlite is not None else 0

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head (in a transaction of their own: alembic commits)."""
        if await self.run(_at_head):
            return
        if self._sqlite is not None:
            await self._sqlite.settled()
            self._sqlite.run_alone(_upgrade)
            return
        await self.run(_upgrade)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._sqlite is not None:
            await self._sqlite.settled()
            self._sqlite.close()
            self._sqlite.engine.dispose()
        if self._async is not None:
            await self._async.dispose()


def _json_dumps(value: Any) -> str:
    """JSON columns are written on every turn (answers, history, turn log, outbox): orjson is
    several times faster than the standard library at the same output."""
    return orjson.dumps(value).decode()


def _configure_sqlite(engine: Engine, synchronous: str, busy_timeout_ms: int) -> None:
    synchronous = synchronous.upper()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise DatabaseUrlError(f"SQLITE_SYNCHRONOUS must be one of {', '.join(SQLITE_SYNCHRONOUS)}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE can be issued below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Checkpoints are the Checkpointer's job (a thread of their own), but for the WAL limit
        # (WAL_LIMIT_FRAMES). A turn reads then
        # writes: Database.run takes the write lock up front with BEGIN IMMEDIATE, because a
        # deferred transaction that must upgrade its lock fails with "database is locked"
        # instead of waiting.
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_LIMIT_FRAMES}")
        cursor.close()


class Checkpointer(threading.Thread):
    """Copies the WAL back into the database file every CHECKPOINT_INTERVAL_S, off the event loop.

    PASSIVE never waits for a lock and never blocks a writer; frames it cannot copy now are
    copied next time. sqlite3 releases the GIL while it works, so the loop runs meanwhile."""

    def __init__(self, path: str, interval: float = CHECKPOINT_INTERVAL_S) -> None:
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self.path = path
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop_event.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next round tries again
                    log.warning("WAL checkpoint failed: %s", exc)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
