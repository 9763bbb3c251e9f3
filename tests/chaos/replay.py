"""What must result, and how far a chaos run is from it.

The serial replay feeds every user's updates, in order and once, through tests.harness.BotHarness
on a fresh SQLite database in this process: its database is what every user's stored state must
be, and the Bot API calls it recorded are the replies every chat must receive. The comparison
reads the chaos run's database (after its processes stopped) and the fake Bot API's record.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from knowledge.texts import t
from storage.db import Database
from storage.models import DialogState, Turn, User
from tests.chaos.workload import Workload
from tests.harness import BotHarness

Snapshot = dict[int, dict[str, Any]]
GENERIC_ERRORS = frozenset(t(lang, "error.generic") for lang in ("en", "zh"))


def _snapshot(conn: Connection) -> Snapshot:
    """Per user: the users row, the dialog states and the turn log (in id order)."""
    users = {u.id: [u.language, u.active_dialog, u.last_dialog] for u in conn.execute(select(User))}
    states: dict[int, list[Any]] = {}
    for r in conn.execute(select(DialogState).order_by(DialogState.c.user_id, DialogState.c.dialog)):
        states.setdefault(r.user_id, []).append([r.dialog, r.state, r.answers, r.history, r.version])
    turns: dict[int, list[Any]] = {}
    for r in conn.execute(select(Turn.c.user_id, Turn.c.kind, Turn.c.dialog, Turn.c.data).order_by(Turn.c.id)):
        turns.setdefault(r.user_id, []).append([r.kind, r.dialog, r.data])
    return {u: {"user": users[u], "states": states.get(u, []), "turns": turns.get(u, [])} for u in users}


async def read_snapshot(database_url: str) -> Snapshot:
    """The stored state of every user, read the way the bot reads (SQLite or PostgreSQL)."""
    db = Database(database_url)
    try:
        return await db.run(_snapshot)
    finally:
        await db.dispose()


@dataclass(frozen=True)
class Expected:
    snapshot: Snapshot
    replies: dict[int, Counter[str]]  # per chat, the multiset of texts sent or edited in

    @property
    def reply_count(self) -> int:
        return sum(sum(c.values()) for c in self.replies.values())


async def serial_replay(workload: Workload, directory: Path) -> Expected:
    """Every user's updates, in order, once, through the bot in this process on a fresh database."""
    db = directory / "serial.db"
    url = f"sqlite:///{db}"
    async with BotHarness(url, reminder_interval_seconds=0, support_retry_seconds=0) as harness:
        for updates in workload.users.values():
            for update in updates:
                await harness.feed(update)
        calls = list(harness.request.calls)
    replies: dict[int, Counter[str]] = {}
    for call in calls:
        if call.method in ("sendMessage", "editMessageText") and call.chat_id is not None and call.result is not None:
            replies.setdefault(call.chat_id, Counter())[call.text] += 1
    return Expected(await read_snapshot(url), replies)


def missing_replies(expected: Expected, received: dict[int, Counter[str]]) -> int:
    """How many of the expected replies have not (yet) been received."""
    return sum(sum((want - received.get(chat, Counter())).values()) for chat, want in expected.replies.items())


def _user_turns(snapshot: Snapshot, user: int) -> Counter[str]:
    """What the user sent, one entry per update applied (the logged dialog is left out: it follows
    the state, which an update lost earlier changes), as a multiset."""
    turns = snapshot.get(user, {}).get("turns", [])
    sent = [data for kind, _dialog, data in turns if kind == "user"]
    return Counter(json.dumps(data, sort_keys=True, ensure_ascii=False) for data in sent)


@dataclass
class Comparison:
    """A chaos run against the serial replay."""

    updates: int
    users: int
    mismatched_users: list[int] = field(default_factory=list)
    first_mismatch: str = ""
    lost_updates: int = 0  # updates of the workload whose turn is missing
    doubled_updates: int = 0  # turns applied more than once
    lost_replies: int = 0
    duplicate_replies: int = 0  # extra copies of replies the serial replay sent too
    unexpected_replies: int = 0  # texts the serial replay never sent (an error message, a wrong screen)
    generic_errors: int = 0  # "Sorry, something went wrong"
    examples: list[str] = field(default_factory=list)  # a few duplicates and unexpected texts

    def problems(self, allow_duplicates: bool) -> list[str]:
        out = []
        if self.mismatched_users:
            out.append(
                f"{len(self.mismatched_users)} of {self.users} users' stored state differs from the serial replay "
                f"({self.lost_updates} of {self.updates} updates lost, {self.doubled_updates} applied twice); "
                f"first: {self.first_mismatch}"
            )
        if self.lost_replies:
            out.append(f"{self.lost_replies} replies never reached the Bot API")
        if self.generic_errors:
            out.append(f'{self.generic_errors} replies were the generic error ("Sorry, something went wrong")')
        if self.unexpected_replies - self.generic_errors > 0:
            out.append(f"{self.unexpected_replies - self.generic_errors} replies the serial replay never sent")
        if self.duplicate_replies and not allow_duplicates:
            out.append(f"{self.duplicate_replies} duplicate replies (sendMessage/editMessageText sent again)")
        if out and self.examples:
            out.append("examples: " + "; ".join(self.examples[:6]))
        return out


def compare(expected: Expected, actual: Snapshot, received: dict[int, Counter[str]], workload: Workload) -> Comparison:
    result = Comparison(updates=workload.size, users=len(workload.users))
    for user in workload.users:
        want, got = expected.snapshot.get(user), actual.get(user)
        if want == got:
            continue
        result.mismatched_users.append(user)
        want_turns, got_turns = _user_turns(expected.snapshot, user), _user_turns(actual, user)
        result.lost_updates += sum((want_turns - got_turns).values())
        result.doubled_updates += sum((got_turns - want_turns).values())
        if not result.first_mismatch:
            result.first_mismatch = _describe(user, want, got)
    for chat in set(expected.replies) | set(received):
        want_texts = expected.replies.get(chat, Counter())
        got_texts = received.get(chat, Counter())
        result.lost_replies += sum((want_texts - got_texts).values())
        for text, extra in (got_texts - want_texts).items():
            if text in want_texts:
                result.duplicate_replies += extra
                result.examples.append(f"chat {chat} got {want_texts[text] + extra}x {text[:40]!r}")
            else:
                result.unexpected_replies += extra
                result.generic_errors += extra if text in GENERIC_ERRORS else 0
                result.examples.append(f"chat {chat} got unexpected {extra}x {text[:40]!r}")
    return result


def _describe(user: int, want: dict[str, Any] | None, got: dict[str, Any] | None) -> str:
    if got is None:
        return f"user {user} has no row at all"
    if want is None:
        return f"user {user} should not exist"
    parts = [f"user {user}"]
    for key in ("user", "states"):
        if want[key] != got[key]:
            parts.append(f"{key}: expected {want[key]} got {got[key]}")
    if want["turns"] != got["turns"]:
        wt, gt = want["turns"], got["turns"]
        i = next((n for n, (a, b) in enumerate(zip(wt, gt, strict=False)) if a != b), min(len(wt), len(gt)))
        parts.append(
            f"turns: {len(gt)} stored, {len(wt)} expected, first difference at #{i}: "
            f"expected {wt[i] if i < len(wt) else None} got {gt[i] if i < len(gt) else None}"
        )
    return "; ".join(parts)[:700]
