"""The commands a user can send, in the order of the Telegram command menu and of /help (each
described by its `cmd.<name>` text; dialogs/features.py checks every one has a feature)."""

from __future__ import annotations

import unicodedata

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


# What people type for a command in Chinese, with or without the slash ("/帮助", 进度).
ALIASES = {
    "开始": "start",
    "菜单": "menu",
    "检查": "check",
    "检查服务器": "check",
    "我能备案吗": "ready",
    "备案类型": "filingtype",
    "步骤": "steps",
    "备案步骤": "steps",
    "我的备案": "myfiling",
    "服务码": "codes",
    "我的服务码": "codes",
    "进度": "progress",
    "备案进度": "progress",
    "我的备案进度": "progress",
    "人工": "human",
    "客服": "human",
    "语言": "language",
    "取消": "cancel",
    "帮助": "help",
}
# Typed as a bare word, a command's name runs it, but for those that change or delete what is stored;
# of the Chinese names, those that are no question too (服务码, 备案类型 are asked about: the FAQ answers).
AS_WORDS = frozenset(c for c in COMMANDS if c not in ("reset", "forget")) | frozenset(
    ("开始", "菜单", "帮助", "取消", "进度", "语言", "我的备案", "我的服务码", "我的备案进度")
)


def command_for(name: str) -> str | None:
    """The command a typed name means: one of ours, in any width or case ("ｃｏｄｅｓ"), or an alias."""
    normalized = unicodedata.normalize("NFKC", name).strip().lower()
    return normalized if normalized in COMMANDS else ALIASES.get(normalized)
