"""The one reply sender: what the outbox owes a chat, to Telegram, and what went out, recorded.

A turn's replies are sent right after its commit; the entry is then deleted, or given back with how
many of its messages went out and when to try again. The sender job retries what is due, across
processes (leases: storage/outbox.py). One policy for a user who blocked the bot: they are marked
(no more reminders) and nothing more is sent to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from telegram import Bot, CallbackQuery, InputFile
from telegram.error import BadRequest
from telegram.ext import ContextTypes
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.faults import SendFault, classify_send, describe, format_bug
from bot.render import edit_text, markup, send_text, split_text
from dialogs.documents import render
from dialogs.screens import Document
from storage.outbox import Entry
from storage.reminders import mark_blocked
from storage.turns import Turns

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_CAP_S = 4.0  # an entry that failed is tried again within this long (and the job's interval)
PARALLEL_CHATS = 8  # chats the job sends to at once (one chat's entries always in order)
SENT_RECORD_SECONDS = 1.0  # a reply Telegram accepted is recorded in the database within this long
# A reply that failed this often for a reason that is no outage (a bug) is given up: kept, it would
# hold back every later reply of its chat, which go out after it.
BUG_ATTEMPTS = 3


def _transient(exc: BaseException) -> bool:
    return classify_send(exc) is SendFault.RETRY


async def telegram_call(call: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """One Bot API call, network errors retried at once with a short backoff (0.2 s, 0.4 s). Flood
    control (RetryAfter) is waited out by python-telegram-bot's AIORateLimiter. The first try is a
    plain call: tenacity's machinery is only paid once something went wrong."""
    try:
        return await call()
    except Exception as exc:
        if not _transient(exc) or attempts <= 1:
            raise
    await asyncio.sleep(0.2)
    async for attempt in AsyncRetrying(
        retry=retry_if_exception(_transient),
        stop=stop_after_attempt(attempts - 1),
        wait=wait_exponential(multiplier=0.2, max=1),
        reraise=True,
    ):
        with attempt:
            return await call()
    raise AssertionError("unreachable")


Message = Callable[[Bot], Awaitable[None]]


def messages(entry: Entry) -> list[Message]:
    """The Bot API calls an entry's replies take, in order: a reply longer than Telegram allows is
    several messages; a screen replacing the one whose button was pressed is an edit."""
    chat, out = entry.chat_id, []
    for reply in entry.replies:
        if reply.document is not None:
            out.append(_document(chat, reply.document, reply.text, markup(reply.buttons)))
            continue
        pieces = split_text(reply.text)
        keyboard = markup(reply.buttons)
        if reply.edit and entry.message_id is not None and len(pieces) == 1:
            out.append(_edit(chat, entry.message_id, pieces[0], keyboard))
            continue
        for i, piece in enumerate(pieces):
            out.append(_send(chat, piece, keyboard if i == len(pieces) - 1 else None))
    return out


def _document(chat: int, document: Document, caption: str, keyboard: str | None) -> Message:
    async def call(bot: Bot) -> None:
        content = await asyncio.to_thread(render, document)  # a PDF takes about a second to make
        extra = {"reply_markup": keyboard} if keyboard else None  # the keyboard's JSON, as for a text
        file = InputFile(content, filename=document.name)
        await telegram_call(lambda: bot.send_document(chat, file, caption=caption[:1024], api_kwargs=extra))

    return call


def _send(chat: int, text: str, keyboard: str | None) -> Message:
    async def call(bot: Bot) -> None:
        await telegram_call(lambda: send_text(bot, chat, text, keyboard))

    return call


def _edit(chat: int, message_id: int, text: str, keyboard: str | None) -> Message:
    async def call(bot: Bot) -> None:
        try:
            await telegram_call(lambda: edit_text(bot, chat, message_id, text, keyboard))
        except BadRequest as exc:
            if "not modified" in str(exc).lower():  # shown already (an earlier attempt got through)
                return
            log.info("edit failed (%s); sending a new message", exc)  # too old to edit, or gone
            await telegram_call(lambda: send_text(bot, chat, text, keyboard))

    return call


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_CAP_S, 0.5 * 2 ** max(0, attempts - 1)))


