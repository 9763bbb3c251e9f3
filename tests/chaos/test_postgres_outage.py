"""PostgreSQL goes away and comes back, on the private cluster (never the machine's shared server).

Webhook: a fast stop (`pg_ctl stop -m fast`: sessions are terminated, "the database system is
shutting down") or a crash (`-m immediate`: crash recovery on the next start, "the database system
is starting up"), down for 4 s while updates keep arriving. An update the database could not take
must be answered with a non-200 status so that Telegram redelivers it; none may be answered 200
with the generic error message and dropped.

Polling: getUpdates confirms an update as soon as the bot asks for the next ones, so a polled
update the database could not take is only safe if it is not confirmed before it is applied. With
PostgreSQL down, 20 updates are fetched, the bot is killed, PostgreSQL and the bot start again:
all 20 must be applied and answered.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.chaos.faults import FAULT_SECONDS, postgres_outage, when
from tests.chaos.postgres import PgCluster, StopMode
from tests.chaos.scenario import Chaos

pytestmark = pytest.mark.chaos


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgres_stop_and_restart_under_webhooks(
    chaos: Chaos, pg_cluster: PgCluster, pg_migrated: str, mode: StopMode
) -> None:
    """Two webhook processes; PostgreSQL stopped (fast) or crashed (immediate) for 4 s from a quarter of
    the workload on, then started again: every update applied once, every reply sent, no error text."""
    workload = await chaos.prepare(users=20)
    processes = await chaos.start_webhooks(pg_migrated, count=2)
    async with chaos.webhook_telegram(processes, route="round-robin") as telegram:
        await chaos.during(
            telegram.run(workload, think=0.3), when(telegram, 0.25, postgres_outage(pg_cluster, mode, FAULT_SECONDS))
        )
    chaos.notes.append(f"pg_ctl stop -m {mode} for {FAULT_SECONDS:.0f} s from 25% of the updates")
    await chaos.settle()
    await chaos.conclude(pg_migrated)


async def test_postgres_down_then_kill9_under_polling(chaos: Chaos, pg_cluster: PgCluster, pg_migrated: str) -> None:
    """A polling process fetches 20 updates while PostgreSQL is down and is then killed (-9); after
    PostgreSQL and the bot start again, all 20 are applied once and answered."""
    workload = await chaos.prepare(users=5, max_updates_per_user=4)
    assert workload.size == 20
    bot = chaos.fleet.polling(pg_migrated)
    await chaos.fleet.start([bot])
    try:
        await asyncio.to_thread(pg_cluster.stop, "fast")
        updates = list(workload.interleaved())
        for update in updates:
            chaos.api.push(update)
        fetched = await asyncio.to_thread(chaos.api.wait_served, updates[-1]["update_id"], 10.0)
        await asyncio.sleep(2.0)  # the bot tries, and fails, to apply them
        confirmed = sum(u["update_id"] < chaos.api.confirmed_offset for u in updates)
        bot.kill()
    finally:
        await asyncio.to_thread(pg_cluster.ensure_running)
    chaos.notes.append(f"fetched={fetched} confirmed_before_kill={confirmed}/20")
    await bot.restart(chaos.api)
    await chaos.settle()
    await chaos.conclude(pg_migrated)
