"""The session cache (storage/session_cache.py) only ever hands a turn what the database holds.

Each test drives the real Application; the cache is compared with a fresh read of the database,
or a write it must not miss is made behind its back and the next reply must show it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update

from dialogs.router import Router
from storage.models import DialogState, User
from storage.session_cache import SessionCache, Snapshot
from storage.sessions import load_session, save_session
from tests.harness import BotHarness

USER = 5150


def database_view(conn: Connection, user_id: int) -> tuple[Any, ...] | None:
    """What load_session would read from the database, in the cache's shape."""
    user = conn.execute(
        select(User.c.language, User.c.active_dialog, User.c.last_dialog, User.c.support_ticket_id).where(
            User.c.id == user_id
        )
    ).first()
    if user is None:
        return None
    states = conn.execute(
        select(
            DialogState.c.dialog,
            DialogState.c.state,
            DialogState.c.answers,
            DialogState.c.history,
            DialogState.c.version,
        ).where(DialogState.c.user_id == user_id)
    ).all()
    return (*user, {d: (s, a, h, v) for d, s, a, h, v in states})


def cached_view(snapshot: Snapshot) -> tuple[Any, ...]:
    records = {d: (r.state, r.answers, r.history, r.version) for d, r in snapshot.records.items()}
    return (snapshot.language, snapshot.active, snapshot.last, snapshot.ticket_id, records)


def cache_of(bot: BotHarness) -> SessionCache:
    cache = bot.service.db.session_cache
    assert cache is not None
    return cache


async def assert_cache_matches_database(bot: BotHarness, user_id: int) -> None:
    snapshot = cache_of(bot).peek(user_id)
    if snapshot is not None:
        assert cached_view(snapshot) == await bot.app_service_db_run(database_view, user_id)


async def test_a_journey_reads_its_session_from_the_cache_after_the_first_turn(bot: BotHarness) -> None:
    cache = cache_of(bot)
    await bot.send(USER, "/check")
    misses = cache.misses
    for label in ("Chinese mainland", "Alibaba Cloud", "ECS"):
        await bot.tap(USER, label)
        await assert_cache_matches_database(bot, USER)
    assert cache.misses == misses  # every later turn of the user started from the cache
    assert cache.peek(USER) is not None


ACTIONS = [
    ("send", "/check"),
    ("send", "/start"),
    ("send", "/cancel"),
    ("send", "/reset"),
    ("send", "/language"),
    ("send", "/filingtype"),
    ("send", "/steps"),
    ("send", "/help"),
    ("send", "/progress"),
    ("send", "/human"),
    ("send", "/codes"),
    ("send", "6"),
    ("send", "How long does the preliminary review take?"),
    ("tap", "Chinese mainland"),
    ("tap", "Alibaba Cloud"),
    ("tap", "ECS"),
    ("tap", "Subscription"),
    ("tap", "中文"),
    ("tap", "English"),
    ("tap", "« Back"),
    ("tap", "« 返回"),
    ("tap", "Start again"),
    ("tap", "Menu"),
    ("tap", "Continue where I was"),
    ("tap", "从上次的地方继续"),
    ("tap", "Can my server back a filing?"),
    ("tap", "🙋 Talk to a person"),
]


@pytest.fixture(scope="module")
def long_lived_bot(tmp_path_factory: pytest.TempPathFactory) -> Any:
    loop = asyncio.new_event_loop()
    bot = BotHarness(f"sqlite:///{tmp_path_factory.mktemp('cache') / 'cache.db'}")
    loop.run_until_complete(bot.__aenter__())
    yield loop, bot
    loop.run_until_complete(bot.__aexit__(None, None, None))
    loop.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=25))
def test_after_any_sequence_of_turns_the_cache_holds_what_the_database_holds(
    long_lived_bot: tuple[asyncio.AbstractEventLoop, BotHarness], steps: list[tuple[str, str]]
) -> None:
    loop, bot = long_lived_bot

    async def run() -> None:
        for kind, value in steps:
            if kind == "send":
                await bot.send(USER, value)
            else:
                screen = bot.last_screen(USER)
                if any(b["text"] == value for b in screen.buttons):
                    await bot.tap(USER, value)
            await assert_cache_matches_database(bot, USER)
        assert bot.errors() == 0

    loop.run_until_complete(run())


