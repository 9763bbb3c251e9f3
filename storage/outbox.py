"""Applied updates, and the outbox: replies a committed turn owes a chat until Telegram has them.

A turn's transaction records its update as applied (a redelivery then changes nothing) and writes
its replies here, leased to the process that sends them right after the commit. That process
deletes the row once Telegram accepted every message, or gives the lease back with how far it got
and when to try again. A row nobody holds (its sender gave it back, or died and the lease ran out)
is sent by whichever process claims it next: the sender job, a redelivery of its update, or the
next turn of the same chat (which sends what is owed first, so a chat's replies keep their order;
the job never claims a reply ahead of an earlier one of its chat that is held or not yet due). A
turn does not wait for an earlier reply another sender holds at that moment (after a failure): a
commit of its own per sent reply, or a wait on every turn, would cost more than that rare reorder.
Claims are made in a transaction that locks the rows (SQLite: the write lock of BEGIN IMMEDIATE;
PostgreSQL: FOR UPDATE SKIP LOCKED), so two processes never hold one row at once and a reply is
never sent by two at once.

The one window in which a reply can still go out twice: its sender dies (or loses the database)
after Telegram accepted a message and before the row records it; when the lease runs out, the
message is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, delete, exists, or_, select, update

from dialogs.screens import Button, Document, Reply
from storage.models import Outbox, ProcessedUpdate
from storage.prepared import Prepared
from storage.sql import upsert

KEEP = timedelta(days=2)  # Telegram keeps an update for 24 hours; anything older cannot come back

_PROCESSED = Prepared(
    ProcessedUpdate.insert().values(update_id=bindparam("update_id"), created_at=bindparam("created_at"))
)
_PUT = Prepared(
    Outbox.insert().values(
        chat_id=bindparam("chat_id"),
        update_id=bindparam("update_id"),
        message_id=bindparam("message_id"),
        payload=bindparam("payload"),
        done=0,
        attempts=1,
        claimed_by=bindparam("worker"),
        claimed_until=bindparam("until"),
        next_attempt_at=bindparam("now"),
        created_at=bindparam("now"),
    )
)
# Only by the lease's holder: SQLite gives a deleted row's id to the next row, so an id alone could
# name another process's newer entry.
_SENT = Prepared(delete(Outbox).where(Outbox.c.id == bindparam("b_id"), Outbox.c.claimed_by == bindparam("b_worker")))
_COLUMNS = (Outbox.c.id, Outbox.c.chat_id, Outbox.c.message_id, Outbox.c.payload, Outbox.c.done, Outbox.c.attempts)


# Nobody holds it: never leased, given back, or its lease ran out before `b_free` (see Turns).
def _free(table: Any) -> ColumnElement[bool]:
    return or_(table.c.claimed_until.is_(None), table.c.claimed_until < bindparam("b_free"))


_FREE = _free(Outbox)
# What a chat is owed from before this turn (nothing, nearly always: one indexed look-up).
# PostgreSQL: rows the sender job is leasing at this moment are skipped, not leased twice (SQLite
# renders no FOR UPDATE: its transactions are serial).
_OWED_TO_CHAT = Prepared(
    select(*_COLUMNS)
    .where(Outbox.c.chat_id == bindparam("b_chat"), _FREE)
    .order_by(Outbox.c.id)
    .with_for_update(skip_locked=True)
)


@dataclass(frozen=True)
class Entry:
    """An outbox row this process holds the lease on: replies to send to `chat_id`, the first
    `done` of its messages already accepted by Telegram."""

    id: int
    chat_id: int
    replies: list[Reply]
    message_id: int | None = None
    done: int = 0
    attempts: int = 1  # sending attempts so far, this one included


def encode(replies: Sequence[Reply]) -> dict[str, Any]:
    return {
        "replies": [
            {
                "text": r.text,
                "buttons": [[[b.label, b.data] for b in row] for row in r.buttons],
                "edit": r.edit,
                "screen": r.screen,
                **({"document": [r.document.name, r.document.source, r.document.kind]} if r.document else {}),
            }
            for r in replies
        ]
    }


def decode(payload: dict[str, Any]) -> list[Reply]:
    return [
        Reply(
            r["text"],
            tuple(tuple(Button(label, value) for label, value in row) for row in r["buttons"]),
            r["edit"],
            r["screen"],
            document=_document(r.get("document")),
        )
        for r in payload["replies"]
    ]


def _entry(row: Sequence[Any]) -> Entry:
    entry_id, chat_id, message_id, payload, done, attempts = row
    return Entry(entry_id, chat_id, decode(payload), message_id, done, attempts + 1)  # + the lease taken now


# --- inside a turn's transaction --------------------------------------------------------------
def mark_processed(conn: Connection, update_id: int, now: datetime) -> None:
    """Record the update as applied. Its id is the primary key: a redelivery raises IntegrityError
    here and the caller undoes the whole turn (checking first would cost a query on every turn for
    what happens after a crash)."""
    _PROCESSED.run(conn, {"update_id": update_id, "created_at": now})


def first_time(conn: Connection, update_id: int, now: datetime) -> bool:
    """Record the update as applied; False if it was already (a staff update delivered again).
    ON CONFLICT DO NOTHING, not an IntegrityError: the caller's transaction goes on either way, and
    on PostgreSQL a concurrent first attempt is waited for, then found."""
    stmt = upsert(conn, ProcessedUpdate).values(update_id=update_id, created_at=now)
    return conn.execute(stmt.on_conflict_do_nothing(index_elements=["update_id"])).rowcount == 1


def put(
    conn: Connection,
    chat_id: int,
    update_id: int | None,
    message_id: int | None,
    replies: Sequence[Reply],
    worker: str,
    until: datetime,
    now: datetime,
) -> Entry:
    """The turn's replies, leased to `worker` (who sends them right after the commit)."""
    params = {
        "chat_id": chat_id,
        "update_id": update_id,
        "message_id": message_id,
        "payload": encode(replies),
        "worker": worker,
        "until": until,
        "now": now,
    }
    return Entry(_PUT.insert(conn, params), chat_id, list(replies), message_id)


