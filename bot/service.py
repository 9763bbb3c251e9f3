"""A turn minus Telegram: the router decides, storage keeps it (storage/turns.py). Shared by the
Telegram edge, the terminal chat and staff actions; every turn is committed before it returns."""

from __future__ import annotations

import logging

from dialogs.router import Router
from dialogs.session import Event
from knowledge.domain import Language, normalize_language
from storage.db import Database
from storage.sessions import stored_language
from storage.turns import Delivery, TurnResult, Turns

log = logging.getLogger(__name__)


class ConversationService:
    def __init__(self, turns: Turns, router: Router, default_language: Language = "en") -> None:
        self.turns = turns
        self.router = router
        self.default_language = default_language

    @property
    def db(self) -> Database:
        return self.turns.db

    async def handle(
        self,
        user_id: int,
        language_code: str | None,
        event: Event,
        display_name: str = "",
        delivery: Delivery | None = None,
        existing_user: bool = False,
    ) -> TurnResult:
        """One turn for the user. With a `delivery` its replies are also put in the outbox, leased
        to this process, for the caller to send. `existing_user`: only if the user exists (a turn
        staff caused)."""
        hint = normalize_language(language_code, self.default_language)
        # The event's kind only: what users type (service codes among it) stays out of logs.
        log.debug("turn for user %s: %s", user_id, type(event).__name__)
        return await self.turns.apply(
            user_id, hint, display_name, lambda s: self.router.handle(s, event), delivery, existing_user
        )

    async def language_of(self, user_id: int, language_code: str | None) -> Language:
        """The language to tell the user something in outside a turn (an error, a refusal): the one
        they chose, as stored; their Telegram language if none is, or if the database cannot say."""
        try:
            stored = await self.db.run(stored_language, user_id)
        except Exception as exc:
            log.info("language of user %s not read (%s)", user_id, type(exc).__name__)
            stored = None
        return normalize_language(stored or language_code, self.default_language)
