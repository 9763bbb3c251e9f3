"""A new process: import, build, start, answer one update from a stored user. Prints JSON.

Run by benchmarks/load.py with BENCH_DB (our bot) or BENCH_CONFIG=baseline and
BENCH_PICKLE_USERS (the baseline's pickle prepared with that many conversations first, untimed).
"""

import json
import os
import sys
import time

STARTED = time.perf_counter()


def main() -> None:
    import asyncio
    import tempfile
    from pathlib import Path

    from telegram import Update

    from benchmarks.workload import UpdateStream
    from tests.harness import RecordingRequest

    token = "123456789:BENCH-token-abcdefghijklmnop"
    setup = 0.0
    stream = UpdateStream(10**9)

    async def run() -> None:
        nonlocal setup
        request = RecordingRequest(record=False)
        if os.environ.get("BENCH_CONFIG") == "baseline":
            from benchmarks.baseline import build_baseline

            path = Path(tempfile.mkdtemp()) / "baseline.pickle"
            t0 = time.perf_counter()
            _prepare_pickle(path, int(os.environ.get("BENCH_PICKLE_USERS", "0")))
            setup = time.perf_counter() - t0
            app = build_baseline(token, request, path)
            await app.initialize()
        else:
            from bot.app import assemble
            from bot.config import Settings

            settings = Settings(
                telegram_bot_token=token,
                database_url=os.environ["BENCH_DB"],
                telegram_max_rate=0,
                reminder_interval_seconds=0,
                support_retry_seconds=0,
            )
            app = assemble(settings, request=request).app
            await app.initialize()
            assert app.post_init is not None
            await app.post_init(app)
        await app.process_update(Update.de_json(stream.message(10, "/check"), app.bot))
        assert request.count >= 1

    asyncio.run(run())
    print(json.dumps({"first_answer_s": time.perf_counter() - STARTED, "setup_s": setup}))
    sys.stdout.flush()
    os._exit(0)  # what happens after the first answer is not start-up


def _prepare_pickle(path, users: int) -> None:  # type: ignore[no-untyped-def]
    """The baseline's stored state: `users` conversations mid-dialog, with their user_data."""
    import pickle

    data = {
        "user_data": {10 + i: {"location": "mainland", "provider": "alibaba"} for i in range(users)},
        "chat_data": {},
        "bot_data": {},
        "callback_data": None,
        "conversations": {"check": {(10 + i, 10 + i): 2 for i in range(users)}},
    }
    path.write_bytes(pickle.dumps(data))


if __name__ == "__main__":
    main()
