"""Telegram updates in: each handler turns one kind of update into a dialog event for the turn
pipeline (bot/pipeline.py). Registered in bot/app.py."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.faults import describe, format_bug
from bot.metrics import Metrics
from bot.pipeline import TurnPipeline
from dialogs import actions
from dialogs.commands import command_name
from dialogs.features import COMMANDS
from dialogs.session import Command, Edited, Press, Text, Unsupported
from knowledge.domain import Language, normalize_language
from knowledge.faq import faq_index, faq_index_built
from knowledge.texts import t

log = logging.getLogger(__name__)
Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def incoming(text: str) -> str:
    """What a user sent, as text any database stores: no NUL (PostgreSQL refuses it), and no lone
    surrogate (a JSON escape can carry one; it cannot be encoded)."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


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


async def faq_ready() -> None:
    """Wait for the FAQ index without blocking the event loop: start-up builds it in a thread, and a
    question that arrives before it is done waits here, not in its turn, where every other update
    (and the leases of replies being sent) would wait with it."""
    if not faq_index_built():
        await asyncio.get_running_loop().run_in_executor(None, faq_index)


class TelegramHandlers:
    def __init__(self, pipeline: TurnPipeline, metrics: Metrics, default_language: Language) -> None:
        self.pipeline = pipeline
        self.metrics = metrics
        self.default_language = default_language

    # --- entry points registered in bot/app.py ------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        name = command_name(incoming(message.text))
        if name not in COMMANDS:
            # Telegram's commands are at most 32 characters: a longer one is none, and is not kept
            # (cut short, a service code typed after a slash could not be masked in the turn log).
            name = f"unknown:{name}" if len(name) <= 32 else "unknown"
        await self.pipeline.run(update, context.bot, Command(name))

    def staff(self, handler: Callback) -> Callback:
        """A staff group handler, run with the waiting a user's turn has (TurnPipeline.staff)."""

        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await self.pipeline.staff(update, lambda: handler(update, context))

        return run

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
            # A user's button outside their private chat (the error message's "Talk to a person"
            # posted in the staff group): a turn there would make the presser a customer of that chat.
            lang = await self.pipeline.service.language_of(query.from_user.id, query.from_user.language_code)
            await self.pipeline.sender.answer(query, t(lang, "button.private_only"))
            return
        await self.pipeline.run(update, context.bot, Press(incoming(query.data or "")))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        await faq_ready()  # free text may be a question: the turn must not build the index on the loop
        await self.pipeline.run(update, context.bot, Text(incoming(message.text or ""), message.message_id))

    async def on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice... where text or a button is expected."""
        message = update.effective_message
        if message is not None and message.caption and message.caption.strip():  # read what can be read
            await faq_ready()
            caption = Text(incoming(message.caption), message.message_id, captioned=True)
            await self.pipeline.run(update, context.bot, caption)
            return
        attachment = message.effective_attachment if message else None
        # A photo comes as its sizes (a tuple of PhotoSize): it is named for what it is.
        kind = "photo" if isinstance(attachment, tuple) else type(attachment).__name__ if attachment else "other"
        event = Unsupported(kind.lower(), message.message_id if message else None)
        await self.pipeline.run(update, context.bot, event)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message: we read new messages only, and say so (a turn: in the user's
        language, and owed through an outage like any reply)."""
        await self.pipeline.run(update, context.bot, Edited())

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """`@bot question` in any chat: matching FAQ answers to insert."""
        query = update.inline_query
        if query is None:
            return
        fallback = normalize_language(query.from_user.language_code if query.from_user else None, self.default_language)
        await faq_ready()
        await query.answer(inline_results(incoming(query.query), fallback), cache_time=300, is_personal=False)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A bug: log it (without what the user typed) and tell the user, who keeps their place (the
        turn was not committed)."""
        error = context.error
        self.metrics.errors.inc()
        log.error("update failed: %s", format_bug(error) if error else "unknown error")
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        if user is not None:
            lang = await self.pipeline.service.language_of(user.id, user.language_code)
        else:
            lang = self.default_language
        if update.callback_query is not None:  # it may have been answered before the failure
            await self.pipeline.sender.answer(update.callback_query, None)
        offer = (  # a person is offered to a user, in their own chat; not in the staff group
            InlineKeyboardMarkup(
                [[InlineKeyboardButton(t(lang, "btn.human"), callback_data=actions.encode(actions.Handoff("error")))]]
            )
            if update.effective_chat.type == ChatType.PRIVATE
            else None
        )
        try:
            await context.bot.send_message(update.effective_chat.id, t(lang, "error.generic"), reply_markup=offer)
        except Exception as exc:
            log.warning("could not tell chat %s about the error (%s)", update.effective_chat.id, describe(exc))
