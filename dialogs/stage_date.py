"""When did a stage of the filing happen? A user who starts tracking after submitting says so:
today, yesterday, or a day typed in either language's usual forms (knowledge/dates.py). The stage
is re-dated and its reminders planned from that day: only those still ahead, so nobody is told
about an SMS window that closed days ago (knowledge/progress.py). Days are China days; the hour
of a past day is not asked: it is kept as unknown (`on_day`), and a deadline from it claims no hour.
A day the user gave is kept with this dialog's answers: offered again when they date that stage
again, and after going back dropped it (dialogs/progress.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field

from dialogs import actions
from dialogs.effects import Effect, RedateStage, SetStage
from dialogs.feature import data
from dialogs.ports import UserData
from dialogs.screens import Button, Reply
from dialogs.session import Session
from dialogs.spec import Answers, Conversation, Dialog, Move, Question
from knowledge.dates import looks_like_a_day, parse_day
from knowledge.domain import Language
from knowledge.inputs import InvalidInput
from knowledge.progress import CHINA, Stage, on_day, previous_stage, reminders_after, still_relevant
from knowledge.texts import t


class StageDateAnswers(Answers):
    stage: str | None = None  # the stage being dated (where the user stands)
    today: str | None = None  # the China day the question was asked
    day: str | None = None  # "today", "yesterday", or a typed day (ISO)
    moved: list[str] = Field(default_factory=list)  # earlier stages that took the same day
    earlier: str | None = None  # the day (ISO) the user gave for this stage before, offered again


def _day_label(lang: Language, option: str) -> str:
    return t(lang, f"stagedate.{option}")


def datable(stage: Stage) -> bool:
    """Every stage but the first, which starts when the user starts."""
    return previous_stage(stage) is not None


class StageDateDialog(Dialog[StageDateAnswers]):
    name = "stagedate"
    answers_type = StageDateAnswers
    leaves_when_done = True
    back_to = actions.encode(actions.ProgressShow())
    questions = (Question("day", "stagedate.q", ("today", "yesterday", "earlier"), _day_label, 2),)
    screens = ("dated",)
    moves = (Move("day", "dated"),)

    def begin(self, conv: Conversation[StageDateAnswers], session: Session, dialogs: Mapping[str, Any]) -> None:
        a, stage = conv.answers, data(session).progress().stage
        earlier = _given(a, stage)
        a.stage, a.today, a.day, a.moved = stage.value, session.now.astimezone(CHINA).date().isoformat(), None, []
        a.earlier = earlier.isoformat() if earlier is not None else None

    def match_typed(self, conv: Conversation[StageDateAnswers], text: str) -> Any | None:
        option = super().match_typed(conv, text)
        if option == "earlier" and _offered(conv.answers) is None:
            return None
        if option is not None or conv.state != "day":
            return option
        day = parse_day(text, _today(conv.answers))
        if day is None and looks_like_a_day(text):
            raise InvalidInput("date.unreadable")
        return day.isoformat() if day is not None else None

    def render(self, conv: Conversation[StageDateAnswers], lang: Language, edit: bool = False) -> Reply:
        reply = super().render(conv, lang, edit)
        if conv.state != "day":
            return reply
        a, text = conv.answers, reply.text
        if a.stage is not None:
            # The question names the stage, so it cannot be one of the shared, cached question screens.
            stage = t(lang, f"stage.name.{a.stage}")
            text = t(lang, "stagedate.q", stage=stage, zone=t(lang, "china_time"))
            if a.earlier is not None:
                text += "\n" + t(lang, "stagedate.given", date=a.earlier)
        # The earlier day's button is named by the day itself (typed, it reads as that day); it is
        # left out when there is none, or when Today or Yesterday says it already.
        offered = _offered(a)
        earlier = actions.dialog(self.name, "day", actions.Verb.ANSWER, "earlier")
        keyboard: list[tuple[Button, ...]] = []
        for row in reply.buttons:
            kept = tuple(b for b in row if b.data != earlier)
            if len(kept) < len(row) and offered is not None:
                kept += (Button(offered, earlier),)
            if kept:
                keyboard.append(kept)
        return dataclasses.replace(reply, text=text, buttons=tuple(keyboard))

    def refusal(
        self, conv: Conversation[StageDateAnswers], value: Any, data: UserData | None, lang: Language
    ) -> str | None:
        if value == "earlier" and _offered(conv.answers) is None:  # a button from an earlier question
            return t(lang, "stale.button")
        return None

    def finish(self, conv: Conversation[StageDateAnswers], data: UserData | None, now: datetime) -> list[Effect]:
        a = conv.answers
        if a.stage is None or a.day is None or data is None:
            return []
        stage = Stage(a.stage)
        progress = data.progress()
        if progress.stage is not stage:  # moved on meanwhile
            return []
        day = _resolve(a, a.day)
        recorded = progress.dates.get(stage)
        if recorded is not None and recorded.astimezone(CHINA).date() == day:
            at = recorded  # the same day: the moment recorded (a click on Next) is closer to the truth
        else:
            at = now if day == now.astimezone(CHINA).date() else on_day(day)
        a.day = day.isoformat()
        # A stage cannot come before the one it follows: earlier stages recorded after this day
        # (stamped when the user clicked through them) take this day too.
        moved = [s for s, d in progress.dates.items() if s is not stage and d.astimezone(CHINA).date() > day]
        a.moved = [s.value for s in moved]
        planned = reminders_after(stage, at, now)
        if Stage.SUBMITTED in moved and still_relevant(Stage.SUBMITTED, stage):  # the review reminder
            planned += reminders_after(Stage.SUBMITTED, at, now)
        return [*(RedateStage(s, at) for s in moved), SetStage(stage, at, planned)]

    def render_screen(self, conv: Conversation[StageDateAnswers], lang: Language, edit: bool) -> Reply:
        a = conv.answers
        stage = t(lang, f"stage.name.{a.stage}")
        text = "✅ " + t(lang, "stagedate.done", stage=stage, date=a.day, zone=t(lang, "china_time"))
        if a.moved:
            names = ("、" if lang == "zh" else ", ").join(t(lang, f"stage.name.{s}") for s in a.moved)
            text += "\n" + t(lang, "stagedate.moved", stages=names)
        keyboard = (
            (Button(t(lang, "remind.open"), actions.encode(actions.ProgressShow())),),
            (Button(t(lang, "btn.menu"), actions.menu("menu")),),
        )
        return Reply(text, keyboard, edit, "stagedate.dated")

    def result_log(self, conv: Conversation[StageDateAnswers]) -> dict[str, Any] | None:
        return {"stage": conv.answers.stage, "day": conv.answers.day}


def _today(a: StageDateAnswers) -> date:
    return date.fromisoformat(a.today) if a.today else datetime.now(CHINA).date()


def _resolve(a: StageDateAnswers, value: str) -> date:
    today = _today(a)
    if value == "today":
        return today
    if value == "yesterday":
        return date.fromordinal(today.toordinal() - 1)
    if value == "earlier":  # refused when there is no earlier day (`refusal`)
        return _iso(a.earlier) or today
    return date.fromisoformat(value)


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _given(a: StageDateAnswers, stage: Stage) -> date | None:
    """The day the user last gave for `stage` in these answers (or that it took from a later one)."""
    if stage.value not in (a.stage, *a.moved):
        return None
    return _iso(a.day) if a.day is not None else _iso(a.earlier)


def _offered(a: StageDateAnswers) -> str | None:
    """The earlier day, when a button of its own is of use."""
    today = _today(a)
    return a.earlier if a.earlier not in (None, today.isoformat(), (today - timedelta(days=1)).isoformat()) else None


def given_day(session: Session, stage: Stage) -> date | None:
    """The day the user last gave for `stage`, kept with this dialog's answers, if any."""
    record = session.records.get(StageDateDialog.name)
    return _given(StageDateAnswers.model_validate(record.answers), stage) if record is not None else None
