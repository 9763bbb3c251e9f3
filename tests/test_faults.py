"""Faults met inside one process, through the real Application: a process killed on either side
of its commit, a COMMIT that fails, a Bot API that answers 502 or drops the connection, the same
update delivered five times at once, two turns of one user on two processes at once. After each,
nothing is lost, nothing applied twice, and each reply goes out (once, where that can be known).

Process-level versions (real processes, real HTTP, kill -9, PostgreSQL restarts) are in
tests/chaos/."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import OperationalError

import storage.turns
from benchmarks.workload import STEPS, UpdateStream
from bot.app import BotParts, assemble
from bot.config import Settings
from bot.webhook import SECRET_HEADER, WebhookServer
from storage.models import DialogState, Outbox, Turn, User
from tests.harness import TOKEN, BotHarness, RecordingRequest, UpdateFactory, api_method

USER = 777
SECRET = "fault-secret"


class Crash(BaseException):
    """Stands for the process being killed: not an Exception, so no handler catches it."""


class CrashOnSend(RecordingRequest):
    armed = False

    async def do_request(self, url: str, method: str, request_data=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.armed and api_method(url) in ("sendMessage", "editMessageText"):
            self.armed = False
            raise Crash("killed after the commit, before the reply")
        return await super().do_request(url, method, request_data, *args, **kwargs)


def state(conn: Connection, user: int = USER) -> tuple:
    row = conn.execute(select(DialogState.c.state, DialogState.c.version).where(DialogState.c.user_id == user)).first()
    turns = conn.execute(select(func.count()).select_from(Turn).where(Turn.c.user_id == user)).scalar_one()
    return (tuple(row) if row else None, turns)


def _owed(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(Outbox)).scalar_one()


async def owed(bot: BotHarness) -> int:
    """Entries still owed, once what the process sent is recorded (with its next transaction)."""
    await bot.service.turns.flush()
    return await bot.app_service_db_run(_owed)


def texts(bot: BotHarness, user: int = USER) -> list[str]:
    return [c.text for c in bot.request.to_chat(user)]


# --- a process killed around its commit -----------------------------------------------------------
async def test_killed_between_commit_and_reply_the_reply_is_sent_once_the_lease_runs_out(sqlite_url: str) -> None:
    request = CrashOnSend()
    async with BotHarness(sqlite_url, request=request, outbox_lease_seconds=0.5) as first:
        await first.send(USER, "/check")
        press = first.updates.press(USER, "d:check:location:a:mainland", 1)
        request.armed = True
        with pytest.raises(Crash):
            await first.feed(press)
        after_crash = await first.app_service_db_run(state)
    assert after_crash[0] == ("provider", 2)  # the turn was committed

    async with BotHarness(sqlite_url, outbox_lease_seconds=0.5) as second:  # restarted
        calls = await second.feed(press)  # Telegram redelivers: applied once, and the dead process's
        assert await second.app_service_db_run(state) == after_crash  # lease still holds its reply
        assert [c.method for c in calls] == ["answerCallbackQuery"]
        await asyncio.sleep(0.6)
        assert await second.parts.sender.retry_due(second.app.bot) == 1  # the lease ran out: sent now
        assert any("Who provides the server?" in t for t in texts(second))
        assert await owed(second) == 0
        calls = await second.feed(press)  # a further redelivery sends nothing
        assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_a_clean_stop_records_every_reply_sent_so_a_restart_sends_none_again(sqlite_url: str) -> None:
    async with BotHarness(sqlite_url, outbox_lease_seconds=0.2) as first:
        await first.send(USER, "/check")  # sent; recorded with the next transaction, or at shutdown
    async with BotHarness(sqlite_url, outbox_lease_seconds=0.2) as second:
        await asyncio.sleep(0.3)
        assert await second.parts.sender.retry_due(second.app.bot) == 0
        assert await owed(second) == 0


async def test_a_quiet_process_records_what_it_sent_before_the_lease_runs_out(sqlite_url: str) -> None:
    """With no retry job and no further turn, the replies Telegram accepted are still recorded well
    within their lease, so no other process sends them again once it runs out."""
    async with BotHarness(sqlite_url, outbox_lease_seconds=1, outbox_retry_seconds=0) as bot:
        assert bot.app.job_queue is not None
        await bot.app.job_queue.start()
        try:
            await bot.send(USER, "/check")  # sent; nothing else happens in this process
            await asyncio.sleep(0.6)  # the job runs every quarter of a lease
            assert await bot.app_service_db_run(_owed) == 0
        finally:
            await bot.app.job_queue.stop()


class SlowOnce(RecordingRequest):
    """The next sendMessage takes longer than a lease (flood control waited out, a slow network)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds, self.armed = seconds, False

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        if self.armed and api_method(url) == "sendMessage":
            self.armed = False
            await asyncio.sleep(self.seconds)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_a_reply_whose_call_outlasts_the_lease_is_not_sent_by_another_process(sqlite_url: str) -> None:
    """The lease of a reply still being sent is renewed: another process's sender job found it run
    out during a 2.5 s call (lease 2 s) and sent the reply a second time."""
    settings: dict[str, Any] = {"outbox_lease_seconds": 2, "outbox_retry_seconds": 0}
    async with BotHarness(sqlite_url, request=SlowOnce(2.5), **settings) as a, BotHarness(sqlite_url, **settings) as b:
        a.request.armed = True
        turn = asyncio.create_task(a.send(USER, "/check"))
        await asyncio.sleep(2.2)  # past the lease taken at the commit; the call is under way
        assert await b.parts.sender.retry_due(b.app.bot) == 0
        await turn
        sent = [t for h in (a, b) for t in texts(h) if "Where is your server" in t]
        assert len(sent) == 1
        assert await owed(a) == 0


