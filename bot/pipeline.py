"""A Telegram update's turn, top to bottom.

    event (decoded by bot/handlers.py) -> wait for this user's earlier updates in this process
    -> one transaction (storage/turns.py): load the session, route, save, record the update as
       applied and its replies in the outbox -> commit
    -> answer the pressed button, send the replies, record them sent (bot/sender.py)
    -> the support desk carries what the turn queued for staff

A turn that fails is classified (bot/faults.py). While the database is unavailable the turn is
tried again, for up to `wait_seconds`; after that the update is left unacknowledged: the webhook
answers 503 and Telegram delivers it again, the poller does not confirm it. Once the transaction
committed, the update is acknowledged whatever happens to the replies: they are owed in the
outbox and retried until Telegram takes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, Update, User

from bot.faults import Fault, classify, describe
from bot.metrics import Metrics
from bot.sender import ReplySender, telegram_call
from bot.service import ConversationService
from bot.support import SupportDesk, display_name
from bot.user_locks import UserLocks
from dialogs.session import Event
from knowledge.texts import t
from storage.turns import Delivery, TurnResult

log = logging.getLogger(__name__)


@dataclass
class Acknowledgement:
    """Set by the webhook server or the poller around one update; `retry` when it must come back."""

    retry: bool = False


current_update: ContextVar[Acknowledgement | None] = ContextVar("current_update", default=None)
T = TypeVar("T")


class NotApplied(Exception):
    """The database stayed unavailable: nothing was applied, and the update must come back."""


class TurnPipeline:
    def __init__(
        self,
        service: ConversationService,
        sender: ReplySender,
        support: SupportDesk,
        metrics: Metrics,
        wait_seconds: float,
    ) -> None:
        self.service = service
        self.sender = sender
        self.support = support
        self.metrics = metrics
        self.wait_seconds = wait_seconds
        self.locks: UserLocks = support.locks  # a staff close runs a user's turn: one lock for both

    async def run(self, update: Update, bot: Bot, event: Event) -> None:
        user, chat, query = update.effective_user, update.effective_chat, update.callback_query
        if user is None or chat is None or not isinstance(update.update_id, int):
            if query is not None:  # a button on a message we cannot reply to
                await self.sender.answer(query, None)
            return
        started = time.perf_counter()
        message_id = query.message.message_id if query is not None and query.message is not None else None
        delivery = Delivery(chat.id, update.update_id, message_id)
        async with self.locks.hold(user.id):
            result = await self._apply(user, event, delivery, bot)
            if result is None:
                return
            if query is not None:
                await self.sender.answer(query, result.outcome.toast)
            await self.sender.deliver(bot, result.outgoing, result.leased_at)
        self.metrics.turn_seconds.observe(time.perf_counter() - started)
        self.metrics.update_kind(type(event).__name__.lower()).inc()
        outcome = result.outcome
        if outcome.relays or outcome.handoff or outcome.ended_ticket:
            try:
                await self.support.after_turn(bot, outcome.relays, outcome.handoff, outcome.ended_ticket)
            except Exception as exc:  # the turn is committed: what it queued is the retry job's now
                if classify(exc) is not Fault.DATABASE_UNAVAILABLE:
                    raise
                log.warning("update %s: staff side left to the retry job (%s)", delivery.update_id, describe(exc))

    async def _apply(self, user: User, event: Event, delivery: Delivery, bot: Bot) -> TurnResult | None:
        """The turn's transaction, tried again while the database is unavailable. None: nothing
        was applied and the update must come back (or was refused politely)."""
        try:
            return await self._until_applied(
                delivery.update_id,
                lambda: self.service.handle(user.id, user.language_code, event, display_name(user), delivery),
            )
        except NotApplied:
            return None
        except Exception as exc:
            if classify(exc) is not Fault.BAD_INPUT:
                raise  # a bug: the Application's error handler logs it and tells the user
            log.warning("update %s refused: %s", delivery.update_id, describe(exc))
            await self._tell(bot, delivery.chat_id, user, "error.bad_input")
            return None

    async def staff(self, update: Update, work: Callable[[], Awaitable[object]]) -> None:
        """A staff update (bot/support.py), with a turn's waiting: tried again while the database is
        unavailable, then left unacknowledged. Each staff action that writes records the update as
        applied in its own transaction, so running it again (here, or when Telegram delivers the
        update again) applies nothing twice."""
        with contextlib.suppress(NotApplied):
            await self._until_applied(update.update_id, work)

    async def _until_applied(self, update_id: int | None, work: Callable[[], Awaitable[T]]) -> T:
        """`work()`, tried again while the database is unavailable, for up to `wait_seconds`; then
        NotApplied, and the update is left to come back. Other faults are the caller's."""
        deadline = time.monotonic() + self.wait_seconds
        attempt = 0
        while True:
            try:
                return await work()
            except Exception as exc:
                if classify(exc) is not Fault.DATABASE_UNAVAILABLE:
                    raise
                if time.monotonic() >= deadline:
                    self._not_applied(update_id, exc)
                    raise NotApplied from exc
                if attempt == 0:
                    log.warning("database unavailable (%s); update %s waits", describe(exc), update_id)
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt))
                attempt += 1

    def _not_applied(self, update_id: int | None, exc: BaseException) -> None:
        self.metrics.not_applied.inc()
        ack = current_update.get()
        if ack is not None:
            ack.retry = True
        log.warning("update %s not applied (%s): it will come back", update_id, describe(exc))

    async def _tell(self, bot: Bot, chat_id: int, user: User, key: str) -> None:
        lang = await self.service.language_of(user.id, user.language_code)
        try:
            await telegram_call(lambda: bot.send_message(chat_id, t(lang, key)))
        except Exception as exc:
            log.warning("could not tell chat %s (%s)", chat_id, describe(exc))
