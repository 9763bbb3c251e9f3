"""The text and buttons of each reminder kind."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dialogs import actions
from dialogs.screens import Button, Reply
from knowledge.domain import Language
from knowledge.progress import CHINA, PSB_DEADLINE_DAYS, ReminderKind
from knowledge.statements import statement
from knowledge.texts import t


def render(kind: str, params: dict[str, Any], lang: Language, now: datetime) -> Reply:
    since = datetime.fromisoformat(params["since"]) if "since" in params else now
    date = f"{since.astimezone(CHINA):%Y-%m-%d}"
    kind_ = ReminderKind(kind)
    buttons: list[tuple[Button, ...]] = []
    if kind_ is ReminderKind.REVIEW_OVERDUE:
        text = statement("remind.review_overdue").text(lang, date=date)
        buttons.append(
            (
                Button(t(lang, "remind.open"), actions.encode(actions.ProgressShow())),
                Button(t(lang, "remind.not_yet"), actions.encode(actions.ProgressNotYet())),
            )
        )
    elif kind_ in (ReminderKind.SMS_SOON, ReminderKind.SMS_LAST_CALL):
        text = statement("remind.sms").text(lang)
    elif kind_ is ReminderKind.ICP_NUMBER:
        text = statement("remind.icp_number").text(lang)
    else:
        deadline = since + timedelta(days=PSB_DEADLINE_DAYS)
        days_left = max(0, (deadline.astimezone(CHINA).date() - now.astimezone(CHINA).date()).days)
        text = statement("remind.psb").text(
            lang, date=date, deadline=f"{deadline.astimezone(CHINA):%Y-%m-%d}", days=days_left
        )
    buttons.append(
        (
            Button(t(lang, "remind.open"), actions.encode(actions.ProgressShow())),
            Button(t(lang, "remind.off"), actions.encode(actions.ProgressReminders("off"))),
        )
    )
    return Reply("⏰ " + text, tuple(buttons), False, f"remind.{kind_.value}")
