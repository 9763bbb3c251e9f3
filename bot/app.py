"""The one place where the Telegram Application is assembled (production, tests, benchmarks)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import Settings
from bot.faults import describe
from bot.handlers import TelegramHandlers
from bot.metrics import Metrics
from bot.pipeline import TurnPipeline
from bot.reminders import ReminderDispatcher
from bot.sender import SENT_RECORD_SECONDS, ReplySender
from bot.service import ConversationService
from bot.support import SupportDesk
from dialogs import faq_answers
from dialogs.features import COMMANDS
from dialogs.router import Router
from knowledge.domain import LANGUAGES
from knowledge.faq import faq_index
from knowledge.texts import t
from storage.db import Database
from storage.turns import Turns

log = logging.getLogger(__name__)
FAQ_WARMUP_DELAY = 1.0  # seconds after start-up


def build_service(settings: Settings, db: Database | None = None) -> ConversationService:
    database = db or Database(settings.database_url, settings.sqlite_synchronous)
    turns = Turns(database, lease=timedelta(seconds=settings.outbox_lease_seconds))
    router = Router(free_text_hook=faq_answers.free_text, staff_available=settings.support_chat_id is not None)
    return ConversationService(turns, router, settings.default_language)


@dataclass(frozen=True)
class BotParts:
    """What build_application assembles, for the callers that need more than the Application."""

    app: Application
    service: ConversationService
    sender: ReplySender
    support: SupportDesk
    metrics: Metrics


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    service: ConversationService | None = None,
) -> Application:
    """The bot. `request` replaces the HTTP transport (tests and benchmarks record calls with it)."""
    return assemble(settings, request=request, service=service).app


def assemble(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    service: ConversationService | None = None,
) -> BotParts:
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required to build the Telegram application")
    service = service or build_service(settings)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.bot_api_url)
        .base_file_url(settings.bot_file_url)
    )
    # Lifecycle hooks close over the service: migrations and the command menu at start,
    # the database pool at shutdown. (run_polling/run_webhook call them; tests call post_init.)

    async def post_init(app: Application) -> None:
        await service.db.upgrade()
        # Building the FAQ index takes about a second (jieba's dictionary): done in a thread just
        # after start-up, so the bot answers at once; a question arriving earlier builds it then.
        loop = asyncio.get_running_loop()
        loop.call_later(FAQ_WARMUP_DELAY, lambda: loop.run_in_executor(None, faq_index))
        await set_commands(app)
        for problem in await support.setup_problems(app.bot):  # one clear line for each
            log.warning(problem)
        _freeze_startup_objects()

    async def post_shutdown(_app: Application) -> None:
        await sender.stop()
        try:
            await service.turns.flush()
        except Exception as exc:
            log.warning("sent replies not recorded at shutdown (%s); they may be sent again", describe(exc))
        await service.db.dispose()

    builder = builder.post_init(post_init).post_shutdown(post_shutdown)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        # Stopping cancels the long poll, and httpcore can keep a cancelled request's connection
        # slot (encode/httpcore#1093); a second slot lets the last getUpdates, which confirms the
        # updates already handled, go out instead of timing out in the pool.
        builder = builder.get_updates_connection_pool_size(2)
    if settings.telegram_max_rate > 0:
        limiter = AIORateLimiter(overall_max_rate=settings.telegram_max_rate, max_retries=3)
        # The builder's type says "no rate limiter" until one is set; the library's own is meant for it.
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    app = builder.build()
    metrics = Metrics()
    sender = ReplySender(service.turns)
    support = SupportDesk(service, sender, settings.support_chat_id, settings.staff_user_ids, settings.support_language)
    pipeline = TurnPipeline(service, sender, support, metrics, settings.database_wait_seconds)
    register_handlers(app, TelegramHandlers(pipeline, metrics, settings.default_language), support)
    jobs = app.job_queue
    if jobs is not None:
        if settings.outbox_retry_seconds > 0:
            jobs.run_repeating(sender.job, interval=settings.outbox_retry_seconds, first=1, name="owed-replies")
        # Replies Telegram accepted are recorded by this process's next transaction; in a quiet
        # process that is this job, well before their lease runs out (else another would resend).
        record_every = min(SENT_RECORD_SECONDS, settings.outbox_lease_seconds / 4)
        jobs.run_repeating(sender.record_sent_job, interval=record_every, first=record_every, name="record-sent")
        if settings.reminder_interval_seconds > 0:
            dispatcher = ReminderDispatcher(service.db, sender)
            jobs.run_repeating(dispatcher.job, interval=settings.reminder_interval_seconds, first=5, name="reminders")
        if settings.support_retry_seconds > 0:
            jobs.run_repeating(
                support.retry_job, interval=settings.support_retry_seconds, first=10, name="support-retry"
            )
        jobs.run_repeating(_prune_job(service), interval=3600, first=60, name="prune-processed-updates")
    return BotParts(app, service, sender, support, metrics)


def _freeze_startup_objects() -> None:
    """What start-up built (modules, texts, compiled statements) lives as long as the process: out of
    the cyclic collector's sight, its full collections scan only what turns create. Once per
    process: a later application (tests build many) would freeze its predecessors' garbage."""
    if gc.get_freeze_count() == 0:
        gc.freeze()


