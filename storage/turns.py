"""A turn's storage, the one interface the bot edge and the terminal chat use.

`Turns.apply` is one transaction: load the user's session (locking the user), let the caller
decide, apply the effects it decided (storage/effects.py), save what changed and the turn log,
record the update as applied, and put the replies in the outbox leased to this process; commit.
Only then does the caller send them, and report with `sent` or `failed`. Everything about making
this fast (prepared statements, one SQLite connection) lives below this interface; nothing above
it knows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dialogs.screens import Outcome
from dialogs.session import Session
from knowledge.domain import Language
from storage import outbox
from storage.db import Database
from storage.effects import apply_effects
from storage.models import utcnow
from storage.outbox import Entry
from storage.sessions import existing_session, load_session, save_session
from storage.user_data import SqlUserData

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=30)
T = TypeVar("T")


def worker_id() -> str:
    """This process, in leases: host, pid and a random part (a restarted process is another worker)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Delivery:
    """Where a turn's replies go. Without one (the terminal chat) they are only returned."""

    chat_id: int
    update_id: int | None = None  # the Telegram update that caused the turn, if any
    message_id: int | None = None  # the message whose button was pressed: edits go there


@dataclass
class TurnResult:
    outcome: Outcome
    outgoing: list[Entry] = field(default_factory=list)  # leased to this process, in sending order
    redelivered: bool = False  # the update was applied before: nothing changed now
    # The event loop's clock just before the transaction that leased `outgoing`: their lease ends
    # no later than one lease after it (the sender counts from here, not from when it begins).
    leased_at: float = 0.0


class _Redelivered(Exception):
    """The update was applied before: this attempt is undone."""


def _apply(
    conn: Connection,
    user_id: int,
    language_hint: Language,
    display_name: str,
    decide: Callable[[Session], Outcome],
    delivery: Delivery | None,
    worker: str,
    lease: timedelta,
    free: datetime,
    existing_user: bool,
) -> TurnResult:
    if existing_user:
        found = existing_session(conn, user_id)
        if found is None:  # forgotten meanwhile: nothing to do, and nothing to bring back
            return TurnResult(Outcome())
        session = found
    else:
        session = load_session(conn, user_id, language_hint, display_name)
    outcome = decide(session)
    if outcome.effects:
        apply_effects(SqlUserData(conn, user_id), session, outcome)
    save_session(conn, session, outcome.log)
    if delivery is None:
        return TurnResult(outcome)
    now = session.now
    if delivery.update_id is not None:
        try:
            outbox.mark_processed(conn, delivery.update_id, now)
        except IntegrityError as exc:
            raise _Redelivered from exc
    until = utcnow() + lease  # from now, not from the turn's start: deciding may have taken a while
    outgoing = outbox.owed_to_chat(conn, delivery.chat_id, worker, until, free)
    if outcome.replies:
        outgoing.append(
            outbox.put(
                conn, delivery.chat_id, delivery.update_id, delivery.message_id, outcome.replies, worker, until, now
            )
        )
    return TurnResult(outcome, outgoing)


class Turns:
    def __init__(self, db: Database, worker: str | None = None, lease: timedelta = DEFAULT_LEASE) -> None:
        self.db = db
        self.worker = worker or worker_id()
        self.lease = lease
        # Entries Telegram accepted, not yet deleted: every transaction of this process deletes them
        # first (the sender job makes one at least every OUTBOX_RETRY_SECONDS). A commit of its own
        # for each would cost as much as the turn's; meanwhile this process's lease keeps others
        # from sending them again.
        self._sent: set[int] = set()
        self._outage_since: datetime | None = None  # the database has failed since then
        self._grace: tuple[datetime, datetime] | None = None  # (outage start, end of the grace after it)

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        """`fn(connection, *args)` in one transaction that also deletes the entries sent since the
        last one; notes when the database stops and starts answering (see `_free`)."""
        sent = sorted(self._sent)
        try:
            result = await self.db.run(_recording_sent, sent, self.worker, fn, *args)
        except (DBAPIError, PoolTimeout, OSError):
            self._outage_since = self._outage_since or utcnow()
            raise
        self._sent.difference_update(sent)
        if self._outage_since is not None:
            self._grace = (self._outage_since, utcnow() + self.lease)
            self._outage_since = None
        return result

    def _free(self, now: datetime) -> datetime:
        """Leases that ran out before this moment may be taken over. Around an outage of the
        database (from one lease before this process first met it, to one lease after it answered
        again), a lease that ran out is left to its holder: the holder may have sent its entry and
        been unable to record that while the database was away."""
        if self._outage_since is not None:  # not answering, as far as this process knows
            return min(now, self._outage_since - self.lease)
        if self._grace is not None:
            started, until = self._grace
            if now < until:
                return min(now, started - self.lease)
            self._grace = None
        return now

    async def apply(
        self,
        user_id: int,
        language_hint: Language,
        display_name: str,
        decide: Callable[[Session], Outcome],
        delivery: Delivery | None = None,
        existing_user: bool = False,
    ) -> TurnResult:
        """One turn in one transaction; the replies to send come back leased to this process. A
        redelivered update changes nothing and brings back only what it still owes, if nobody is
        sending it. `existing_user`: a turn for a user who must exist already (else it does nothing)."""
        started = asyncio.get_running_loop().time()
        free = self._free(utcnow())
        try:
            result = await self._run(
                _apply,
                user_id,
                language_hint,
                display_name,
                decide,
                delivery,
                self.worker,
                self.lease,
                free,
                existing_user,
            )
        except _Redelivered:
            assert delivery is not None and delivery.update_id is not None
            now = utcnow()
            owed = await self._run(
                outbox.claim_for_update, delivery.update_id, self.worker, now + self.lease, self._free(now)
            )
            result = TurnResult(Outcome(), owed, redelivered=True)
        result.leased_at = started
        return result

    async def claim_due(self, limit: int = 100) -> list[Entry]:
        """Entries due for another attempt that nobody holds, leased to this process (the sender
        job; it also records what was sent since this process's last transaction)."""
        now = utcnow()
        return await self._run(outbox.claim_due, self.worker, now + self.lease, now, self._free(now), limit)

    async def renew(self, entry_ids: list[int]) -> set[int]:
        """Extend this process's leases on entries it is still sending; returns those it still held."""
        return await self._run(outbox.renew, entry_ids, self.worker, utcnow() + self.lease)

    def sent(self, entry_id: int) -> None:
        """Telegram accepted every message of the entry: deleted with this process's next transaction."""
        self._sent.add(entry_id)

    async def flush(self) -> None:
        """Delete the sent entries now (at shutdown: else they would be sent again once their lease
        ran out)."""
        if self._sent:
            await self._run(_nothing)

    async def failed(self, entry_id: int, done: int, retry_at: datetime | None) -> None:
        """Give the entry back: `done` messages went out, the rest is tried again from `retry_at`."""
        await self._run(outbox.release, entry_id, self.worker, done, retry_at)

    async def prune(self) -> int:
        return await self._run(outbox.prune, utcnow())


def _nothing(_conn: Connection) -> None:
    return None


def _recording_sent(conn: Connection, sent: list[int], worker: str, fn: Callable[..., T], *args: object) -> T:
    outbox.sent(conn, sent, worker)
    return fn(conn, *args)
