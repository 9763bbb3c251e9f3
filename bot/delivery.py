"""Sending a turn's replies to a chat (for turns that did not start with a button press)."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import Forbidden

from bot.render import markup, send_text, split_text
from dialogs.screens import Reply

log = logging.getLogger(__name__)


async def send_replies(bot: Bot, chat_id: int, replies: list[Reply]) -> bool:
    """Send each reply as new messages; False when the user has blocked the bot."""
    for reply in replies:
        pieces = split_text(reply.text)
        for i, piece in enumerate(pieces):
            keyboard = markup(reply.buttons) if i == len(pieces) - 1 else None
            try:
                await send_text(bot, chat_id, piece, keyboard)
            except Forbidden:
                log.info("chat %s blocked the bot", chat_id)
                return False
    return True
