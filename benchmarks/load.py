"""Load generator: the real Application in-process, the tests' recording transport (no network).

    python -m benchmarks.load                 # everything, as tables (docs/performance.md)
    python -m benchmarks.load --users 300     # smaller
    python -m benchmarks.load --one sqlite-normal --users 500 --json   # one configuration (used internally)

Side by side (throughput and the ratio to the baseline): our bot on SQLite (synchronous NORMAL and
FULL) and the baseline, built in one process and fed alternately, round by round, with 1, 16 and
64 users in flight; so they are compared on the same machine at the same moment.

Each configuration also runs in a fresh subprocess of its own, for what must not be shared: turns/s
and p50/p99 per-turn latency over complete journeys (7 button turns and a free question per user,
users interleaved), p99 when paced at 500 turns/s, peak RSS, RSS added per 1,000 active
conversations (10,000 users left mid-dialog), and errors. Separately: cold start with 10,000 and
100,000 users stored (the median of five starts each), and 64 users at once from two processes on
one SQLite file; and PostgreSQL behind 1, 2 and 4 webhook processes over real HTTP
(benchmarks/scale_out.py).

With more than one user in flight every Bot API call of the recording transport yields to the
event loop once, as a network call would; otherwise one user's updates would run to the end
before the next user's began.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

CONFIGS = ("sqlite-normal", "sqlite-full", "postgresql", "baseline")
SIDE_BY_SIDE = ("sqlite-normal", "sqlite-full", "baseline")  # the throughput comparison, interleaved
IN_FLIGHT = (1, 16, 64)  # users whose updates are handled at once in the side-by-side runs
TOKEN = "123456789:BENCH-token-abcdefghijklmnop"
POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ACTIVE_USERS = 10_000
PACED_RATE = 500.0
MINUTE_USERS = 1_000  # the users of the sustained minute, doing journeys again and again
PICKLE_INTERVAL_S = 60.0  # how often the baseline writes its pickle (benchmarks/baseline.py)
MINUTE_ORDER = ("sqlite-normal", "baseline", "baseline", "sqlite-normal")  # drift cancels out


def rss_mb() -> float:
    gc.collect()
    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- one configuration ------------------------------------------------------------------------------
async def _build(config: str, workdir: Path, db_url: str | None, concurrency: int = 1) -> tuple[Any, Any, Any]:
    """(application, request, closer) for a configuration."""
    from tests.harness import RecordingRequest

    # With several users in flight every Bot API call yields to the event loop, as a network call does.
    request = RecordingRequest(record=False, suspend=concurrency > 1)
    if config == "baseline":
        from benchmarks.baseline import build_baseline

        app = build_baseline(TOKEN, request, workdir / "baseline.pickle")
        await app.initialize()

        async def close() -> None:
            await app.shutdown()  # writes the pickle

        return app, request, close
    from bot.app import assemble
    from bot.config import Settings

    settings = Settings(
        telegram_bot_token=TOKEN,
        database_url=db_url,
        telegram_max_rate=0,  # type: ignore[arg-type]
        reminder_interval_seconds=0,
        support_retry_seconds=0,
        sqlite_synchronous="FULL" if config == "sqlite-full" else "NORMAL",
    )
    parts = assemble(settings, request=request)
    app = parts.app
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)

    async def close_ours() -> None:
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)

    return app, request, close_ours


async def _process(app: Any, updates: list[dict[str, Any]], concurrency: int) -> list[float]:
    """Feed updates; each user's updates in order. Returns each turn's latency in seconds."""
    from telegram import Update

    latencies: list[float] = []

    async def run(batch: list[dict[str, Any]]) -> None:
        for data in batch:
            started = time.perf_counter()
            await app.process_update(Update.de_json(data, app.bot))
            latencies.append(time.perf_counter() - started)

    if concurrency <= 1:
        await run(updates)
        return latencies
    lanes: list[list[dict[str, Any]]] = [[] for _ in range(concurrency)]
    for data in updates:  # a user always lands in the same lane: their updates stay in order
        body = data.get("message") or data.get("callback_query")
        lanes[body["from"]["id"] % concurrency].append(data)
    await asyncio.gather(*(run(lane) for lane in lanes))
    return latencies


async def _paced(app: Any, updates: list[dict[str, Any]], rate: float) -> list[float]:
    """Open loop: turn i is due at start + i/rate; latency counts from when it was due."""
    from telegram import Update

    latencies: list[float] = []
    start = time.perf_counter()
    for i, data in enumerate(updates):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await app.process_update(Update.de_json(data, app.bot))
        latencies.append(time.perf_counter() - due)
    return latencies


class ErrorCount(logging.Handler):
    """Failed updates, for our bot and the baseline alike: both end in an ERROR log record."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.locked = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.locked += "database is locked" in (record.getMessage() + str(record.exc_info))


