"""The same update posted 5 times at once (overlapping redeliveries): applied once, and each reply
sent once. Duplicate sendMessage/editMessageText calls fail this test (they are only reported
elsewhere)."""

from __future__ import annotations

import pytest

from tests.chaos.scenario import Chaos

pytestmark = pytest.mark.chaos
COPIES = 5


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, chaos: Chaos) -> tuple[str, int]:
    """(DATABASE_URL, processes): one process on SQLite, or three on one PostgreSQL database."""
    if request.param == "sqlite":
        return chaos.sqlite_url(), 1
    return str(request.getfixturevalue("pg_migrated")), 3


async def test_same_update_five_times_at_once(chaos: Chaos, target: tuple[str, int]) -> None:
    """About 30 updates, each posted 5 times at once (to one SQLite process, or spread over three
    PostgreSQL processes): the stored state equals a serial replay's and no reply is sent twice."""
    url, processes = target
    workload = await chaos.prepare(users=3)
    bots = await chaos.start_webhooks(url, count=processes)
    async with chaos.webhook_telegram(bots, route="round-robin") as telegram:
        await telegram.run(workload, think=0.0, copies=COPIES)
    chaos.notes.append(f"each of {workload.size} updates posted {COPIES}x at once")
    await chaos.settle()
    await chaos.conclude(url, allow_duplicates=False)