class SlowAnswerThenSlowReply(RecordingRequest):
    """The button's answer waits (a queue at the rate limiter), then the reply's call is slow too."""

    def __init__(self, answer_seconds: float, reply_seconds: float) -> None:
        super().__init__()
        self.answer_seconds, self.reply_seconds, self.armed = answer_seconds, reply_seconds, False

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        name = api_method(url)
        if self.armed and name == "answerCallbackQuery":
            await asyncio.sleep(self.answer_seconds)
        elif self.armed and name in ("sendMessage", "editMessageText"):
            self.armed = False
            await asyncio.sleep(self.reply_seconds)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_the_lease_is_counted_from_the_commit_not_from_when_sending_begins(sqlite_url: str) -> None:
    """The sender counted its lease from after the button's answer: 1.8 s of a 2 s lease had gone,
    and another process's sender job sent the same reply while this one was sending it."""
    settings: dict[str, Any] = {"outbox_lease_seconds": 2, "outbox_retry_seconds": 0}
    request = SlowAnswerThenSlowReply(1.8, 1.5)
    async with BotHarness(sqlite_url, request=request, **settings) as a, BotHarness(sqlite_url, **settings) as b:
        await a.send(USER, "/check")
        request.armed = True
        turn = asyncio.create_task(a.tap(USER, "Chinese mainland"))
        await asyncio.sleep(2.15)  # past the lease taken at the commit
        await b.parts.sender.retry_due(b.app.bot)
        await turn
        await asyncio.sleep(0.6)  # the reply given back falls due
        await b.parts.sender.retry_due(b.app.bot)
        sent = [t for h in (a, b) for t in texts(h) if "Who provides the server?" in t]
        assert len(sent) == 1


