"""Telegram updates in, dialog events to the service, replies out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import traceback
from datetime import UTC, datetime

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.metrics import Metrics
from bot.render import edit_text, markup, send_text, split_text
from bot.resilience import current_turn, database_unavailable, telegram_call
from bot.service import ConversationService
from bot.support import SupportDesk, display_name
from dialogs.router import COMMANDS, Command, Event, Press, Text, Unsupported
from dialogs.screens import Outcome
from knowledge.domain import Language, normalize_language
from knowledge.faq import faq_index
from knowledge.texts import t
from storage.reminders import mark_blocked

log = logging.getLogger(__name__)


def inline_results(text: str, fallback: Language, limit: int = 5) -> list[InlineQueryResultArticle]:
    question = text.strip()
    index = faq_index()
    if not question:
        entries = index.entries[:limit]
        lang = fallback
    else:
        result = index.ask(question)
        lang = result.language
        candidates = ([result.entry] if result.entry else []) + [e for e, _ in result.alternatives]
        entries = candidates[:limit]
    return [
        InlineQueryResultArticle(
            id=entry.id,
            title=entry.title(lang),
            description=entry.answer(lang)[:120],
            input_message_content=InputTextMessageContent(f"{entry.title(lang)}\n\n{entry.answer(lang)}"),
        )
        for entry in entries
    ]


def command_name(text: str) -> str:
    """'/Check@icp_bot extra' -> 'check'."""
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()


MAX_LOCAL_RETRIES = 12  # about ten minutes of backoff before a polled update is given up


class TelegramHandlers:
    def __init__(self, service: ConversationService, support: SupportDesk, metrics: Metrics) -> None:
        self.service = service
        self.support = support
        self.metrics = metrics
        self.retries: dict[int, int] = {}  # polled updates waiting for the database, by update_id
        self.in_flight = 0  # updates being handled now (webhook requests are handled concurrently)

    # --- entry points registered in bot/app.py ------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        name = command_name(message.text)
        await self._turn(update, context, Command(name if name in COMMANDS else f"unknown:{name}"[:40]))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await self._turn(update, context, Press(query.data or ""))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await self._turn(update, context, Text(message.text or "", message.message_id))

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice... where text or a button is expected."""
        message = update.effective_message
        kind = message.effective_attachment.__class__.__name__ if message and message.effective_attachment else "other"
        await self._turn(update, context, Unsupported(kind.lower(), message.message_id if message else None))

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message: we read new messages only, and say so."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = normalize_language(user.language_code, self.service.default_language)
        await telegram_call(lambda: context.bot.send_message(chat.id, t(lang, "edited.ignored")))

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`@bot question` in any chat: matching FAQ answers to insert."""
        query = update.inline_query
        if query is None:
            return
        fallback = normalize_language(
            query.from_user.language_code if query.from_user else None, self.service.default_language
        )
        results = inline_results(query.query, fallback)
        await query.answer(results, cache_time=300, is_personal=False)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the traceback and tell the user, who keeps their place (the turn was not committed)."""
        error = context.error
        self.metrics.errors.inc()
        log.error("update failed: %s", "".join(traceback.format_exception(error)) if error else "unknown error")
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        lang = normalize_language(user.language_code if user else None, self.service.default_language)
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):  # it may have been answered before the failure
                await update.callback_query.answer()
        offer = InlineKeyboardMarkup([[InlineKeyboardButton(t(lang, "btn.human"), callback_data="h:error")]])
        try:
            await context.bot.send_message(update.effective_chat.id, t(lang, "error.generic"), reply_markup=offer)
        except TelegramError:
            log.warning("could not tell chat %s about the error", update.effective_chat.id)

    # --- the turn ---------------------------------------------------------------------------
    async def _turn(self, update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None:
            if update.callback_query is not None:  # a button on a message we cannot reply to
                await update.callback_query.answer()
            return
        started = time.perf_counter()
        self.in_flight += 1
        try:
            try:
                outcome = await self.service.handle(
                    user.id,
                    user.language_code,
                    event,
                    display_name(user),
                    update.update_id,
                    together=self.in_flight > 1,
                )
            except Exception as exc:
                if not database_unavailable(exc):
                    raise
                self.not_applied(update, context, exc)
                return
            await self.deliver(update, context, chat.id, outcome)
        finally:
            self.in_flight -= 1
        self.service.delivered(update.update_id)
        self.metrics.turn_seconds.observe(time.perf_counter() - started)
        self.metrics.update_kind(type(event).__name__.lower()).inc()
        if outcome.relays or outcome.handoff or outcome.ended_ticket:
            await self.support.after_turn(context.bot, outcome.relays, outcome.handoff, outcome.ended_ticket)

    def not_applied(self, update: Update, context: ContextTypes.DEFAULT_TYPE, exc: BaseException) -> None:
        """The database is unreachable: the update is not handled, and must come back."""
        self.metrics.not_applied.inc()
        status = current_turn.get()
        if status is not None:  # webhook: answer 503, Telegram delivers it again
            status.retry = True
            log.warning("update %s not applied (%s); Telegram will redeliver it", update.update_id, exc)
            return
        # polling: Telegram already considers it delivered, so this process tries again
        attempt = self.retries.get(update.update_id, 0) + 1
        if attempt > MAX_LOCAL_RETRIES:
            self.retries.pop(update.update_id, None)
            log.error(
                "update %s dropped after %s attempts: the database stayed unreachable",
                update.update_id,
                MAX_LOCAL_RETRIES,
            )
            return
        self.retries[update.update_id] = attempt
        delay = min(60.0, 0.5 * 2**attempt)
        log.warning("update %s not applied (%s); retry %s in %.1f s", update.update_id, exc, attempt, delay)
        context.application.create_task(self._requeue(context, update, delay))

    @staticmethod
    async def _requeue(context: ContextTypes.DEFAULT_TYPE, update: Update, delay: float) -> None:
        await asyncio.sleep(delay)
        await context.application.update_queue.put(update)

    async def deliver(self, update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int, outcome: Outcome) -> None:
        self.retries.pop(update.update_id, None)
        query = update.callback_query
        if query is not None:
            # Always answer a callback query, or the user's client shows a spinner for a while.
            try:
                await telegram_call(lambda: query.answer(text=outcome.toast))
            except BadRequest as exc:  # too old (a redelivery) or answered already
                log.info("callback not answered: %s", exc)
        for reply in outcome.replies:
            pieces = split_text(reply.text)
            keyboard = markup(reply.buttons)
            if reply.edit and query is not None and query.message is not None and len(pieces) == 1:
                message_id = query.message.message_id
                try:
                    await telegram_call(
                        lambda p=pieces[0], k=keyboard, m=message_id: edit_text(context.bot, chat_id, m, p, k)
                    )
                    continue
                except BadRequest as exc:
                    if "not modified" in str(exc).lower():
                        continue
                    # Too old to edit, or gone: send the screen as a new message instead.
                    log.info("edit failed (%s); sending a new message", exc)
            for i, piece in enumerate(pieces):
                last = i == len(pieces) - 1
                try:
                    await telegram_call(
                        lambda p=piece, k=keyboard if last else None: send_text(context.bot, chat_id, p, k)
                    )
                except Forbidden:
                    log.info("chat %s blocked the bot: marked inactive, no more reminders", chat_id)
                    await self.service.db.run(mark_blocked, chat_id, datetime.now(UTC))
                    return