async def run_one(
    config: str,
    users: int,
    concurrency: int,
    db_url: str | None,
    active_users: int = ACTIVE_USERS,
    paced_seconds: float = 6.0,
) -> dict[str, Any]:
    from benchmarks.workload import TURNS_PER_USER, UpdateStream
    from knowledge.faq import faq_index

    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = db_url or f"sqlite:///{workdir / 'bench.db'}"
        app, request, close = await _build(config, workdir, url, concurrency)
        faq_index()  # warm, as in a running process
        stream = UpdateStream()
        await _process(app, stream.journeys(200, first_user=1), concurrency)  # warm-up, not measured

        # Users left mid-dialog (after /check and one answer), 10,000 at a time. The first round
        # warms allocator and caches; the second is the marginal cost. Both readings are taken with
        # the generated updates alive, so only what the bot keeps per conversation is counted.
        per_1000 = 0.0
        for round_ in range(2):
            active = stream.journeys(active_users, first_user=5_000_000 + round_ * 1_000_000)[: 2 * active_users]
            before = rss_mb()
            await _process(app, active, concurrency)
            per_1000 = (rss_mb() - before) / (active_users / 1000)
            del active

        updates = stream.journeys(users)
        started = time.perf_counter()
        latencies = await _process(app, updates, concurrency)
        elapsed = time.perf_counter() - started

        paced_users = max(5, int(PACED_RATE * paced_seconds / TURNS_PER_USER))
        paced_updates = stream.journeys(paced_users, first_user=7_000_000)
        paced = await _paced(app, paced_updates, PACED_RATE)
        await close()
    return {
        "config": config,
        "turns": len(latencies),
        "concurrency": concurrency,
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "paced_rate": PACED_RATE,
        "paced_p50_ms": statistics.median(paced) * 1000,
        "paced_p99_ms": percentile(paced, 0.99) * 1000,
        "peak_rss_mb": peak_rss_mb(),
        "rss_per_1000_active_mb": per_1000,
        "api_calls": request.count,
        "errors": errors.count,
    }


# --- throughput side by side, interleaved in one process ------------------------------------------
async def run_interleaved(
    configs: tuple[str, ...], users: int, rounds: int, concurrency: int, db_url: str | None = None
) -> dict[str, Any]:
    """Every configuration in this one process, fed alternately round by round (the order flipped
    every round), so that all of them run on the same machine at the same moment: on a shared
    virtual machine the speed drifts by tens of percent from one minute to the next, which
    separate processes run one after the other would read as a difference between them."""
    from benchmarks.workload import UpdateStream
    from knowledge.faq import faq_index

    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        apps: dict[str, tuple[Any, Any]] = {}
        for config in configs:
            workdir = Path(tmp) / config
            workdir.mkdir()
            url = (db_url if config == "postgresql" else None) or f"sqlite:///{workdir / 'bench.db'}"
            app, _request, close = await _build(config, workdir, url, concurrency)
            apps[config] = (app, close)
        faq_index()
        stream = UpdateStream()
        for app, _close in apps.values():  # warm-up, not measured
            await _process(app, stream.journeys(200, first_user=1), concurrency)
        seconds = dict.fromkeys(configs, 0.0)
        latencies: dict[str, list[float]] = {c: [] for c in configs}
        per_round: dict[str, list[float]] = {c: [] for c in configs}
        first_user = 10_000_000
        for round_ in range(rounds):
            order = configs if round_ % 2 == 0 else tuple(reversed(configs))
            for config in order:
                updates = stream.journeys(users, first_user=first_user)
                first_user += users
                started = time.perf_counter()
                latencies[config] += await _process(apps[config][0], updates, concurrency)
                elapsed = time.perf_counter() - started
                seconds[config] += elapsed
                per_round[config].append(len(updates) / elapsed)
        for _app, close in apps.values():
            await close()
    logging.getLogger().removeHandler(errors)
    return {
        "concurrency": concurrency,
        "rounds": rounds,
        "users_per_round": users,
        "errors": errors.count,
        "configs": {
            c: {
                "turns": len(latencies[c]),
                "turns_per_s": len(latencies[c]) / seconds[c],
                "p50_ms": statistics.median(latencies[c]) * 1000,
                "p99_ms": percentile(latencies[c], 0.99) * 1000,
                "per_round_turns_per_s": per_round[c],
            }
            for c in configs
        },
    }


