"""Checks on what users type, shared by every question that takes free input."""

from __future__ import annotations

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
