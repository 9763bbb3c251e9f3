"""Staff updates under faults: a database outage, a redelivery, a race with the user's own turn.

Each case failed before its fix: staff actions answered "something went wrong" and were
acknowledged during an outage (the agent's answer never reached the user), a staff update
delivered twice was applied twice, a close overtook the user's earlier reply, the error message's
"Talk to a person" pressed in the staff group made the agent a customer, and a close after the
user's /forget brought the user's row back.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Update

from bot.pipeline import Acknowledgement, current_update
from storage.models import Ticket, User
from tests.harness import BotHarness, Call, RecordingRequest, api_method

STAFF_CHAT = -1001234
AGENT = 7
USER = 4400


def make(url: str, request: RecordingRequest | None = None) -> BotHarness:
    return BotHarness(
        url,
        request=request,
        support_chat_id=STAFF_CHAT,
        staff_user_ids=frozenset({AGENT}),
        support_retry_seconds=0,
        reminder_interval_seconds=0,
        database_wait_seconds=0.5,
    )


@contextlib.contextmanager
def outage(path: Path) -> Iterator[None]:
    """Another connection holds the write lock: every write of the bot meets SQLITE_BUSY."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def card(harness: BotHarness) -> Call:
    return next(c for c in harness.request.calls if c.chat_id == STAFF_CHAT and "🎫 Ticket #" in c.text)


def copies_to_user(*harnesses: BotHarness) -> list[Call]:
    return [c for h in harnesses for c in h.request.calls if c.method == "copyMessage" and c.chat_id == USER]


async def fed(harness: BotHarness, data: dict[str, Any]) -> tuple[Acknowledgement, list[Call]]:
    """The update as the webhook server hands it over: with its acknowledgement to read."""
    ack = Acknowledgement()
    token = current_update.set(ack)
    before = len(harness.request.calls)
    try:
        await harness.app.process_update(Update.de_json(data, harness.app.bot))
    finally:
        current_update.reset(token)
    return ack, harness.request.calls[before:]


@pytest.mark.usefixtures("quick_lock_wait")
@pytest.mark.parametrize("text", ["/close done", "Hello, I can help"])
async def test_a_staff_update_during_an_outage_waits_and_is_not_acknowledged(tmp_path: Path, text: str) -> None:
    path = tmp_path / "b.db"
    async with make(f"sqlite:///{path}") as harness:
        await harness.send(USER, "/human")
        with outage(path):
            update = harness.updates.group_message(AGENT, STAFF_CHAT, text, reply_to=card(harness).message_id)
            ack, calls = await fed(harness, copy.deepcopy(update))
        assert ack.retry  # the webhook answers 503: Telegram delivers it again
        assert not [c for c in calls if c.method == "sendMessage" and "went wrong" in c.text]
        assert harness.errors() == 0
        ack, _ = await fed(harness, update)  # delivered again, the database back
        assert not ack.retry
        if text.startswith("/close"):
            assert any("Support has closed your request" in c.text for c in harness.request.to_chat(USER))
        else:
            assert len(copies_to_user(harness)) == 1


async def test_a_staff_answer_delivered_twice_reaches_the_user_once(sqlite_url: str) -> None:
    async with make(sqlite_url) as harness:
        await harness.send(USER, "/human")
        update = harness.updates.group_message(
            AGENT, STAFF_CHAT, "Renew for a month.", reply_to=card(harness).message_id
        )
        await harness.feed(copy.deepcopy(update))
        calls = await harness.feed(copy.deepcopy(update))
        assert len(copies_to_user(harness)) == 1
        assert not [c for c in calls if c.chat_id == STAFF_CHAT]  # and staff are not answered twice


async def test_a_staff_answer_posted_to_two_processes_reaches_the_user_once(database_url: str) -> None:
    async with make(database_url) as a, make(database_url) as b:
        await a.send(USER, "/human")
        update = a.updates.group_message(AGENT, STAFF_CHAT, "Renew for a month.", reply_to=card(a).message_id)
        await asyncio.gather(a.feed(copy.deepcopy(update)), b.feed(copy.deepcopy(update)))
        assert len(copies_to_user(a, b)) == 1


async def test_a_close_delivered_twice_tells_the_user_once(sqlite_url: str) -> None:
    async with make(sqlite_url) as harness:
        await harness.send(USER, "/human")
        update = harness.updates.group_message(AGENT, STAFF_CHAT, "/close", reply_to=card(harness).message_id)
        await harness.feed(copy.deepcopy(update))
        calls = await harness.feed(copy.deepcopy(update))
        told = [c for c in harness.request.to_chat(USER) if "Support has closed your request" in c.text]
        assert len(told) == 1
        assert not [c for c in calls if c.chat_id == STAFF_CHAT]


