"""The users and what each of them sends: deterministic, so a serial replay can say what must result.

Each user runs /check with one of several shapes of answers (button presses), asks a free question
(English or Chinese), looks at /codes and /progress (statements beyond the per-turn hot path), then
runs /filingtype by buttons. A third of the users are Chinese
(language_code "zh"). Update ids come from tests.harness.UpdateFactory: unique in the whole run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.harness import UpdateFactory

FIRST_USER = 700_000
CHECK_QUESTIONS = ("location", "provider", "product", "billing", "months", "bandwidth")
CHECK_SHAPES = (
    ("mainland", "alibaba", "ecs", "subscription", "6", "yes"),
    ("mainland", "alibaba", "sas", "subscription", "2"),
    ("hong-kong",),
    ("mainland", "other"),
    ("mainland", "alibaba", "cdn"),
)
QUESTIONS = ("How long does the preliminary review take?", "服务码是什么？")


def journey(i: int) -> list[tuple[str, str]]:
    """User number `i`'s steps: ("send", text) or ("press", callback data)."""
    steps: list[tuple[str, str]] = [("send", "/check")]
    for question, value in zip(CHECK_QUESTIONS, CHECK_SHAPES[i % len(CHECK_SHAPES)], strict=False):
        steps.append(("press", f"d:check:{question}:a:{value}"))
    steps.append(("send", QUESTIONS[i % len(QUESTIONS)]))
    steps += [("send", "/codes"), ("send", "/progress")]
    steps += [
        ("send", "/filingtype"),
        ("press", "d:filingtype:entity_alibaba:a:no"),
        ("press", f"d:filingtype:entity_miit:a:{'yes' if i % 3 else 'no'}"),
    ]
    if i % 2:
        steps.append(("press", "d:filingtype:site_miit:a:no"))
    return steps


@dataclass(frozen=True)
class Workload:
    """Per user, the updates in the order the user sends them."""

    users: dict[int, list[dict[str, Any]]]

    @property
    def size(self) -> int:
        return sum(len(u) for u in self.users.values())

    def interleaved(self) -> Iterator[dict[str, Any]]:
        """Every user's first update, then every user's second, ... (each user's order is kept)."""
        longest = max(len(u) for u in self.users.values())
        for step in range(longest):
            for updates in self.users.values():
                if step < len(updates):
                    yield updates[step]


def build_workload(users: int, max_updates_per_user: int | None = None) -> Workload:
    factory = UpdateFactory()
    out: dict[int, list[dict[str, Any]]] = {}
    for i in range(users):
        user = FIRST_USER + i
        lang = "zh" if i % 3 == 0 else "en"
        steps = journey(i)[:max_updates_per_user]
        out[user] = [
            factory.message(user, value, lang) if kind == "send" else factory.press(user, value, 1, lang)
            for kind, value in steps
        ]
    return Workload(out)