class ReplySender:
    def __init__(self, turns: Turns) -> None:
        self.turns = turns
        # A lease must not run out while its holder sends, or another process could send the same
        # entry. So, while an entry is being sent, its lease is renewed every quarter of a lease
        # (a call can take long: flood control waited out, a queue at the rate limiter, a slow
        # upload); and no message of it is begun within half a lease of its end, should renewing
        # fail: the rest is given back and sent later. (A message under way is not cancelled:
        # Telegram may have it already, and it would be sent again.)
        self.lease = turns.lease.total_seconds()
        self._held: dict[int, float] = {}  # entries being sent -> when their lease ends (loop time)
        self._renewer: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        """At shutdown: the renewal has nothing left to hold (nothing is sent any more)."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer

    async def answer(self, query: CallbackQuery, toast: str | None) -> None:
        """Answer a pressed button at once (the client shows a spinner until then). Not stored: a
        query can only be answered for a few seconds."""
        try:
            await telegram_call(lambda: query.answer(text=toast))
        except Exception as exc:  # too old (a redelivery), answered already, or Telegram unreachable
            log.info("callback query not answered: %s", describe(exc))

    async def deliver(self, bot: Bot, entries: list[Entry], leased_at: float | None = None) -> bool:
        """Send leased entries in order. After one fails, the rest are given back untouched, so a
        chat's replies keep their order. True when everything went out. `leased_at`: the loop's
        clock before the transaction that leased them (TurnResult.leased_at); else now."""
        leased_at = asyncio.get_running_loop().time() if leased_at is None else leased_at
        for i, entry in enumerate(entries):
            if not await self._send_entry(bot, entry, leased_at):
                for rest in entries[i + 1 :]:
                    await self._record(self.turns.failed, rest.id, rest.done, None)
                return False
        return True

    async def _send_entry(self, bot: Bot, entry: Entry, leased_at: float) -> bool:
        self._hold(entry.id, leased_at)
        try:
            return await self._send_held(bot, entry)
        finally:
            self._held.pop(entry.id, None)

    def _hold(self, entry_id: int, leased_at: float) -> None:
        self._held[entry_id] = leased_at + self.lease
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_while_held(), name="outbox-lease-renewal")

    async def _renew_while_held(self) -> None:
        """Every quarter of a lease, the leases of entries still being sent are renewed (one
        transaction; none while nothing takes that long). Stops once nothing is held."""
        loop = asyncio.get_running_loop()
        while self._held:
            await asyncio.sleep(self.lease / 4)
            now = loop.time()
            due = [i for i, until in self._held.items() if until - now <= self.lease * 3 / 4]
            if not due:
                continue
            try:
                renewed = await self.turns.renew(due)
            except Exception as exc:  # the half-lease rule below still holds
                log.warning("leases of replies being sent not renewed (%s)", describe(exc))
                continue
            for entry_id in due:
                if entry_id in self._held:  # a lease found lost: not one more message of it
                    self._held[entry_id] = now + self.lease if entry_id in renewed else now

    async def _send_held(self, bot: Bot, entry: Entry) -> bool:
        calls = messages(entry)
        done = entry.done
        loop = asyncio.get_running_loop()
        try:
            while done < len(calls):
                if loop.time() > self._held[entry.id] - self.lease / 2:
                    raise TimeoutError("within half a lease of the lease's end")
                try:
                    await calls[done](bot)
                except Exception as exc:
                    if classify_send(exc) is not SendFault.REFUSED:
                        raise
                    log.warning("Telegram refused a reply to chat %s; skipped: %s", entry.chat_id, exc)
                done += 1
        except Exception as exc:
            fault = classify_send(exc)
            if fault is SendFault.BLOCKED:
                await self.blocked(entry.chat_id)
                self.turns.sent(entry.id)  # nothing more goes to this chat
                return True
            if fault is SendFault.RETRY:
                log.warning("reply to chat %s not sent (%s); it will be retried", entry.chat_id, describe(exc))
            elif entry.attempts >= BUG_ATTEMPTS:
                log.error("sending a reply failed %s times; given up: %s", entry.attempts, format_bug(exc))
                self.turns.sent(entry.id)  # the rest of the chat's replies go on
                return True
            else:
                log.error("sending a reply failed: %s", format_bug(exc))
            retry_at = datetime.now(UTC) + retry_delay(entry.attempts)
            await self._record(self.turns.failed, entry.id, done, retry_at)
            return False
        self.turns.sent(entry.id)
        return True

    async def _record(self, fn: Callable[..., Awaitable[None]], *args: object) -> None:
        """A lease given back, on the database. If it cannot be written now, the entry stays leased
        to this process until the lease runs out, and is sent then."""
        try:
            await fn(*args)
        except Exception as exc:
            log.warning("outbox not updated (%s)", describe(exc))

    async def blocked(self, chat_id: int) -> None:
        """The user blocked the bot: marked, so no reminder goes to them (a message from them unmarks)."""
        log.info("chat %s blocked the bot: marked, no more reminders", chat_id)
        try:
            await self.turns.db.run(mark_blocked, chat_id, datetime.now(UTC))
        except Exception as exc:
            log.warning("could not mark chat %s as blocked (%s)", chat_id, describe(exc))

    async def retry_due(self, bot: Bot) -> int:
        """Send every entry whose retry is due and that nobody holds; returns how many went out.
        Chats in parallel, each chat's entries in order; once one chat meets an unreachable Bot API
        the others give theirs back untouched, so an outage costs one failed call per round."""
        leased_at = asyncio.get_running_loop().time()  # before the claim: the lease is no older
        entries = await self.turns.claim_due()
        by_chat: dict[int, list[Entry]] = {}
        for entry in entries:
            by_chat.setdefault(entry.chat_id, []).append(entry)
        gate = asyncio.Semaphore(PARALLEL_CHATS)
        outage = asyncio.Event()
        sent = 0

        async def chat(owed: list[Entry]) -> None:
            nonlocal sent
            async with gate:
                for i, entry in enumerate(owed):
                    if outage.is_set():
                        for rest in owed[i:]:
                            await self._record(self.turns.failed, rest.id, rest.done, None)
                        return
                    if not await self._send_entry(bot, entry, leased_at):
                        outage.set()
                        for rest in owed[i + 1 :]:
                            await self._record(self.turns.failed, rest.id, rest.done, None)
                        return
                    sent += 1

        await asyncio.gather(*(chat(owed) for owed in by_chat.values()))
        return sent

    async def record_sent_job(self, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.turns.flush()
        except Exception as exc:
            log.warning("sent replies not recorded now (%s); the next transaction tries again", describe(exc))

    async def job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.retry_due(context.bot)
        except Exception as exc:
            log.warning("owed replies not retried now (%s); the next run tries again", describe(exc))
