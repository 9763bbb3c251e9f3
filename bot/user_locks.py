"""One user's updates one at a time in this process, shared by user turns and staff actions that
run a user's turn (closing a ticket), so that a chat's replies go out in the order of its turns."""

from __future__ import annotations

import asyncio


class UserLocks:
    """One user's updates run one at a time in this process, in the order they arrived (an update
    waiting for the database holds back that user's later ones, not anyone else's). Across
    processes, the row lock of the turn's transaction does the same."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    def hold(self, user_id: int) -> _Held:
        return _Held(self, user_id)

    def __len__(self) -> int:
        return len(self._locks)


class _Held:
    """`async with locks.hold(user_id)`: a class, not a generator-based context manager, because it
    runs on every update (a third of the cost)."""

    __slots__ = ("_lock", "_locks", "_user")

    def __init__(self, locks: UserLocks, user_id: int) -> None:
        self._locks, self._user = locks._locks, user_id
        lock, users = self._locks.get(user_id) or (asyncio.Lock(), 0)
        self._locks[user_id] = (lock, users + 1)
        self._lock = lock

    async def __aenter__(self) -> None:
        try:
            await self._lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        lock, users = self._locks[self._user]
        if users == 1:
            del self._locks[self._user]
        else:
            self._locks[self._user] = (lock, users - 1)
