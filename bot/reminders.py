"""The periodic job that sends due reminders, at least once and, barring a crash between the
send and its record, exactly once, across restarts and processes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Bot
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.records import PendingRecords
from bot.render import markup, send_text
from bot.sender import ReplySender
from dialogs.reminder_messages import render
from knowledge.domain import normalize_language
from storage.db import Database
from storage.reminders import claim_due, mark_sent, release
from storage.turns import worker_id

log = logging.getLogger(__name__)


class ReminderDispatcher:
    def __init__(self, db: Database, sender: ReplySender, worker: str | None = None) -> None:
        self.db = db
        self.sender = sender
        self.worker = worker or worker_id()
        self.unrecorded = PendingRecords(db, "reminder")

    async def run_once(self, bot: Bot, now: datetime | None = None) -> int:
        """Send what is due; returns how many were sent."""
        now = now or datetime.now(UTC)
        await self.unrecorded.flush()
        sent = 0
        for reminder in await self.db.run(claim_due, now, self.worker):
            reply = render(reminder.kind, reminder.params, normalize_language(reminder.language), now)
            try:
                await send_text(bot, reminder.user_id, reply.text, markup(reply.buttons))
            except Forbidden:
                await self.sender.blocked(reminder.user_id)
                await self.db.run(release, reminder.id, self.worker)
                continue
            except TelegramError as exc:
                log.warning("reminder %s not sent (%s); it will be retried", reminder.id, exc)
                await self.db.run(release, reminder.id, self.worker)
                continue
            sent += 1
            await self.unrecorded.record(reminder.id, mark_sent, reminder.id, self.worker, now)
        return sent

    async def job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.run_once(context.bot)
        except Exception:
            log.exception("reminder run failed; the next run tries again")
