"""Dialog screens to Telegram objects."""

from __future__ import annotations

from functools import lru_cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dialogs.screens import Keyboard

TELEGRAM_MESSAGE_LIMIT = 4096


@lru_cache(maxsize=4096)
def markup(buttons: Keyboard) -> InlineKeyboardMarkup | None:
    """Telegram keyboard objects are immutable and costly to build: identical keyboards are shared."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons])


def split_text(text: str, limit: int = TELEGRAM_MESSAGE_LIMIT) -> list[str]:
    """Cut a long text at line breaks into pieces Telegram accepts."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return parts
