"""Scale-out on PostgreSQL: 1, 2 and 4 `python -m bot run --webhook` processes over real HTTP.

    python -m benchmarks.scale_out                    # 1, 2 and 4 processes, as a table
    python -m benchmarks.scale_out --processes 2 --users 100 --json

Each configuration gets a fresh PostgreSQL database (migrated with `python -m bot db upgrade`)
and its processes, started as production starts them (environment variables only). A load
balancer in this process posts every update to the next process in turn (round-robin) over
loopback, as Telegram posts to a webhook: the real aiohttp server, the secret header, HTTP 200
once the turn is committed and its replies sent. The processes send their replies to a fake Bot
API (an aiohttp server in a process of its own, so that neither it nor the load generator shares
a core's time with the bots' event loops more than it must). Users do the same journeys as
benchmarks/load.py, `--in-flight` of them at once, each user's updates in order. A post that does
not get 200 is posted again (to the next process) and counted.

Everything runs on one machine: with 2 cores, 4 processes share them with PostgreSQL, the fake
Bot API and the load generator, so the figure says what the scale-out path costs, not what more
machines would add.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.load import _drop_postgres, _postgres_db, percentile
from benchmarks.workload import UpdateStream
from bot.webhook import SECRET_HEADER

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "4242:scale-out-bench-token"
SECRET = "scale-out-secret"
PROCESSES = (1, 2, 4)
IN_FLIGHT = 32
READY_TIMEOUT = 60.0
BOT = {"id": 999000, "is_bot": True, "first_name": "ICP helper", "username": "icp_helper_bot"}


# --- the fake Bot API (run as `python -m benchmarks.scale_out --fake-api PORT`) -------------------
def serve_fake_api(port: int) -> None:
    from aiohttp import web

    ids = itertools.count(700)

    async def call(request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()  # the bot may spell it in lower case
        if request.content_type == "application/json":
            params: dict[str, Any] = await request.json()
        else:
            params = dict(await request.post())
        result: Any = True
        if method == "getme":
            result = BOT
        elif method in ("sendmessage", "editmessagetext"):
            chat_id = int(str(params.get("chat_id", 0)))
            message_id = int(str(params["message_id"])) if "message_id" in params else next(ids)
            result = {
                "message_id": message_id,
                "date": int(time.time()),
                "text": str(params.get("text", "")),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
            }
        return web.json_response({"ok": True, "result": result})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", call)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, api_port: int, port: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{api_port}",
        TELEGRAM_MAX_RATE="0",  # Telegram's 30 messages/s would be the only figure otherwise
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        REMINDER_INTERVAL_SECONDS="0",
        SUPPORT_RETRY_SECONDS="0",
    )
    if port is not None:
        env.update(
            WEBHOOK_URL="https://bot.example/tg", WEBHOOK_SECRET=SECRET, WEBHOOK_LISTEN="127.0.0.1", PORT=str(port)
        )
    return env


async def _wait_healthy(http: aiohttp.ClientSession, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bot process exited with {proc.returncode}:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"bot process on port {port} not ready after {READY_TIMEOUT:.0f} s")


async def _drive(
    http: aiohttp.ClientSession, urls: list[str], updates: list[dict[str, Any]], in_flight: int
) -> tuple[list[float], int]:
    """Post every update (each user's in order, `in_flight` users at once), round-robin over
    `urls`, each until it gets 200. Returns each update's latency and how many posts were refused."""
    turn = itertools.count()
    latencies: list[float] = []
    refused = 0
    by_user: dict[int, list[dict[str, Any]]] = {}
    for data in updates:
        body = data.get("message") or data.get("callback_query")
        by_user.setdefault(body["from"]["id"], []).append(data)
    lanes: list[list[dict[str, Any]]] = [[] for _ in range(in_flight)]
    for i, user_updates in enumerate(by_user.values()):
        lanes[i % in_flight].append(user_updates)  # type: ignore[arg-type]
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}

    async def lane(users: list[list[dict[str, Any]]]) -> None:
        nonlocal refused
        for user_updates in users:
            for data in user_updates:
                body = json.dumps(data)
                started = time.perf_counter()
                while True:
                    url = urls[next(turn) % len(urls)]
                    async with http.post(url, data=body, headers=headers) as resp:
                        await resp.read()
                        if resp.status == 200:
                            break
                    refused += 1
                    await asyncio.sleep(0.05)
                latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(lane(users) for users in lanes))
    return latencies, refused


def run_one(processes: int, users: int, in_flight: int) -> dict[str, Any]:
    """One configuration on a database of its own, dropped afterwards."""
    url, name = _postgres_db()
    try:
        return asyncio.run(_run_one(url, processes, users, in_flight))
    finally:
        _drop_postgres(name)


async def _run_one(url: str, processes: int, users: int, in_flight: int, warmup: int = 50) -> dict[str, Any]:
    api_port = _free_port()
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        api = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.scale_out", "--fake-api", str(api_port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            subprocess.run(
                [sys.executable, "-m", "bot", "db", "upgrade"],
                cwd=ROOT,
                env=_env(url, api_port, None),
                check=True,
                capture_output=True,
                timeout=120,
            )
            ports = [_free_port() for _ in range(processes)]
            logs[:] = [Path(tmp) / f"bot{i}.log" for i in range(processes)]
            for port, log in zip(ports, logs, strict=True):
                with log.open("wb") as stderr:
                    procs.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "bot", "run", "--webhook"],
                            cwd=ROOT,
                            env=_env(url, api_port, port),
                            stdout=subprocess.DEVNULL,
                            stderr=stderr,
                        )
                    )
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
                for port, proc, log in zip(ports, procs, logs, strict=True):
                    await _wait_healthy(http, port, proc, log)
                urls = [f"http://127.0.0.1:{port}/tg" for port in ports]
                stream = UpdateStream()
                await _drive(http, urls, stream.journeys(min(warmup, users), first_user=1), in_flight)  # not measured
                updates = stream.journeys(users, first_user=1_000_000)
                started = time.perf_counter()
                latencies, refused = await _drive(http, urls, updates, in_flight)
                elapsed = time.perf_counter() - started
        finally:
            errors = sum(log.read_text(errors="replace").count(" ERROR ") for log in logs if log.exists())
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
            api.terminate()
            api.wait(10)
    return {
        "processes": processes,
        "in_flight": in_flight,
        "turns": len(latencies),
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "refused_posts": refused,
        "errors": errors,  # lines logged at ERROR by the bot processes
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| webhook processes | users in flight | turns | turns/s | p50 ms | p99 ms | posts not 200 | errors logged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['processes']} | {r['in_flight']} | {r['turns']} | {r['turns_per_s']:.0f} | "
            f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['refused_posts']} | {r['errors']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, action="append", help="webhook processes (repeatable)")
    parser.add_argument("--users", type=int, default=300, help="users measured per configuration (8 turns each)")
    parser.add_argument("--in-flight", type=int, default=IN_FLIGHT, help="users whose updates are posted at once")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fake-api", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_api:
        serve_fake_api(args.fake_api)
        return
    results = [run_one(n, args.users, args.in_flight) for n in args.processes or PROCESSES]
    print(json.dumps(results) if args.json else table(results))


if __name__ == "__main__":
    main()