def _prune_job(service: ConversationService) -> Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
    """Forget processed updates Telegram can no longer redeliver."""

    async def prune(_context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            removed = await service.turns.prune()
        except Exception as exc:
            log.warning("processed updates not pruned now (%s)", describe(exc))
            return
        log.info("pruned %s processed updates", removed)

    return prune


def register_handlers(app: Application, handlers: TelegramHandlers, support: SupportDesk) -> None:
    private = filters.ChatType.PRIVATE
    # Order matters: within group 0 the first matching handler wins. The staff group's handlers
    # come first (its buttons carry "s:" data); then, for users, commands before text (a command
    # is text too), and the catch-all for stickers, photos... last.
    if support.chat_id is not None:
        staff_chat = filters.Chat(support.chat_id)
        # Staff updates wait for the database as a user's turn does (TelegramHandlers.staff).
        # An edited command is not run again (a /close edited to fix its note would close twice).
        staff_command = staff_chat & filters.COMMAND & ~filters.UpdateType.EDITED
        app.add_handler(MessageHandler(staff_command, handlers.staff(support.on_staff_command)))
        app.add_handler(CallbackQueryHandler(handlers.staff(support.on_staff_button), pattern=r"^s:"))
        app.add_handler(
            MessageHandler(
                staff_chat & ~filters.COMMAND & ~filters.StatusUpdate.ALL & ~filters.UpdateType.EDITED,
                handlers.staff(support.on_staff_message),
            )
        )
    # Button presses, most updates, are matched first: the message handlers' filters would
    # otherwise be evaluated on each (a press carries the message its button is on).
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_handler(InlineQueryHandler(handlers.on_inline))
    edited = filters.UpdateType.EDITED
    app.add_handler(MessageHandler(private & edited, handlers.on_edited))
    app.add_handler(MessageHandler(private & filters.COMMAND, handlers.on_command))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.UpdateType.EDITED, handlers.on_text))
    app.add_handler(
        MessageHandler(private & ~filters.UpdateType.EDITED & ~filters.StatusUpdate.ALL, handlers.on_unsupported)
    )
    app.add_error_handler(handlers.on_error)


async def set_commands(app: Application) -> None:
    """Publish the command menu in both languages; a failure here must not stop the bot."""
    try:
        for lang in LANGUAGES:
            commands = [BotCommand(name, t(lang, f"cmd.{name}")) for name in COMMANDS]
            await app.bot.set_my_commands(commands, language_code=None if lang == "en" else lang)
    except TelegramError as exc:
        log.warning("setMyCommands failed, continuing without a command menu: %s", exc)


ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
