"""Shared fixtures: a fresh SQLite database per test, and PostgreSQL where one is reachable.

With CI=true a missing PostgreSQL fails the PostgreSQL tests instead of skipping them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import BotHarness

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'icpbot.db'}"


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"icpbot_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # not reachable
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI but not reachable at {POSTGRES_ADMIN_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
async def bot(sqlite_url: str) -> AsyncIterator[BotHarness]:
    async with BotHarness(sqlite_url) as harness:
        yield harness


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the measured figures (FAQ accuracy, answer time) with the test results."""
    from tests import test_faq

    if test_faq.REPORT:
        terminalreporter.section("measured")
        for name, value in test_faq.REPORT.items():
            if value:
                terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture
def quick_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot gives up on a held SQLite lock after 200 ms: an outage is quick to see."""
    import bot.app
    from storage.db import Database

    def database(url: str, sync: str = "NORMAL", busy_timeout_ms: int = 5000) -> Database:
        return Database(url, sync, busy_timeout_ms=200)

    monkeypatch.setattr(bot.app, "Database", database)
