"""The Bot API fails for a few seconds: sendMessage, editMessageText and answerCallbackQuery get
HTTP 502, or the connection is dropped without an answer, for 4 s while updates arrive.

The turns are committed; their replies must still go out once the Bot API answers again, each
within 10 s of that, none lost and none replaced by the generic error message.
"""

from __future__ import annotations

import pytest

from tests.chaos.bot_api import Fault
from tests.chaos.faults import FAULT_SECONDS, bot_api_outage, when
from tests.chaos.scenario import Chaos

pytestmark = pytest.mark.chaos
WITHIN = 10.0  # seconds after the Bot API recovered by which every reply must have arrived


@pytest.mark.parametrize("fault", ["502", "drop"])
async def test_bot_api_outage(chaos: Chaos, fault: Fault) -> None:
    """One webhook process on SQLite; the Bot API's reply methods fail (502 or a dropped connection) for
    4 s from a fifth of the workload on: every reply arrives, the last within 10 s of the recovery."""
    workload = await chaos.prepare(users=20)
    url = chaos.sqlite_url()
    processes = await chaos.start_webhooks(url)
    async with chaos.webhook_telegram(processes) as telegram:
        [recovered_at] = await chaos.during(
            telegram.run(workload, think=0.3), when(telegram, 0.2, bot_api_outage(chaos.api, fault, FAULT_SECONDS))
        )
    satisfied_at = await chaos.settle(deadline=WITHIN + 5)
    problems = []
    refused = sum(chaos.api.refused.values())
    chaos.notes.append(f"{fault} for {FAULT_SECONDS:.0f} s from 20% of the updates, {refused} calls failed")
    if satisfied_at is not None:
        late = satisfied_at - recovered_at
        chaos.notes.append(f"last reply {late:+.1f} s after recovery")
        if late > WITHIN:
            problems.append(f"the last reply arrived {late:.1f} s after the Bot API recovered (limit {WITHIN:.0f} s)")
    await chaos.conclude(url, problems)
