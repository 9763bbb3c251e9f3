"""Hot-path statements: SQLAlchemy Core, compiled once per dialect, run on the driver's cursor.

`Connection.execute` costs several times what SQLite itself needs for a one-row write (execution
context, events, result metadata, all in Python). The handful of statements every turn runs are
still written once, as Core, for both databases; here they are compiled once per dialect and
executed on the DBAPI cursor of the same connection and transaction, with each column type's own
bind and result processors, so what they write and read is exactly what SQLAlchemy would.
Everything else keeps using `Connection.execute`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind parameters in positional order
    # For a parameter the caller does not pass: a literal of the statement, or the column's default.
    defaults: tuple[Callable[[], Any], ...]
    # Every parameter fetched at once (in C); then only the positions with a processor are visited
    # (a JSON column, a datetime), not every column of every row.
    fetch: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    bound: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, the column type's bind processor)
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]  # per selected or returned column

    def row_params(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        try:
            values = self.fetch(params)
        except KeyError:  # one the caller leaves out (None, as in SQLAlchemy)
            values = tuple(params[n] if n in params else d() for n, d in zip(self.names, self.defaults, strict=True))
        return _processed(values, self.bound) if self.bound else values

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return _processed(raw, self.converted) if self.converted else tuple(raw)


def _processed(values: Sequence[Any], processors: tuple[tuple[int, Callable[[Any], Any]], ...]) -> tuple[Any, ...]:
    out = list(values)
    for i, process in processors:
        value = out[i]
        if value is not None:
            out[i] = process(value)
    return tuple(out)


def _fetcher(
    names: tuple[str, ...], passed: list[bool], defaults: tuple[Callable[[], Any], ...]
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """All parameters of a row as one tuple. The ones the caller passes are fetched at once
    (itemgetter, in C); the others (a literal of the statement such as the 1 of `version + 1`,
    a column default) are filled in."""
    given = [i for i, p in enumerate(passed) if p]
    get: Callable[[Mapping[str, Any]], Any] = itemgetter(*(names[i] for i in given)) if given else lambda _p: ()
    if len(given) == 1:
        one = get
        get = lambda params: (one(params),)  # noqa: E731 - itemgetter returns a bare value for one name
    if len(given) == len(names):
        return get
    filled = [(i, names[i], defaults[i]) for i, p in enumerate(passed) if not p]

    def fetch(params: Mapping[str, Any]) -> tuple[Any, ...]:
        out: list[Any] = [None] * len(names)
        for i, value in zip(given, get(params), strict=True):
            out[i] = value
        for i, name, default in filled:
            out[i] = params[name] if name in params else default()
        return tuple(out)

    return fetch


def _positions(processors: Sequence[Processor]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    return tuple((i, p) for i, p in enumerate(processors) if p is not None)


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)  # a statement, not a DDL element
    names = tuple(compiled.positiontup or ())
    binds = [compiled.binds[name] for name in names]
    # Columns whose Python-side default SQLAlchemy would fill in (insert/update "prefetch").
    prefetch = {c.key: c for c in (*compiled.insert_prefetch, *compiled.update_prefetch)}
    columns = getattr(statement, "selected_columns", None)
    if columns is None or not len(columns):
        returning = getattr(statement, "_returning", ())
        columns = list(returning)
    bind_processors = tuple(
        _remembering(b.type, b.type.dialect_impl(dialect).bind_processor(dialect), dialect) for b in binds
    )
    result_processors = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    defaults = tuple(_default(b.effective_value, prefetch.get(name)) for name, b in zip(names, binds, strict=True))
    # Passed by the caller: a bindparam() without a value, for a column without a default.
    passed = [b.required and name not in prefetch for name, b in zip(names, binds, strict=True)]
    return _Compiled(
        sql=compiled.string,
        names=names,
        defaults=defaults,
        fetch=_fetcher(names, passed, defaults),
        bound=_positions(bind_processors),
        converted=_positions(result_processors),
    )


# The last datetime each (dialect, type) converted, and what it became: shared by every statement,
# so a turn's one `now` is converted once however many statements and rows bind it.
_LAST_DATETIME: dict[tuple[str, str], tuple[Any, Any]] = {}


def _remembering(type_: Any, process: Processor, dialect: Dialect) -> Processor:
    """A datetime is converted once (datetimes are immutable: the same object always converts to
    the same value). The pair is read and replaced as one tuple, so it is safe across threads."""
    # A TypeDecorator (UTCDateTime) reports `object` as its Python type; its impl says DateTime.
    if process is None or getattr(type_, "impl", type_).python_type is not datetime:
        return process
    key = (dialect.name, repr(type_))  # repr: the type with its arguments (timezone=True...)
    last = _LAST_DATETIME
    last.setdefault(key, (None, None))

    def convert(value: Any) -> Any:
        pair = last[key]
        if pair[0] is value:
            return pair[1]
        converted = process(value)
        last[key] = (value, converted)
        return converted

    return convert


def _default(literal: Any, column: Any) -> Callable[[], Any]:
    default = getattr(column, "default", None)
    if default is None:
        return lambda: literal
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:  # SQLAlchemy wraps a plain function to take an execution context
        return lambda: default.arg(None)
    raise ValueError(f"column {column.key}: only constant or callable defaults are supported here")


class Prepared:
    """One statement; `rows`, `run` and `run_many` execute it inside the caller's transaction."""

    __slots__ = ("_by_dialect", "_returning", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}
        self._returning: Prepared | None = None  # for `insert` outside SQLite

    def _compiled(self, conn: Connection) -> _Compiled:
        dialect = conn.dialect
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _compile(self.statement, dialect)
        return compiled

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """A SELECT (or a statement with RETURNING): its rows as tuples, in column order."""
        compiled = self._compiled(conn)
        return [compiled.row(r) for r in self._execute(conn, compiled, params, _fetchall)]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """INSERT/UPDATE/DELETE; returns the number of rows it touched."""
        return int(self._execute(conn, self._compiled(conn), params, _rowcount))

    def insert(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """An INSERT of one row into a table with an integer `id`; returns that id. SQLite reports
        it on the cursor (`lastrowid`), so the statement is run as it is: a RETURNING there costs
        about as much as the insert itself. Elsewhere `RETURNING id` is added."""
        if conn.dialect.name != "sqlite":
            if self._returning is None:
                table = self.statement.table  # type: ignore[attr-defined]
                self._returning = Prepared(self.statement.returning(table.c.id))  # type: ignore[attr-defined]
            return int(self._returning.rows(conn, params)[0][0])
        return int(self._execute(conn, self._compiled(conn), params, _lastrowid))

    @staticmethod
    def _execute(conn: Connection, compiled: _Compiled, params: Mapping[str, Any], read: Callable[[Any], Any]) -> Any:
        """Run the statement on the driver's cursor and `read` the cursor; driver errors come out
        as SQLAlchemy's."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, compiled.row_params(params))
            return read(cursor)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _translated(conn, compiled, exc, cursor) from exc
        finally:
            cursor.close()

    def run_many(self, conn: Connection, params: Iterable[Mapping[str, Any]]) -> None:
        compiled = self._compiled(conn)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(compiled.sql, [compiled.row_params(p) for p in params])
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _translated(conn, compiled, exc, cursor) from exc
        finally:
            cursor.close()


def _fetchall(cursor: Any) -> Any:
    return cursor.fetchall()


def _rowcount(cursor: Any) -> Any:
    return cursor.rowcount


def _lastrowid(cursor: Any) -> Any:
    return cursor.lastrowid


def _translated(conn: Connection, compiled: _Compiled, exc: Exception, cursor: Any) -> Exception:
    """The driver's error as SQLAlchemy would raise it (IntegrityError, OperationalError, ...), so
    callers handle one family of exceptions; a lost connection is invalidated as SQLAlchemy does."""
    dbapi = conn.dialect.loaded_dbapi
    disconnect = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)  # type: ignore[arg-type]
    if disconnect:
        conn.invalidate(exc)
    return DBAPIError.instance(compiled.sql, None, exc, dbapi.Error, connection_invalidated=disconnect)
