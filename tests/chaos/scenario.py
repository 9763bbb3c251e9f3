"""One chaos test's world, and its verdict.

`Chaos` holds a fake Bot API, the test's processes, a seeded random source (CHAOS_SEED=N replays
the same choices), the workload and its serial replay. A test drives the processes and its fault,
then `settle()` waits until every reply the serial replay sent has reached the Bot API (or nothing
has arrived for a while), and `conclude()` stops the processes, reads their database, compares
it and the replies with the serial replay, records the figures for the summary and fails with
everything that differs and the processes' stderr.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import TypeVar

from tests.chaos.bot_api import ChaosBotApi
from tests.chaos.processes import BotProcess, Fleet
from tests.chaos.replay import Comparison, Expected, compare, missing_replies, read_snapshot, serial_replay
from tests.chaos.report import line, record
from tests.chaos.telegram import Route, Telegram
from tests.chaos.workload import Workload, build_workload

T = TypeVar("T")
SETTLE_DEADLINE = 30.0  # seconds at most for every expected reply to arrive
SETTLE_IDLE = 5.0  # ...or give up sooner when no reply at all arrived for this long
SETTLE_QUIET = 1.0  # once all arrived, wait this long without any reply, to count late duplicates


class Chaos:
    """The fake Bot API, processes, random source, workload and expectations of one test."""

    def __init__(self, name: str, directory: Path, seed: int) -> None:
        self.name = name
        self.directory = directory
        self.seed = seed
        self.rng = random.Random(seed)
        self.api = ChaosBotApi().__enter__()
        logs = directory / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        self.fleet = Fleet(self.api, logs)
        self.started = time.monotonic()
        self.workload: Workload | None = None
        self.expected: Expected | None = None
        self.telegram: Telegram | None = None
        self.satisfied_at: float | None = None
        self.notes: list[str] = []  # what the fault did, for the report

    def sqlite_url(self) -> str:
        return f"sqlite:///{self.sqlite_path}"

    @property
    def sqlite_path(self) -> Path:
        return self.directory / "chaos.db"

    async def prepare(self, users: int, max_updates_per_user: int | None = None) -> Workload:
        """The workload, and what its serial replay stored and sent."""
        self.workload = build_workload(users, max_updates_per_user)
        self.expected = await serial_replay(self.workload, self.directory)
        return self.workload

    def webhook_telegram(self, processes: Sequence[BotProcess], route: Route = "random") -> Telegram:
        self.telegram = Telegram(processes, self.rng, route=route)
        return self.telegram

    async def start_webhooks(self, database_url: str, count: int = 1) -> list[BotProcess]:
        processes = self.fleet.webhook(database_url, count)
        await self.fleet.start(processes)
        return processes

    @staticmethod
    async def during(work: Awaitable[None], *faults: Awaitable[T]) -> list[T]:
        """Run the workload with fault injectors alongside; their results once both are done. An
        injector still running when the workload fails is cancelled (its `finally` repairs)."""
        tasks = [asyncio.ensure_future(f) for f in faults]
        try:
            await work
            return [await task for task in tasks]
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)  # let their `finally` blocks repair

    async def settle(
        self, deadline: float = SETTLE_DEADLINE, idle: float = SETTLE_IDLE, quiet: float = SETTLE_QUIET
    ) -> float | None:
        """Wait until the Bot API received every reply the serial replay sent, then until no reply
        came for `quiet` seconds. Returns when the last expected reply arrived (monotonic), or None
        if some never did (nothing for `idle` seconds, or `deadline` passed)."""
        assert self.expected is not None, "prepare() first"
        start = time.monotonic()
        seen, changed = -1, start
        while True:
            now = time.monotonic()
            replies = self.api.replies()
            if len(replies) != seen:
                seen, changed = len(replies), now
            if self.satisfied_at is None and missing_replies(self.expected, self.api.texts_by_chat()) == 0:
                self.satisfied_at = replies[-1].at if replies else now
            if self.satisfied_at is not None and now - changed >= quiet:
                return self.satisfied_at
            if self.satisfied_at is None and (now - start > deadline or now - changed > idle):
                return None
            await asyncio.sleep(0.1)

    async def conclude(
        self, database_url: str, problems: Sequence[str] = (), allow_duplicates: bool = True
    ) -> Comparison:
        """Stop the processes, compare with the serial replay, report, and fail on any problem."""
        assert self.workload is not None and self.expected is not None
        exits = self.fleet.terminate_all()
        actual = await read_snapshot(database_url)
        result = compare(self.expected, actual, self.api.texts_by_chat(), self.workload)
        found = result.problems(allow_duplicates) + list(problems)
        if self.telegram is not None and self.telegram.undelivered:
            found.append(f"Telegram gave up on {len(self.telegram.undelivered)} updates (never answered 200)")
        figures: dict[str, object] = {
            "updates": result.updates,
            "lost_updates": result.lost_updates,
            "doubled": result.doubled_updates,
            "lost_replies": result.lost_replies,
            "duplicates": result.duplicate_replies,
            "errors": result.generic_errors,
            "seconds": round(time.monotonic() - self.started, 1),
            "seed": self.seed,
        }
        if self.telegram is not None:
            figures["redeliveries"] = self.telegram.redeliveries
        if self.notes:
            figures["fault"] = " ".join(self.notes)
        record(self.name, **figures)
        print(line(self.name, figures))
        if result.examples:
            print("  " + "\n  ".join(result.examples[:20]))
        if found:
            details = [f"chaos test {self.name} (CHAOS_SEED={self.seed}):", *(f"- {p}" for p in found)]
            if self.telegram is not None:
                details.append(self.telegram.summary())
            details.append(f"expected replies: {self.expected.reply_count}; process exits: {exits}")
            details.append("stderr of the bot processes:\n" + self.fleet.tails())
            raise AssertionError("\n".join(details))
        return result

    def close(self) -> None:
        self.fleet.kill_all()
        self.api.close()
