"""The commands a user can send, in the order of the Telegram command menu and of /help (each
described by its `cmd.<name>` text; dialogs/features.py checks every one has a feature)."""

from __future__ import annotations

COMMANDS = (
    "start",
    "menu",
    "check",
    "ready",
    "filingtype",
    "steps",
    "myfiling",
    "codes",
    "progress",
    "human",
    "language",
    "cancel",
    "reset",
    "forget",
    "help",
)


def command_name(text: str) -> str:
    """'/Check@icp_bot extra' -> 'check' (Telegram adds the bot's name to a command tapped in some
    clients; what follows the command is not read)."""
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower() if text.strip() else ""
