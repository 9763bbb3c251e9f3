"""The workload: users doing a complete eligibility journey by buttons, then a free question.

The same update stream drives our bot and the baseline. Users are interleaved step by step, so
every user is mid-conversation at once (the 'active conversations' the memory figure is about).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from dialogs import actions
from dialogs.check import CheckDialog

# The journey: one answer to each question of /check (its question table gives the buttons), the
# path of an ECS subscription, which asks every question.
JOURNEY = {
    "location": "mainland",
    "provider": "alibaba",
    "product": "ecs",
    "billing": "subscription",
    "months": "6",
    "bandwidth": "yes",
}
STEPS: list[tuple[str, str]] = [("text", "/check")] + [
    ("press", actions.dialog("check", q.name, actions.Verb.ANSWER, JOURNEY[q.name])) for q in CheckDialog.questions
]
QUESTIONS = [
    "How long does the preliminary review take?",
    "服务码是什么？",
    "Can a pay-as-you-go instance be used for filing?",
    "香港的服务器需要备案吗？",
]
TURNS_PER_USER = len(STEPS) + 1
FIRST_USER = 1_000_000


class UpdateStream:
    def __init__(self, start_update_id: int = 1) -> None:
        self.ids = itertools.count(start_update_id)

    def message(self, user: int, text: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self.ids),
            "date": int(time.time()),
            "text": text,
            "chat": {"id": user, "type": "private", "first_name": "U"},
            "from": {"id": user, "is_bot": False, "first_name": "U", "language_code": "en"},
        }
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"update_id": next(self.ids), "message": msg}

    def press(self, user: int, data: str) -> dict[str, Any]:
        uid = next(self.ids)
        return {
            "update_id": uid,
            "callback_query": {
                "id": str(uid),
                "from": {"id": user, "is_bot": False, "first_name": "U", "language_code": "en"},
                "chat_instance": str(user),
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "text": "q",
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": 1, "is_bot": True, "first_name": "bot"},
                },
            },
        }

    def journeys(self, users: int, first_user: int = FIRST_USER) -> list[dict[str, Any]]:
        """All users' updates, interleaved: step 1 of every user, then step 2, ..."""
        out: list[dict[str, Any]] = []
        for step in range(TURNS_PER_USER):
            for i in range(users):
                user = first_user + i
                if step < len(STEPS):
                    kind, value = STEPS[step]
                    out.append(self.message(user, value) if kind == "text" else self.press(user, value))
                else:
                    out.append(self.message(user, QUESTIONS[i % len(QUESTIONS)]))
        return out
