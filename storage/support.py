"""Tickets and relayed messages: the storage side of the hand-off to support staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean, median
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from knowledge.service_codes import mask, redact, redacted
from storage import outbox
from storage.models import DialogState, FilingStage, Relay, ServiceCode, Ticket, Turn, User

OPEN, CLAIMED, CLOSED = "open", "claimed", "closed"
CANCELLED = "cancelled"  # ended by the user (/cancel) rather than closed by staff
DONE = (CLOSED, CANCELLED)
ACTIVE = (OPEN, CLAIMED)
RELAY_LEASE = timedelta(minutes=2)
MAX_RELAY_ATTEMPTS = 8


@dataclass(frozen=True)
class TicketRow:
    id: int
    user_id: int
    user_name: str
    status: str
    reason: str
    created_at: datetime
    card_message_id: int | None
    topic_id: int | None
    claimed_by: int | None
    first_response_at: datetime | None


TICKET_COLUMNS = (
    Ticket.c.id,
    Ticket.c.user_id,
    Ticket.c.user_name,
    Ticket.c.status,
    Ticket.c.reason,
    Ticket.c.created_at,
    Ticket.c.card_message_id,
    Ticket.c.topic_id,
    Ticket.c.claimed_by,
    Ticket.c.first_response_at,
)


def _ticket(row: Any) -> TicketRow | None:
    return TicketRow(*row) if row is not None else None


def get_ticket(conn: Connection, ticket_id: int) -> TicketRow | None:
    return _ticket(conn.execute(select(*TICKET_COLUMNS).where(Ticket.c.id == ticket_id)).first())


# --- the user's side (called inside the user's turn) ---------------------------------------------
def open_ticket(conn: Connection, user_id: int, user_name: str, reason: str, at: datetime, attach: bool = True) -> int:
    """A new request. `attach`: the user is handed to the staff now (their messages go to them);
    otherwise (no team to read them yet) that happens when a person claims the ticket."""
    ticket_id = conn.execute(
        Ticket.insert()
        .values(
            user_id=user_id, user_name=user_name[:200], status=OPEN, reason=reason[:32], created_at=at, card_attempts=0
        )
        .returning(Ticket.c.id)
    ).scalar_one()
    if attach:
        attach_ticket(conn, user_id, ticket_id)
    return ticket_id


def attach_ticket(conn: Connection, user_id: int, ticket_id: int) -> None:
    """From now on the user's messages go to this ticket's staff."""
    conn.execute(update(User).where(User.c.id == user_id).values(support_ticket_id=ticket_id))


def active_ticket_of(conn: Connection, user_id: int) -> int | None:
    """The user's newest ticket not yet closed, attached or not."""
    return conn.execute(
        select(Ticket.c.id)
        .where(Ticket.c.user_id == user_id, Ticket.c.status.in_(ACTIVE))
        .order_by(Ticket.c.id.desc())
        .limit(1)
    ).scalar()


def waiting_tickets(conn: Connection) -> int:
    """Tickets nobody has claimed yet."""
    return int(conn.execute(select(func.count()).select_from(Ticket).where(Ticket.c.status == OPEN)).scalar_one())


def can_rate(conn: Connection, user_id: int, ticket_id: int) -> bool:
    """The user's own ticket, closed and not yet rated (what `rate_ticket` will accept)."""
    row = conn.execute(
        select(Ticket.c.id).where(
            Ticket.c.id == ticket_id,
            Ticket.c.user_id == user_id,
            Ticket.c.status.in_(DONE),
            Ticket.c.rating.is_(None),
        )
    ).first()
    return row is not None


def _queue_relay(
    conn: Connection,
    ticket_id: int,
    direction: str,
    source_chat_id: int,
    source_message_id: int,
    target_chat_id: int | None,
    at: datetime,
) -> int:
    """A message to carry, pending until delivered (the target chat of a user message is the staff
    group's, known on delivery)."""
    return conn.execute(
        Relay.insert()
        .values(
            ticket_id=ticket_id,
            direction=direction,
            source_chat_id=source_chat_id,
            source_message_id=source_message_id,
            target_chat_id=target_chat_id,
            status="pending",
            attempts=0,
            next_attempt_at=at,
            created_at=at,
        )
        .returning(Relay.c.id)
    ).scalar_one()


