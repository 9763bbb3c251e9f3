"""What a turn decided to change, as data. Dialogs read stored data through the read-only
`dialogs.ports.UserData` and return these in `Outcome.effects`; storage applies them, in order,
inside the turn's own transaction (storage/effects.py), so a turn changes nothing unless it commits
and the dialogs can be tested with no database at all.

Times are the turn's (`Session.now`); the user is the turn's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from knowledge.progress import PlannedReminder, Stage
from knowledge.service_codes import CodeOrigin, CodeStatus


@dataclass(frozen=True)
class AddCode:
    code: str
    product: str
    instance: str | None
    paid: bool
    origin: CodeOrigin
    status: CodeStatus = CodeStatus.AVAILABLE


@dataclass(frozen=True)
class SetCodeStatus:
    code_id: int
    old: CodeStatus
    new: CodeStatus


@dataclass(frozen=True)
class DeleteCode:
    """Delete the bot's record of one of the user's codes, with its history (nothing at Alibaba Cloud)."""

    code_id: int


@dataclass(frozen=True)
class SetStage:
    stage: Stage
    at: datetime  # when the user reached it (going back keeps the first date)
    planned: Sequence[PlannedReminder]


@dataclass(frozen=True)
class RedateStage:
    """An earlier stage's day moved back: it cannot come after the stage the user dated."""

    stage: Stage
    at: datetime


@dataclass(frozen=True)
class SetReminders:
    enabled: bool


@dataclass(frozen=True)
class RecordFaqFeedback:
    topic: str
    helpful: bool


@dataclass(frozen=True)
class RecordFaqMiss:
    question: str
    language: str
    score: float


@dataclass(frozen=True)
class OpenTicket:
    """Hand the user to a person. Storage fills in `Outcome.handoff` with the ticket and logs it."""

    reason: str
    dialog: str | None  # where the user was, for the turn log
    relay: bool = True  # the user's messages go to the staff from now on (False: no team to read them)
    kept: int | None = None  # the user's request kept earlier: handed over, instead of a new one


@dataclass(frozen=True)
class ClaimTicket:
    """A person takes the ticket (the first one wins). Storage fills in `Outcome.claimed`."""

    ticket_id: int
    staff_id: int
    attach: bool  # a request kept while nobody could answer: the user's messages go to staff now


@dataclass(frozen=True)
class QueueRelay:
    """Carry the user's message to the staff; storage adds the relay to `Outcome.relays`."""

    ticket_id: int
    message_id: int


@dataclass(frozen=True)
class EndTicket:
    ticket_id: int
    note: str | None
    by_user: bool = False  # the user ended it (/cancel), rather than staff closing it


@dataclass(frozen=True)
class RateTicket:
    ticket_id: int
    rating: int


@dataclass(frozen=True)
class ForgetUser:
    """Delete everything stored about the user (and what is still owed to their chat)."""


Effect = (
    AddCode
    | SetCodeStatus
    | DeleteCode
    | SetStage
    | RedateStage
    | SetReminders
    | RecordFaqFeedback
    | RecordFaqMiss
    | OpenTicket
    | ClaimTicket
    | QueueRelay
    | EndTicket
    | RateTicket
    | ForgetUser
)
