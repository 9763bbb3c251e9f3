"""Telegram's side of a webhook, emulated over real HTTP.

Users send concurrently; each user's updates go out in order. An update is posted (JSON, with the
secret token header) until one post of it gets HTTP 200; any other status, a refused or dropped
connection, or a timeout makes it post the same update again after 0.3-0.5 s, possibly to another
process (the load balancer's choice), as Telegram redelivers. Only then comes the user's next
update. Duplicates (the same update posted again at once, to a different process, or several
times) stand for redeliveries that overlap the first delivery. Meanwhile the load balancer checks
GET /healthz of every running process four times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

import aiohttp

from bot.webhook import SECRET_HEADER
from tests.chaos.processes import SECRET, BotProcess
from tests.chaos.workload import Workload

Route = Literal["random", "round-robin"]
HEALTH_INTERVAL = 0.25  # seconds between two rounds of health checks


class Telegram:
    def __init__(
        self,
        processes: Sequence[BotProcess],
        rng: random.Random,
        *,
        route: Route = "random",
        post_timeout: float = 10.0,
        give_up_after: float = 30.0,
    ) -> None:
        self.processes = list(processes)
        self.rng = rng
        self.route = route
        self.post_timeout = post_timeout
        self.give_up_after = give_up_after
        self.statuses: Counter[str] = Counter()  # every post's outcome: "200", "503", "refused", "timeout", ...
        self.done = 0  # updates delivered (got their 200)
        self.total = 0
        self.undelivered: list[int] = []  # update ids Telegram gave up on
        self.progress = asyncio.Event()
        self.health: Counter[str] = Counter()  # /healthz answers seen by the load balancer's checks
        self._next = 0
        self._http: aiohttp.ClientSession | None = None
        self._prober: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Telegram:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.post_timeout))
        self._prober = asyncio.create_task(self._probe_health())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
        if self._http is not None:
            await self._http.close()

    async def _probe_health(self) -> None:
        """The load balancer's health checks: GET /healthz of every process every HEALTH_INTERVAL."""
        while True:
            for process in self.processes:
                if process.alive:
                    status, _ = await process.health()
                    self.health[str(status)] += 1
            await asyncio.sleep(HEALTH_INTERVAL)

    @property
    def redeliveries(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "200")

    # --- routing ----------------------------------------------------------------------------
    def _pick(self, avoid: BotProcess | None = None) -> BotProcess:
        choices = [p for p in self.processes if p is not avoid] or self.processes
        if self.route == "round-robin":
            self._next += 1
            return choices[self._next % len(choices)]
        return self.rng.choice(choices)

    # --- delivery ---------------------------------------------------------------------------
    async def post(self, update: dict[str, Any], process: BotProcess) -> str:
        """One post; its outcome as a status."""
        assert self._http is not None, "use `async with Telegram(...)`"
        body = json.dumps(update)
        headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
        try:
            async with self._http.post(process.url, data=body, headers=headers) as resp:
                await resp.read()
                status = str(resp.status)
        except TimeoutError:
            status = "timeout"
        except aiohttp.ClientConnectorError:
            status = "refused"
        except aiohttp.ClientError:
            status = "dropped"
        self.statuses[status] += 1
        return status

    async def deliver(self, update: dict[str, Any], first: BotProcess) -> bool:
        """Post until a 200; False if Telegram gave up."""
        deadline = time.monotonic() + self.give_up_after
        process = first
        while await self.post(update, process) != "200":
            if time.monotonic() > deadline:
                self.undelivered.append(update["update_id"])
                return False
            await asyncio.sleep(self.rng.uniform(0.3, 0.5))
            process = self._pick()
        return True

    async def run(
        self,
        workload: Workload,
        *,
        think: float = 0.1,
        duplicate_rate: float = 0.0,
        copies: int = 1,
    ) -> None:
        """Every user's updates, users concurrently. `think`: the most a user waits between updates.
        `duplicate_rate`: the share of updates also posted at once to another process. `copies`:
        how many times each update is posted at once (each copy until it gets a 200), spread over
        the processes in turn."""
        self.total += workload.size

        async def user(updates: list[dict[str, Any]]) -> None:
            await asyncio.sleep(self.rng.uniform(0, think))
            for update in updates:
                first = self._pick()
                targets = [first]
                if copies > 1:
                    start = self.processes.index(first)
                    targets = [self.processes[(start + k) % len(self.processes)] for k in range(copies)]
                elif duplicate_rate and self.rng.random() < duplicate_rate:
                    targets.append(self._pick(avoid=first))
                await asyncio.gather(*(self.deliver(update, target) for target in targets))
                self.done += 1
                self.progress.set()
                await asyncio.sleep(self.rng.uniform(0, think))

        await asyncio.gather(*(user(u) for u in workload.users.values()))

    async def reached(self, fraction: float) -> None:
        """Wait until this share of the workload's updates has been delivered."""
        while self.total == 0 or self.done < fraction * self.total:
            self.progress.clear()
            await self.progress.wait()

    def summary(self) -> str:
        shown = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        health = ", ".join(f"{status}: {n}" for status, n in sorted(self.health.items()))
        return f"posts by outcome: {shown}; undelivered: {len(self.undelivered)}; /healthz answers: {health}"