def queue_relay_in(conn: Connection, ticket_id: int, user_id: int, message_id: int, at: datetime) -> int:
    return _queue_relay(conn, ticket_id, "in", user_id, message_id, None, at)


def close_ticket(conn: Connection, ticket_id: int, at: datetime, note: str | None, by_user: bool = False) -> int | None:
    """Close an active ticket (`by_user`: the user ended it); returns its user, or None when it was
    not active (already closed)."""
    row = conn.execute(
        update(Ticket)
        .where(Ticket.c.id == ticket_id, Ticket.c.status.in_(ACTIVE))
        .values(status=CANCELLED if by_user else CLOSED, closed_at=at, close_note=(note or None) and note[:500])
        .returning(Ticket.c.user_id)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(User)
        .where(User.c.id == row.user_id, User.c.support_ticket_id == ticket_id)
        .values(support_ticket_id=None)
    )
    return int(row.user_id)


def rate_ticket(conn: Connection, user_id: int, ticket_id: int, rating: int) -> bool:
    return (
        conn.execute(
            update(Ticket)
            .where(
                Ticket.c.id == ticket_id,
                Ticket.c.user_id == user_id,
                Ticket.c.status.in_(DONE),
                Ticket.c.rating.is_(None),
            )
            .values(rating=rating)
        ).rowcount
        == 1
    )


# --- the staff side ------------------------------------------------------------------------------
def ticket_by_topic(conn: Connection, topic_id: int) -> TicketRow | None:
    return _ticket(
        conn.execute(select(*TICKET_COLUMNS).where(Ticket.c.topic_id == topic_id).order_by(Ticket.c.id.desc())).first()
    )


def ticket_by_message(conn: Connection, chat_id: int, message_id: int) -> TicketRow | None:
    """The ticket a staff-group message belongs to: its card, or a message relayed into it."""
    row = conn.execute(select(*TICKET_COLUMNS).where(Ticket.c.card_message_id == message_id)).first()
    if row is None:
        ticket_id = conn.execute(
            select(Relay.c.ticket_id).where(
                or_(
                    and_(Relay.c.target_chat_id == chat_id, Relay.c.target_message_id == message_id),
                    and_(Relay.c.source_chat_id == chat_id, Relay.c.source_message_id == message_id),
                )
            )
        ).scalar()
        if ticket_id is None:
            return None
        row = conn.execute(select(*TICKET_COLUMNS).where(Ticket.c.id == ticket_id)).first()
    return _ticket(row)


def claim(conn: Connection, ticket_id: int, staff_id: int, at: datetime) -> tuple[bool, int | None]:
    """Exclusive: the first agent wins. Returns (won, who holds it now). Run in the ticket's user's
    turn (storage/effects.py), which records the staff update and hands over a kept request."""
    won = (
        conn.execute(
            update(Ticket)
            .where(Ticket.c.id == ticket_id, Ticket.c.status == OPEN)
            .values(status=CLAIMED, claimed_by=staff_id, claimed_at=at)
        ).rowcount
        == 1
    )
    holder = conn.execute(select(Ticket.c.claimed_by).where(Ticket.c.id == ticket_id)).scalar()
    return won, holder


def record_card(conn: Connection, ticket_id: int, message_id: int, topic_id: int | None) -> None:
    conn.execute(update(Ticket).where(Ticket.c.id == ticket_id).values(card_message_id=message_id, topic_id=topic_id))


def record_topic(conn: Connection, ticket_id: int, topic_id: int) -> None:
    conn.execute(update(Ticket).where(Ticket.c.id == ticket_id).values(topic_id=topic_id))


