"""The baseline: the same questions built the way python-telegram-bot's examples do it, with a
ConversationHandler and PicklePersistence (its pickle written once a minute, and at shutdown).

Same texts, same rule function (knowledge.eligibility.assess), same FAQ, same Bot API calls per
turn (answerCallbackQuery + editMessageText for a press, sendMessage for a message)."""

from __future__ import annotations

import warnings
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from dialogs.check import CheckDialog
from knowledge.eligibility import ServerFacts, assess
from knowledge.faq import faq_index
from knowledge.texts import t

# The same questions and options as /check (its question table).
QUESTIONS = [q.name for q in CheckDialog.questions]
OPTIONS = {q.name: list(q.options) for q in CheckDialog.questions}


def keyboard(question: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(v, callback_data=f"d:check:{question}:a:{v}")] for v in OPTIONS[question]]
    )


async def start_check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_chat is not None and context.user_data is not None
    context.user_data.clear()
    await context.bot.send_message(
        update.effective_chat.id, t("en", "check.q.location"), reply_markup=keyboard("location")
    )
    return 0


def answer(index: int):  # type: ignore[no-untyped-def]
    question = QUESTIONS[index]

    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and context.user_data is not None
        await query.answer()
        value = (query.data or "").rsplit(":", 1)[-1]
        context.user_data[question] = value
        if index + 1 < len(QUESTIONS):
            nxt = QUESTIONS[index + 1]
            await query.edit_message_text(t("en", f"check.q.{nxt}"), reply_markup=keyboard(nxt))
            return index + 1
        a = context.user_data
        verdict = assess(ServerFacts.from_answers(a))
        lines = [f"• {f.text('en')}" for f in verdict.reasons + verdict.next_steps]
        await query.edit_message_text("\n".join(lines))
        return ConversationHandler.END

    return handler


async def free_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None and update.effective_message is not None
    result = faq_index().ask(update.effective_message.text or "")
    text = result.entry.answer(result.language) if result.entry else t(result.language, "faq.unsure")
    await context.bot.send_message(update.effective_chat.id, text)


def build_baseline(token: str, request: BaseRequest, pickle_path: Path, update_interval: float = 60) -> Application:
    persistence = PicklePersistence(filepath=pickle_path, update_interval=update_interval)
    app = ApplicationBuilder().token(token).request(request).persistence(persistence).build()
    with warnings.catch_warnings():  # the per_message notice python-telegram-bot's examples also get
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = _conversation()
    app.add_handler(conversation)
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, free_question))
    return app


def _conversation() -> ConversationHandler:
    return ConversationHandler(
        entry_points=[CommandHandler("check", start_check)],
        states={i: [CallbackQueryHandler(answer(i))] for i in range(len(QUESTIONS))},
        fallbacks=[],
        name="check",
        persistent=True,
    )
