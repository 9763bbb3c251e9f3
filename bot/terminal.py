"""`python -m bot chat`: the same dialogs in a terminal, against the same database."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.service import ConversationService
from dialogs.commands import command_name
from dialogs.documents import render
from dialogs.features import COMMANDS
from dialogs.screens import Button, Outcome
from dialogs.session import Command, Event, Press, Text
from dialogs.spec import fold
from knowledge.domain import normalize_language
from knowledge.texts import t

QUIT = {"quit", "exit", "q", "退出"}


def _lines(source: TextIO) -> asyncio.Queue[str]:
    """Lines typed, read by a daemon thread: Ctrl-C ends the program at once, where a worker of
    the event loop's executor would keep it waiting for the next line."""
    loop, queue = asyncio.get_running_loop(), asyncio.Queue[str]()

    def read() -> None:
        while True:
            line = source.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="terminal-input", daemon=True).start()
    return queue


class TerminalChat:
    def __init__(
        self, service: ConversationService, user_id: int, language: str | None, out: TextIO = sys.stdout
    ) -> None:
        self.service = service
        self.user_id = user_id
        self.language_code = language
        self.out = out
        self.choices: list[Button] = []
        self.takes_number = False

    def show(self, outcome: Outcome) -> None:
        if outcome.toast:
            self.out.write(f"({outcome.toast})\n")
        # Every reply's buttons stay choosable, numbered on from one reply to the next.
        self.choices, self.takes_number = [], False
        for reply in outcome.replies:
            self.out.write("\n" + reply.text + "\n")
            if reply.document is not None:  # Telegram sends it as a file; here it is saved as one
                path = Path(reply.document.name).resolve()
                path.write_bytes(render(reply.document))
                self.out.write(f"  (file saved: {path})\n")
            for button in (b for row in reply.buttons for b in row):
                self.choices.append(button)
                self.out.write(f"  [{len(self.choices)}] {button.label}\n")
            self.takes_number = self.takes_number or reply.takes_number
        self.out.flush()

    def event_for(self, line: str) -> Event:
        """A typed line: a /command, a choice (by number or label), or free text."""
        if line.startswith("/"):
            name = command_name(line)
            return Command(name if name in COMMANDS else f"unknown:{name}"[:40])
        # "#3" always picks choice 3; a bare number does too, unless the question takes a number.
        number = line.removeprefix("#").removesuffix(".")  # "3." as a list's numbers are written
        if number.isdigit() and (line.startswith("#") or not self.takes_number):
            index = int(number) - 1
            if 0 <= index < len(self.choices):
                return Press(self.choices[index].data)
        folded = fold(line)  # as typed answers are compared: case, emoji and marks ignored
        for button in self.choices:
            if folded and fold(button.label) == folded:
                return Press(button.data)
        return Text(line)

    async def turn(self, event: Event) -> None:
        self.show((await self.service.handle(self.user_id, self.language_code, event)).outcome)

    async def run(self, lines: TextIO = sys.stdin) -> None:
        lang = normalize_language(self.language_code, self.service.default_language)
        self.out.write(t(lang, "chat.welcome") + "\n")
        await self.turn(Command("start"))
        incoming = _lines(lines)
        while True:
            self.out.write("> ")
            self.out.flush()
            raw = await incoming.get()
            if not raw:  # end of input
                self.out.write("\n")
                return
            line = raw.strip()
            if not line:
                continue
            if line.casefold() in QUIT:
                return
            await self.turn(self.event_for(line))
