"""The database: one transaction per call to `Database.run`, on SQLite or PostgreSQL.

Repository functions are plain synchronous functions of a SQLAlchemy `Connection`, so the same
SQL serves both databases. On SQLite they run inline on the event loop: a WAL commit takes tens
of microseconds, far less than a thread hop. On PostgreSQL they run through asyncpg with
`AsyncConnection.run_sync`, so the loop never waits on the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

P = ParamSpec("P")
T = TypeVar("T")
SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


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
        return self._conn

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()

    async def run(self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(connection, ...)` in one transaction, committed before this returns."""
        if self._sync is not None:
            conn = self._sqlite_connection()
            with conn.begin():
                return fn(conn, *args, **kwargs)
        assert self._async is not None
        async with self._async.begin() as aconn:
            return await aconn.run_sync(fn, *args, **kwargs)

    async def upgrade(self) -> None:
        """Apply the Alembic migrations up to head."""
        await self.run(_upgrade)

    async def dispose(self) -> None:
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Take the write lock at the start: a turn reads then writes, and a deferred transaction
        # that must upgrade its lock fails with "database is locked" instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
