"""What a turn shows: messages with buttons, independent of Telegram or the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dialogs.effects import Effect


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # the action, see dialogs/actions.py; at most 64 bytes (Telegram's callback_data limit)


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Document:
    """A file sent with a reply. `kind` says how the sender makes the file's bytes from `source`
    (dialogs/documents.py): "text" is the file itself; "plan-pdf" is a plan's facts, rendered
    after the turn's transaction, since rendering takes longer than a turn should hold it."""

    name: str
    kind: str
    source: str


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: Keyboard = ()
    edit: bool = False  # replace the message whose button was pressed, rather than send a new one
    screen: str = ""  # a stable id of what is shown ("check.q.location"), for logs and tests
    takes_number: bool = False  # the question also accepts a typed number (the terminal needs to know)
    document: Document | None = None  # sent as a file, `text` its caption


@dataclass(frozen=True)
class LogEntry:
    kind: str  # "user", "answer", "verdict", "bot"
    dialog: str | None
    data: dict[str, Any]


@dataclass
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    toast: str | None = None  # short notice on a pressed button (answerCallbackQuery text)
    log: list[LogEntry] = field(default_factory=list)
    resolved: bool = True  # False: the input was not understood (the router re-asks the open question)
    relays: list[int] = field(default_factory=list)  # queued messages for the support desk to carry
    handoff: int | None = None  # a ticket just opened: the support desk posts its card
    ended_ticket: int | None = None  # a ticket the user just ended: the support desk tells staff
    claimed: tuple[bool, int | None] | None = None  # a claim's result: (won, who holds the ticket)
    effects: list[Effect] = field(default_factory=list)  # what to change, applied by storage in the turn


def rows(buttons: list[Button], columns: int) -> Keyboard:
    return tuple(tuple(buttons[i : i + columns]) for i in range(0, len(buttons), columns))