async def test_killed_before_the_commit_nothing_is_half_written(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with BotHarness(sqlite_url) as first:
        await first.send(USER, "/check")
        before = await first.app_service_db_run(state)
        press = first.updates.press(USER, "d:check:location:a:mainland", 1)
        real_save = storage.turns.save_session

        def dies_midway(conn: Connection, session: object, log: object = ()) -> None:
            real_save(conn, session, log)  # type: ignore[arg-type]
            raise Crash("killed before the commit")

        monkeypatch.setattr(storage.turns, "save_session", dies_midway)
        with pytest.raises(Crash):
            await first.feed(press)
        assert await first.app_service_db_run(state) == before  # rolled back: nothing half-written
        monkeypatch.setattr(storage.turns, "save_session", real_save)

    async with BotHarness(sqlite_url) as second:
        calls = await second.feed(press)
        assert any("Who provides the server?" in c.text for c in calls)
        assert (await second.app_service_db_run(state))[0] == ("provider", 2)


# --- the Bot API failing after the commit ------------------------------------------------------------
@pytest.mark.parametrize("fault", ["down", "dropped"])
async def test_replies_the_bot_api_did_not_take_are_sent_when_it_answers_again(sqlite_url: str, fault: str) -> None:
    async with BotHarness(sqlite_url) as bot:
        await bot.send(USER, "/check")
        getattr(bot.request, fault).update({"sendMessage", "editMessageText"})
        await bot.tap(USER, "Chinese mainland")  # applied; its reply cannot go out
        await bot.send(USER + 1, "/check")  # another user meanwhile
        assert await bot.app_service_db_run(state) == (("provider", 2), 5)
        assert not any("Who provides" in t for t in texts(bot))
        assert await bot.parts.sender.retry_due(bot.app.bot) == 0  # not due yet (and still down)
        getattr(bot.request, fault).clear()
        await asyncio.sleep(0.6)  # the first retry is due 0.5 s after a failure
        assert await bot.parts.sender.retry_due(bot.app.bot) == 2
        assert sum("Who provides the server?" in t for t in texts(bot)) == 1
        assert sum("Where is your server?" in t for t in texts(bot, USER + 1)) == 1
        assert await owed(bot) == 0
        assert "Sorry" not in " ".join(texts(bot))


async def test_a_later_turn_sends_what_the_chat_is_owed_first(sqlite_url: str) -> None:
    """Replies keep their order: a turn of a chat that is owed earlier replies sends those first."""
    async with BotHarness(sqlite_url) as bot:
        await bot.send(USER, "/check")
        bot.request.down.add("editMessageText")
        await bot.tap(USER, "Chinese mainland")  # its edit cannot go out
        bot.request.down.clear()
        await asyncio.sleep(0.6)
        calls = await bot.send(USER, "How long does the preliminary review take?")
        sent = [c.text for c in calls if c.method in ("sendMessage", "editMessageText") and c.result is not None]
        assert "Who provides the server?" in sent[0] and "review" in sent[1]


async def test_a_user_who_blocked_the_bot_is_marked_and_owed_nothing(sqlite_url: str) -> None:
    async with BotHarness(sqlite_url) as bot:
        await bot.send(USER, "/check")
        bot.request.blocked_users.add(USER)
        await bot.tap(USER, "Chinese mainland")
        assert await owed(bot) == 0
        blocked = await bot.app_service_db_run(
            lambda c: c.execute(select(User.c.blocked_at).where(User.c.id == USER)).scalar_one()
        )
        assert blocked is not None


# --- the same update five times at once --------------------------------------------------------------
class SlowRequest(RecordingRequest):
    """A Bot API a few milliseconds away, so that duplicates overlap with the first send."""

    async def do_request(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.005)
        return await super().do_request(*args, **kwargs)


async def _post(url: str, update: dict[str, Any]) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as resp,
    ):
        return resp.status


@pytest.fixture
async def webhooks(database_url: str) -> AsyncIterator[list[tuple[str, BotParts, RecordingRequest]]]:
    """Three webhook servers (three Applications, as three processes) on one database."""
    served, runners = [], []
    for _ in range(3 if database_url.startswith("postgresql") else 1):
        request = SlowRequest()
        settings = Settings(
            telegram_bot_token=TOKEN,
            database_url=database_url,
            telegram_max_rate=0,  # type: ignore[arg-type]
            reminder_interval_seconds=0,
            support_retry_seconds=0,
        )
        parts = assemble(settings, request=request)
        await parts.app.initialize()
        assert parts.app.post_init is not None
        await parts.app.post_init(parts.app)
        runner = await WebhookServer(parts.app, parts.service.db, parts.metrics, SECRET, "/tg").start("127.0.0.1", 0)
        host, port = runner.addresses[0][:2]
        served.append((f"http://{host}:{port}/tg", parts, request))
        runners.append(runner)
    yield served
    for runner, (_url, parts, _request) in zip(runners, served, strict=True):
        await runner.cleanup()
        await parts.app.shutdown()
        await parts.service.db.dispose()


