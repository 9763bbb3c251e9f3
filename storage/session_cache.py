"""The sessions of recently active users, kept between their turns (SQLite).

A turn begins by reading the user's row and dialog states, which on SQLite is, most of the time,
reading back what that user's previous turn wrote through the same connection. The cache keeps
what a turn wrote, as of its COMMIT, so the next turn of that user can start from it. It is only
a shortcut for that read: every turn still writes and commits everything before it replies, and
an entry is used only while it is certainly what the database holds:

- An entry is published when the transaction that wrote it commits; a rollback (of the whole
  transaction, or of one turn's savepoint in a shared one) discards what it staged. A turn takes
  its entry out when it starts, so a turn that fails leaves none behind.
- Another connection's commit (a second process, the staff tools, a test) changes SQLite's
  `PRAGMA data_version`, read right after BEGIN IMMEDIATE: the whole cache is dropped.
- Any statement on this connection that is not a SELECT and does not come from the turn's own
  prepared statements (support tickets, reminders, /forget, migrations...) drops it too, and a
  turn during which that happened stages nothing.

Bounded: the least recently used entries go first (`capacity`, SESSION_CACHE_SIZE).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple

DEFAULT_CAPACITY = 4096  # about 1 KB each


class Snapshot(NamedTuple):
    """What load_session would read: the user's row and every dialog record, as committed."""

    language: str
    active: str | None
    last: str | None
    ticket_id: int | None
    records: dict[str, Any]  # dialog name -> DialogRecord


class SessionCache:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[int, Snapshot] = OrderedDict()
        self._staged: list[tuple[int, Snapshot]] = []  # written in the open transaction, in order
        self._taken: set[int] = set()  # users whose turn started since the last invalidation
        self._data_version: int | None = None
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, user_id: int) -> Snapshot | None:
        """The committed entry, left in place (diagnostics and tests)."""
        return self._entries.get(user_id)

    # --- a turn ---------------------------------------------------------------------------------
    def take(self, user_id: int) -> Snapshot | None:
        """The user's committed session, removed from the cache for the length of the turn."""
        self._taken.add(user_id)
        snapshot = self._entries.pop(user_id, None)
        if snapshot is None:
            self.misses += 1
        else:
            self.hits += 1
        return snapshot

    def stage(self, user_id: int, snapshot: Snapshot) -> None:
        """What the turn wrote; published at COMMIT. Ignored if the cache was invalidated since
        the turn took its entry (something else may have written the user's rows)."""
        if user_id in self._taken:
            self._staged.append((user_id, snapshot))

    # --- the transaction ------------------------------------------------------------------------
    def mark(self) -> int:
        """Where a savepoint starts, to discard only its own entries if it rolls back."""
        return len(self._staged)

    def rolled_back_to(self, mark: int) -> None:
        del self._staged[mark:]

    def committed(self) -> None:
        entries = self._entries
        for user_id, snapshot in self._staged:
            entries[user_id] = snapshot
            entries.move_to_end(user_id)
        while len(entries) > self.capacity:
            entries.popitem(last=False)
        self._staged.clear()
        self._taken.clear()

    def rolled_back(self) -> None:
        self._staged.clear()
        self._taken.clear()

    # --- invalidation ---------------------------------------------------------------------------
    def invalidate(self) -> None:
        self._entries.clear()
        self._staged.clear()
        self._taken.clear()

    def check_data_version(self, raw_connection: Any) -> None:
        """Drop everything if another connection committed since the last check. Called inside
        BEGIN IMMEDIATE: no other commit can happen until this transaction ends."""
        version = raw_connection.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            if self._data_version is not None:
                self.invalidate()
            self._data_version = version

    def reset(self) -> None:
        """A new connection: its data_version numbering starts over."""
        self.invalidate()
        self._data_version = None
