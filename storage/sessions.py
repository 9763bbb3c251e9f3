"""Load a user's session for a turn and persist what the turn changed, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from dialogs.router import DialogRecord, Session
from dialogs.screens import LogEntry
from knowledge.domain import Language, normalize_language
from storage.models import DialogState, Turn, User, utcnow
from storage.sql import upsert
from storage.user_data import SqlUserData


def _lock_user(conn: Connection, user_id: int) -> Any:
    stmt = select(User.language, User.active_dialog, User.last_dialog, User.blocked_at, User.support_ticket_id).where(
        User.id == user_id
    )
    # PostgreSQL: the row lock serialises one user's turns across processes. SQLite's
    # BEGIN IMMEDIATE already serialises every write transaction.
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def load_session(conn: Connection, user_id: int, language_hint: Language, display_name: str = "") -> Session:
    """The user's session, creating the user on first contact; locks the user for this turn."""
    row = _lock_user(conn, user_id)
    if row is None:
        now = utcnow()
        conn.execute(
            upsert(conn, User)
            .values(id=user_id, language=language_hint, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = _lock_user(conn, user_id)
    elif row.blocked_at is not None:  # they write to us again: they unblocked the bot
        conn.execute(update(User).where(User.id == user_id).values(blocked_at=None))
    records = {
        r.dialog: DialogRecord(r.state, r.answers, r.history, r.version)
        for r in conn.execute(
            select(
                DialogState.dialog, DialogState.state, DialogState.answers, DialogState.history, DialogState.version
            ).where(DialogState.user_id == user_id)
        )
    }
    session = Session(user_id, normalize_language(row.language), row.active_dialog, row.last_dialog, records)
    session.ticket_id = row.support_ticket_id
    session.display_name = display_name or f"user {user_id}"
    session.data = SqlUserData(conn, user_id)
    session.now = utcnow()
    return session


def save_session(conn: Connection, session: Session, log: Sequence[LogEntry] = ()) -> None:
    if session.forgotten:  # the user's rows are gone, turn log included: keep it that way
        return
    now = session.now
    if session.changed:
        conn.execute(
            update(User)
            .where(User.id == session.user_id)
            .values(language=session.language, active_dialog=session.active, last_dialog=session.last, updated_at=now)
        )
    if session.cleared:
        conn.execute(delete(DialogState).where(DialogState.user_id == session.user_id))
    for name, rec in session.records.items():
        if not rec.changed:
            continue
        values = {"state": rec.state, "answers": rec.answers, "history": rec.history, "updated_at": now}
        stmt = upsert(conn, DialogState).values(user_id=session.user_id, dialog=name, version=1, **values)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["user_id", "dialog"], set_={**values, "version": DialogState.version + 1}
            )
        )
    if log:
        conn.execute(
            Turn.__table__.insert(),
            [
                {"user_id": session.user_id, "dialog": e.dialog, "kind": e.kind, "data": e.data, "created_at": now}
                for e in log
            ],
        )


def recent_turns(conn: Connection, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Turn.kind, Turn.dialog, Turn.data, Turn.created_at)
        .where(Turn.user_id == user_id)
        .order_by(Turn.id.desc())
        .limit(limit)
    ).all()
    return [dict(r._mapping) for r in reversed(rows)]
