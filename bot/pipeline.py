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
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass

from telegram import Bot, Update, User

from bot.faults import Fault, classify, describe
from bot.metrics import Metrics
from bot.sender import ReplySender, telegram_call
from bot.service import ConversationService
from bot.support import SupportDesk, display_name
from dialogs.session import Event
from knowledge.domain import normalize_language
from knowledge.texts import t
from storage.turns import Delivery, TurnResult

log = logging.getLogger(__name__)


@dataclass
class Acknowledgement:
    """Set by the webhook server or the poller around one update; `retry` when it must come back."""

    retry: bool = False


current_update: ContextVar[Acknowledgement | None] = ContextVar("current_update", default=None)


class UserLocks:
    """One user's updates run one at a time in this process, in the order they arrived (an update
    waiting for the database holds back that user's later ones, not anyone else's). Across
    processes, the row lock of the turn's transaction does the same."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def hold(self, user_id: int) -> _Held:
        return _Held(self, user_id)

    def __len__(self) -> int:
        return len(self._locks)


class _Held:
    """`async with locks.hold(user_id)`: a class, not a generator-based context manager, because it
    runs on every update (a third of the cost)."""

    __slots__ = ("_lock", "_locks", "_user")

    def __init__(self, locks: UserLocks, user_id: int) -> None:
        self._locks, self._user = locks._locks, user_id
        lock, users = self._locks.get(user_id) or (asyncio.Lock(), 0)
        self._locks[user_id] = (lock, users + 1)
        self._lock = lock

    async def __aenter__(self) -> None:
        try:
            await self._lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        lock, users = self._locks[self._user]
        if users == 1:
            del self._locks[self._user]
        else:
            self._locks[self._user] = (lock, users - 1)


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
        self.locks = UserLocks()

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
            await self.sender.deliver(bot, result.outgoing)
        self.metrics.turn_seconds.observe(time.perf_counter() - started)
        self.metrics.update_kind(type(event).__name__.lower()).inc()
        outcome = result.outcome
        if outcome.relays or outcome.handoff or outcome.ended_ticket:
            await self.support.after_turn(bot, outcome.relays, outcome.handoff, outcome.ended_ticket)

    async def _apply(self, user: User, event: Event, delivery: Delivery, bot: Bot) -> TurnResult | None:
        """The turn's transaction, tried again while the database is unavailable. None: nothing
        was applied and the update must come back (or was refused politely)."""
        deadline = time.monotonic() + self.wait_seconds
        attempt = 0
        while True:
            try:
                return await self.service.handle(user.id, user.language_code, event, display_name(user), delivery)
            except Exception as exc:
                fault = classify(exc)
                if fault is Fault.BUG:
                    raise  # the Application's error handler logs it and tells the user
                if fault is Fault.BAD_INPUT:
                    log.warning("update %s refused: %s", delivery.update_id, describe(exc))
                    await self._tell(bot, delivery.chat_id, user, "error.bad_input")
                    return None
                if time.monotonic() >= deadline:
                    self._not_applied(delivery, exc)
                    return None
                if attempt == 0:
                    log.warning("database unavailable (%s); update %s waits", describe(exc), delivery.update_id)
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt))
                attempt += 1

    def _not_applied(self, delivery: Delivery, exc: BaseException) -> None:
        self.metrics.not_applied.inc()
        ack = current_update.get()
        if ack is not None:
            ack.retry = True
        log.warning("update %s not applied (%s): it will come back", delivery.update_id, describe(exc))

    async def _tell(self, bot: Bot, chat_id: int, user: User, key: str) -> None:
        lang = normalize_language(user.language_code, self.service.default_language)
        try:
            await telegram_call(lambda: bot.send_message(chat_id, t(lang, key)))
        except Exception as exc:
            log.warning("could not tell chat %s (%s)", chat_id, describe(exc))
