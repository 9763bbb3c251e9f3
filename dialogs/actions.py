"""Every button's action, declared once: its tag, its fields, their types and bounds; one encoder
and one decoder for the callback data that carries it (at most 64 bytes).

    m:<target>                              Menu         a menu entry
    l:<language>                            SetLanguage  choose the language
    d:<dialog>:<state>:<verb>[:<value>]     InDialog     a dialog's button (answer, back, next, restart)
    c:list[:<page>]  c:add  c:show:<id>  c:set:<id>:<from>:<to>[:y]   service codes
    c:del:<id>[:y]                          CodeDelete   delete a code's record: asked, then done
    p:show  p:go:<from>:<to>  p:rem:<on|off>  p:nyet  p:ics   filing progress, reminders, calendar
    f:<yes|no>                              Forget       confirm or keep
    q:show:<entry>  q:fb:<entry>:<1|0>      an FAQ entry, and whether it helped
    h:<reason>                              Handoff      ask for a person
    r:<ticket>:<1-5>                        Rate         rate the conversation with a person
    s:claim:<ticket>  s:close:<ticket>      staff buttons on a ticket card

The state in a dialog action says which question the button belonged to, so a button pressed on
an old message is recognised as stale instead of answering the wrong question. `decode` returns
None for anything this module did not produce (forged, truncated, foreign, over 64 bytes): the
caller answers it with a polite toast, and no feature ever sees it.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Annotated, Any, ClassVar, Literal

from knowledge.progress import Stage
from knowledge.service_codes import CodeStatus

MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback data
_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits, within a 64-bit integer
_TOKEN = re.compile(r"[A-Za-z0-9_.-]{1,40}")  # a name of ours: a dialog, a state, an option, an FAQ entry
_ID = re.compile(r"0|[1-9][0-9]{0,17}")  # a row id as we write it: no leading zero


def number(text: str) -> int | None:
    """A number we put in callback data or a staff command (a row id): ASCII digits within 64 bits,
    or None. Anything else ("²", twenty digits) was not made by us: the caller refuses it politely."""
    return int(text) if _NUMBER.fullmatch(text) else None


class _Id:
    """A row id: `number`."""


class _Name:
    """A name of ours: `_TOKEN`."""


Id = Annotated[int, _Id]
Name = Annotated[str, _Name]


class Verb(StrEnum):
    """What a dialog button does; encoded as one letter."""

    ANSWER = "a"
    BACK = "b"
    NEXT = "n"
    RESTART = "r"

    @property
    def trigger(self) -> str:
        """The dialog's state-machine trigger."""
        return self.name.lower()


@dataclass(frozen=True)
class Action:
    tag: ClassVar[str]


MenuTarget = Literal[
    "check",
    "ready",
    "filingtype",
    "steps",
    "myfiling",
    "lang",
    "help",
    "resume",
    "menu",
    "hello",
    "thanks",
    "ack",
    "verdict",
]


@dataclass(frozen=True)
class Menu(Action):
    tag = "m"
    target: MenuTarget


@dataclass(frozen=True)
class SetLanguage(Action):
    tag = "l"
    language: Literal["en", "zh"]


@dataclass(frozen=True)
class InDialog(Action):
    tag = "d"
    dialog: Name
    state: Name
    verb: Verb
    value: Name | None = None  # the option, for an answer


@dataclass(frozen=True)
class CodeList(Action):
    tag = "c:list"
    page: Id | None = None  # of the buttons, for someone with more codes than fit on one message


@dataclass(frozen=True)
class CodeAdd(Action):
    tag = "c:add"


@dataclass(frozen=True)
class CodeShow(Action):
    tag = "c:show"
    code_id: Id


@dataclass(frozen=True)
class CodeSet(Action):
    tag = "c:set"
    code_id: Id
    current: CodeStatus  # the status the button was shown for: a stale button is recognised
    target: CodeStatus
    sure: Literal["y"] | None = None  # a final status is asked about first


@dataclass(frozen=True)
class CodeDelete(Action):
    """Delete the bot's record of a code: without `sure`, the confirmation is asked first."""

    tag = "c:del"
    code_id: Id
    sure: Literal["y"] | None = None


@dataclass(frozen=True)
class ProgressShow(Action):
    tag = "p:show"


@dataclass(frozen=True)
class ProgressGo(Action):
    tag = "p:go"
    current: Stage  # the stage the button was shown for
    target: Stage


@dataclass(frozen=True)
class ProgressReminders(Action):
    tag = "p:rem"
    switch: Literal["on", "off"]


