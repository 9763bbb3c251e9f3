"""The database: `Database.run(fn, ...)` runs `fn(connection, ...)` in one transaction, committed
before it returns, on SQLite or PostgreSQL.

Repository functions are plain synchronous functions of a SQLAlchemy `Connection`, so the same SQL
serves both databases. On SQLite they run inline on the event loop, on the process's one
connection (a WAL commit takes tens of microseconds, less than a thread hop; a pool would only add
a checkout and a reset ROLLBACK to every turn). On PostgreSQL they run through asyncpg with
`AsyncConnection.run_sync`, so the loop never waits on the network.

A transaction that fails anywhere, its COMMIT included, is rolled back and leaves the connection
usable; if even the rollback fails, the connection is replaced. Bound parameters (what users
typed) never appear in an exception's message (`hide_parameters`).

SQLite's WAL checkpoints (copying committed pages back into the database file, with an fsync)
run in a background thread on a connection of their own, not inside whichever commit crossed the
threshold: a commit then only appends to the WAL. Durability is unchanged; only which thread
waits for the checkpoint is.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

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
# next write starts the WAL over. At 256 MB that pause comes once in ~7 s at 1,000 turns/s.
WAL_LIMIT_FRAMES = 65_536
# The newest migration in storage/migrations/versions (tests/test_storage.py checks it against
# Alembic's own answer). A database already there starts without importing Alembic, which costs a
# third of a second of start-up.
SCHEMA_HEAD = "0008"
# PostgreSQL advisory lock held while migrating: processes starting together migrate one at a time,
# and the later ones find the schema at head.
MIGRATION_LOCK = 0x1C_B0_7_0


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
    """Migrate to head, one process at a time: on SQLite the transaction's write lock serialises
    migrations, on PostgreSQL an advisory lock does; whoever waited finds the work done."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    if _at_head(conn):
        return
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


class Database:
    def __init__(self, raw_url: str, sqlite_synchronous: str = "NORMAL", busy_timeout_ms: int = 5000) -> None:
        self.url = normalize_url(raw_url)
        self._sqlite: _SqliteConnection | None = None
        self._async: AsyncEngine | None = None
        self._checkpointer: Checkpointer | None = None
        common: dict[str, Any] = {
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
            "hide_parameters": True,  # what users typed never reaches an exception message or a log
        }
        if self.url.get_backend_name() == "sqlite":
            engine = create_engine(self.url, **common)
            _configure_sqlite(engine, sqlite_synchronous, busy_timeout_ms)
            self._sqlite = _SqliteConnection(engine, on_connect=self._start_checkpointer)
        else:
            from sqlalchemy.ext.asyncio import create_async_engine  # PostgreSQL only: costs start-up time

            self._async = create_async_engine(self.url, pool_pre_ping=True, **common)

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
            return self._sqlite.run(fn, *args, **kwargs)
        assert self._async is not None
        async with self._async.begin() as aconn:
            return await aconn.run_sync(fn, *args, **kwargs)

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head (a database at head is only looked at)."""
        if not await self.run(_at_head):
            await self.run(_upgrade)
            log.info("database schema upgraded to %s", SCHEMA_HEAD)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._sqlite is not None:
            self._sqlite.close()
        if self._async is not None:
            await self._async.dispose()


class _SqliteConnection:
    """The process's one SQLite connection and its transactions.

    BEGIN IMMEDIATE and COMMIT go to the driver connection: SQLAlchemy's transaction events cost
    more than SQLite's commit. BEGIN IMMEDIATE takes the write lock up front, because a deferred
    transaction that must upgrade its lock fails with "database is locked" instead of waiting."""

    def __init__(self, engine: Engine, on_connect: Callable[[str], None]) -> None:
        self.engine = engine
        self._on_connect = on_connect
        self._conn: Connection | None = None

    def connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
            self._on_connect(self.engine.url.database or "")
        return self._conn

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        conn = self.connection()
        raw = conn.connection.dbapi_connection
        assert raw is not None
        try:
            raw.execute("BEGIN IMMEDIATE")
            result = fn(conn, *args, **kwargs)
            # Statements run through SQLAlchemy gave it a transaction object of its own (no SQL on
            # SQLite): committing that commits the driver's; otherwise the driver's is committed
            # (a no-op if something committed it already, as a migration may).
            if conn.in_transaction():
                conn.commit()
            else:
                raw.commit()
        except BaseException as exc:
            self._rollback(conn)
            if isinstance(exc, sqlite3.Error):  # BEGIN or COMMIT: as SQLAlchemy would raise it
                raise DBAPIError.instance("BEGIN/COMMIT", None, exc, sqlite3.Error, hide_parameters=True) from exc
            raise
        return result

    def _rollback(self, conn: Connection) -> None:
        """Undo everything, whatever failed. A failed COMMIT leaves SQLAlchemy's transaction object
        inactive but current (every later statement would raise PendingRollbackError until it is
        rolled back), and SQLite may or may not have rolled back the transaction itself."""
        try:
            conn.rollback()
            raw = conn.connection.dbapi_connection
            if raw is not None and raw.in_transaction:
                raw.rollback()
        except Exception as exc:
            log.warning("rollback failed (%s); the database connection is replaced", type(exc).__name__)
            with contextlib.suppress(Exception):
                conn.invalidate()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self.engine.dispose()


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
        # Take over transaction control from pysqlite so BEGIN IMMEDIATE can be issued.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Checkpoints are the Checkpointer's job (a thread of their own), but for the WAL limit.
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
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)