async def test_another_connections_commit_is_seen_by_the_next_turn(bot: BotHarness, tmp_path: Path) -> None:
    await bot.send(USER, "/check")
    await bot.tap(USER, "Chinese mainland")
    assert cache_of(bot).peek(USER) is not None
    with sqlite3.connect(tmp_path / "icpbot.db") as other:  # another process, the staff tools...
        other.execute("UPDATE users SET language = 'zh' WHERE id = ?", (USER,))
    replies = await bot.send(USER, "/help")
    assert "我可以回答" in replies[-1].text  # Chinese now


async def test_a_write_on_the_same_connection_outside_the_turn_is_seen(bot: BotHarness) -> None:
    await bot.send(USER, "/check")
    await bot.tap(USER, "Chinese mainland")

    def to_chinese(conn: Connection) -> None:
        conn.execute(update(User).where(User.c.id == USER).values(language="zh"))

    await bot.app_service_db_run(to_chinese)
    replies = await bot.send(USER, "/help")
    assert "我可以回答" in replies[-1].text


async def test_a_failed_turn_leaves_nothing_of_itself_in_the_cache(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.send(USER, "/check")
    await bot.tap(USER, "Chinese mainland")
    handle = Router.handle

    def change_then_fail(self: Router, session: Any, event: Any) -> Any:
        session.language, session.changed = "zh", True  # changed in memory, then the turn fails
        for record in session.records.values():
            record.state, record.history = "bandwidth", []
        raise RuntimeError("the turn fails after changing the session")

    monkeypatch.setattr(Router, "handle", change_then_fail)
    await bot.send(USER, "/help")
    assert bot.errors() == 1
    monkeypatch.setattr(Router, "handle", handle)
    replies = await bot.send(USER, "/help")
    assert "I answer three questions" in replies[-1].text  # still English
    await assert_cache_matches_database(bot, USER)  # and still at the second question


async def test_a_turn_rolled_back_inside_a_shared_transaction_discards_only_its_own_entry(bot: BotHarness) -> None:
    db = bot.service.db
    cache = cache_of(bot)
    for user in (1, 2):
        await bot.send(user, "/start")

    def turn(conn: Connection, user_id: int, language: str, fail: bool) -> None:
        session = load_session(conn, user_id, "en")
        session.language, session.changed = language, True  # type: ignore[assignment]
        save_session(conn, session)
        if fail:
            raise RuntimeError("rolled back")

    results = await asyncio.gather(
        db.run_together(turn, 1, "zh", False), db.run_together(turn, 2, "zh", True), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], RuntimeError)
    one, two = cache.peek(1), cache.peek(2)
    assert one is not None and one.language == "zh"
    assert two is None  # taken by the failed turn, not put back
    for user in (1, 2):
        assert await bot.app_service_db_run(database_view, user) is not None
    await assert_cache_matches_database(bot, 1)


async def test_the_cache_keeps_at_most_its_capacity(sqlite_url: str) -> None:
    async with BotHarness(sqlite_url, session_cache_size=3) as bot:
        for user in range(1, 6):
            await bot.send(user, "/start")
        cache = cache_of(bot)
        assert len(cache) == 3
        assert [u for u in range(1, 6) if cache.peek(u) is not None] == [3, 4, 5]  # least recent dropped


async def test_size_zero_turns_the_cache_off(sqlite_url: str) -> None:
    async with BotHarness(sqlite_url, session_cache_size=0) as bot:
        assert bot.service.db.session_cache is None
        await bot.send(USER, "/check")
        replies = await bot.tap(USER, "Chinese mainland")
        assert replies


def test_a_turn_during_which_the_cache_was_dropped_stages_nothing() -> None:
    cache = SessionCache()
    cache.take(USER)
    cache.invalidate()  # e.g. the turn opened a support ticket through an ordinary statement
    cache.stage(USER, Snapshot("en", None, None, None, {}))
    cache.committed()
    assert cache.peek(USER) is None