def card_failed(conn: Connection, ticket_id: int, at: datetime) -> None:
    attempts = conn.execute(
        update(Ticket)
        .where(Ticket.c.id == ticket_id)
        .values(card_attempts=Ticket.c.card_attempts + 1)
        .returning(Ticket.c.card_attempts)
    ).scalar()
    delay = timedelta(seconds=min(600, 15 * 2 ** min(int(attempts or 1), 6)))
    conn.execute(update(Ticket).where(Ticket.c.id == ticket_id).values(next_card_attempt_at=at + delay))


def tickets_without_card(conn: Connection, now: datetime) -> list[TicketRow]:
    rows = conn.execute(
        select(*TICKET_COLUMNS)
        .where(
            Ticket.c.status.in_(ACTIVE),
            Ticket.c.card_message_id.is_(None),
            or_(Ticket.c.next_card_attempt_at.is_(None), Ticket.c.next_card_attempt_at <= now),
        )
        .order_by(Ticket.c.id)
    )
    return [TicketRow(*tuple(r)) for r in rows]


def queue_relay_out(
    conn: Connection, ticket: TicketRow, chat_id: int, message_id: int, at: datetime, update_id: int
) -> int | None:
    """Staff wrote to the user: queue the copy (the desk has the first answer claim the ticket).
    None if the staff update was applied before (delivered again): its copy is queued already."""
    if not outbox.first_time(conn, update_id, at):
        return None
    conn.execute(
        update(Ticket)
        .where(Ticket.c.id == ticket.id, Ticket.c.first_response_at.is_(None))
        .values(first_response_at=at)
    )
    return _queue_relay(conn, ticket.id, "out", chat_id, message_id, ticket.user_id, at)


@dataclass(frozen=True)
class RelayRow:
    id: int
    ticket_id: int
    direction: str
    source_chat_id: int
    source_message_id: int
    attempts: int


def claim_relay(conn: Connection, relay_id: int, now: datetime) -> RelayRow | None:
    """Take a pending relay for delivery (a lease, so two processes never send it twice)."""
    taken = conn.execute(
        update(Relay)
        .where(
            Relay.c.id == relay_id,
            Relay.c.status == "pending",
            or_(Relay.c.claimed_until.is_(None), Relay.c.claimed_until < now),
        )
        .values(claimed_until=now + RELAY_LEASE, attempts=Relay.c.attempts + 1)
    ).rowcount
    if not taken:
        return None
    row = conn.execute(
        select(
            Relay.c.id,
            Relay.c.ticket_id,
            Relay.c.direction,
            Relay.c.source_chat_id,
            Relay.c.source_message_id,
            Relay.c.attempts,
        ).where(Relay.c.id == relay_id)
    ).one()
    return RelayRow(*row)


def relay_sent(conn: Connection, relay_id: int, chat_id: int, message_id: int, at: datetime) -> None:
    conn.execute(
        update(Relay)
        .where(Relay.c.id == relay_id)
        .values(status="sent", target_chat_id=chat_id, target_message_id=message_id, sent_at=at, claimed_until=None)
    )


def relay_failed(conn: Connection, relay_id: int, attempts: int, at: datetime) -> bool:
    """Schedule another try with backoff; True when we give up (the caller tells the sender)."""
    give_up = attempts >= MAX_RELAY_ATTEMPTS
    delay = timedelta(seconds=min(600, 10 * 2 ** min(attempts, 6)))
    conn.execute(
        update(Relay)
        .where(Relay.c.id == relay_id)
        .values(status="failed" if give_up else "pending", next_attempt_at=at + delay, claimed_until=None)
    )
    return give_up


def due_relays(conn: Connection, now: datetime, limit: int = 100) -> list[int]:
    return list(
        conn.execute(
            select(Relay.c.id)
            .where(
                Relay.c.status == "pending",
                Relay.c.next_attempt_at <= now,
                or_(Relay.c.claimed_until.is_(None), Relay.c.claimed_until < now),
            )
            .order_by(Relay.c.id)
            .limit(limit)
        ).scalars()
    )


