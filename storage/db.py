"""The database: one transaction per call to `Database.run`, on SQLite or PostgreSQL.

Repository functions are plain synchronous functions of a SQLAlchemy `Connection`, so the same
SQL serves both databases. On SQLite they run inline on the event loop: a WAL commit takes tens
of microseconds, far less than a thread hop. On PostgreSQL they run through asyncpg with
`AsyncConnection.run_sync`, so the loop never waits on the network.

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
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
CHECKPOINT_INTERVAL_S = 0.5  # the WAL grows by at most this long's commits before it is copied back


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


def _upgrade(conn: Connection) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


class Database:
    def __init__(self, raw_url: str, sqlite_synchronous: str = "NORMAL", busy_timeout_ms: int = 5000) -> None:
        self.url = normalize_url(raw_url)
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        self._conn: Connection | None = None
        self._checkpointer: Checkpointer | None = None
        if self.url.get_backend_name() == "sqlite":
            self._sync = create_engine(self.url, json_serializer=_json_dumps, json_deserializer=orjson.loads)
            _configure_sqlite(self._sync, sqlite_synchronous, busy_timeout_ms)
        else:
            self._async = create_async_engine(
                self.url, pool_pre_ping=True, json_serializer=_json_dumps, json_deserializer=orjson.loads
            )

    def _sqlite_connection(self) -> Connection:
        """One connection for the process: turns run inline on the event loop's thread, one at a
        time, so a pool would only add a checkout and a reset ROLLBACK to every turn."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            assert self._sync is not None
            self._conn = self._sync.connect()
            path = self.url.database
            if self._checkpointer is None and path and path != ":memory:":
                self._checkpointer = Checkpointer(path)
                self._checkpointer.start()
        return self._conn

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    async def run(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(connection, ...)` in one transaction, committed before this returns."""
        if self._sync is not None:
            return self._run_sqlite(fn, *args, **kwargs)
        assert self._async is not None
        async with self._async.begin() as aconn:
            return await aconn.run_sync(fn, *args, **kwargs)

    def _run_sqlite(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """BEGIN IMMEDIATE and COMMIT on the driver connection: SQLAlchemy's transaction events cost
        more than SQLite's commit. A repository that executes through SQLAlchemy inside `fn` makes
        SQLAlchemy begin its own transaction object (no SQL on SQLite); it is committed with it."""
        conn = self._sqlite_connection()
        raw = conn.connection.dbapi_connection
        assert raw is not None
        try:
            raw.execute("BEGIN IMMEDIATE")  # the write lock up front: see _configure_sqlite
            result = fn(conn, *args, **kwargs)
            if conn.in_transaction():
                conn.commit()
            else:
                raw.commit()
        except BaseException as exc:
            try:
                if conn.in_transaction():
                    conn.rollback()
                else:
                    raw.rollback()
            except Exception:  # the connection is broken: open a new one next time
                log.warning("rollback failed; reconnecting", exc_info=True)
                conn.invalidate()
            if isinstance(exc, sqlite3.Error):  # BEGIN or COMMIT: the same exception SQLAlchemy would raise
                raise DBAPIError.instance("BEGIN/COMMIT", None, exc, sqlite3.Error) from exc
            raise
        return result

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head."""
        await self.run(_upgrade)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._sync is not None:
            self._sync.dispose()
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
        # Checkpoints are the Checkpointer's job (a thread of their own). A turn reads then
        # writes: Database.run takes the write lock up front with BEGIN IMMEDIATE, because a
        # deferred transaction that must upgrade its lock fails with "database is locked"
        # instead of waiting.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
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