def interleaved_table(result: dict[str, Any], baseline: str = "baseline") -> str:
    base = result["configs"][baseline]
    lines = [
        f"concurrency {result['concurrency']}, {result['rounds']} rounds of {result['users_per_round']} users "
        f"per configuration, interleaved in one process; {result['errors']} errors",
        "| configuration | turns/s | vs baseline | per-round ratio, median (min–max) | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["configs"].items():
        ratios = [a / b for a, b in zip(r["per_round_turns_per_s"], base["per_round_turns_per_s"], strict=True)]
        lines.append(
            f"| {name} | {r['turns_per_s']:.0f} | {r['turns_per_s'] / base['turns_per_s']:.2f}× | "
            f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
        )
    return "\n".join(lines)


# --- a sustained minute, the baseline's pickle write included ------------------------------------
async def run_minute(
    config: str, users: int = MINUTE_USERS, seconds: float = PICKLE_INTERVAL_S, warm_users: int = 200
) -> dict[str, Any]:
    """One minute of a long-running process, one update at a time: `users` users do journeys over
    and over for `seconds`, then what python-telegram-bot's persistence updater does at the end of
    every such minute (`Application.update_persistence`): the baseline writes its pickle, our bot
    has nothing left to write (every turn was committed before its reply). Throughput over the
    minute and that write together is what a long-running process sustains."""
    from telegram import Update

    from benchmarks.workload import UpdateStream

    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        app, _request, close = await _build(config, workdir, f"sqlite:///{workdir / 'bench.db'}")
        stream = UpdateStream()
        await _process(app, stream.journeys(warm_users, first_user=1), 1)  # warm-up, not measured
        await app.update_persistence()  # the warm-up's users are written before the minute starts
        turns = 0
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            for data in stream.journeys(users, first_user=20_000_000):
                await app.process_update(Update.de_json(data, app.bot))
                turns += 1
                if time.perf_counter() >= deadline:
                    break
        handled = time.perf_counter()
        await app.update_persistence()
        finished = time.perf_counter()
        await close()
    logging.getLogger().removeHandler(errors)
    return {
        "config": config,
        "users": users,
        "turns": turns,
        "handling_s": handled - started,
        "write_s": finished - handled,
        "turns_per_s_handling": turns / (handled - started),
        "turns_per_s": turns / (finished - started),
        "errors": errors.count,
    }


def run_minute_subprocess(config: str, seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.load", "--minute", config, "--seconds", str(seconds)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=Path(__file__).resolve().parents[1])
    if out.returncode != 0:
        raise RuntimeError(f"{config} minute failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def minute_table(runs: list[dict[str, Any]]) -> str:
    """The runs of each configuration (MINUTE_ORDER) summed: turns over time."""
    sums: dict[str, dict[str, float]] = {}
    for r in runs:
        s = sums.setdefault(r["config"], {"turns": 0, "handling_s": 0.0, "write_s": 0.0, "errors": 0, "runs": 0})
        for key in ("turns", "handling_s", "write_s", "errors"):
            s[key] += r[key]
        s["runs"] += 1
    base = sums.get("baseline")
    base_rate = base["turns"] / (base["handling_s"] + base["write_s"]) if base else None
    lines = [
        "| configuration | runs | turns/s handling | once-a-minute write, s | turns/s over the minute and the write "
        "| vs baseline | errors |",
        "|" + "---|" * 7,
    ]
    for name, s in sums.items():
        rate = s["turns"] / (s["handling_s"] + s["write_s"])
        ratio = f"{rate / base_rate:.2f}×" if base_rate else "–"
        lines.append(
            f"| {name} | {s['runs']:.0f} | {s['turns'] / s['handling_s']:.0f} | {s['write_s'] / s['runs']:.2f} | "
            f"{rate:.0f} | {ratio} | {s['errors']:.0f} |"
        )
    return "\n".join(lines)


# --- cold start -------------------------------------------------------------------------------------
def seed(db_url: str, users: int) -> None:
    """N users, each mid-dialog with a few turns logged (bulk insert, one transaction)."""
    from datetime import UTC, datetime

    from storage.db import Database
    from storage.models import DialogState, Turn, User

    async def go() -> None:
        db = Database(db_url)
        await db.upgrade()
        now = datetime.now(UTC)

        def insert(conn: Any) -> None:
            for start in range(0, users, 10_000):
                ids = range(start + 10, min(users, start + 10_000) + 10)
                conn.execute(
                    User.insert(),
                    [
                        {
                            "id": i,
                            "language": "en",
                            "active_dialog": "check",
                            "last_dialog": "check",
                            "created_at": now,
                            "updated_at": now,
                            "reminders_enabled": True,
                        }
                        for i in ids
                    ],
                )
                conn.execute(
                    DialogState.insert(),
                    [
                        {
                            "user_id": i,
                            "dialog": "check",
                            "state": "product",
                            "answers": {"location": "mainland", "provider": "alibaba"},
                            "history": ["location", "provider"],
                            "version": 2,
                            "updated_at": now,
                        }
                        for i in ids
                    ],
                )
                conn.execute(
                    Turn.insert(),
                    [
                        {
                            "user_id": i,
                            "dialog": "check",
                            "kind": "answer",
                            "data": {"question": "provider"},
                            "created_at": now,
                        }
                        for i in ids
                        for _ in range(3)
                    ],
                )

        await db.run(insert)
        await db.dispose()

    asyncio.run(go())


COLD_STARTS = 5  # one start is at the mercy of the machine's neighbours: the median of several


def cold_start(db_url: str, config: str = "ours", pickle_users: int = 0, starts: int = COLD_STARTS) -> float:
    """Seconds from starting a new process to its first answer (interpreter start included),
    the median of `starts` starts."""
    env = {**os.environ, "BENCH_DB": db_url, "BENCH_CONFIG": config, "BENCH_PICKLE_USERS": str(pickle_users)}
    times = []
    for _ in range(starts):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.cold_start"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=Path(__file__).resolve().parents[1],
        )
        elapsed = time.perf_counter() - started
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        times.append(elapsed - float(json.loads(out.stdout.strip().splitlines()[-1])["setup_s"]))
    return statistics.median(times)


# --- 64 users at once from two processes on one SQLite file ---------------------------------------------
def contention(users: int = 64, processes: int = 2) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'shared.db'}"
        seed(url, 0)
        env = {**os.environ, "BENCH_DB": url, "BENCH_USERS": str(users // processes)}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks.contention", str(p)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=Path(__file__).resolve().parents[1],
            )
            for p in range(processes)
        ]
        results = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]
    return {
        "users": users,
        "processes": processes,
        "turns": sum(r["turns"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "locked": sum(r["locked"] for r in results),
        "turns_per_s": sum(r["turns_per_s"] for r in results),
    }


# --- orchestration ------------------------------------------------------------------------------------
def _admin(sql: str) -> None:
    """One statement on the PostgreSQL server's maintenance database (CREATE/DROP DATABASE)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _postgres_db() -> tuple[str, str]:
    name = f"icpbot_bench_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    return url, name


def _drop_postgres(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_config_subprocess(
    config: str, users: int, concurrency: int, db_url: str | None, active: int = ACTIVE_USERS
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.load",
        "--one",
        config,
        "--users",
        str(users),
        "--concurrency",
        str(concurrency),
        "--active",
        str(active),
        "--json",
    ]
    if db_url:
        cmd += ["--db", db_url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=Path(__file__).resolve().parents[1])
    if out.returncode != 0:
        raise RuntimeError(f"{config} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(results: list[dict[str, Any]]) -> str:
    """Each configuration in a process of its own: latency, memory and errors (throughput and the
    ratio to the baseline come from the interleaved runs, which all see the same machine speed)."""
    head = (
        "| configuration | turns/s | p50 ms | p99 ms | p99 ms at 500/s | peak RSS MB "
        "| RSS per 1,000 active conv. MB | errors |"
    )
    lines = [head, "|" + "---|" * 8]
    for r in results:
        name = r["config"] + (f" ({r['concurrency']} in flight)" if r["concurrency"] > 1 else "")
        lines.append(
            f"| {name} | {r['turns_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['paced_p99_ms']:.2f} | {r['peak_rss_mb']:.0f} | {r['rss_per_1000_active_mb']:.2f} | "
            f"{r['errors']} |"
        )
    return "\n".join(lines)


def run_interleaved_subprocess(in_flight: int, users: int, rounds: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks.load", "--interleave", str(in_flight)]
    cmd += ["--users", str(users), "--rounds", str(rounds)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=Path(__file__).resolve().parents[1])
    if out.returncode != 0:
        raise RuntimeError(f"interleaved run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--one", choices=CONFIGS)
    parser.add_argument(
        "--interleave", type=int, metavar="N", help="side by side in one process, N users in flight (internal)"
    )
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds per configuration")
    parser.add_argument("--minute", choices=SIDE_BY_SIDE, help="one sustained minute of a configuration (internal)")
    parser.add_argument("--seconds", type=float, default=PICKLE_INTERVAL_S, help="length of the sustained minute")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--pg-concurrency", type=int, default=16)
    parser.add_argument("--db")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="configurations, or 'side-by-side' / 'minute' / 'cold' / 'contention' / 'scale-out', to skip",
    )
    parser.add_argument("--out", type=Path, help="also write the results as JSON (after each configuration)")
    parser.add_argument("--active", type=int, default=ACTIVE_USERS, help="users left mid-dialog per memory round")
    parser.add_argument(
        "--baseline-active",
        type=int,
        default=2000,
        help="the same for the baseline: its pickle tick rewrites the file per changed conversation",
    )
    args = parser.parse_args()

    if args.one:
        result = asyncio.run(run_one(args.one, args.users, args.concurrency, args.db, args.active))
        print(json.dumps(result))
        return
    if args.minute:
        print(json.dumps(asyncio.run(run_minute(args.minute, seconds=args.seconds))))
        return
    if args.interleave:
        users = max(args.interleave, args.users // args.rounds)
        result = asyncio.run(run_interleaved(SIDE_BY_SIDE, users, args.rounds, args.interleave))
        print(json.dumps(result))
        return

    results: list[dict[str, Any]] = []
    report: dict[str, Any] = {"runs": results}

    def save() -> None:
        if args.out:
            args.out.write_text(json.dumps(report, indent=2))

    for config in CONFIGS:
        if config in args.skip:
            continue
        print(f"running {config} ...", file=sys.stderr)
        if config == "postgresql":
            url, name = _postgres_db()
            try:
                results.append(run_config_subprocess(config, args.users, args.pg_concurrency, url, args.active))
            finally:
                _drop_postgres(name)
        else:
            active = args.baseline_active if config == "baseline" else args.active
            results.append(run_config_subprocess(config, args.users, 1, None, active))
        results[-1]["active_users"] = args.baseline_active if config == "baseline" else args.active
        save()
    print(table(results))

    if "side-by-side" not in args.skip:
        report["side_by_side"] = []
        for in_flight in IN_FLIGHT:
            print(f"side by side, {in_flight} in flight ...", file=sys.stderr)
            result = run_interleaved_subprocess(in_flight, args.users * 2, args.rounds)
            report["side_by_side"].append(result)
            save()
            print("\n" + interleaved_table(result))

    if "minute" not in args.skip:
        report["minute"] = []
        for config in MINUTE_ORDER:
            print(f"a sustained minute of {config} ...", file=sys.stderr)
            report["minute"].append(run_minute_subprocess(config, args.seconds))
            save()
        print(
            f"\nsustained: {MINUTE_USERS} users doing journeys over and over, one update at a time, for "
            f"{args.seconds:.0f} s, then the baseline's once-a-minute pickle write\n" + minute_table(report["minute"])
        )

    if "cold" not in args.skip:
        cold: dict[str, float] = {}
        for n in (10_000, 100_000):
            print(f"cold start with {n} users ...", file=sys.stderr)
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite:///{Path(tmp) / 'cold.db'}"
                seed(url, n)
                cold[f"sqlite_{n}"] = cold_start(url)
            url, name = _postgres_db()
            try:
                seed(url, n)
                cold[f"postgresql_{n}"] = cold_start(url)
            finally:
                _drop_postgres(name)
            cold[f"baseline_{n}"] = cold_start("", "baseline", n)
        report["cold_start_s"] = cold
        save()
        print(
            f"\ncold start, new process to first answer, median of {COLD_STARTS} (s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in cold.items())
        )
    if "contention" not in args.skip:
        print("64 users at once, two processes, one SQLite file ...", file=sys.stderr)
        report["contention"] = contention()
        c = report["contention"]
        print(
            f"\n{c['users']} users at once from {c['processes']} processes on one SQLite file: {c['turns']} turns, "
            f"{c['errors']} errors, {c['locked']} 'database is locked'"
        )
    if "scale-out" not in args.skip:
        from benchmarks import scale_out

        report["scale_out"] = []
        for processes in scale_out.PROCESSES:
            print(f"PostgreSQL, {processes} webhook processes over HTTP ...", file=sys.stderr)
            report["scale_out"].append(scale_out.run_one(processes, args.users // 3, scale_out.IN_FLIGHT))
            save()
        print("\nPostgreSQL scale-out, round-robin over loopback HTTP\n" + scale_out.table(report["scale_out"]))
    save()


if __name__ == "__main__":
    main()
