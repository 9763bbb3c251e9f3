"""A failed SQLite COMMIT: the WAL file becomes immutable (`chattr +i`) for a few seconds while updates
arrive, so every write fails with an I/O error; then it is writable again.

What must hold: no update is lost or applied twice (Telegram redelivers those that did not get a
200), every reply goes out, none is the generic error message, and GET /healthz answers 200 again:
the process recovers from the failed transaction instead of staying broken.
"""

from __future__ import annotations

import os

import pytest

from tests.chaos.faults import FAULT_SECONDS, immutable_for, immutable_unsupported, when
from tests.chaos.scenario import Chaos

pytestmark = pytest.mark.chaos


async def test_failed_sqlite_commit(chaos: Chaos) -> None:
    """A WAL that cannot be written for 4 s in the middle of the workload: afterwards everything is
    applied once and answered, no "Sorry, something went wrong", and /healthz is 200 again."""
    if reason := immutable_unsupported(chaos.directory):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    workload = await chaos.prepare(users=20)
    url = chaos.sqlite_url()
    processes = await chaos.start_webhooks(url)
    wal = chaos.sqlite_path.with_name(chaos.sqlite_path.name + "-wal")
    async with chaos.webhook_telegram(processes) as telegram:
        await chaos.during(telegram.run(workload, think=0.3), when(telegram, 0.2, immutable_for(wal, FAULT_SECONDS)))
    chaos.notes.append(f"WAL immutable for {FAULT_SECONDS:.0f} s from 20% of the updates")
    await chaos.settle()
    unhealthy = await processes[0].wait_healthy(timeout=5)
    await chaos.conclude(url, [unhealthy] if unhealthy else [])
