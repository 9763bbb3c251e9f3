"""Fault injection: a process that dies between the database commit and the reply, or between
receiving an update and committing it. After a restart and Telegram's redelivery, nothing is lost
and nothing is applied twice."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import Connection, func, select

import storage.sessions
from dialogs.screens import Outcome
from storage import outbox
from storage.db import Database
from storage.models import DialogState, ProcessedUpdate, Turn, utcnow
from tests.harness import BotHarness, RecordingRequest, api_method

USER = 777


class Crash(BaseException):
    """Stands for the process being killed: not an Exception, so no handler catches it."""


class CrashOnSend(RecordingRequest):
    armed = False

    async def do_request(self, url: str, method: str, request_data=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.armed and api_method(url) in ("sendMessage", "editMessageText"):
            self.armed = False
            raise Crash("killed after the commit, before the reply")
        return await super().do_request(url, method, request_data, *args, **kwargs)


def state(conn: Connection) -> tuple:
    row = conn.execute(select(DialogState.c.state, DialogState.c.version).where(DialogState.c.user_id == USER)).first()
    turns = conn.execute(select(func.count()).select_from(Turn).where(Turn.c.user_id == USER)).scalar_one()
    return (tuple(row) if row else None, turns)


async def test_crash_between_commit_and_reply(sqlite_url: str) -> None:
    request = CrashOnSend()
    async with BotHarness(sqlite_url, request=request) as first:
        await first.send(USER, "/check")
        press = first.updates.press(USER, "d:check:location:a:mainland", 1)
        request.armed = True
        with pytest.raises(Crash):
            await first.feed(press)
        after_crash = await first.app_service_db_run(state)
    assert after_crash[0] == ("provider", 2)  # the turn was committed

    async with BotHarness(sqlite_url) as second:  # restarted; Telegram redelivers the press
        calls = await second.feed(press)
        assert any("Who provides the server?" in c.text for c in calls)  # the reply owed is sent
        assert await second.app_service_db_run(state) == after_crash  # applied once
        calls = await second.feed(press)  # delivered now: a further redelivery sends nothing
        assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_crash_between_receiving_and_committing(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with BotHarness(sqlite_url) as first:
        await first.send(USER, "/check")
        before = await first.app_service_db_run(state)
        press = first.updates.press(USER, "d:check:location:a:mainland", 1)
        real_save = storage.sessions.save_session

        def dies_midway(conn: Connection, session: object, log: object = ()) -> None:
            real_save(conn, session, log)  # type: ignore[arg-type]
            raise Crash("killed before the commit")

        monkeypatch.setattr("bot.service.save_session", dies_midway)
        with pytest.raises(Crash):
            await first.feed(press)
        assert await first.app_service_db_run(state) == before  # rolled back: nothing half-written
        monkeypatch.setattr("bot.service.save_session", real_save)

    async with BotHarness(sqlite_url) as second:
        calls = await second.feed(press)
        assert any("Who provides the server?" in c.text for c in calls)
        (dialog_state, version), _ = await second.app_service_db_run(state)
        assert (dialog_state, version) == ("provider", 2)


async def test_delivery_marks_are_written_in_batches_and_at_shutdown(sqlite_url: str) -> None:
    """A reply that went out is marked delivered (its stored copy dropped) by a later transaction:
    a turn's, once `delivered_batch` marks are pending, or the flush at shutdown."""

    def owed(conn: Connection) -> int:
        return conn.execute(
            select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.c.replies.is_not(None))
        ).scalar_one()

    async with BotHarness(sqlite_url) as bot:
        bot.service.delivered_batch = 3
        await bot.send(USER, "/check")
        await bot.tap(USER, "Chinese mainland")
        await bot.tap(USER, "Alibaba Cloud")
        assert await bot.app_service_db_run(owed) == 3  # three marks pending, none written yet
        await bot.tap(USER, "ECS")  # this turn writes the three
        assert await bot.app_service_db_run(owed) == 1
    async with BotHarness(sqlite_url) as again:
        assert await again.app_service_db_run(owed) == 0  # the last one was written at shutdown


async def test_overlapping_delivery_marks_from_several_processes_do_not_deadlock(postgres_url: str) -> None:
    """Processes write their delivery marks in batches, and a redelivered update is marked by each
    process that sent it, so batches overlap. Taken in different orders, their row locks deadlock
    (PostgreSQL aborts one transaction: its turn fails); written in one order, they only wait."""
    ids = list(range(9_000_001, 9_000_041))
    setup = Database(postgres_url)
    await setup.upgrade()

    def applied(conn: Connection) -> None:
        for update_id in ids:
            outbox.record(conn, update_id, Outcome(), utcnow())

    await setup.run(applied)
    rng = random.Random(7)
    processes = [Database(postgres_url) for _ in range(6)]

    async def marks(db: Database) -> None:
        for _ in range(25):
            await db.run(outbox.delivered, rng.sample(ids, 20))

    try:
        await asyncio.gather(*(marks(db) for db in processes))
    finally:
        for db in (setup, *processes):
            await db.dispose()
