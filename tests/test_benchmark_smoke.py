"""The benchmark's code runs (tiny sizes): its figures come from the same paths as the real run."""

from __future__ import annotations

import pytest

from benchmarks.load import SIDE_BY_SIDE, run_interleaved, run_one
from benchmarks.workload import TURNS_PER_USER


@pytest.mark.parametrize("config", ["sqlite-normal", "baseline"])
async def test_benchmark_runs_and_counts_every_turn(config: str) -> None:
    result = await run_one(config, users=10, concurrency=1, db_url=None, active_users=50, paced_seconds=0.2)
    assert result["turns"] == 10 * TURNS_PER_USER
    assert result["errors"] == 0 and result["turns_per_s"] > 0 and result["p99_ms"] >= result["p50_ms"] > 0
    # every turn made its Bot API calls: a press answers the query and edits; a message sends
    assert result["api_calls"] >= result["turns"]


@pytest.mark.parametrize("in_flight", [1, 4])
async def test_side_by_side_runs_every_configuration_alike(in_flight: int) -> None:
    result = await run_interleaved(SIDE_BY_SIDE, users=8, rounds=2, concurrency=in_flight)
    assert result["errors"] == 0
    for config in SIDE_BY_SIDE:
        r = result["configs"][config]
        assert r["turns"] == 2 * 8 * TURNS_PER_USER
        assert len(r["per_round_turns_per_s"]) == 2 and r["turns_per_s"] > 0
