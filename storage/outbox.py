"""Processed updates and their outbox: the storage side of exactly-once turns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, null, select, update

from dialogs.screens import Button, Outcome, Reply
from storage.models import ProcessedUpdate
from storage.prepared import Prepared

KEEP = timedelta(days=2)  # Telegram keeps an update for 24 hours; anything older cannot come back

_REPLIES = Prepared(select(ProcessedUpdate.c.replies).where(ProcessedUpdate.c.update_id == bindparam("b_update")))
_RECORD = Prepared(
    ProcessedUpdate.insert().values(
        update_id=bindparam("update_id"), replies=bindparam("replies"), created_at=bindparam("created_at")
    )
)
# Delivered replies are not needed again: clearing them keeps the row small (the page it is on is
# the one the next turn appends to) and leaves no reply text of a user behind.
_DELIVERED = Prepared(
    update(ProcessedUpdate).where(ProcessedUpdate.c.update_id == bindparam("b_update")).values(replies=null())
)


def encode(outcome: Outcome) -> dict[str, Any]:
    return {
        "toast": outcome.toast,
        "replies": [
            {
                "text": r.text,
                "buttons": [[[b.label, b.data] for b in row] for row in r.buttons],
                "edit": r.edit,
                "screen": r.screen,
                "takes_number": r.takes_number,
            }
            for r in outcome.replies
        ],
    }


def decode(data: dict[str, Any]) -> Outcome:
    replies = [
        Reply(
            r["text"],
            tuple(tuple(Button(label, value) for label, value in row) for row in r["buttons"]),
            r["edit"],
            r["screen"],
            r.get("takes_number", False),
        )
        for r in data["replies"]
    ]
    return Outcome(replies=replies, toast=data.get("toast"))


def undelivered(conn: Connection, update_id: int) -> Outcome | None:
    """The replies of an update applied before, if they never went out; None if they did (or it
    was never applied)."""
    rows = _REPLIES.rows(conn, {"b_update": update_id})
    return decode(rows[0][0]) if rows and rows[0][0] is not None else None


def record(conn: Connection, update_id: int, outcome: Outcome, at: datetime) -> None:
    _RECORD.run(conn, {"update_id": update_id, "replies": encode(outcome), "created_at": at})


def delivered(conn: Connection, update_ids: list[int]) -> None:
    """Clear the replies of updates that went out. In ascending order: on PostgreSQL several
    processes write overlapping batches (a redelivered update is marked by every process that sent
    it), and row locks taken in one order everywhere cannot deadlock."""
    if update_ids:
        _DELIVERED.run_many(conn, [{"b_update": u} for u in sorted(set(update_ids))])


def prune(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(ProcessedUpdate).where(ProcessedUpdate.c.created_at < now - KEEP)).rowcount
