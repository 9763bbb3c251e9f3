"""Dialog screens to Bot API calls.

Replies are sent with `Bot.do_api_request` and no return type. The Bot API answers a sendMessage
or an editMessageText with the whole message again; nothing here reads more than its id, and
parsing it into a `telegram.Message` (and serialising the keyboard object again on every call)
cost more than the rest of a turn's own work. The request, the rate limiter and the errors
(BadRequest, Forbidden, ...) are the same as with `send_message` / `edit_message_text`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson
from telegram import Bot

from dialogs.screens import Keyboard

TELEGRAM_MESSAGE_LIMIT = 4096
# Bot API method names are case-insensitive. Spelled in lower case, do_api_request does not take them
# for its own methods (`Bot.sendMessage` exists) and skips the warning that suggests those, which
# it would otherwise raise and we filter on every reply (about 15 µs each).
_SEND, _EDIT = "sendmessage", "editmessagetext"


@lru_cache(maxsize=4096)
def markup(buttons: Keyboard) -> str | None:
    """The inline keyboard as the Bot API's JSON, built once per distinct keyboard."""
    if not buttons:
        return None
    rows = [[{"text": b.label, "callback_data": b.data} for b in row] for row in buttons]
    return orjson.dumps({"inline_keyboard": rows}).decode()


async def send_text(bot: Bot, chat_id: int, text: str, keyboard: str | None = None, **extra: Any) -> int:
    """sendMessage; returns the new message's id."""
    # Ids as text: python-telegram-bot JSON-encodes every other value, to the same characters.
    params: dict[str, Any] = {"chat_id": str(chat_id), "text": text, **extra}
    if keyboard is not None:
        params["reply_markup"] = keyboard
    result = await bot.do_api_request(_SEND, api_kwargs=params)
    return int(result["message_id"])


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str, keyboard: str | None = None) -> None:
    """editMessageText of a message the bot sent."""
    params: dict[str, Any] = {"chat_id": str(chat_id), "message_id": str(message_id), "text": text}
    if keyboard is not None:
        params["reply_markup"] = keyboard
    await bot.do_api_request(_EDIT, api_kwargs=params)


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
