"""Button actions and their compact encoding as callback data (at most 64 bytes).

  m:<target>                           menu entry: check, ftype, steps, lang, help, resume, menu
  l:<lang>                             set the language
  d:<dialog>:<state>:<verb>[:<value>]  within a dialog; verb a=answer, b=back, n=next, r=restart

The state in a dialog action says which question the button belonged to, so a button pressed
on an old message is recognised as stale instead of answering the wrong question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64
_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits, within a 64-bit integer
VERBS = {"a": "answer", "b": "back", "n": "next", "r": "restart"}


@dataclass(frozen=True)
class MenuAction:
    target: str


@dataclass(frozen=True)
class LanguageAction:
    language: str


@dataclass(frozen=True)
class DialogAction:
    dialog: str
    state: str
    verb: str  # one of VERBS' values
    value: str | None = None


Action = MenuAction | LanguageAction | DialogAction


def number(text: str) -> int | None:
    """A number carried in callback data (a row id, a rating): ASCII digits within 64 bits, or None.
    Anything else ("²", twenty digits) was not made by us: the caller refuses it politely."""
    return int(text) if _NUMBER.fullmatch(text) else None


def menu(target: str) -> str:
    return f"m:{target}"


def language(lang: str) -> str:
    return f"l:{lang}"


def dialog(dialog_name: str, state: str, verb: str, value: str | None = None) -> str:
    short = next(k for k, v in VERBS.items() if v == verb)
    data = f"d:{dialog_name}:{state}:{short}" + (f":{value}" if value is not None else "")
    assert len(data.encode()) <= MAX_CALLBACK_BYTES, data
    return data


def parse(data: str | None) -> Action | None:
    """Decode callback data; None for anything we did not produce (forged, truncated, foreign)."""
    if not data or len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_BYTES:
        return None
    parts = data.split(":")
    match parts:
        case ["m", target] if target:
            return MenuAction(target)
        case ["l", lang] if lang:
            return LanguageAction(lang)
        case ["d", name, state, verb] if verb in VERBS:
            return DialogAction(name, state, VERBS[verb])
        case ["d", name, state, verb, value] if verb in VERBS:
            return DialogAction(name, state, VERBS[verb], value)
    return None
