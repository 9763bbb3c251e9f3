"""Records of sends that Telegram took while the database could not take the record.

A reminder or a relayed message is sent under a lease, then recorded as sent. If the database is
away at that moment, the send must not be repeated: the record is kept here and written first
thing in the job's next run, while the lease still keeps every process from sending it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.faults import Fault, classify, describe
from storage.db import Database

log = logging.getLogger(__name__)


class PendingRecords:
    def __init__(self, db: Database, what: str) -> None:
        self.db = db
        self.what = what  # "reminder", "relay": for the log
        self._pending: dict[int, tuple[Callable[..., Any], tuple[Any, ...]]] = {}

    async def record(self, key: int, fn: Callable[..., Any], *args: Any) -> None:
        """`fn(connection, *args)`, now or, if the database is unavailable, at the next `flush`."""
        try:
            await self.db.run(fn, *args)
        except Exception as exc:
            if classify(exc) is not Fault.DATABASE_UNAVAILABLE:
                raise
            log.warning("%s %s sent, recorded with the next run (%s)", self.what, key, describe(exc))
            self._pending[key] = (fn, args)

    async def flush(self) -> None:
        """Write the records kept back; one the database still refuses stays for the next run."""
        for key, (fn, args) in list(self._pending.items()):
            await self.db.run(fn, *args)
            del self._pending[key]
