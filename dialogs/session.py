"""A user's session and the events of a turn: what storage loads and saves, and what the bot edge
hands to the router. Plain data, shared by dialogs/, storage/ and bot/ (storage imports these,
never the router).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dialogs.ports import UserData
from knowledge.domain import Language


@dataclass
class DialogRecord:
    state: str
    answers: dict[str, Any]
    history: list[str]
    version: int = 0
    changed: bool = False


@dataclass
class Session:
    user_id: int
    language: Language
    active: str | None = None  # the dialog that typed answers go to
    last: str | None = None  # the dialog used last, for "Continue where I was" after /cancel
    records: dict[str, DialogRecord] = field(default_factory=dict)
    changed: bool = False  # language or active dialog changed
    cleared: bool = False  # every dialog record is to be deleted (/reset)
    forgotten: bool = False  # the user and all their data were deleted (/forget): nothing to save
    data: UserData | None = None  # codes, progress, reminders: read only when a feature needs them
    ticket_id: int | None = None  # a person is handling this user: the bot's dialogs are paused
    display_name: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Command:
    name: str


@dataclass(frozen=True)
class Press:
    data: str


@dataclass(frozen=True)
class Text:
    text: str
    message_id: int | None = None  # the user's message, for relaying it to support
    captioned: bool = False  # the caption of a photo or a file: what is attached is not read


@dataclass(frozen=True)
class Unsupported:
    """Something other than text or a button where one is expected (a sticker, a photo...)."""

    kind: str
    message_id: int | None = None


@dataclass(frozen=True)
class Edited:
    """The user edited a message they sent: only new messages are read."""


@dataclass(frozen=True)
class SupportClosed:
    """Staff closed the user's ticket (sent through the user's turn, so it is one transaction)."""

    ticket_id: int
    note: str | None = None


@dataclass(frozen=True)
class SupportClaimed:
    """A person took the user's ticket (through the user's turn: a request kept while nobody could
    answer is handed over, and the user told, in the same transaction)."""

    ticket_id: int
    staff_id: int


Event = Command | Press | Text | Unsupported | Edited | SupportClosed | SupportClaimed