def owed_to_chat(conn: Connection, chat_id: int, worker: str, until: datetime, free: datetime) -> list[Entry]:
    """Replies the chat is still owed from earlier turns that nobody is sending, leased to `worker`
    so that they go out before this turn's."""
    rows = _OWED_TO_CHAT.rows(conn, {"b_chat": chat_id, "b_free": free})
    if not rows:
        return []
    entries = [_entry(r) for r in rows]
    _lease(conn, [e.id for e in entries], worker, until)
    return entries


# --- outside a turn ---------------------------------------------------------------------------
def claim_for_update(conn: Connection, update_id: int, worker: str, until: datetime, free: datetime) -> list[Entry]:
    """A redelivered update: its replies, if they were never sent and nobody is sending them now,
    after what its chat is still owed from before them (as a turn sends them: in the chat's order)."""
    own = conn.execute(
        select(Outbox.c.id, Outbox.c.chat_id).where(Outbox.c.update_id == update_id, _FREE), {"b_free": free}
    ).first()
    if own is None:
        return []
    query = (
        select(*_COLUMNS)
        .where(Outbox.c.chat_id == own.chat_id, Outbox.c.id <= own.id, _FREE)
        .order_by(Outbox.c.id)
        .with_for_update(skip_locked=True)  # PostgreSQL: what another process is leasing is skipped
    )
    entries = [_entry(r) for r in conn.execute(query, {"b_free": free})]
    _lease(conn, [e.id for e in entries], worker, until)
    return entries


def claim_due(
    conn: Connection, worker: str, until: datetime, now: datetime, free: datetime, limit: int = 100
) -> list[Entry]:
    """Replies whose retry is due and that nobody holds, oldest first (the sender job). A reply
    whose chat has an earlier one that is held or not yet due stays: it goes out after that one."""
    earlier = Outbox.alias("earlier")
    waits_behind = exists().where(
        earlier.c.chat_id == Outbox.c.chat_id,
        earlier.c.id < Outbox.c.id,
        or_(~_free(earlier), earlier.c.next_attempt_at > bindparam("b_now")),
    )
    query = (
        select(*_COLUMNS)
        .where(_FREE, Outbox.c.next_attempt_at <= bindparam("b_now"), ~waits_behind)
        .order_by(Outbox.c.id)
        .limit(limit)
    )
    query = query.with_for_update(skip_locked=True)  # rendered on PostgreSQL only
    entries = [_entry(r) for r in conn.execute(query, {"b_now": now, "b_free": free})]
    _lease(conn, [e.id for e in entries], worker, until)
    return entries


def _lease(conn: Connection, ids: list[int], worker: str, until: datetime) -> None:
    if ids:
        conn.execute(
            update(Outbox)
            .where(Outbox.c.id.in_(ids))
            .values(claimed_by=worker, claimed_until=until, attempts=Outbox.c.attempts + 1)
        )


def renew(conn: Connection, entry_ids: list[int], worker: str, until: datetime) -> set[int]:
    """Extend `worker`'s leases on these entries to `until`; returns the ones it still held."""
    renewed = conn.execute(
        update(Outbox)
        .where(Outbox.c.id.in_(entry_ids), Outbox.c.claimed_by == worker)
        .values(claimed_until=until)
        .returning(Outbox.c.id)
    )
    return {row[0] for row in renewed}


def sent(conn: Connection, entry_ids: list[int], worker: str) -> None:
    """Telegram accepted every message of these entries, sent by `worker`: they are owed no more."""
    if entry_ids:
        _SENT.run_many(conn, [{"b_id": i, "b_worker": worker} for i in entry_ids])


def release(conn: Connection, entry_id: int, worker: str, done: int, retry_at: datetime | None) -> None:
    """Give the lease back: `done` messages went out; try again at `retry_at` (None: as planned)."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "done": done}
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    conn.execute(update(Outbox).where(Outbox.c.id == entry_id, Outbox.c.claimed_by == worker).values(**values))


def forget_chat(conn: Connection, chat_id: int) -> None:
    """Everything owed to a chat whose user asked to be forgotten (it may quote their codes)."""
    conn.execute(delete(Outbox).where(Outbox.c.chat_id == chat_id))


def prune(conn: Connection, now: datetime) -> int:
    return conn.execute(delete(ProcessedUpdate).where(ProcessedUpdate.c.created_at < now - KEEP)).rowcount


def _document(encoded: list[str] | None) -> Document | None:
    """[name, source, kind]; entries written before kinds existed hold [name, text]."""
    if not encoded:
        return None
    name, source, *kind = encoded
    return Document(name, kind[0] if kind else "text", source)
