"""Figures of each chaos test, printed under a "chaos" section at the end of the run
(pytest_terminal_summary in tests/chaos/conftest.py)."""

from __future__ import annotations

REPORT: dict[str, dict[str, object]] = {}


def record(test: str, **figures: object) -> None:
    REPORT[test] = figures


def line(test: str, figures: dict[str, object]) -> str:
    return f"{test}: " + ", ".join(f"{key}={value}" for key, value in figures.items())
