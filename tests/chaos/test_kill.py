"""kill -9 at random moments while updates arrive: no update lost or applied twice, no reply lost.

Telegram redelivers every update that did not get a 200, so an update in flight when its process
died comes again; whatever the crash interrupted (before the commit, between the commit and the
reply, between the reply and the delivery mark) must end as in a serial run. One window may repeat
a reply (a crash after Telegram accepted it, before the bot recorded that): duplicates are
reported, not failed.
"""

from __future__ import annotations

import pytest

from tests.chaos.faults import kill_and_restart
from tests.chaos.scenario import Chaos

pytestmark = pytest.mark.chaos


async def test_kill9_sqlite_webhook(chaos: Chaos) -> None:
    """One webhook process on SQLite, SIGKILLed 3 times at random moments and restarted on the same
    database file, ends with every user's state, turn log and replies equal to a serial replay."""
    workload = await chaos.prepare(users=20)
    url = chaos.sqlite_url()
    processes = await chaos.start_webhooks(url)
    async with chaos.webhook_telegram(processes) as telegram:
        [killed] = await chaos.during(
            telegram.run(workload, think=0.15), kill_and_restart(telegram, chaos.api, processes, chaos.rng, kills=3)
        )
    chaos.notes += killed
    await chaos.settle()
    await chaos.conclude(url, allow_duplicates=True)


async def test_kill9_postgres_three_webhooks_with_duplicates(chaos: Chaos, pg_migrated: str) -> None:
    """Three webhook processes on one PostgreSQL database, updates posted to random processes and 30%
    of them also posted at once to another one, a random process SIGKILLed 3 times and restarted:
    every user's state, turn log and replies equal a serial replay's (each update applied once)."""
    workload = await chaos.prepare(users=20)
    processes = await chaos.start_webhooks(pg_migrated, count=3)
    async with chaos.webhook_telegram(processes) as telegram:
        [killed] = await chaos.during(
            telegram.run(workload, think=0.15, duplicate_rate=0.3),
            kill_and_restart(telegram, chaos.api, processes, chaos.rng, kills=3),
        )
    chaos.notes += killed
    await chaos.settle()
    await chaos.conclude(pg_migrated, allow_duplicates=True)
