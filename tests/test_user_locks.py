"""UserLocks: one user's updates one at a time, in arrival order; nothing kept once they are done."""

from __future__ import annotations

import asyncio

from bot.user_locks import UserLocks


async def test_one_users_updates_run_one_at_a_time_in_arrival_order_and_others_do_not_wait() -> None:
    locks, order, running = UserLocks(), [], set()

    async def update(user: int, n: int) -> None:
        async with locks.hold(user):
            assert user not in running  # never two of one user's at once
            running.add(user)
            order.append((user, n))
            await asyncio.sleep(0.01)
            running.discard(user)

    await asyncio.gather(*(update(user, n) for n in range(4) for user in (1, 2)))
    assert [n for user, n in order if user == 1] == [0, 1, 2, 3]
    assert order[:2] == [(1, 0), (2, 0)]  # user 2 did not wait for user 1
    assert len(locks) == 0


async def test_an_update_cancelled_while_waiting_leaves_nothing_behind() -> None:
    locks = UserLocks()

    async def waits() -> None:
        async with locks.hold(7):
            await asyncio.sleep(1)

    async with locks.hold(7):
        waiting = asyncio.create_task(waits())
        await asyncio.sleep(0.01)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
    assert len(locks) == 0
