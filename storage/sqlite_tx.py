"""SQLite transactions on the process's one connection, alone or shared by concurrent turns.

Repository functions run inline on the event loop (a WAL commit takes tens of microseconds, less
than a thread hop). BEGIN IMMEDIATE and COMMIT are issued on the driver connection: SQLAlchemy's
transaction events cost more than SQLite's commit.

A commit's cost is mostly per transaction, not per row: on this kind of machine each WAL frame is
two write() calls, every transaction takes and releases its locks with fcntl(), and the turns of
different users write the same last pages of the turn log and the outbox. So when several turns
are in flight at once (a webhook serving concurrent requests), a turn may share its transaction:
it runs in a savepoint of a transaction whose COMMIT is scheduled for the next iteration of the
event loop, and every turn that starts before then joins it. Each member still waits for that
COMMIT before it returns, so no reply is sent before its turn is on disk. A member that fails rolls
back its own savepoint only; a COMMIT that fails fails every member, and none of them is applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import DBAPIError

from storage.session_cache import SessionCache

log = logging.getLogger(__name__)
T = TypeVar("T")


def _translated(exc: sqlite3.Error, what: str) -> DBAPIError:
    """BEGIN/COMMIT errors as SQLAlchemy would raise them (OperationalError for a lock timeout)."""
    return DBAPIError.instance(what, None, exc, sqlite3.Error)


def _driver(conn: Connection) -> Any:
    """The sqlite3 connection under SQLAlchemy's, for BEGIN/SAVEPOINT/COMMIT without its events."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    return raw


class _Shared:
    """One transaction that several turns joined, and a future per member for its COMMIT (one
    future each: a member whose task is cancelled must not cancel the others' wait)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[asyncio.Future[None]] = []

    def wait(self) -> asyncio.Future[None]:
        future: asyncio.Future[None] = self.loop.create_future()
        self.waiting.append(future)
        return future

    def finish(self, error: BaseException | None) -> None:
        for future in self.waiting:
            if future.done():  # its task was cancelled
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)


CACHE_KEY = "session_cache"  # where load_session finds the cache: the connection's `info`


class SqliteTransactions:
    def __init__(
        self,
        engine: Engine,
        on_connect: Callable[[str], None] = lambda _path: None,
        sessions: SessionCache | None = None,
    ) -> None:
        self.engine = engine
        self._on_connect = on_connect
        self._conn: Connection | None = None
        self._shared: _Shared | None = None
        self.shared_commits = 0  # transactions that more than one turn joined (for tests and metrics)
        self.sessions = sessions
        if sessions is not None:
            event.listen(engine, "before_cursor_execute", self._statement)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        """Every statement but the hot path's prepared ones passes here: a write of any kind may
        touch a user's row or dialog states behind the session cache's back."""
        assert self.sessions is not None
        if not statement.startswith("SELECT"):
            self.sessions.invalidate()

    def connection(self) -> Connection:
        """One connection for the process: turns run on the event loop's thread one at a time, so a
        pool would only add a checkout and a reset ROLLBACK to every turn."""
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._conn = self.engine.connect()
            self._on_connect(self.engine.url.database or "")
            if self.sessions is not None:
                self.sessions.reset()
                self._conn.info[CACHE_KEY] = self.sessions
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- a transaction of one's own ---------------------------------------------------------
    def run_alone(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(connection, ...)` in a transaction of its own, committed before this returns.

        A repository that executes through SQLAlchemy inside `fn` makes SQLAlchemy begin its own
        transaction object (no SQL on SQLite); it is committed or rolled back with it."""
        conn = self.connection()
        raw = _driver(conn)
        sessions = self.sessions
        try:
            raw.execute("BEGIN IMMEDIATE")  # the write lock up front: see storage/db.py
            if sessions is not None:
                sessions.check_data_version(raw)
            result = fn(conn, *args, **kwargs)
            self._commit_published(conn)
        except BaseException as exc:
            self._rollback(conn)
            if isinstance(exc, sqlite3.Error):
                raise _translated(exc, "BEGIN/COMMIT") from exc
            raise
        return result

    # --- a shared transaction ---------------------------------------------------------------
    async def run(self, fn: Callable[..., T], *args: Any, share: bool = False, **kwargs: Any) -> T:
        """Join the open shared transaction if there is one (the connection is in it); else open
        one when `share` (other turns are in flight and will join), else run alone."""
        shared = self._shared
        if shared is None:
            if not share:
                return self.run_alone(fn, *args, **kwargs)
            shared = self._open()
        conn = self.connection()
        raw = _driver(conn)
        raw.execute("SAVEPOINT turn")
        mark = self.sessions.mark() if self.sessions is not None else 0
        try:
            result = fn(conn, *args, **kwargs)
        except BaseException:
            raw.execute("ROLLBACK TO turn")
            raw.execute("RELEASE turn")
            if self.sessions is not None:
                self.sessions.rolled_back_to(mark)
            raise
        raw.execute("RELEASE turn")
        await shared.wait()
        return result

    def _open(self) -> _Shared:
        conn = self.connection()
        raw = _driver(conn)
        try:
            raw.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _translated(exc, "BEGIN IMMEDIATE") from exc
        if self.sessions is not None:
            try:
                self.sessions.check_data_version(raw)
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise _translated(exc, "PRAGMA data_version") from exc
        loop = asyncio.get_running_loop()
        shared = self._shared = _Shared(loop)
        loop.call_soon(self._commit_shared, shared)  # after every turn that is ready to run now
        return shared

    def _commit_shared(self, shared: _Shared) -> None:
        self._shared = None
        conn = self.connection()
        try:
            self._commit_published(conn)
        except sqlite3.Error as exc:
            self._rollback(conn)
            shared.finish(_translated(exc, "COMMIT"))
            return
        except BaseException as exc:  # not expected: still, nobody may wait forever
            self._rollback(conn)
            shared.finish(exc)
            raise
        self.shared_commits += len(shared.waiting) > 1
        shared.finish(None)

    async def settled(self) -> None:
        """Wait until no shared transaction is open (before work that manages its own, like migrations)."""
        while self._shared is not None:
            with contextlib.suppress(Exception):  # its members are told; here only the wait matters
                await self._shared.wait()

    # --- helpers --------------------------------------------------------------------------------
    # The session cache publishes what a transaction staged when it commits, and drops it when it
    # rolls back: here, so that no way of ending a transaction can miss it.
    def _commit_published(self, conn: Connection) -> None:
        self._commit(conn)
        if self.sessions is not None:
            self.sessions.committed()

    @staticmethod
    def _commit(conn: Connection) -> None:
        if conn.in_transaction():
            conn.commit()
        else:
            _driver(conn).commit()

    def _rollback(self, conn: Connection) -> None:
        if self.sessions is not None:
            self.sessions.rolled_back()
        try:
            if conn.in_transaction():
                conn.rollback()
            else:
                _driver(conn).rollback()
        except Exception:  # the connection is broken: open a new one next time
            log.warning("rollback failed; reconnecting", exc_info=True)
            conn.invalidate()
