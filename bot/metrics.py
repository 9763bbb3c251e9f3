"""Prometheus metrics, one registry per Application (so tests and several apps do not collide)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import Connection, func, select

from storage.db import Database
from storage.models import Reminder, Ticket
from storage.support import ACTIVE

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter("icpbot_updates_total", "Updates handled, by kind", ["kind"], registry=self.registry)
        self.turn_seconds = Histogram(
            "icpbot_turn_seconds",
            "Time from receiving an update to its replies sent",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter("icpbot_errors_total", "Updates that failed in a handler", registry=self.registry)
        self.not_applied = Counter(
            "icpbot_updates_not_applied_total",
            "Updates left for redelivery (database unreachable)",
            registry=self.registry,
        )
        self.open_tickets = Gauge("icpbot_open_tickets", "Support tickets open or claimed", registry=self.registry)
        self.reminders_due = Gauge("icpbot_reminders_due", "Reminders due and not yet sent", registry=self.registry)
        self._kinds: dict[str, Any] = {}

    def update_kind(self, kind: str) -> Any:
        """The counter for one kind of update (looked up once: `labels()` costs more than `inc()`)."""
        child = self._kinds.get(kind)
        if child is None:
            child = self._kinds[kind] = self.updates.labels(kind)
        return child

    async def render(self, db: Database) -> bytes:
        """The exposition text; the database gauges are read at scrape time."""
        tickets, due = await db.run(_gauges, datetime.now(UTC))
        self.open_tickets.set(tickets)
        self.reminders_due.set(due)
        return generate_latest(self.registry)


def _gauges(conn: Connection, now: datetime) -> tuple[int, int]:
    tickets = conn.execute(select(func.count()).select_from(Ticket).where(Ticket.c.status.in_(ACTIVE))).scalar_one()
    due = conn.execute(
        select(func.count()).select_from(Reminder).where(Reminder.c.sent_at.is_(None), Reminder.c.due_at <= now)
    ).scalar_one()
    return int(tickets), int(due)
