"""Checks on what users type, shared by every question that takes free input."""

from __future__ import annotations

import re
import unicodedata


class InvalidInput(ValueError):
    """A typed value we cannot store; `key` names the interface text that explains why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def clean_text(value: str, max_length: int) -> str:
    """Strip surrounding space; refuse empty, control or format characters, and over-long values."""
    text = value.strip()
    if not text:
        raise InvalidInput("input.empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise InvalidInput("input.control")
    if len(text) > max_length:
        raise InvalidInput("input.too_long", max=max_length)
    return text


# A question: an opening question word (English), or a question mark or word anywhere (Chinese too).
_QUESTION = re.compile(
    r"^\s*(?:where|what|how|why|when|which|who|whose|can|could|do|does|did|is|are|should|will|would|may)\b"
    r"|[?？吗呢哪几]|什么|怎么|怎样|如何|为什么|为何|多少|是否|能否",
    re.IGNORECASE,
)


def reads_as_question(text: str) -> bool:
    """The text asks something: a question mark, an opening question word ("where do I..."), or a
    Chinese question word (哪里, 怎么, 吗). For inputs that are no sentence (a service code), to tell a
    question asked meanwhile from a mistyped value."""
    return _QUESTION.search(text) is not None
