"""Hand-off to support staff, through the real Application: a user, a staff group, the round trip."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, select, update

from bot.cli import main
from bot.support import SupportDesk
from storage.models import Relay, Ticket, User
from tests.harness import BotHarness, Call

STAFF_CHAT = -1001234
AGENT, AGENT2, OUTSIDER = 7, 8, 66
USER = 4400


def staff_calls(bot: BotHarness, method: str) -> list[Call]:
    return [c for c in bot.request.calls if c.method == method and c.chat_id == STAFF_CHAT]


def to_user(calls: list[Call], user: int = USER) -> list[Call]:
    return [c for c in calls if c.chat_id == user and c.method in ("sendMessage", "editMessageText")]


def card(bot: BotHarness) -> Call:
    return next(c for c in staff_calls(bot, "sendMessage") if "🎫 Ticket #" in c.text)


def ticket_row(conn: Connection, user_id: int = USER) -> dict:
    row = (
        conn.execute(select(Ticket).where(Ticket.c.user_id == user_id).order_by(Ticket.c.id.desc())).mappings().first()
    )
    return {
        c: getattr(row, c)
        for c in (
            "id",
            "status",
            "claimed_by",
            "first_response_at",
            "closed_at",
            "rating",
            "close_note",
            "card_message_id",
            "topic_id",
        )
    }


def make(url: str, forum: bool = False, **settings: object) -> BotHarness:
    settings.setdefault("support_chat_id", STAFF_CHAT)
    settings.setdefault("staff_user_ids", frozenset({AGENT, AGENT2}))
    settings.setdefault("support_retry_seconds", 0)
    harness = BotHarness(url, **settings)
    harness.request.forum = forum
    return harness


async def staff_says(
    bot: BotHarness,
    who: int,
    text: str | None = None,
    thread: int | None = None,
    reply_to: int | None = None,
    extra: dict | None = None,
) -> list[Call]:
    return await bot.feed(bot.updates.group_message(who, STAFF_CHAT, text, thread, reply_to, extra))


async def test_full_round_trip_in_a_plain_group(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        # the user has some context first
        await bot.send(USER, "/check")
        for label in ("Chinese mainland", "Alibaba Cloud", "ECS", "Subscription", "2 months", "No"):
            await bot.tap(USER, label)
        calls = await bot.tap(USER, "🙋 Talk to a person")
        assert "number 1 in the queue" in to_user(calls)[-1].text

        c = card(bot)
        assert "Ticket #1 · open" in c.text and "User4400 (id 4400)" in c.text and "reason: verdict" in c.text
        assert "location=mainland" in c.text and "months=2" in c.text
        assert "eligible=False" in c.text and "req.months_short" in c.text
        assert (
            "Last 20 turns:" in c.text
            and "👤 press: h:verdict" in c.text
            and "answer: question=months, value=2" in c.text
        )
        assert [b["callback_data"] for b in c.buttons] == ["s:claim:1", "s:close:1"]

        # user -> staff: copied under the card
        calls = await bot.send(USER, "My ECS says 2 months, can I renew?")
        [copy] = [x for x in calls if x.method == "copyMessage"]
        assert copy.chat_id == STAFF_CHAT and int(copy.params["from_chat_id"]) == USER
        assert copy.params["reply_parameters"]["message_id"] == c.message_id
        relayed_id = copy.message_id

        # staff -> user: a reply to the relayed message
        calls = await staff_says(bot, AGENT, "Yes: renew for one more month.", reply_to=relayed_id)
        [back] = [x for x in calls if x.method == "copyMessage"]
        assert back.chat_id == USER and int(back.params["from_chat_id"]) == STAFF_CHAT
        row = await bot.app_service_db_run(ticket_row)
        assert row["status"] == "claimed" and row["claimed_by"] == AGENT and row["first_response_at"]

        # the bot's own dialogs are paused meanwhile
        calls = await bot.send(USER, "/check")
        assert "talking to a person" in to_user(calls)[-1].text

        # close with a note, as a reply to the card
        calls = await staff_says(bot, AGENT, "/close renewal explained", reply_to=c.message_id)
        assert "Ticket #1 closed." in calls[-1].text
        told = [x.text for x in to_user(calls)]
        assert "Support has closed your request" in told[0] and "renewal explained" in told[0]
        assert "How would you rate" in told[1]
        assert told[2].startswith("❌")  # resumed where the user was: the verdict, not the menu

        calls = await bot.press(USER, "r:1:5", message_id=1)
        assert "Thank you for your rating" in to_user(calls)[-1].text
        row = await bot.app_service_db_run(ticket_row)
        assert row["status"] == "closed" and row["rating"] == 5 and row["close_note"] == "renewal explained"
        # another star of the same message: the notice says "here is the menu", and the menu comes
        calls = await bot.press(USER, "r:1:4", message_id=1)
        assert any(c.method == "answerCallbackQuery" and "Here is the menu" in c.params.get("text", "") for c in calls)
        assert "What would you like to do?" in to_user(calls)[-1].text

        calls = await bot.send(USER, "/check")  # the bot is back
        assert "Where is your server?" in to_user(calls)[-1].text


async def test_forum_group_gets_a_topic_per_ticket(sqlite_url: str) -> None:
    async with make(sqlite_url, forum=True) as bot:
        await bot.send(USER, "/human", lang="zh")
        [topic] = staff_calls(bot, "createForumTopic")
        assert topic.params["name"].startswith("#1 User4400")
        row = await bot.app_service_db_run(ticket_row)
        thread = row["topic_id"]
        assert card(bot).params["message_thread_id"] == thread

        calls = await bot.send(USER, "我的服务码显示未绑定", lang="zh")
        [copy] = [x for x in calls if x.method == "copyMessage"]
        assert copy.params["message_thread_id"] == thread and "reply_parameters" not in copy.params

        calls = await staff_says(bot, AGENT, "请在控制台重新绑定。", thread=thread)
        assert [x.chat_id for x in calls if x.method == "copyMessage"] == [USER]

        calls = await staff_says(bot, AGENT, "/close", thread=thread)
        assert staff_calls(bot, "closeForumTopic")
        assert any("客服已关闭您的请求" in x.text for x in calls if x.chat_id == USER)


async def test_two_agents_claiming_at_once_one_wins(database_url: str) -> None:
    async with make(database_url) as bot:
        await bot.send(USER, "/human")
        card_id = card(bot).message_id
        presses = [bot.updates.group_press(agent, STAFF_CHAT, "s:claim:1", card_id) for agent in (AGENT, AGENT2)]
        await asyncio.gather(*(bot.feed(p) for p in presses))
        answered = {c.params["callback_query_id"]: c.params["text"] for c in bot.request.named("answerCallbackQuery")}
        answers = sorted(answered[p["callback_query"]["id"]].split(" by ")[0] for p in presses)
        assert answers == ["Ticket #1 claimed", "Ticket #1 is already claimed"]
        row = await bot.app_service_db_run(ticket_row)
        assert row["claimed_by"] in (AGENT, AGENT2)


async def test_non_staff_cannot_use_staff_commands_or_buttons(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        card_id = card(bot).message_id
        for command in ("/claim", "/close", "/tickets", "/whois"):
            calls = await staff_says(bot, OUTSIDER, command, reply_to=card_id)
            assert calls[-1].text == "Only support staff can do that."
        calls = await bot.feed(bot.updates.group_press(OUTSIDER, STAFF_CHAT, "s:close:1", card_id))
        assert calls[0].params["text"] == "Only support staff can do that."
        calls = await staff_says(bot, OUTSIDER, "let me answer", reply_to=card_id)
        assert not [x for x in calls if x.method == "copyMessage"]
        row = await bot.app_service_db_run(ticket_row)
        assert row["status"] == "open"


async def test_an_edit_during_a_hand_off_is_not_relayed_and_the_user_is_told(sqlite_url: str) -> None:
    """Staff see only what the user sends anew: the edit asks for a new message, and the ticket stays open."""
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        update = bot.updates.message(USER, "hello again")
        update["edited_message"] = update.pop("message")
        update["edited_message"]["edit_date"] = update["edited_message"]["date"]
        calls = await bot.feed(update)
        assert not [x for x in calls if x.method == "copyMessage"]
        assert [x.text for x in calls if x.chat_id == USER] == [
            "I only read new messages, not edits. Please send it again as a new message."
        ]
        row = await bot.app_service_db_run(ticket_row)
        assert row["status"] == "open"


MEDIA = {
    "photo": {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}], "caption": "screen"},
    "document": {"document": {"file_id": "d1", "file_unique_id": "u2", "file_name": "license.pdf"}},
    "voice": {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 3}},
}


@pytest.mark.parametrize("kind", ["text", *MEDIA])
async def test_each_message_type_is_relayed_both_ways(sqlite_url: str, kind: str) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        update = bot.updates.message(USER, "hello" if kind == "text" else None, extra=MEDIA.get(kind))
        calls = await bot.feed(update)
        [copy] = [x for x in calls if x.method == "copyMessage"]
        assert int(copy.params["message_id"]) == update["message"]["message_id"]
        calls = await staff_says(
            bot, AGENT, "ok" if kind == "text" else None, reply_to=copy.message_id, extra=MEDIA.get(kind)
        )
        assert [x.chat_id for x in calls if x.method == "copyMessage"] == [USER]
        if kind != "text":  # the staff card's turn log names what was relayed: its caption, or its kind
            await staff_says(bot, AGENT, "/whois 1")
            named = MEDIA[kind].get("caption", kind)
            assert f"relayed: {named}" in staff_calls(bot, "sendMessage")[-1].text


async def test_restart_while_a_ticket_is_open(sqlite_url: str) -> None:
    async with make(sqlite_url) as first:
        await first.send(USER, "/human")
        card_id = card(first).message_id
    async with make(sqlite_url) as second:
        calls = await second.send(USER, "still there?")
        [copy] = [x for x in calls if x.method == "copyMessage"]
        assert copy.params["reply_parameters"]["message_id"] == card_id
        calls = await staff_says(second, AGENT, "yes", reply_to=copy.message_id)
        assert [x.chat_id for x in calls if x.method == "copyMessage"] == [USER]


async def test_no_staff_group_configured_keeps_everything(sqlite_url: str) -> None:
    async with make(sqlite_url, support_chat_id=None) as bot:
        calls = await bot.send(USER, "/human")
        told = [c.text for c in to_user(calls)]
        assert "no support team is connected" in told[0] and "I've kept your request" in told[0]
        assert not [text for text in told if "in the queue" in text]  # no promise nobody keeps
        # nobody could read what the user sends now: they stay with the bot, which still answers
        calls = await bot.send(USER, "/check")
        assert "Where is your server?" in to_user(calls)[-1].text
        calls = await bot.send(USER, "how long does the preliminary review take")
        assert "business days" in " ".join(c.text for c in to_user(calls))
        assert await bot.app_service_db_run(lambda c: c.execute(select(Relay.c.status)).scalars().all()) == []
    # the staff group is configured later: the kept request's card goes out
    async with make(sqlite_url) as bot:
        desk = SupportDesk(bot.service, bot.parts.sender, STAFF_CHAT, frozenset({AGENT}))
        await desk.retry(bot.app.bot)
        assert "🎫 Ticket #1" in card(bot).text
        # a person takes it by answering: from then on the user's messages go to them
        calls = await staff_says(bot, AGENT, "Hello, how can I help?", reply_to=card(bot).message_id)
        assert [x for x in calls if x.method == "copyMessage" and x.chat_id == USER]
        calls = await bot.send(USER, "my filing was rejected")
        assert [x for x in calls if x.method == "copyMessage" and x.chat_id == STAFF_CHAT]


async def test_unreachable_staff_group_then_recovery(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        bot.request.unreachable_chats.add(STAFF_CHAT)
        calls = await bot.send(USER, "/human")
        assert "could not reach the support team" in to_user(calls)[-1].text
        await bot.send(USER, "are you there?")
        await bot.send(USER, "hello?")
        bot.request.unreachable_chats.clear()
        desk = SupportDesk(bot.service, bot.parts.sender, STAFF_CHAT, frozenset({AGENT}))
        later = datetime.now(UTC) + timedelta(hours=1)
        await bot.app_service_db_run(
            lambda c: c.execute(update(Ticket).values(next_card_attempt_at=later - timedelta(hours=2)))
        )
        await bot.app_service_db_run(
            lambda c: c.execute(update(Relay).values(next_attempt_at=later - timedelta(hours=2)))
        )
        await desk.retry(bot.app.bot)
        assert card(bot)
        copies = [x for x in bot.request.named("copyMessage") if x.result is not None]
        assert len(copies) == 2 and all(x.chat_id == STAFF_CHAT for x in copies)  # both, in order
        assert [int(x.params["message_id"]) for x in copies] == sorted(int(x.params["message_id"]) for x in copies)


async def test_user_can_end_the_hand_off(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/steps")
        await bot.tap(USER, "Next »")
        await bot.send(USER, "/human")
        calls = await bot.press(USER, "d:steps:step1:n", message_id=1)
        assert "talking to a person" in calls[0].params["text"]  # old buttons are paused too
        calls = await bot.send(USER, "/cancel")
        # nobody had taken the request: it is withdrawn, with nothing to rate
        assert "You withdrew your request before anyone from support took it" in to_user(calls)[0].text
        assert not [c for c in to_user(calls) if "How would you rate" in c.text]
        assert "Step 1 of 5" in to_user(calls)[-1].text  # back where the user was
        assert any(
            "The user ended the conversation; ticket #1 is closed." in x.text for x in staff_calls(bot, "sendMessage")
        )


async def test_reply_to_a_user_who_blocked_the_bot_is_reported_to_staff(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        bot.request.blocked_users.add(USER)
        calls = await staff_says(bot, AGENT, "hello?", reply_to=card(bot).message_id)
        assert any("could not be delivered to the user" in x.text for x in calls if x.chat_id == STAFF_CHAT)
        # the one policy for a blocked user: marked, so no reminder goes to them
        blocked = await bot.app_service_db_run(
            lambda c: c.execute(select(User.c.blocked_at).where(User.c.id == USER)).scalar_one()
        )
        assert blocked is not None


async def test_staff_queue_whois_and_stats(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        await bot.send(USER + 1, "/human", lang="zh")
        calls = await staff_says(bot, AGENT, "/tickets")
        assert "#1 User4400 · open · waiting 0m" in calls[-1].text and "#2 User4401" in calls[-1].text
        calls = await staff_says(bot, AGENT, "/whois 2")
        assert "language: zh" in calls[-1].text
        await staff_says(bot, AGENT, "hi", reply_to=card(bot).message_id)
        await staff_says(bot, AGENT, "/close 1")
        await bot.press(USER, "r:1:4", message_id=1)
        monkeypatch.setenv("DATABASE_URL", sqlite_url)
        assert await asyncio.to_thread(main, ["stats", "--json"]) == 0
        stats = json.loads(capsys.readouterr().out)
        assert stats["tickets"] == 2 and stats["open_tickets"] == 1 and stats["average_rating"] == 4
        assert stats["first_response"]["count"] == 1 and stats["resolution"]["count"] == 1
        assert await asyncio.to_thread(main, ["stats"]) == 0
        assert "open tickets: 1" in capsys.readouterr().out


async def test_a_ticket_the_user_cancelled_is_reported_apart_from_resolved_ones(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        await bot.send(USER, "/cancel")
        monkeypatch.setenv("DATABASE_URL", sqlite_url)
        assert await asyncio.to_thread(main, ["stats", "--json"]) == 0
        stats = json.loads(capsys.readouterr().out)
        assert stats["cancelled_by_user"] == 1 and stats["resolution"]["count"] == 0 and stats["open_tickets"] == 0
        await bot.press(USER, "r:1:5", message_id=1)  # a cancelled conversation can still be rated
        assert await asyncio.to_thread(main, ["stats", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["average_rating"] == 5


@pytest.mark.parametrize(
    ("member", "forum", "expected"),
    [
        ({"status": "administrator", "can_manage_topics": True}, True, []),
        ({"status": "member"}, False, ["not an administrator and group privacy mode is on"]),
        ({"status": "administrator", "can_manage_topics": False}, True, ["may not manage topics"]),
        ({"status": "member"}, True, ["not an administrator", "may not manage topics"]),
    ],
)
async def test_the_staff_group_setup_is_checked_at_start(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, member: dict, forum: bool, expected: list[str]
) -> None:
    async with make(sqlite_url) as bot:
        bot.request.bot_member, bot.request.forum = member, forum
        problems = await bot.parts.support.setup_problems(bot.app.bot)
    assert len(problems) == len(expected) and all(e in p for e, p in zip(expected, problems, strict=True))
    assert all("\n" not in p for p in problems)  # one line each


async def test_a_staff_group_the_bot_cannot_see_is_one_line(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        bot.request.unreachable_chats.add(STAFF_CHAT)
        [problem] = await bot.parts.support.setup_problems(bot.app.bot)
    assert "SUPPORT_CHAT_ID" in problem and "add the bot" in problem


async def test_a_note_starting_with_a_number_in_a_topic_closes_that_topics_ticket_only(sqlite_url: str) -> None:
    a, b = 4401, 4402
    async with make(sqlite_url, forum=True) as bot:
        await bot.send(a, "/human")  # ticket #1
        await bot.send(b, "/human")  # ticket #2, in its own topic
        topic_b = (await bot.app_service_db_run(lambda c: ticket_row(c, b)))["topic_id"]
        calls = await staff_says(bot, AGENT, "/close 1 document was missing, please resend", thread=topic_b)
        assert "This is ticket #2" in calls[-1].text and "/close #2" in calls[-1].text
        assert not to_user(calls, a) and not to_user(calls, b)
        assert (await bot.app_service_db_run(lambda c: ticket_row(c, a)))["status"] == "open"
        calls = await staff_says(bot, AGENT, "/close #2 1 document was missing", thread=topic_b)
        assert (await bot.app_service_db_run(lambda c: ticket_row(c, b)))["close_note"] == "1 document was missing"
        assert (await bot.app_service_db_run(lambda c: ticket_row(c, a)))["status"] == "open"


async def test_staff_commands_addressed_to_another_bot_are_left_to_it(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        assert await staff_says(bot, AGENT, "/close@some_other_bot 1") == []
        assert (await bot.app_service_db_run(ticket_row))["status"] == "open"
        await staff_says(bot, AGENT, "/close@ICP_helper_bot 1")  # this bot's own name, in any case
        assert (await bot.app_service_db_run(ticket_row))["status"] == "closed"


async def test_a_long_ticket_queue_is_split_into_messages_telegram_accepts(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        for i in range(30):
            data = bot.updates.message(50000 + i, "/human")
            data["message"]["from"].update(first_name="N" * 64, last_name="L" * 64)
            await bot.feed(data)
        calls = await staff_says(bot, AGENT, "/tickets")
        sent = [c.text for c in calls if c.method == "sendMessage" and c.chat_id == STAFF_CHAT]
        assert len(sent) > 1 and all(len(text) <= 4096 for text in sent)
        assert sum(text.count("#") for text in sent) == 30


async def test_an_edited_staff_command_is_not_run_again(sqlite_url: str) -> None:
    async with make(sqlite_url) as bot:
        await bot.send(USER, "/human")
        await bot.send(4401, "/human")
        data = bot.updates.group_message(AGENT, STAFF_CHAT, "/close 1 done")
        await bot.feed(data)
        data = bot.updates.group_message(AGENT, STAFF_CHAT, "/close 2 done")
        edited = {"update_id": data["update_id"] + 1000, "edited_message": data["message"]}
        assert await bot.feed(edited) == []
        assert (await bot.app_service_db_run(lambda c: ticket_row(c, 4401)))["status"] == "open"
