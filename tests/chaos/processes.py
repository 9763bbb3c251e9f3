"""Real bot processes (`python -m bot run [--webhook]`, `python -m bot db upgrade`), started the way
production starts them: a subprocess configured by environment variables only.

Each start of a process writes its stderr to a log file of its own, so that a failing test can
show what every start said. `Fleet` owns the processes one test started and kills whatever is
still running at the end of the test, by process id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from tests.chaos.bot_api import ChaosBotApi

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "4242:chaos-test-token-xyz"
SECRET = "chaos-secret_token-42"
WEBHOOK_PATH = "/tg"
READY_TIMEOUT = 30.0
# Settings the bot reads (README's Configuration: OUTBOX_*,
# DATABASE_WAIT_SECONDS). Unknown ones are ignored by the bot.
BASE_ENV = {
    "TELEGRAM_BOT_TOKEN": TOKEN,
    "LOG_LEVEL": "WARNING",
    "TELEGRAM_MAX_RATE": "0",
    "REMINDER_INTERVAL_SECONDS": "0",
    "SUPPORT_RETRY_SECONDS": "0",
    "OUTBOX_LEASE_SECONDS": "3",
    "OUTBOX_RETRY_SECONDS": "0.5",
    "DATABASE_WAIT_SECONDS": "5",
}
_OURS = ("TELEGRAM_", "DATABASE_", "WEBHOOK_", "OUTBOX_", "SQLITE_", "SESSION_", "SUPPORT_", "REMINDER_")


def db_upgrade(database_url: str, log: Path) -> None:
    """`python -m bot db upgrade`, as a deployment runs it before starting the processes."""
    with log.open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            cwd=ROOT,
            env=bot_env(None, database_url),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=120,
            check=False,
        )
    if done.returncode != 0:
        raise AssertionError(f"db upgrade exited with {done.returncode}: {log.read_text(errors='replace')[-2000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_env(api: ChaosBotApi | None, database_url: str, port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of a bot process: the test's own minus any bot setting, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS) and k not in ("PORT", "LOG_LEVEL")}
    env.update(BASE_ENV)
    env.update(DATABASE_URL=database_url)
    if api is not None:
        env.update(TELEGRAM_API_BASE_URL=api.base_url)
    if port is not None:
        env.update(
            WEBHOOK_URL=f"https://bot.example{WEBHOOK_PATH}",
            WEBHOOK_SECRET=SECRET,
            PORT=str(port),
            WEBHOOK_LISTEN="127.0.0.1",
        )
    env.update(extra)
    return env


class BotProcess:
    """One bot process, which may be killed and started again (same port, same database)."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log_dir: Path, port: int | None) -> None:
        self.name = name
        self.args = list(args)
        self.env = env
        self.log_dir = log_dir
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self.kills = 0

    @property
    def url(self) -> str:
        """Where Telegram posts updates (webhook mode)."""
        return f"http://127.0.0.1:{self.port}{WEBHOOK_PATH}"

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        log = self.log_dir / f"{self.name}.{len(self.logs) + 1}.log"
        self.logs.append(log)
        with log.open("wb") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )

    async def wait_ready(self, api: ChaosBotApi, polls_before: int = 0, timeout: float = READY_TIMEOUT) -> None:
        """Webhook: until GET /healthz answers 200. Polling: until the process called getUpdates."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if not self.alive:
                    raise AssertionError(f"{self.name} exited with {self.returncode()} at start\n{self.tail()}")
                if self.port is None:
                    if api.get_updates_calls > polls_before:
                        return
                else:
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                        async with http.get(self.health_url) as resp:
                            if resp.status == 200:
                                return
                await asyncio.sleep(0.05)
        raise AssertionError(f"{self.name} not ready after {timeout:.0f} s\n{self.tail()}")

    async def health(self) -> tuple[int | None, str]:
        """GET /healthz: the status (None: no answer) and the body."""
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http,
                http.get(self.health_url) as resp,
            ):
                return resp.status, (await resp.text())[:200]
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, type(exc).__name__

    async def wait_healthy(self, timeout: float) -> str | None:
        """None once GET /healthz answers 200 within `timeout`; else what it answered last."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = await self.health()
            if status == 200:
                return None
            if time.monotonic() > deadline:
                return f"GET /healthz of {self.name} still answers {status} {body!r} after {timeout:.0f} s"
            await asyncio.sleep(0.2)

    async def restart(self, api: ChaosBotApi) -> None:
        """Start again and wait until ready; a start that is itself killed (the next kill may choose
        a process still starting) ends quietly: the restart that kill schedules takes over."""
        polls = api.get_updates_calls
        self.start()
        kills = self.kills
        try:
            await self.wait_ready(api, polls)
        except AssertionError:
            if self.kills == kills:
                raise

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash or an OOM kill."""
        if self.proc is not None and self.alive:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
            self.kills += 1

    def terminate(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time. The exit status (None: killed)."""
        if self.proc is None:
            return None
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        return self.proc.returncode

    def returncode(self) -> int | None:
        return self.proc.poll() if self.proc is not None else None

    def tail(self, lines: int = 25) -> str:
        """The last lines each start of this process wrote to stderr."""
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            shown = "\n".join(f"    {line}" for line in text[-lines:]) or "    (nothing)"
            out.append(f"--- {log.name} ({len(text)} lines) ---\n{shown}")
        return "\n".join(out)


class Fleet:
    """The processes of one test."""

    def __init__(self, api: ChaosBotApi, log_dir: Path) -> None:
        self.api = api
        self.log_dir = log_dir
        self.processes: list[BotProcess] = []

    def webhook(self, database_url: str, count: int = 1, **extra: str) -> list[BotProcess]:
        """`count` webhook processes on one database (not started)."""
        new = []
        for _ in range(count):
            port = free_port()
            name = f"webhook{len(self.processes) + 1}"
            proc = BotProcess(
                name, ["run", "--webhook"], bot_env(self.api, database_url, port, **extra), self.log_dir, port
            )
            self.processes.append(proc)
            new.append(proc)
        return new

    def polling(self, database_url: str, **extra: str) -> BotProcess:
        proc = BotProcess(
            f"polling{len(self.processes) + 1}", ["run"], bot_env(self.api, database_url, **extra), self.log_dir, None
        )
        self.processes.append(proc)
        return proc

    def command(self, database_url: str, *args: str) -> BotProcess:
        """A one-off command (`db upgrade`)."""
        proc = BotProcess(f"cmd{len(self.processes) + 1}", args, bot_env(self.api, database_url), self.log_dir, None)
        self.processes.append(proc)
        return proc

    async def start(self, processes: Sequence[BotProcess]) -> None:
        """Start them all at once and wait until every one is ready."""
        polls = self.api.get_updates_calls
        for p in processes:
            p.start()
        await asyncio.gather(*(p.wait_ready(self.api, polls) for p in processes))

    def terminate_all(self) -> dict[str, int | None]:
        """SIGTERM every running process at once, then wait for each."""
        for p in self.processes:
            if p.alive and p.proc is not None:
                p.proc.send_signal(signal.SIGTERM)
        return {p.name: p.terminate() for p in self.processes if p.proc is not None}

    def kill_all(self) -> None:
        for p in self.processes:
            p.kill()

    def tails(self, lines: int = 25) -> str:
        return "\n".join(p.tail(lines) for p in self.processes if p.logs)