async def test_the_same_update_five_times_at_once_is_applied_once_and_answered_once(
    webhooks: list[tuple[str, BotParts, RecordingRequest]],
) -> None:
    factory = UpdateFactory()
    users = range(4000, 4010)
    journey = [("message", "/check"), ("press", "d:check:location:a:mainland"), ("press", "d:check:provider:a:alibaba")]
    for kind, value in journey:
        for user in users:
            update = factory.message(user, value) if kind == "message" else factory.press(user, value, 1)
            statuses = await asyncio.gather(*(_post(webhooks[i % len(webhooks)][0], update) for i in range(5)))
            assert statuses == [200] * 5
    parts = webhooks[0][1]
    for user in users:
        assert await parts.service.db.run(state, user) == (("product", 3), 8)  # three turns, each logged once
    replies = [c for _, _, request in webhooks for c in request.calls if c.method in ("sendMessage", "editMessageText")]
    assert len(replies) == len(users) * len(journey)  # each reply once, whichever process had it


# --- a COMMIT that fails (SQLite) -----------------------------------------------------------------------
@pytest.fixture
def immutable() -> Iterator[Any]:
    """`chattr +i` on a file for the length of a `with`: every write to it fails (EPERM)."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    touched: list[Path] = []

    class Immutable:
        def __call__(self, path: Path) -> Immutable:
            self.path = path
            return self

        def __enter__(self) -> None:
            done = subprocess.run(["chattr", "+i", str(self.path)], capture_output=True)
            if done.returncode != 0:
                pytest.skip(f"chattr +i is not possible here: {done.stderr.decode().strip()}")
            touched.append(self.path)

        def __exit__(self, *exc: object) -> None:
            subprocess.run(["chattr", "-i", str(self.path)], check=True)

    yield Immutable()
    for path in touched:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


async def test_a_failed_commit_is_not_acknowledged_and_leaves_the_process_working(
    tmp_path: Path, immutable: Any
) -> None:
    db_path = tmp_path / "bot.db"
    settings = Settings(
        telegram_bot_token=TOKEN,
        database_url=f"sqlite:///{db_path}",
        telegram_max_rate=0,  # type: ignore[arg-type]
        reminder_interval_seconds=0,
        support_retry_seconds=0,
        database_wait_seconds=0.3,
    )
    request = RecordingRequest()
    parts = assemble(settings, request=request)
    factory = UpdateFactory()
    async with parts.app:
        assert parts.app.post_init is not None
        await parts.app.post_init(parts.app)
        runner = await WebhookServer(parts.app, parts.service.db, parts.metrics, SECRET, "/tg").start("127.0.0.1", 0)
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}"
        try:
            assert await _post(f"{url}/tg", factory.message(USER, "/check")) == 200
            codes = factory.message(USER, "/codes")  # its statements go beyond the per-turn hot path
            with immutable(Path(f"{db_path}-wal")):
                assert await _post(f"{url}/tg", codes) == 503  # not applied: Telegram delivers it again
            assert await _post(f"{url}/tg", codes) == 200  # the redelivery
            press = factory.press(USER, "d:check:location:a:mainland", 1)
            assert await _post(f"{url}/tg", press) == 200
            assert await _post(f"{url}/tg", factory.message(USER, "/codes")) == 200  # beyond the hot path
            assert await _post(f"{url}/tg", factory.message(USER, "/progress")) == 200
            async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as resp:
                assert resp.status == 200
        finally:
            await runner.cleanup()
            await parts.service.db.dispose()
    sent = [c.text for c in request.to_chat(USER)]
    assert not any("Sorry" in t for t in sent), sent
    assert sum("Who provides the server?" in t for t in sent) == 1
    assert sum("service codes" in t.lower() for t in sent) == 2 and any("Preparing" in t for t in sent), sent


# --- two turns of one user at once, on two processes (PostgreSQL) ----------------------------------------
def _dialog(conn: Connection, user: int) -> list[tuple]:
    rows = conn.execute(
        select(DialogState.c.dialog, DialogState.c.state, DialogState.c.answers, DialogState.c.history)
        .where(DialogState.c.user_id == user)
        .order_by(DialogState.c.dialog)
    )
    return [tuple(r) for r in rows]


def _order(conn: Connection, user: int) -> list[Any]:
    """Which updates' turns committed, in order (the turn log's user entries)."""
    rows = conn.execute(select(Turn.c.data).where(Turn.c.user_id == user, Turn.c.kind == "user").order_by(Turn.c.id))
    return [r[0] for r in rows]


async def test_two_turns_of_one_user_on_two_processes_each_see_what_the_other_committed(
    postgres_url: str, sqlite_url: str
) -> None:
    """A turn that waited for another turn of the same user must start from what that turn
    committed. (PostgreSQL re-reads only the rows a query locks: a query that locked the user and
    joined their dialog states at once returned the states from before the other turn, and its
    save overwrote what that turn had written.)"""
    users = range(8000, 8030)
    async with BotHarness(postgres_url) as one, BotHarness(postgres_url) as two, BotHarness(sqlite_url) as serial:
        for user in users:
            await one.send(user, "/check")
            await serial.send(user, "/check")
        for user in users:
            press = one.updates.press(user, "d:check:location:a:mainland", 1)
            restart = one.updates.message(user, "/check")
            await asyncio.gather(one.feed(press), two.feed(restart))
            # the same two updates, one after the other, in the order their turns committed
            committed = await one.app_service_db_run(_order, user)
            for update in (press, restart) if "press" in committed[1] else (restart, press):
                await serial.feed(update)
            assert await one.app_service_db_run(_dialog, user) == await serial.app_service_db_run(_dialog, user)


# --- no reply before its turn is on disk ------------------------------------------------------------
class CheckingRequest(RecordingRequest):
    """Yields on every call like a network round trip, and checks, whenever a reply goes out to a
    user, that another connection already sees that user's turn committed."""

    def __init__(self, path: Path) -> None:
        super().__init__(suspend=True)
        self.path = path
        self.replies: dict[int, int] = {}
        self.uncommitted: list[tuple[int, int, int]] = []

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        if api_method(url) in ("sendMessage", "editMessageText") and request_data is not None:
            chat = int(request_data.parameters["chat_id"])
            self.replies[chat] = self.replies.get(chat, 0) + 1
            with sqlite3.connect(self.path) as other:  # one "user" row in the turn log per turn
                done = other.execute(
                    "SELECT count(*) FROM turns WHERE user_id = ? AND kind = 'user'", (chat,)
                ).fetchone()[0]
            if done < self.replies[chat]:
                self.uncommitted.append((chat, self.replies[chat], done))
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_concurrent_users_never_see_a_reply_before_its_turn_is_committed(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    request = CheckingRequest(path)
    users = list(range(500, 532))
    async with BotHarness(f"sqlite:///{path}", request=request) as bot:
        stream = UpdateStream(start_update_id=10_000)
        by_user: dict[int, list[dict[str, Any]]] = {u: [] for u in users}
        for update in stream.journeys(len(users), first_user=users[0])[: len(STEPS) * len(users)]:
            body = update.get("message") or update.get("callback_query")
            by_user[body["from"]["id"]].append(update)

        async def user(updates: list[dict[str, Any]]) -> None:
            for data in updates:  # one user's updates in order, as Telegram sends them
                await bot.feed(data)

        await asyncio.gather(*(user(u) for u in by_user.values()))
        assert bot.errors() == 0
        assert sum(request.replies.values()) >= len(STEPS) * len(users)  # every reply was checked
        assert request.uncommitted == []  # every reply went out after its turn was on disk
        verdicts = await bot.app_service_db_run(
            lambda c: c.execute(
                select(func.count()).select_from(DialogState).where(DialogState.c.state == "verdict")
            ).scalar_one()
        )
        assert verdicts == len(users)
        assert await owed(bot) == 0


# --- a database outage right after Telegram accepted a reply -------------------------------------------
class BreaksTheDatabaseAfterSending(RecordingRequest):
    """Telegram accepts the reply; at that moment the database becomes unwritable (`chattr +i` on
    the WAL), so the sender cannot record that the reply went out."""

    def __init__(self, wal: Path, immutable: Any) -> None:
        super().__init__()
        self.wal, self.immutable, self.armed = wal, immutable, False
        self.outage: Any = None

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        answer = await super().do_request(url, method, request_data, *args, **kwargs)
        if self.armed and api_method(url) == "sendMessage":
            self.armed = False
            self.outage = self.immutable(self.wal)
            self.outage.__enter__()
        return answer


async def test_a_reply_sent_just_before_the_database_went_away_is_not_sent_again(
    tmp_path: Path, immutable: Any
) -> None:
    """The holder could not record its reply while the database was away, and its lease ran out
    meanwhile. Another process that saw the outage leaves such a lease to its holder for one lease
    more after the database is back; the holder records the reply then: it went out once."""
    path = tmp_path / "bot.db"
    url = f"sqlite:///{path}"
    request = BreaksTheDatabaseAfterSending(Path(f"{path}-wal"), immutable)
    async with (
        BotHarness(url, request=request, outbox_lease_seconds=0.5, database_wait_seconds=0) as holder,
        BotHarness(url, outbox_lease_seconds=0.5) as other,
    ):
        request.armed = True
        await holder.send(USER, "/check")  # accepted by Telegram; then the database is unwritable
        await asyncio.sleep(0.6)  # the holder's lease runs out while the database is away
        with pytest.raises(OperationalError):  # the other process cannot take it over (nor write)
            await other.parts.sender.retry_due(other.app.bot)
        request.outage.__exit__(None, None, None)
        assert await other.parts.sender.retry_due(other.app.bot) == 0  # left to its holder
        await holder.parts.sender.retry_due(holder.app.bot)  # the holder records it
        await asyncio.sleep(0.6)
        assert await other.parts.sender.retry_due(other.app.bot) == 0
    sent = [c for c in request.calls if c.method == "sendMessage"] + other.request.named("sendMessage")
    assert len(sent) == 1, sent


# --- a reply that can never be sent -----------------------------------------------------------------
async def test_a_reply_that_fails_for_a_bug_is_given_up_and_the_chat_goes_on(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply whose sending raises every time (a bug, not an outage) would otherwise be retried for
    ever and hold back every later reply of its chat, which go out after it."""
    import bot.sender

    real = bot.sender.send_text

    async def poisoned(b: Any, chat_id: int, text: str, *args: Any, **kwargs: Any) -> int:
        if "Where is your server?" in text:
            raise RuntimeError("cannot be sent")
        return await real(b, chat_id, text, *args, **kwargs)

    monkeypatch.setattr(bot.sender, "send_text", poisoned)
    async with BotHarness(sqlite_url) as bot_:
        await bot_.send(USER, "/check")  # its question cannot be sent: attempt 1
        await bot_.send(USER, "/help")  # the owed question first (attempt 2); the help waits behind it
        assert not any("/check" in t for t in texts(bot_))
        calls = await bot_.send(USER, "/help")  # attempt 3: given up, and the chat goes on
        sent = [c.text for c in calls if c.method == "sendMessage" and c.result is not None]
        assert sent and all("/check" in t for t in sent)  # both help replies, in order
        assert await owed(bot_) == 0
