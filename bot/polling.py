"""Polling mode: getUpdates, and each update confirmed only once it was applied.

Telegram considers an update delivered when getUpdates is next called with an offset past it.
python-telegram-bot's Updater moves the offset past everything it fetched, applied or not, so an
update that met an unavailable database lived only in memory and died with the process. Here the
offset moves past an update only once its turn committed (or was refused for good): an update
waiting for the database holds it, and if the process dies meanwhile Telegram still has that
update and everything after it, and delivers them to the next process (updates applied already
are recognised and not applied twice). Updates are applied one at a time, in Telegram's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Sequence

from telegram import Update
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import Application

from bot.faults import describe
from bot.pipeline import Acknowledgement, current_update

log = logging.getLogger(__name__)
LONG_POLL_S = 25  # how long one getUpdates waits for new updates
RETRY_CAP_S = 2.0  # an update waiting for the database is tried again at least this often


class Poller:
    def __init__(self, app: Application, allowed_updates: Sequence[str] | None = None) -> None:
        self.app = app
        self.allowed_updates = list(allowed_updates) if allowed_updates else None
        self.offset: int | None = None  # the first update not yet applied

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch and apply until `stop` is set; then confirm what was applied."""
        failures = 0
        while not stop.is_set():
            try:
                updates = await _until(stop, self.app.bot.get_updates(
                    offset=self.offset, timeout=LONG_POLL_S, allowed_updates=self.allowed_updates
                ))  # fmt: skip
                failures = 0
            except InvalidToken:
                raise
            except (TelegramError, OSError) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                level = logging.ERROR if isinstance(exc, Conflict) else logging.WARNING
                log.log(level, "getUpdates failed (%s); again in %.1f s", describe(exc), delay)
                await _sleep(stop, delay)
                continue
            for update in updates or ():
                if not await self.apply(update, stop):
                    break  # stopping while it waits: not confirmed, Telegram delivers it again
                self.offset = update.update_id + 1
        await self.confirm()

    async def apply(self, update: Update, stop: asyncio.Event) -> bool:
        """Process one update until it no longer needs to come back; False if stopped first."""
        attempt = 0
        while True:
            ack = Acknowledgement()
            token = current_update.set(ack)
            try:
                await self.app.process_update(update)
            finally:
                current_update.reset(token)
            if not ack.retry:
                return True
            attempt += 1
            await _sleep(stop, min(RETRY_CAP_S, 0.25 * attempt))
            if stop.is_set():
                return False

    async def confirm(self) -> None:
        """Tell Telegram the applied updates are handled (else it sends them again, harmlessly)."""
        if self.offset is None:
            return
        try:
            await self.app.bot.get_updates(offset=self.offset, timeout=0, allowed_updates=self.allowed_updates)
        except TelegramError as exc:
            log.warning("applied updates not confirmed (%s); Telegram may send them again", describe(exc))


async def _until(stop: asyncio.Event, call: Awaitable[tuple[Update, ...]]) -> tuple[Update, ...] | None:
    """Await `call` unless `stop` is set first (then it is cancelled and None returned)."""
    fetch = asyncio.ensure_future(call)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not fetch.done():
        fetch.cancel()
        with contextlib.suppress(asyncio.CancelledError, TelegramError):
            await fetch
        return None
    return fetch.result()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def serve_polling(app: Application, allowed_updates: Sequence[str]) -> None:
    """Run until SIGTERM or SIGINT: then finish the update in hand, confirm, and exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()  # the job queue: owed replies, reminders, support retries
        await app.bot.delete_webhook()
        log.info("polling for updates")
        try:
            await Poller(app, allowed_updates).run(stop)
        finally:
            await app.stop()
            if app.post_shutdown is not None:
                with contextlib.suppress(Exception):
                    await app.post_shutdown(app)
