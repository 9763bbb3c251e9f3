"""A request kept while no support team was connected: one per user, handed over (and the user
told) when a person takes it, closable by staff like any other; staff commands read their ticket
from where they are typed."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.support import SupportDesk
from storage.models import Ticket
from tests.test_support import AGENT, STAFF_CHAT, USER, card, make, staff_says, ticket_row, to_user

CODE = "SECRETCODEA9876"


async def _kept_then_connected(url: str, *before: str, tap: str | None = None) -> None:
    async with make(url, support_chat_id=None) as bot:
        await bot.send(USER, "/human")  # "nobody can answer ... I've kept your request"
        for text in before:
            await bot.send(USER, text)
        if tap:
            await bot.tap(USER, tap)


async def _post_cards(bot) -> None:  # type: ignore[no-untyped-def]
    await SupportDesk(bot.service, bot.parts.sender, STAFF_CHAT, frozenset({AGENT})).retry(bot.app.bot)


async def test_a_kept_request_claimed_later_tells_the_user_before_their_messages_go_to_staff(sqlite_url: str) -> None:
    await _kept_then_connected(sqlite_url, "/codes", tap="➕ Add a code")  # the bot asks for the code
    async with make(sqlite_url) as bot:
        await _post_cards(bot)
        calls = await staff_says(bot, AGENT, "/claim", reply_to=card(bot).message_id)
        told = [c.text for c in to_user(calls)]
        assert any("has taken your request (#1)" in text and "/cancel" in text for text in told), told
        assert "claimed by" in calls[-1].text
        calls = await bot.send(USER, CODE)  # now it goes to the person, who took it knowingly
        assert [c for c in calls if c.method == "copyMessage" and c.chat_id == STAFF_CHAT]


async def test_answering_a_kept_request_tells_the_user_too(sqlite_url: str) -> None:
    await _kept_then_connected(sqlite_url)
    async with make(sqlite_url) as bot:
        await _post_cards(bot)
        calls = await staff_says(bot, AGENT, "Hello, how can I help?", reply_to=card(bot).message_id)
        sent = [c for c in calls if c.chat_id == USER]
        assert "has taken your request" in sent[0].text and sent[1].method == "copyMessage"
        assert (await bot.app_service_db_run(ticket_row))["claimed_by"] == AGENT


async def test_a_second_claim_of_a_kept_request_says_who_holds_it_and_tells_the_user_nothing(sqlite_url: str) -> None:
    await _kept_then_connected(sqlite_url)
    async with make(sqlite_url) as bot:
        await _post_cards(bot)
        await staff_says(bot, AGENT, "/claim 1")
        calls = await staff_says(bot, AGENT, "/claim 1")
        assert "already claimed" in calls[-1].text and not to_user(calls)


async def test_staff_can_close_a_kept_request_and_the_user_is_told(sqlite_url: str) -> None:
    await _kept_then_connected(sqlite_url)
    async with make(sqlite_url) as bot:
        await _post_cards(bot)
        calls = await staff_says(bot, AGENT, "/close 1 answered by email")
        assert (await bot.app_service_db_run(ticket_row))["status"] == "closed"
        assert "Ticket #1 closed." in calls[-1].text
        told = " ".join(c.text for c in to_user(calls))
        assert "closed the request you left" in told and "answered by email" in told
        assert "No open tickets" in (await staff_says(bot, AGENT, "/tickets"))[-1].text


async def test_asking_again_keeps_one_request_and_hands_it_over_once_a_team_is_there(sqlite_url: str) -> None:
    await _kept_then_connected(sqlite_url, "/human", "/human", "human")

    def count(conn) -> int:  # type: ignore[no-untyped-def]
        return conn.execute(select(func.count()).select_from(Ticket)).scalar_one()

    async with make(sqlite_url, support_chat_id=None) as bot:
        calls = await bot.send(USER, "/human")
        assert "Your request #1 is still kept" in to_user(calls)[0].text  # the same one, said as such
    async with make(sqlite_url) as bot:
        assert await bot.app_service_db_run(count) == 1
        calls = await bot.send(USER, "/human")  # a team is connected now: the kept request is handed over
        assert "number 1 in the queue" in to_user(calls)[0].text
        assert await bot.app_service_db_run(count) == 1
        assert "🎫 Ticket #1" in card(bot).text
        calls = await bot.send(USER, "my filing was rejected")
        assert [c for c in calls if c.method == "copyMessage" and c.chat_id == STAFF_CHAT]