class SlowFirstReplyToUser(RecordingRequest):
    """The user's next sendMessage takes half a second: an ordinary slow round trip."""

    slow = False

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        params = dict(request_data.parameters) if request_data is not None else {}
        if self.slow and api_method(url) == "sendMessage" and str(params.get("chat_id")) == str(USER):
            self.slow = False
            await asyncio.sleep(0.5)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_a_close_waits_for_the_users_earlier_reply(tmp_path: Path) -> None:
    request = SlowFirstReplyToUser()
    async with make(f"sqlite:///{tmp_path / 'b.db'}", request) as harness:
        await harness.send(USER, "/human")
        anchor = card(harness).message_id
        await harness.feed(harness.updates.group_message(AGENT, STAFF_CHAT, "hi", reply_to=anchor))
        start = len(request.calls)
        request.slow = True
        users_turn = asyncio.create_task(harness.send(USER, "/check"))
        await asyncio.sleep(0.05)  # committed; its reply is on its way
        await harness.feed(harness.updates.group_message(AGENT, STAFF_CHAT, "/close", reply_to=anchor))
        await users_turn
        read = [c.text for c in request.calls[start:] if c.chat_id == USER and c.method == "sendMessage"]
        assert "talking to a person" in read[0] and "Support has closed your request" in read[1]


@pytest.mark.usefixtures("quick_lock_wait")
async def test_the_error_messages_button_in_the_staff_group_opens_no_ticket(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    async with make(f"sqlite:///{path}") as harness:
        await harness.send(USER, "/human")
        # a staff command that fails for a bug: the error message goes to the staff group
        harness.parts.support.queue_text = None  # type: ignore[assignment]
        calls = await harness.feed(harness.updates.group_message(AGENT, STAFF_CHAT, "/tickets"))
        error = next(c for c in calls if c.chat_id == STAFF_CHAT and "went wrong" in c.text)
        assert not error.buttons  # no "Talk to a person" where staff read it
        # and a user's button pressed in a group is refused there, politely
        calls = await harness.feed(harness.updates.group_press(AGENT, STAFF_CHAT, "h:error", error.message_id))
        toast = next(c for c in calls if c.method == "answerCallbackQuery")
        assert toast.params.get("text") == "This button works only in your private chat with me."
        tickets = await harness.app_service_db_run(lambda c: c.execute(select(Ticket.c.user_id)).scalars().all())
        assert tickets == [USER]


@pytest.mark.usefixtures("quick_lock_wait")
async def test_a_message_kept_for_staff_is_not_reported_as_an_error_when_the_database_blips_after(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.db"
    async with make(f"sqlite:///{path}") as harness:
        await harness.send(USER, "/human")
        desk = harness.parts.support
        real = desk.after_turn

        async def after_turn(*args: Any) -> None:
            with outage(path):  # the blip starts just after the turn committed
                await real(*args)

        desk.after_turn = after_turn  # type: ignore[method-assign]
        calls = await harness.send(USER, "my server is ECS in Hangzhou")
        assert not [c for c in calls if c.chat_id == USER and "went wrong" in c.text]
        desk.after_turn = real  # type: ignore[method-assign]
        await desk.retry(harness.app.bot)  # the retry job carries it
        relayed = [c for c in harness.request.calls if c.method == "copyMessage" and c.chat_id == STAFF_CHAT]
        assert len(relayed) == 1


async def test_a_close_after_the_user_forgot_themselves_brings_nothing_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    async with make(url) as a, make(url) as b:
        await b.send(USER, "/human")
        desk = a.parts.support
        real = desk.close

        async def close_after_forget(*args: Any) -> str | None:
            # meanwhile, on the other process, the user ends the hand-off and is forgotten
            await b.send(USER, "/cancel")
            await b.send(USER, "/forget")
            await b.tap(USER, "Yes, delete everything")
            return await real(*args)

        desk.close = close_after_forget  # type: ignore[method-assign]
        await a.feed(a.updates.group_press(AGENT, STAFF_CHAT, "s:close:1", card(b).message_id))
        rows = await a.app_service_db_run(lambda c: c.execute(select(User.c.id).where(User.c.id == USER)).all())
        assert rows == []


class BlipAfterCopy(RecordingRequest):
    """Right after Telegram accepts a copyMessage, the database is unavailable for 0.3 s."""

    path = ""

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        if self.path and api_method(url) == "copyMessage":
            lock = sqlite3.connect(self.path, isolation_level=None)
            self.path = ""
            lock.execute("BEGIN EXCLUSIVE")
            asyncio.get_running_loop().call_later(0.3, lambda: (lock.execute("ROLLBACK"), lock.close()))
        return result


@pytest.mark.usefixtures("quick_lock_wait")
@pytest.mark.parametrize("direction", ["to the user", "to staff"])
async def test_a_message_relayed_just_before_a_database_blip_is_not_relayed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    """Its record failed; once its lease ran out the retry job copied it a second time."""
    import bot.support

    path = tmp_path / "b.db"
    request = BlipAfterCopy()
    async with make(f"sqlite:///{path}", request) as harness:
        await harness.send(USER, "/human")
        request.path = str(path)
        if direction == "to the user":
            await harness.feed(
                harness.updates.group_message(
                    AGENT, STAFF_CHAT, "Renew for a month.", reply_to=card(harness).message_id
                )
            )
            target = USER
        else:
            await harness.send(USER, "my server is ECS in Hangzhou")
            target = STAFF_CHAT
        await asyncio.sleep(0.5)  # the database is back
        real_now = bot.support.now
        monkeypatch.setattr(bot.support, "now", lambda: real_now() + timedelta(minutes=3))  # past the lease
        await harness.parts.support.retry(harness.app.bot)
        copies = [c for c in harness.request.calls if c.method == "copyMessage" and c.chat_id == target]
        assert len(copies) == 1