def open_queue(conn: Connection) -> list[TicketRow]:
    rows = conn.execute(select(*TICKET_COLUMNS).where(Ticket.c.status.in_(ACTIVE)).order_by(Ticket.c.created_at))
    return [TicketRow(*tuple(r)) for r in rows]


def stats(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(
        select(Ticket.c.created_at, Ticket.c.first_response_at, Ticket.c.closed_at, Ticket.c.rating, Ticket.c.status)
    ).all()

    def minutes(pairs: list[tuple[datetime, datetime]]) -> dict[str, float | None]:
        values = [(b - a).total_seconds() / 60 for a, b in pairs]
        return {
            "count": len(values),
            "mean_minutes": round(mean(values), 2) if values else None,
            "median_minutes": round(median(values), 2) if values else None,
        }

    ratings = [r.rating for r in rows if r.rating is not None]
    return {
        "tickets": len(rows),
        "open_tickets": sum(1 for r in rows if r.status in ACTIVE),
        "first_response": minutes([(r.created_at, r.first_response_at) for r in rows if r.first_response_at]),
        "resolution": minutes([(r.created_at, r.closed_at) for r in rows if r.closed_at and r.status == CLOSED]),
        "cancelled_by_user": sum(1 for r in rows if r.status == CANCELLED),
        "average_rating": round(mean(ratings), 2) if ratings else None,
        "ratings": len(ratings),
    }


def card_data(conn: Connection, ticket_id: int, turns: int = 20) -> dict[str, Any] | None:
    """Everything the staff card shows; service codes masked, turns as logged (codes already masked)."""
    ticket = get_ticket(conn, ticket_id)
    if ticket is None:
        return None
    user = conn.execute(select(User.c.language).where(User.c.id == ticket.user_id)).first()
    dialogs = {
        r.dialog: {"state": r.state, "answers": r.answers, "history": r.history}
        for r in conn.execute(
            select(DialogState.c.dialog, DialogState.c.state, DialogState.c.answers, DialogState.c.history).where(
                DialogState.c.user_id == ticket.user_id
            )
        )
    }
    verdicts = {
        r.dialog: r.data
        for r in conn.execute(
            select(Turn.c.dialog, Turn.c.data)
            .where(Turn.c.user_id == ticket.user_id, Turn.c.kind == "verdict")
            .order_by(Turn.c.id)
        )
    }
    rows = conn.execute(
        select(
            ServiceCode.c.code,
            ServiceCode.c.status,
            ServiceCode.c.product,
            ServiceCode.c.instance,
            ServiceCode.c.paid,
        )
        .where(ServiceCode.c.user_id == ticket.user_id)
        .order_by(ServiceCode.c.id)
    ).all()
    full = [c.code for c in rows]  # to mask any the user typed anywhere: an answer, an instance's name
    codes = [
        {
            "code": mask(c.code),
            "status": c.status,
            "product": c.product,
            "instance": c.instance and redact(c.instance, full),
            "paid": c.paid,
        }
        for c in rows
    ]
    stage = conn.execute(
        select(FilingStage.c.stage, FilingStage.c.reached_at)
        .where(FilingStage.c.user_id == ticket.user_id)
        .order_by(FilingStage.c.position.desc())
        .limit(1)
    ).first()
    recent = conn.execute(
        select(Turn.c.kind, Turn.c.data, Turn.c.created_at)
        .where(Turn.c.user_id == ticket.user_id)
        .order_by(Turn.c.id.desc())
        .limit(turns)
    ).all()
    return {
        "ticket": ticket,
        "language": user.language if user else "en",
        "dialogs": redacted(dialogs, full),
        "verdicts": verdicts,
        "codes": codes,
        "stage": {"stage": stage.stage, "since": stage.reached_at} if stage else None,
        "turns": [{"kind": k, "data": redacted(d, full), "at": at} for k, d, at in reversed(recent)],
    }
