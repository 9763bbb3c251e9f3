"""The benchmark's code runs (tiny sizes): its figures come from the same paths as the real run."""

from __future__ import annotations

import pytest

from benchmarks.load import SIDE_BY_SIDE, minute_table, run_interleaved, run_minute, run_one
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


@pytest.mark.parametrize("config", ["sqlite-normal", "baseline"])
async def test_the_sustained_minute_counts_turns_and_times_the_write(config: str) -> None:
    result = await run_minute(config, users=5, seconds=0.3, warm_users=5)
    assert result["errors"] == 0 and result["turns"] > 0
    assert result["turns_per_s_handling"] >= result["turns_per_s"] > 0
    assert result["write_s"] >= 0 and result["handling_s"] >= 0.3


def test_the_minute_table_sums_each_configurations_runs() -> None:
    runs = [
        {"config": "sqlite-normal", "turns": 600, "handling_s": 1.0, "write_s": 0.0, "errors": 0},
        {"config": "baseline", "turns": 800, "handling_s": 1.0, "write_s": 1.0, "errors": 0},
        {"config": "baseline", "turns": 800, "handling_s": 1.0, "write_s": 1.0, "errors": 0},
        {"config": "sqlite-normal", "turns": 600, "handling_s": 1.0, "write_s": 0.0, "errors": 0},
    ]
    table = minute_table(runs)
    assert "| sqlite-normal | 2 | 600 | 0.00 | 600 | 1.50× | 0 |" in table
    assert "| baseline | 2 | 800 | 1.00 | 400 | 1.00× | 0 |" in table


def test_the_scale_out_run_posts_every_turn_over_http_to_two_processes() -> None:
    """Two real webhook processes on a fresh PostgreSQL database: every turn answered 200, no error."""
    from benchmarks.scale_out import run_one as run_scale_out

    result = run_scale_out(processes=2, users=6, in_flight=3)
    assert result["turns"] == 6 * TURNS_PER_USER
    assert result["errors"] == 0 and result["refused_posts"] == 0
    assert result["turns_per_s"] > 0 and result["p99_ms"] >= result["p50_ms"] > 0