@dataclass(frozen=True)
class ProgressCalendar(Action):
    """The dated deadlines as a calendar file."""

    tag = "p:ics"


@dataclass(frozen=True)
class ProgressDate(Action):
    """Say when the current stage happened."""

    tag = "p:date"
    stage: Stage  # the stage the button was shown for


@dataclass(frozen=True)
class ProgressNotYet(Action):
    """A reminder's "not yet" button."""

    tag = "p:nyet"


@dataclass(frozen=True)
class PlanDocument(Action):
    """The plan, English and Chinese side by side, as a PDF."""

    tag = "plan:pdf"


@dataclass(frozen=True)
class Forget(Action):
    tag = "f"
    answer: Literal["yes", "no"]


@dataclass(frozen=True)
class FaqShow(Action):
    tag = "q:show"
    entry: Name


@dataclass(frozen=True)
class FaqFeedback(Action):
    tag = "q:fb"
    entry: Name
    helpful: Literal["1", "0"]


@dataclass(frozen=True)
class Handoff(Action):
    tag = "h"
    reason: Literal["ask", "verdict", "faq", "error"]


Stars = Literal["1", "2", "3", "4", "5"]
STARS: tuple[Stars, ...] = typing.get_args(Stars)


@dataclass(frozen=True)
class Rate(Action):
    tag = "r"
    ticket: Id
    stars: Stars


@dataclass(frozen=True)
class StaffClaim(Action):
    tag = "s:claim"
    ticket: Id


@dataclass(frozen=True)
class StaffClose(Action):
    tag = "s:close"
    ticket: Id


ACTIONS: tuple[type[Action], ...] = (
    Menu,
    SetLanguage,
    InDialog,
    CodeList,
    CodeAdd,
    CodeShow,
    CodeSet,
    CodeDelete,
    ProgressShow,
    ProgressGo,
    ProgressReminders,
    ProgressNotYet,
    ProgressCalendar,
    ProgressDate,
    PlanDocument,
    Forget,
    FaqShow,
    FaqFeedback,
    Handoff,
    Rate,
    StaffClaim,
    StaffClose,
)
_BY_TAG = {cls.tag: cls for cls in ACTIONS}


# --- the codec --------------------------------------------------------------------------------
Parse = typing.Callable[[str], Any]  # a field's text to its value; raises ValueError if not one


def _parser(hint: Any) -> Parse:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Annotated:
        kind = args[1]
        pattern = _ID if kind is _Id else _TOKEN
        convert: Parse = int if kind is _Id else str

        def parse(text: str) -> Any:
            if not pattern.fullmatch(text):
                raise ValueError(text)
            return convert(text)

        return parse
    if origin is Literal:
        allowed = set(args)

        def choice(text: str) -> str:
            if text not in allowed:
                raise ValueError(text)
            return text

        return choice
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint  # raises ValueError for a value that is not a member
    if origin in (typing.Union, types.UnionType):  # X | None
        return _parser(next(a for a in args if a is not type(None)))
    raise TypeError(f"no parser for {hint!r}")


def _fields_of(cls: type[Action]) -> tuple[tuple[str, Parse, bool], ...]:
    """(name, parser, required) per field, in order."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple((f.name, _parser(hints[f.name]), f.default is dataclasses.MISSING) for f in dataclasses.fields(cls))


_FIELDS = {cls: _fields_of(cls) for cls in ACTIONS}


def encode(action: Action) -> str:
    values = [getattr(action, name) for name, _, _ in _FIELDS[type(action)]]
    data = ":".join([action.tag, *(str(v.value if isinstance(v, Enum) else v) for v in values if v is not None)])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Action | None:
    """The action callback data carries; None for anything we did not produce."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(":")
    cls = _BY_TAG.get(":".join(parts[:2])) or _BY_TAG.get(parts[0])
    if cls is None:
        return None
    given = parts[cls.tag.count(":") + 1 :]
    fields = _FIELDS[cls]
    required = sum(1 for _, _, needed in fields if needed)
    if not required <= len(given) <= len(fields):
        return None
    try:
        values = {name: parse(text) for (name, parse, _), text in zip(fields, given, strict=False)}
    except ValueError:
        return None
    return cls(**values)


# --- the ones made in many places ---------------------------------------------------------------
def menu(target: MenuTarget) -> str:
    return encode(Menu(target))


def dialog(dialog_name: str, state: str, verb: Verb, value: str | None = None) -> str:
    return encode(InDialog(dialog_name, state, verb, value))
