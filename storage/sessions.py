"""Load a user's session for a turn and persist what the turn changed, in one transaction.

This is the per-update hot path: its statements are built once with bind parameters and run as
prepared statements (storage/prepared.py) on the turn's connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from dialogs.screens import LogEntry
from dialogs.session import DialogRecord, Session
from knowledge.domain import Language, normalize_language
from knowledge.service_codes import redacted
from storage.models import DialogState, ServiceCode, Turn, User, utcnow
from storage.prepared import Prepared
from storage.sql import PerDialect, dialect_insert
from storage.user_data import SqlUserData

# The user and all their dialog states in one query.
_SESSION = Prepared(
    select(
        User.c.language,
        User.c.active_dialog,
        User.c.last_dialog,
        User.c.blocked_at,
        User.c.support_ticket_id,
        DialogState.c.dialog,
        DialogState.c.state,
        DialogState.c.answers,
        DialogState.c.history,
        DialogState.c.version,
    )
    .select_from(User)
    .outerjoin(DialogState, DialogState.c.user_id == User.c.id)
    .where(User.c.id == bindparam("uid"))
)
# PostgreSQL: the lock on the user's row serialises one user's turns across processes. It is taken
# by a statement of its own: a query that locks and joins at once, having waited for another turn's
# lock, returns the user's new row joined with the dialog states of its snapshot, from before that
# turn (PostgreSQL re-reads only the locked rows). The read that follows sees what that turn
# committed. SQLite's BEGIN IMMEDIATE (storage/db.py) already serialises every write transaction.
_LOCK_USER = Prepared(select(User.c.id).where(User.c.id == bindparam("uid")).with_for_update())
_SAVE_USER = Prepared(
    update(User)
    .where(User.c.id == bindparam("uid"))
    .values(
        language=bindparam("b_language"),
        active_dialog=bindparam("b_active"),
        last_dialog=bindparam("b_last"),
        updated_at=bindparam("b_now"),
    )
)
_UNBLOCK = Prepared(update(User).where(User.c.id == bindparam("uid")).values(blocked_at=bindparam("b_none")))
_CLEAR_STATES = Prepared(delete(DialogState).where(DialogState.c.user_id == bindparam("uid")))
_INSERT_TURNS = Prepared(
    Turn.insert().values(
        user_id=bindparam("user_id"),
        dialog=bindparam("dialog"),
        kind=bindparam("kind"),
        data=bindparam("data"),
        created_at=bindparam("created_at"),
    )
)
_NEW_USER = PerDialect(
    lambda dialect: Prepared(
        dialect_insert(dialect, User)
        .values(
            id=bindparam("id"),
            language=bindparam("language"),
            created_at=bindparam("created_at"),
            updated_at=bindparam("updated_at"),
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
)


def _upsert_state(dialect: str) -> Prepared:
    stmt = dialect_insert(dialect, DialogState).values(
        user_id=bindparam("user_id"),
        dialog=bindparam("dialog"),
        state=bindparam("state"),
        answers=bindparam("answers"),
        history=bindparam("history"),
        version=bindparam("version"),
        updated_at=bindparam("updated_at"),
    )
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=["user_id", "dialog"],
            set_={
                "state": stmt.excluded.state,
                "answers": stmt.excluded.answers,
                "history": stmt.excluded.history,
                "updated_at": stmt.excluded.updated_at,
                "version": DialogState.c.version + 1,
            },
        )
    )


_UPSERT_STATE = PerDialect(_upsert_state)


def _read(conn: Connection, user_id: int) -> list[tuple[Any, ...]]:
    if conn.dialect.name == "postgresql" and not _LOCK_USER.rows(conn, {"uid": user_id}):
        return []
    return _SESSION.rows(conn, {"uid": user_id})


def load_session(conn: Connection, user_id: int, language_hint: Language, display_name: str = "") -> Session:
    """The user's session, creating the user on first contact; locks the user for this turn."""
    session = _load(conn, user_id, language_hint, display_name, create=True)
    assert session is not None
    return session


def stored_language(conn: Connection, user_id: int) -> str | None:
    """The language the user chose, or their Telegram one when they first wrote; None: not a user."""
    return conn.execute(select(User.c.language).where(User.c.id == user_id)).scalar()


def existing_session(conn: Connection, user_id: int) -> Session | None:
    """The session of a user who is known (a turn staff caused: it must not bring back a user who
    had themselves forgotten meanwhile); None if there is none."""
    return _load(conn, user_id, "en", "", create=False)


def _load(conn: Connection, user_id: int, language_hint: Language, display_name: str, create: bool) -> Session | None:
    now = utcnow()
    rows = _read(conn, user_id)
    if not rows and not create:
        return None
    if not rows:
        _NEW_USER[conn.dialect.name].run(
            conn, {"id": user_id, "language": language_hint, "created_at": now, "updated_at": now}
        )
        rows = _read(conn, user_id)
    elif rows[0][3] is not None:  # blocked_at: they write to us again, so they unblocked the bot
        _UNBLOCK.run(conn, {"uid": user_id, "b_none": None})
    language, active, last, _blocked, ticket = rows[0][:5]
    records = {
        dialog: DialogRecord(state, answers, history, version)
        for *_, dialog, state, answers, history, version in rows
        if dialog is not None
    }
    session = Session(user_id, normalize_language(language), active, last, records)
    session.ticket_id = ticket
    session.display_name = display_name or f"user {user_id}"
    session.data = SqlUserData(conn, user_id)
    session.now = now
    return session


def save_session(conn: Connection, session: Session, log: Sequence[LogEntry] = ()) -> None:
    if session.forgotten:  # the user's rows are gone, turn log included: keep it that way
        return
    now, uid = session.now, session.user_id
    if session.changed:
        _SAVE_USER.run(
            conn,
            {
                "uid": uid,
                "b_language": session.language,
                "b_active": session.active,
                "b_last": session.last,
                "b_now": now,
            },
        )
    if session.cleared:
        _CLEAR_STATES.run(conn, {"uid": uid})
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
    if changed:
        _UPSERT_STATE[conn.dialect.name].run_many(conn, changed)
    if log:
        entries = [{"user_id": uid, "dialog": e.dialog, "kind": e.kind, "data": e.data, "created_at": now} for e in log]
        if any(key in e.data for e in log for key in TYPED):
            codes = user_codes(conn, uid)
            for entry in entries:
                entry["data"] = redacted(entry["data"], codes)
        _INSERT_TURNS.run_many(conn, entries)


# What a user typed, in the turn log; the turn of a typed message looks the user's codes up to mask them.
TYPED = ("text", "relayed", "command")
_CODES = Prepared(select(ServiceCode.c.code).where(ServiceCode.c.user_id == bindparam("uid")))


def user_codes(conn: Connection, user_id: int) -> list[str]:
    return [code for (code,) in _CODES.rows(conn, {"uid": user_id})]


def recent_turns(conn: Connection, user_id: int, limit: int = 20) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(Turn.c.kind, Turn.c.dialog, Turn.c.data, Turn.c.created_at)
        .where(Turn.c.user_id == user_id)
        .order_by(Turn.c.id.desc())
        .limit(limit)
    ).all()
    return [dict(r._mapping) for r in reversed(rows)]
