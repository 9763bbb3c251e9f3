"""One of several processes sharing one SQLite file, each driving its users concurrently.
Prints JSON: turns, turns/s, errors, 'database is locked' occurrences. Run by benchmarks/load.py."""

import asyncio
import json
import logging
import os
import sys
import time


def main() -> None:
    from telegram import Update

    from benchmarks.load import ErrorCount
    from benchmarks.workload import UpdateStream
    from bot.app import assemble
    from bot.config import Settings
    from tests.harness import RecordingRequest

    lane = int(sys.argv[1])
    users = int(os.environ["BENCH_USERS"])
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)

    async def run() -> tuple[int, float]:
        settings = Settings(
            telegram_bot_token="123456789:BENCH-token-abcdefghijklmnop",  # type: ignore[arg-type]
            database_url=os.environ["BENCH_DB"],
            telegram_max_rate=0,
            reminder_interval_seconds=0,
            support_retry_seconds=0,
        )
        # every Bot API call yields, as over a network: the users of one process really overlap
        app = assemble(settings, request=RecordingRequest(record=False, suspend=True)).app
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        stream = UpdateStream(start_update_id=10**8 * (lane + 1))
        updates = stream.journeys(users, first_user=10_000_000 * (lane + 1))
        by_user: dict[int, list[dict]] = {}
        for u in updates:
            body = u.get("message") or u.get("callback_query")
            by_user.setdefault(body["from"]["id"], []).append(u)

        async def user(seq: list[dict]) -> None:
            for data in seq:
                await app.process_update(Update.de_json(data, app.bot))
                await asyncio.sleep(0)  # let the other users of this process in between

        started = time.perf_counter()
        await asyncio.gather(*(user(seq) for seq in by_user.values()))  # all users at once
        elapsed = time.perf_counter() - started
        await app.shutdown()
        return len(updates), elapsed

    turns, elapsed = asyncio.run(run())
    print(json.dumps({"turns": turns, "turns_per_s": turns / elapsed, "errors": errors.count, "locked": errors.locked}))


if __name__ == "__main__":
    main()
