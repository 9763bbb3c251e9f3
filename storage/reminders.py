"""Due reminders, claimed with a lease so that several processes never send the same one.

claim_due marks rows as taken by one worker until `claimed_until`; the worker sends, then
mark_sent. A worker that dies after claiming leaves the lease to run out, and another worker
sends the reminder then: nothing is lost. Two workers never hold the same row: on SQLite the
claim runs under BEGIN IMMEDIATE, on PostgreSQL with FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select, update

from storage.models import Reminder, User

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class DueReminder:
    id: int
    user_id: int
    kind: str
    language: str
    params: dict[str, Any]


def claim_due(conn: Connection, now: datetime, worker: str, limit: int = 100) -> list[DueReminder]:
    query = (
        select(Reminder.c.id, Reminder.c.user_id, Reminder.c.kind, User.c.language, Reminder.c.params)
        .join(User, User.c.id == Reminder.c.user_id)
        .where(
            Reminder.c.sent_at.is_(None),
            Reminder.c.due_at <= now,
            or_(Reminder.c.claimed_until.is_(None), Reminder.c.claimed_until < now),
            User.c.reminders_enabled.is_(True),
            User.c.blocked_at.is_(None),
        )
        .order_by(Reminder.c.due_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Reminder)
    rows = [DueReminder(*row) for row in conn.execute(query)]
    if rows:
        conn.execute(
            update(Reminder)
            .where(Reminder.c.id.in_([r.id for r in rows]))
            .values(claimed_by=worker, claimed_until=now + LEASE, attempts=Reminder.c.attempts + 1)
        )
    return rows


def mark_sent(conn: Connection, reminder_id: int, worker: str, now: datetime) -> None:
    conn.execute(
        update(Reminder)
        .where(Reminder.c.id == reminder_id, Reminder.c.claimed_by == worker)
        .values(sent_at=now, claimed_until=None)
    )


def release(conn: Connection, reminder_id: int, worker: str) -> None:
    """Give a claimed reminder back (the send failed): the next run tries again."""
    conn.execute(
        update(Reminder)
        .where(Reminder.c.id == reminder_id, Reminder.c.claimed_by == worker, Reminder.c.sent_at.is_(None))
        .values(claimed_by=None, claimed_until=None)
    )


def mark_blocked(conn: Connection, user_id: int, now: datetime) -> None:
    conn.execute(update(User).where(User.c.id == user_id).values(blocked_at=now))
