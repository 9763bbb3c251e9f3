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
