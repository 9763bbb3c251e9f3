"""The periodic job that sends due reminders, at least once and, barring a crash between the
send and its record, exactly once, across restarts and processes."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime

from telegram import Bot
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.faults import Fault, classify, describe
from bot.render import markup, send_text
from bot.sender import ReplySender
from dialogs.reminder_messages import render
from knowledge.domain import normalize_language
from storage.db import Database
from storage.reminders import claim_due, mark_sent, release

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReminderDispatcher:
    def __init__(self, db: Database, sender: ReplySender, worker: str | None = None) -> None:
        self.db = db
        self.sender = sender
        self.worker = worker or worker_id()
        # Reminders sent whose record the database could not take then: recorded first thing in
        # the next run, while their lease still keeps every process from sending them again.
        self._unrecorded: dict[int, datetime] = {}

    async def run_once(self, bot: Bot, now: datetime | None = None) -> int:
        """Send what is due; returns how many were sent."""
        now = now or datetime.now(UTC)
        for reminder_id, at in list(self._unrecorded.items()):
            await self.db.run(mark_sent, reminder_id, self.worker, at)
            del self._unrecorded[reminder_id]
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
            try:
                await self.db.run(mark_sent, reminder.id, self.worker, now)
            except Exception as exc:
                if classify(exc) is not Fault.DATABASE_UNAVAILABLE:
                    raise
                log.warning("reminder %s sent, recorded with the next run (%s)", reminder.id, describe(exc))
                self._unrecorded[reminder.id] = now
        return sent

    async def job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.run_once(context.bot)
        except Exception:
            log.exception("reminder run failed; the next run tries again")
