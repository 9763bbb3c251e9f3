"""A turn, end to end minus the rendering: load the session, route the event, persist, return."""

from __future__ import annotations

import logging

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from dialogs.router import Event, Router
from dialogs.screens import Outcome
from knowledge.domain import Language, normalize_language
from storage import outbox
from storage.db import Database
from storage.sessions import load_session, save_session

log = logging.getLogger(__name__)

DELIVERED_BATCH = 64  # delivery marks a turn's transaction records at once (see ConversationService)


class Redelivered(Exception):
    """The update was applied before: this attempt is rolled back."""


def _turn(
    conn: Connection,
    router: Router,
    user_id: int,
    language_hint: Language,
    event: Event,
    display_name: str,
    update_id: int | None,
    delivered: list[int],
) -> Outcome:
    if delivered:  # earlier turns' replies went out: recorded here, without a transaction of their own
        outbox.delivered(conn, delivered)
    session = load_session(conn, user_id, language_hint, display_name)  # locks the user: turns run one by one
    outcome = router.handle(session, event)
    save_session(conn, session, outcome.log)
    if update_id is not None and not session.forgotten:
        # The update's id is the primary key: a redelivery fails here and the whole turn is undone.
        # (Checking first would cost a query on every turn for what happens after a crash.)
        try:
            outbox.record(conn, update_id, outcome, session.now)
        except IntegrityError as exc:
            raise Redelivered(update_id) from exc
    return outcome


def _owed(conn: Connection, update_id: int, delivered: list[int]) -> Outcome:
    """A redelivered update changes nothing; the replies it produced are sent if they never went out."""
    outbox.delivered(conn, delivered)
    return outbox.undelivered(conn, update_id) or Outcome()


class ConversationService:
    """Shared by Telegram and the terminal chat. Every turn is committed before it returns, so a
    reply the user sees is already on disk."""

    def __init__(self, db: Database, router: Router, default_language: Language = "en") -> None:
        self.db = db
        self.router = router
        self.default_language = default_language
        # Updates whose replies reached Telegram, recorded in batches: by a turn's transaction once
        # `delivered_batch` are pending, by the flush job (every 2 s) and at shutdown otherwise.
        # Telegram only redelivers an update it saw no answer for (in flight when the process
        # died), whose mark is pending however soon marks are written; a crash before a mark is
        # written can only make such a redelivery repeat its reply, never lose it. A redelivery
        # itself writes every pending mark first.
        self._delivered: list[int] = []
        self.delivered_batch = DELIVERED_BATCH

    async def handle(
        self,
        user_id: int,
        language_code: str | None,
        event: Event,
        display_name: str = "",
        update_id: int | None = None,
        together: bool = False,
    ) -> Outcome:
        hint = normalize_language(language_code, self.default_language)
        # The event's kind only: what users type (service codes among it) stays out of logs.
        log.debug("turn for user %s: %s", user_id, type(event).__name__)
        delivered: list[int] = []
        if len(self._delivered) >= self.delivered_batch:
            delivered, self._delivered = self._delivered, []
        # `together`: other updates are being handled (concurrent webhook requests), so other turns
        # will reach the database within this iteration of the event loop and may share the
        # transaction. A lone turn commits at once.
        run = self.db.run_together if together else self.db.run
        try:
            try:
                return await run(_turn, self.router, user_id, hint, event, display_name, update_id, delivered)
            except Redelivered:
                assert update_id is not None
                delivered += self._delivered  # a redelivery writes every pending mark before it looks
                self._delivered = []
                return await self.db.run(_owed, update_id, delivered)
        except BaseException:
            self._delivered[:0] = delivered  # not recorded: keep them for the next turn
            raise

    def delivered(self, update_id: int) -> None:
        """The update's replies reached Telegram: a redelivery will not send them again."""
        self._delivered.append(update_id)

    async def flush_delivered(self) -> None:
        """Record pending delivery marks now (idle periods, shutdown)."""
        delivered, self._delivered = self._delivered, []
        if delivered:
            await self.db.run(outbox.delivered, delivered)
