"""Processed updates and their outbox: the storage side of exactly-once turns."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from dialogs.screens import Button, Outcome, Reply
from storage.models import ProcessedUpdate
from storage.prepared import Prepared

KEEP = timedelta(days=2)  # Telegram keeps an update for 24 hours; anything older cannot come back

_PREVIOUS = Prepared(
    select(ProcessedUpdate.c.replies, ProcessedUpdate.c.delivered_at).where(
        ProcessedUpdate.c.update_id == bindparam("b_update")
    )
)
_RECORD = Prepared(
    ProcessedUpdate.insert().values(
        update_id=bindparam("update_id"),
        user_id=bindparam("user_id"),
        replies=bindparam("replies"),
        created_at=bindparam("created_at"),
    )
)
_DELIVERED = Prepared(
    update(ProcessedUpdate)
    .where(ProcessedUpdate.c.update_id == bindparam("b_update"))
    .values(delivered_at=bindparam("b_at"))
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


def previous(conn: Connection, update_id: int) -> tuple[dict[str, Any], datetime | None] | None:
    rows = _PREVIOUS.rows(conn, {"b_update": update_id})
    return (rows[0][0], rows[0][1]) if rows else None


def record(conn: Connection, update_id: int, user_id: int, outcome: Outcome, at: datetime) -> None:
    _RECORD.run(conn, {"update_id": update_id, "user_id": user_id, "replies": encode(outcome), "created_at": at})


def delivered(conn: Connection, update_ids: list[int], at: datetime) -> None:
    if update_ids:
        _DELIVERED.run_many(conn, [{"b_update": u, "b_at": at} for u in update_ids])


def prune(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(ProcessedUpdate).where(ProcessedUpdate.c.created_at < now - KEEP)).rowcount
