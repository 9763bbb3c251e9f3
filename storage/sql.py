"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


def dialect_insert(dialect: str, table: Any) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing / on_conflict_do_update."""
    # Imported on use: the PostgreSQL dialect costs start-up time a SQLite bot does not need.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def upsert(conn: Connection, table: Any) -> Any:
    return dialect_insert(conn.dialect.name, table)


class PerDialect(Generic[T]):
    """A statement that differs by dialect (INSERT ... ON CONFLICT), built on first use per dialect."""

    def __init__(self, build: Callable[[str], T]) -> None:
        self._build = build
        self._built: dict[str, T] = {}

    def __getitem__(self, dialect: str) -> T:
        built = self._built.get(dialect)
        if built is None:
            built = self._built[dialect] = self._build(dialect)
        return built
