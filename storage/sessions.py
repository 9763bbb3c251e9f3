"""Load a user's session for a turn and persist what the turn changed, in one transaction.

This is the per-update hot path: its statements are built once, with bind parameters, so that
SQLAlchemy reuses their cache keys and compiled SQL instead of rebuilding them on every turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from dialogs.router import DialogRecord, Session
from dialogs.screens import LogEntry
from knowledge.domain import Language, normalize_language
from storage.models import DialogState, Turn, User, utcnow
from storage.sql import dialect_insert
from storage.user_data import SqlUserData

# The user and all their dialog states in one query. PostgreSQL: the row lock on the user
# serialises one user's turns across processes. SQLite's BEGIN IMMEDIATE (storage/db.py) already
# serialises every write transaction.
_SESSION = (
    select(
        User.language,
        User.active_dialog,
        User.last_dialog,
        User.blocked_at,
        User.support_ticket_id,
        DialogState.dialog,
        DialogState.state,
        DialogState.answers,
        DialogState.history,
        DialogState.version,
    )
    .select_from(User)
    .outerjoin(DialogState, DialogState.user_id == User.id)
    .where(User.id == bindparam("uid"))
)
_SESSION_FOR_UPDATE = _SESSION.with_for_update(of=User)
_SAVE_USER = (
    update(User)
    .where(User.id == bindparam("uid"))
    .values(
        language=bindparam("b_language"),
        active_dialog=bindparam("b_active"),
        last_dialog=bindparam("b_last"),
        updated_at=bindparam("b_now"),
    )
)
_UNBLOCK = update(User).where(User.id == bindparam("uid")).values(blocked_at=None)
_CLEAR_STATES = delete(DialogState).where(DialogState.user_id == bindparam("uid"))
_INSERT_TURNS = Turn.__table__.insert()


@cache
def _new_user(dialect: str) -> Any:
    return dialect_insert(dialect, User).on_conflict_do_nothing(index_elements=["id"])


@cache
def _upsert_state(dialect: str) -> Any:
    stmt = dialect_insert(dialect, DialogState)
    return stmt.on_conflict_do_update(
        index_elements=["user_id", "dialog"],
        set_={
            "state": stmt.excluded.state,
            "answers": stmt.excluded.answers,
            "history": stmt.excluded.history,
            "updated_at": stmt.excluded.updated_at,
            "version": DialogState.version + 1,
        },
    )


def _lock_user(conn: Connection, user_id: int) -> list[Any]:
    stmt = _SESSION_FOR_UPDATE if conn.dialect.name == "postgresql" else _SESSION
    return conn.execute(stmt, {"uid": user_id}).all()


def load_session(conn: Connection, user_id: int, language_hint: Language, display_name: str = "") -> Session:
    """The user's session, creating the user on first contact; locks the user for this turn."""
    rows = _lock_user(conn, user_id)
    now = utcnow()
    if not rows:
        conn.execute(
            _new_user(conn.dialect.name),
            {"id": user_id, "language": language_hint, "created_at": now, "updated_at": now},
        )
        rows = _lock_user(conn, user_id)
    elif rows[0].blocked_at is not None:  # they write to us again: they unblocked the bot
        conn.execute(_UNBLOCK, {"uid": user_id})
    row = rows[0]
    records = {r.dialog: DialogRecord(r.state, r.answers, r.history, r.version) for r in rows if r.dialog is not None}
    session = Session(user_id, normalize_language(row.language), row.active_dialog, row.last_dialog, records)
    session.ticket_id = row.support_ticket_id
    session.display_name = display_name or f"user {user_id}"
    session.data = SqlUserData(conn, user_id)
    session.now = now
    return session


def save_session(conn: Connection, session: Session, log: Sequence[LogEntry] = ()) -> None:
    if session.forgotten:  # the user's rows are gone, turn log included: keep it that way
        return
    now, uid = session.now, session.user_id
    if session.changed:
        conn.execute(
            _SAVE_USER,
            {
                "uid": uid,
                "b_language": session.language,
                "b_active": session.active,
                "b_last": session.last,
                "b_now": now,
            },
        )
    if session.cleared:
        conn.execute(_CLEAR_STATES, {"uid": uid})
    changed = [
        {
            "user_id": uid,
            "dialog": name,
            "state": rec.state,
            "answers": rec.answers,
            "history": rec.history,
            "version": 1,
            "updated_at": now,
        }
        for name, rec in session.records.items()
        if rec.changed
    ]
    for values in changed:
        conn.execute(_upsert_state(conn.dialect.name), values)
    if log:
        conn.execute(
            _INSERT_TURNS,
            [{"user_id": uid, "dialog": e.dialog, "kind": e.kind, "data": e.data, "created_at": now} for e in log],
        )


def recent_turns(conn: Connection, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Turn.kind, Turn.dialog, Turn.data, Turn.created_at)
        .where(Turn.user_id == user_id)
        .order_by(Turn.id.desc())
        .limit(limit)
    ).all()
    return [dict(r._mapping) for r in reversed(rows)]
