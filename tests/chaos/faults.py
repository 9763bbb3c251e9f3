"""The faults: kill -9, an immutable SQLite WAL, a stopped or crashed PostgreSQL, a Bot API outage.

Each is timed by the workload's progress (a share of its updates delivered), so it strikes while
updates are arriving however fast the machine is, plus a random few milliseconds so that it lands
at a random point of whatever is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import subprocess
import time
from collections.abc import Awaitable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from tests.chaos.bot_api import ChaosBotApi, Fault
from tests.chaos.postgres import PgCluster, StopMode
from tests.chaos.processes import BotProcess
from tests.chaos.telegram import Telegram

T = TypeVar("T")
FAULT_SECONDS = 4.0  # how long an outage lasts (a WAL that cannot be written, PostgreSQL down, the Bot API down)


async def when(telegram: Telegram, fraction: float, fault: Awaitable[T]) -> T:
    """Start `fault` once this share of the workload's updates has been delivered."""
    await telegram.reached(fraction)
    return await fault


async def kill_and_restart(
    telegram: Telegram,
    api: ChaosBotApi,
    processes: Sequence[BotProcess],
    rng: random.Random,
    kills: int,
    within: tuple[float, float] = (0.1, 0.9),
) -> list[str]:
    """SIGKILL a random running process `kills` times at random points of the workload (spread over
    the `within` share of its updates), and start each one again on the same port and database as
    soon as it is dead; the next kill may come while it is starting. Returns what was killed when."""
    done: list[str] = []
    restarts: list[asyncio.Task[None]] = []
    try:
        for k in range(kills):
            now = max(within[0], telegram.done / telegram.total if telegram.total else 0.0)
            await telegram.reached(now + (within[1] - now) * rng.uniform(0.3, 1.0) / (kills - k))
            await asyncio.sleep(rng.uniform(0, 0.1))  # a random point of whatever is in flight
            while not any(p.alive for p in processes):  # one process: wait until it is back
                await asyncio.wait(restarts, return_when=asyncio.FIRST_COMPLETED)
            victim = rng.choice([p for p in processes if p.alive])
            victim.kill()
            done.append(f"{victim.name}@{telegram.done}/{telegram.total}")
            restarts.append(asyncio.create_task(victim.restart(api)))
        await asyncio.gather(*restarts)
    finally:
        for task in restarts:
            task.cancel()
    return done


def immutable_unsupported(directory: Path) -> str | None:
    """Why `chattr +i` cannot be used on files in `directory` (not root, no chattr, a filesystem
    without the attribute such as tmpfs), or None if it can."""
    probe = directory / "chattr-probe"
    probe.touch()
    try:
        subprocess.run(["chattr", "+i", str(probe)], check=True, capture_output=True, text=True)
    except FileNotFoundError:
        return "chattr (e2fsprogs) is not installed"
    except subprocess.CalledProcessError as exc:
        return f"chattr +i is not possible here: {exc.stderr.strip()}"
    subprocess.run(["chattr", "-i", str(probe)], check=True, capture_output=True)
    probe.unlink()
    return None


@contextlib.contextmanager
def immutable(path: Path) -> Iterator[None]:
    """`chattr +i`: every write to the file fails (EPERM) until `chattr -i`, which always runs."""
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True, capture_output=True)


async def immutable_for(path: Path, seconds: float) -> None:
    with immutable(path):
        await asyncio.sleep(seconds)


async def postgres_outage(cluster: PgCluster, mode: StopMode, seconds: float) -> None:
    """Stop the cluster (`pg_ctl stop -m fast` or a crash with `-m immediate`), wait, start it again."""
    try:
        await asyncio.to_thread(cluster.stop, mode)
        await asyncio.sleep(seconds)
    finally:
        await asyncio.to_thread(cluster.ensure_running)


async def bot_api_outage(api: ChaosBotApi, fault: Fault, seconds: float) -> float:
    """The Bot API fails the reply methods for `seconds`; returns when it answered again (monotonic)."""
    api.set_fault(fault)
    try:
        await asyncio.sleep(seconds)
    finally:
        api.set_fault(None)
    return time.monotonic()
