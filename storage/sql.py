"""Small SQL helpers shared by the repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(dialect: str, table: Any) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing / on_conflict_do_update."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert(conn: Connection, table: Any) -> Any:
    return dialect_insert(conn.dialect.name, table)


DIALECTS = ("sqlite", "postgresql")
