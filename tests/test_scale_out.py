"""Several processes on one PostgreSQL: four Application instances fed interleaved and duplicated
updates for 200 users end with every user's state and turn log equal to a serial run's."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, select

from storage.models import DialogState, Turn, User
from tests.conftest import POSTGRES_ADMIN_URL, _admin
from tests.harness import UPDATE_IDS, BotHarness, UpdateFactory

USERS = 200
APPS = 4


def journey(i: int) -> list[tuple[str, str]]:
    """Each user's own sequence: a check (several shapes), a free question, a filing-type dialog."""
    shapes = [
        ["mainland", "alibaba", "ecs", "subscription", "6", "yes"],
        ["mainland", "alibaba", "sas", "subscription", "2"],
        ["hong-kong"],
        ["mainland", "other"],
        ["mainland", "alibaba", "cdn"],
    ]
    steps: list[tuple[str, str]] = [("send", "/check")]
    questions = ["location", "provider", "product", "billing", "months", "bandwidth"]
    for q, value in zip(questions, shapes[i % len(shapes)], strict=False):
        if q == "months" and i % 2:
            steps.append(("send", value))  # typed, not pressed
        else:
            steps.append(("press", f"d:check:{q}:a:{value}"))
    steps.append(("send", "How long does the preliminary review take?"))
    steps += [
        ("send", "/filingtype"),
        ("press", "d:filingtype:entity_alibaba:a:no"),
        ("press", f"d:filingtype:entity_miit:a:{'yes' if i % 3 else 'no'}"),
    ]
    return steps


def build_updates() -> dict[int, list[dict[str, Any]]]:
    factory = UpdateFactory()
    updates: dict[int, list[dict[str, Any]]] = {}
    for i in range(USERS):
        user = 100_000 + i
        lang = "zh" if i % 4 == 0 else "en"
        updates[user] = [
            factory.message(user, x, lang) if kind == "send" else factory.press(user, x, 1, lang)
            for kind, x in journey(i)
        ]
    return updates


def snapshot(conn: Connection) -> dict[int, Any]:
    users = {u.id: [u.language, u.active_dialog, u.last_dialog] for u in conn.execute(select(User))}
    states: dict[int, list] = {}
    for r in conn.execute(select(DialogState).order_by(DialogState.c.user_id, DialogState.c.dialog)):
        states.setdefault(r.user_id, []).append([r.dialog, r.state, r.answers, r.history, r.version])
    turns: dict[int, list] = {}
    for r in conn.execute(select(Turn.c.user_id, Turn.c.kind, Turn.c.dialog, Turn.c.data).order_by(Turn.c.id)):
        turns.setdefault(r.user_id, []).append([r.kind, r.dialog, r.data])
    return {u: {"user": users[u], "states": states.get(u), "turns": turns.get(u)} for u in users}


@pytest.fixture
def second_postgres_url() -> Iterator[str]:
    name = f"icpbot_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        import os

        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_four_processes_match_a_serial_run(postgres_url: str, second_postgres_url: str) -> None:
    assert next(UPDATE_IDS) > 0  # (ids are unique across the whole run)
    updates = build_updates()

    async with BotHarness(second_postgres_url) as serial:
        for user_updates in updates.values():
            for update in user_updates:
                await serial.feed(update)
        expected = await serial.app_service_db_run(snapshot)

    rng = random.Random(20261122)
    harnesses = [BotHarness(postgres_url) for _ in range(APPS)]
    for h in harnesses:
        await h.__aenter__()
    try:

        async def one_user(user_updates: list[dict[str, Any]]) -> None:
            for update in user_updates:  # one user's updates in order, each to any process...
                await rng.choice(harnesses).feed(update)
                if rng.random() < 0.3:  # ...and some delivered twice, to another process
                    await rng.choice(harnesses).feed(update)

        await asyncio.gather(*(one_user(u) for u in updates.values()))  # users interleaved
        late = rng.sample([u for us in updates.values() for u in us], 300)  # redeliveries after the fact
        await asyncio.gather(*(rng.choice(harnesses).feed(u) for u in late))
        actual = await harnesses[0].app_service_db_run(snapshot)
        assert sum(h.errors() for h in harnesses) == 0  # no duplicate was caught by a failing insert
    finally:
        for h in harnesses:
            await h.__aexit__(None, None, None)

    assert len(actual) == USERS
    mismatched = [u for u in expected if actual.get(u) != expected[u]]
    assert not mismatched, (mismatched[:3], expected[mismatched[0]], actual.get(mismatched[0]))
