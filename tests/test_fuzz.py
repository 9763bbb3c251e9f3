"""Hostile input through the real Application (hypothesis): random and huge text, any Unicode,
forged or stale callback data, missing fields, edited messages, channel posts, group messages,
stickers and files. No handler may fail, and another user's data is never touched."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from storage.models import DialogState, ServiceCode, Ticket, User
from tests.harness import BotHarness

VICTIM = 424242
FUZZERS = [9001, 9002]
COMMANDS = [
    "/start",
    "/check",
    "/filingtype",
    "/steps",
    "/codes",
    "/progress",
    "/human",
    "/cancel",
    "/reset",
    "/forget",
    "/language",
    "/help",
    "/nope",
    "/",
    "/check@icp_helper_bot extra words",
]
REAL_DATA = [
    "m:check",
    "m:resume",
    "l:zh",
    "d:check:location:a:mainland",
    "d:check:provider:b",
    "c:add",
    "c:list",
    "c:show:1",
    "c:set:1:available:refunded",
    "p:go:preparing:submitted",
    "p:rem:off",
    "f:yes",
    "f:no",
    "q:show:slb",
    "q:fb:slb:0",
    "h:ask",
    "r:1:5",
    "s:claim:1",
]

texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=3000, max_size=5000),
    st.sampled_from(COMMANDS),
    st.sampled_from(["6", "0", "99999999999", "中国内地", "ECS", "服务码是什么", "\u200b", "\x00", "👍" * 50]),
)
callback_data = st.one_of(
    st.sampled_from(REAL_DATA),
    st.text(max_size=80),
    st.builds(
        lambda p, a, b: f"{p}:{a}:{b}",
        st.sampled_from(["d", "c", "p", "q", "r", "s", "m", "l", "h", "f"]),
        st.text(max_size=20),
        st.text(max_size=20),
    ),
)
langs = st.one_of(st.none(), st.sampled_from(["en", "zh-hans", "zh-hant", "ru", "ar"]), st.text(max_size=8))
chat_types = st.sampled_from(["private", "private", "group", "supergroup", "channel"])
attachments = st.sampled_from(
    [
        {
            "sticker": {
                "file_id": "s",
                "file_unique_id": "s1",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"photo": [{"file_id": "p", "file_unique_id": "p1", "width": 1, "height": 1}]},
        {"document": {"file_id": "d", "file_unique_id": "d1"}},
        {"location": {"latitude": 31.2, "longitude": 121.5}},
        {"contact": {"phone_number": "+86 1", "first_name": "X"}},
    ]
)


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    uid = draw(st.integers(1, 2**31))
    user_id = draw(st.sampled_from(FUZZERS))
    user = {"id": user_id, "is_bot": False, "first_name": draw(st.text(min_size=1, max_size=30))}
    if (lang := draw(langs)) is not None:
        user["language_code"] = lang
    chat_type = draw(chat_types)
    chat = {"id": user_id if chat_type == "private" else -100500, "type": chat_type}
    message: dict[str, Any] = {"message_id": draw(st.integers(1, 10**6)), "date": int(time.time()), "chat": chat}
    if chat_type != "channel" or draw(st.booleans()):
        message["from"] = user
    kind = draw(
        st.sampled_from(
            ["message", "message", "edited_message", "callback_query", "channel_post", "inline_query", "attachment"]
        )
    )
    if kind == "callback_query":
        query: dict[str, Any] = {"id": str(uid), "from": user, "chat_instance": "1", "data": draw(callback_data)}
        if draw(st.booleans()):
            query["message"] = {**message, "from": {"id": 1, "is_bot": True, "first_name": "bot"}, "text": "old"}
        return {"update_id": uid, "callback_query": query}
    if kind == "inline_query":
        return {
            "update_id": uid,
            "inline_query": {"id": str(uid), "from": user, "query": draw(st.text(max_size=256)), "offset": ""},
        }
    if kind == "attachment":
        message.update(draw(attachments))
    else:
        text = draw(texts)
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if kind == "edited_message":
        message["edit_date"] = message["date"]
    key = {"edited_message": "edited_message", "channel_post": "channel_post"}.get(kind, "message")
    return {"update_id": uid, key: message}


def victim_rows(conn: Connection) -> tuple:
    return (
        [tuple(r) for r in conn.execute(select(User.c.language, User.c.active_dialog).where(User.c.id == VICTIM))],
        [
            tuple(r)
            for r in conn.execute(
                select(DialogState.c.dialog, DialogState.c.state, DialogState.c.version).where(
                    DialogState.c.user_id == VICTIM
                )
            )
        ],
        [
            tuple(r)
            for r in conn.execute(select(ServiceCode.c.id, ServiceCode.c.status).where(ServiceCode.c.user_id == VICTIM))
        ],
        [tuple(r) for r in conn.execute(select(Ticket.c.id, Ticket.c.status).where(Ticket.c.user_id == VICTIM))],
    )


@pytest.fixture(scope="module")
def fuzz_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.AbstractEventLoop, BotHarness, tuple]]:
    loop = asyncio.new_event_loop()
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    bot = BotHarness(url)
    loop.run_until_complete(bot.__aenter__())

    async def victim_setup() -> tuple:
        await bot.send(VICTIM, "/check")
        await bot.tap(VICTIM, "Chinese mainland")
        await bot.send(VICTIM, "/codes")
        await bot.tap(VICTIM, "➕ Add a code")
        await bot.send(VICTIM, "VICTIM-CODE-0001")
        await bot.send(VICTIM, "/human")
        return await bot.app_service_db_run(victim_rows)

    before = loop.run_until_complete(victim_setup())
    yield loop, bot, before
    loop.run_until_complete(bot.__aexit__(None, None, None))
    loop.close()


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(payload=updates())
def test_hostile_updates_never_fail_and_never_touch_another_user(fuzz_bot: tuple, payload: dict[str, Any]) -> None:
    loop, bot, victim_before = fuzz_bot
    loop.run_until_complete(bot.feed(payload))
    assert bot.errors() == 0, payload
    assert loop.run_until_complete(bot.app_service_db_run(victim_rows)) == victim_before
