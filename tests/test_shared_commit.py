"""Turns in flight at once share one SQLite transaction, and still no reply goes out before its
turn is committed (storage/sqlite_tx.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.exc import OperationalError
from telegram import Update

from benchmarks.workload import STEPS, UpdateStream
from storage.db import Database
from storage.models import DialogState, ProcessedUpdate, User
from storage.prepared import Prepared
from storage.sqlite_tx import SqliteTransactions
from tests.harness import BotHarness, RecordingRequest, api_method

_ADD_USER = Prepared(
    User.insert().values(id=bindparam("id"), language=bindparam("lang"), created_at=func.now(), updated_at=func.now())
)


def _add(conn: Connection, user_id: int) -> int:
    _ADD_USER.run(conn, {"id": user_id, "lang": "en"})
    return user_id


def _committed_users(path: Path) -> list[int]:
    """What another connection sees: committed rows only."""
    with sqlite3.connect(path) as other:
        return [r[0] for r in other.execute("SELECT id FROM users ORDER BY id")]


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'shared.db'}")
    await database.upgrade()
    yield database
    await database.dispose()


async def test_turns_in_flight_share_one_commit_and_return_after_it(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    seen_on_return: dict[int, list[int]] = {}

    async def turn(user_id: int) -> None:
        await db.run_together(_add, user_id)
        seen_on_return[user_id] = _committed_users(path)

    await asyncio.gather(*(turn(u) for u in range(1, 9)))
    assert db.shared_commits == 1  # eight turns, one transaction
    for user_id, committed in seen_on_return.items():
        assert user_id in committed  # committed before run_together returned
    assert _committed_users(path) == list(range(1, 9))


async def test_a_failing_member_rolls_back_only_itself(db: Database, tmp_path: Path) -> None:
    def add_then_fail(conn: Connection, user_id: int) -> None:
        _add(conn, user_id)
        raise RuntimeError("this turn fails")

    results = await asyncio.gather(
        db.run_together(_add, 1),
        db.run_together(add_then_fail, 2),
        db.run_together(_add, 3),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], RuntimeError)
    assert _committed_users(tmp_path / "shared.db") == [1, 3]


async def test_a_failed_commit_fails_every_member_and_applies_nothing(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_commit = SqliteTransactions._commit
    calls = {"n": 0}

    def failing_once(conn: Connection) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise sqlite3.OperationalError("disk I/O error")
        real_commit(conn)

    monkeypatch.setattr(SqliteTransactions, "_commit", staticmethod(failing_once))
    results = await asyncio.gather(*(db.run_together(_add, u) for u in (1, 2, 3)), return_exceptions=True)
    assert all(isinstance(r, OperationalError) for r in results)  # the bot's "database unavailable" class
    assert _committed_users(tmp_path / "shared.db") == []
    # The connection is usable again and the same turns apply on a retry.
    await asyncio.gather(*(db.run_together(_add, u) for u in (1, 2, 3)))
    assert _committed_users(tmp_path / "shared.db") == [1, 2, 3]


async def test_a_cancelled_member_does_not_cancel_the_others(db: Database, tmp_path: Path) -> None:
    tasks = [asyncio.create_task(db.run_together(_add, u)) for u in (1, 2, 3)]
    await asyncio.sleep(0)  # all three ran their statements and wait for the commit
    tasks[1].cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results[0] == 1 and results[2] == 3
    assert isinstance(results[1], asyncio.CancelledError)
    # Its statements were in the transaction: committed, as a turn whose reply was never sent.
    assert _committed_users(tmp_path / "shared.db") == [1, 2, 3]


async def test_a_lone_turn_does_not_wait_for_the_event_loop(db: Database) -> None:
    """`run` outside a shared transaction commits inline: nothing is shared, no extra loop turn."""
    assert await db.run(_add, 1) == 1
    assert db.shared_commits == 0


class CheckingRequest(RecordingRequest):
    """Yields on every call like a network round trip, and checks, whenever a reply goes out to a
    user, that another connection already sees that user's turn committed."""

    def __init__(self, path: Path) -> None:
        super().__init__(suspend=True)
        self.path = path
        self.replies: dict[int, int] = {}
        self.uncommitted: list[tuple[int, int, int]] = []

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        name = api_method(url)
        if name in ("sendMessage", "editMessageText") and request_data is not None:
            chat = int(request_data.parameters["chat_id"])
            self.replies[chat] = self.replies.get(chat, 0) + 1
            with sqlite3.connect(self.path) as other:
                # The turn log has one "user" row per turn of the user's.
                done = other.execute(
                    "SELECT count(*) FROM turns WHERE user_id = ? AND kind = 'user'", (chat,)
                ).fetchone()[0]
            if done < self.replies[chat]:
                self.uncommitted.append((chat, self.replies[chat], done))
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def test_concurrent_users_through_the_application_share_commits_and_never_see_an_uncommitted_reply(
    tmp_path: Path,
) -> None:
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
                await bot.app.process_update(Update.de_json(data, bot.app.bot))

        await asyncio.gather(*(user(u) for u in by_user.values()))
        db = bot.service.db
        assert bot.errors() == 0
        assert db.shared_commits > 0  # turns really shared transactions
        assert sum(request.replies.values()) >= len(STEPS) * len(users)  # every reply was checked
        assert request.uncommitted == []  # every reply went out after its turn was on disk

        def states(conn: Connection) -> dict[int, str]:
            rows = conn.execute(select(DialogState.c.user_id, DialogState.c.state)).all()
            return {uid: state for uid, state in rows}

        assert await db.run(states) == dict.fromkeys(users, "verdict")
        processed = await db.run(lambda c: c.execute(select(func.count()).select_from(ProcessedUpdate)).scalar())
        assert processed == len(STEPS) * len(users)
