"""/progress: where the user's filing stands, moved a stage at a time, with reminders planned."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Literal

from dialogs import actions
from dialogs.calendar_file import FILENAME, ics
from dialogs.effects import SetReminders, SetStage
from dialogs.feature import Feature, Flow, data
from dialogs.ports import ProgressRecord, UserData
from dialogs.readiness import server_from_check
from dialogs.screens import Button, Document, LogEntry, Outcome, Reply
from dialogs.session import Session
from dialogs.stage_date import datable, given_day
from knowledge.deadlines import deadlines
from knowledge.domain import Language
from knowledge.progress import (
    CHINA,
    STAGES,
    Stage,
    add_business_days,
    next_stage,
    previous_stage,
    reminders_after,
)
from knowledge.readiness import server_verdict
from knowledge.statements import statement
from knowledge.texts import t


def stage_name(lang: Language, stage: Stage) -> str:
    return t(lang, f"stage.name.{stage.value}")


def screen(data: UserData, lang: Language, edit: bool = False, notice: str | None = None) -> Reply:
    return screen_of(data.progress(), lang, edit, notice)


def screen_of(progress: ProgressRecord, lang: Language, edit: bool = False, notice: str | None = None) -> Reply:
    current = progress.stage
    lines = [notice, ""] if notice else []
    lines.append(t(lang, "progress.title"))
    for stage in STAGES:
        at = progress.dates.get(stage)
        date = f" — {at.astimezone(CHINA):%Y-%m-%d}" if at else ""
        mark = "▶" if stage is current else ("✓" if STAGES.index(stage) < STAGES.index(current) else "·")
        lines.append(f"{mark} {stage_name(lang, stage)}{date}")
    if progress.dates:
        lines.append(t(lang, "progress.zone", zone=t(lang, "china_time")))
    lines += ["", t(lang, "progress.now"), statement(f"stage.{current.value}").text(lang)]
    nav: list[Button] = []
    before, after = previous_stage(current), next_stage(current)
    if before is not None:
        nav.append(
            Button(
                t(lang, "progress.back", stage=stage_name(lang, before)),
                actions.encode(actions.ProgressGo(current, before)),
            )
        )
    if after is not None:
        nav.append(
            Button(
                t(lang, "progress.next", stage=stage_name(lang, after)),
                actions.encode(actions.ProgressGo(current, after)),
            )
        )
    switch: Literal["on", "off"] = "off" if progress.reminders_enabled else "on"
    label = "progress.reminders_on" if progress.reminders_enabled else "progress.reminders_off"
    calendar = (
        ((Button(t(lang, "progress.calendar"), actions.encode(actions.ProgressCalendar())),),)
        if deadlines(progress.dates, progress.stage)
        else ()
    )
    dating = (
        (
            (
                Button(
                    t(lang, "progress.date", stage=stage_name(lang, current)),
                    actions.encode(actions.ProgressDate(current)),
                ),
            ),
        )
        if datable(current)
        else ()
    )
    keyboard = (
        *((b,) for b in reversed(nav)),
        *dating,
        *calendar,
        (Button(t(lang, label), actions.encode(actions.ProgressReminders(switch))),),
        (Button(t(lang, "btn.menu"), actions.menu("menu")),),
    )
    return Reply("\n".join(lines), keyboard, edit, "progress")


def move(
    data: UserData,
    lang: Language,
    action: actions.ProgressGo,
    now: datetime,
    out: Outcome,
    given: date | None = None,
    notices: Callable[[ProgressRecord], list[str]] = lambda _progress: [],
) -> None:
    """One stage forward or back, from where the user really is. `given`: the day the user last gave
    for the target stage (the stage date dialog keeps it), which going back dropped."""
    progress = data.progress()
    current, target = action.current, action.target
    if current is not progress.stage or target not in (next_stage(progress.stage), previous_stage(progress.stage)):
        out.toast = t(lang, "progress.stale")
        out.replies.append(screen(data, lang))
        return
    # Going back keeps the date the user first reached that stage; the stages after it are undone.
    forward = target is next_stage(current)
    at = now if forward else progress.dates.get(target, now)
    # Only reminders still ahead: back at a stage dated days ago, its SMS window is not announced.
    out.effects.append(SetStage(target, at, reminders_after(target, at, now)))
    out.toast = t(lang, "progress.moved", stage=stage_name(lang, target))
    # Forward again to a stage the user had dated: it is marked now, and says so with the day it
    # had, one tap from giving it again, rather than replace it silently. That day is not simply
    # restored: a stage reached anew (a filing started over) would hide its new SMS window.
    said = []
    if forward and given is not None and given != now.astimezone(CHINA).date():
        said.append(t(lang, "progress.date_dropped", stage=stage_name(lang, target), date=given.isoformat()))
    before = {s: d for s, d in progress.dates.items() if STAGES.index(s) < STAGES.index(target)}
    changed = replace(progress, stage=target, dates={**before, target: at})
    said += notices(changed)
    out.replies.append(screen_of(changed, lang, edit=True, notice="\n\n".join(said) or None))
    out.log.append(LogEntry("progress", None, {"from": current, "to": target}))


def switch_reminders(
    data: UserData, lang: Language, value: Literal["on", "off"], out: Outcome, notice: str | None = None
) -> None:
    enabled = value == "on"
    out.effects.append(SetReminders(enabled))
    out.toast = t(lang, "progress.reminders_now_on" if enabled else "progress.reminders_now_off")
    out.replies.append(screen_of(replace(data.progress(), reminders_enabled=enabled), lang, edit=True, notice=notice))
    out.log.append(LogEntry("progress", None, {"reminders": enabled}))


# --- the feature: /progress and its buttons (also on reminders) ------------------------------------
def _screen(flow: Flow, session: Session, edit: bool) -> Reply:
    return screen(data(session), session.language, edit, _notices(flow, session))


def _show(flow: Flow, session: Session, out: Outcome) -> None:
    flow.show(session, "progress")
    out.replies.append(screen(data(session), session.language, notice=_notices(flow, session)))


def _notices(flow: Flow, session: Session) -> str | None:
    return "\n\n".join(_notices_on(flow, session, data(session).progress())) or None


def _notices_on(flow: Flow, session: Session, progress: ProgressRecord) -> list[str]:
    """What the progress screen says first, whichever way it is reached: where the filing is made,
    and a time that has run out or is running."""
    elsewhere = _made_elsewhere(flow, session)
    return ([elsewhere] if elsewhere else []) + time_notices(progress, session)


def time_notices(progress: ProgressRecord, session: Session) -> list[str]:
    """A time that has run out or is running: the review, the SMS window, the PSB filing (also
    said on My filing)."""
    notices = (review_overdue(progress, session), sms_window_passed(progress, session), psb_due(progress, session))
    return [n for n in notices if n]


def psb_due(progress: ProgressRecord, session: Session) -> str | None:
    """Once launched: the day the PSB filing is due (30 days after launch, the guide says), and
    when that day has passed."""
    psb = next((d for d in deadlines(progress.dates, progress.stage) if d.key == "deadline.psb"), None)
    if psb is None or psb.day is None:
        return None
    launched = progress.dates[Stage.LAUNCHED].astimezone(CHINA)
    left = (psb.day - session.now.astimezone(CHINA).date()).days
    params = {"launched": f"{launched:%Y-%m-%d}", "deadline": f"{psb.day:%Y-%m-%d}"}
    if left < 0:
        return "⏳ " + t(session.language, "progress.psb_passed", **params)
    return "📅 " + t(session.language, "progress.psb_due", days=left, **params)


def sms_window_passed(progress: ProgressRecord, session: Session) -> str | None:
    """At the SMS verification, once its 24 hours are surely over: from the moment recorded, or,
    for a stage dated by its day only, once the day after it has ended (an SMS late that day still
    had hours left on the next; the calendar file counts the earliest end instead, to warn early)."""
    sms = next((d for d in deadlines(progress.dates, progress.stage) if d.key == "deadline.sms"), None)
    if sms is None:
        return None
    over = (
        session.now > sms.at
        if sms.at is not None
        else sms.day is not None and session.now.astimezone(CHINA).date() > sms.day + timedelta(days=1)
    )
    if not over:
        return None
    recorded = progress.dates[Stage.SMS_VERIFICATION].astimezone(CHINA)
    return "⏳ " + t(session.language, "progress.sms_passed", date=f"{recorded:%Y-%m-%d}")


def review_overdue(progress: ProgressRecord, session: Session) -> str | None:
    """At the preliminary review, once the 1–2 business days the guide gives have passed since the
    order was submitted (weekends skipped; public holidays are not known here, and the text says so)."""
    if progress.stage is not Stage.PRELIMINARY_REVIEW:
        return None
    submitted = progress.dates.get(Stage.SUBMITTED) or progress.dates.get(Stage.PRELIMINARY_REVIEW)
    if submitted is None or session.now < add_business_days(submitted, 2):
        return None
    day = f"{submitted.astimezone(CHINA):%Y-%m-%d}"
    return "⏳ " + t(session.language, "progress.review_overdue", date=day)


def _made_elsewhere(flow: Flow, session: Session) -> str | None:
    """These stages are those of a filing through Alibaba Cloud: said first when /check found that
    the filing is made through another vendor, or that none is needed."""
    verdict = server_verdict(server_from_check(session, flow.dialogs))
    if verdict is None:
        return None
    if not verdict.filing_required:
        return "ℹ️ " + t(session.language, "progress.not_required")
    if "vendor.other" in verdict.rules:
        return "ℹ️ " + t(session.language, "progress.vendor")
    return None


def _show_pressed(flow: Flow, session: Session, action: actions.ProgressShow, out: Outcome) -> None:
    _show(flow, session, out)


def _go(flow: Flow, session: Session, action: actions.ProgressGo, out: Outcome) -> None:
    flow.show(session, "progress")
    move(
        data(session),
        session.language,
        action,
        session.now,
        out,
        given_day(session, action.target),
        lambda changed: _notices_on(flow, session, changed),
    )


def _reminders(flow: Flow, session: Session, action: actions.ProgressReminders, out: Outcome) -> None:
    switch_reminders(data(session), session.language, action.switch, out, _notices(flow, session))


def _calendar(flow: Flow, session: Session, action: actions.ProgressCalendar, out: Outcome) -> None:
    lang, progress = session.language, data(session).progress()
    due = deadlines(progress.dates, progress.stage)
    if not due:
        out.toast = t(lang, "progress.calendar.none")
        return
    lines = [t(lang, "progress.calendar.caption")]
    today = session.now.astimezone(CHINA).date()
    for d in due:
        when = f"{d.at.astimezone(CHINA):%Y-%m-%d %H:%M}" if d.at is not None else f"{d.day:%Y-%m-%d}"
        passed = d.at < session.now if d.at is not None else d.day is not None and d.day < today
        # Kept in the list, but not as something still to do in time.
        zone = t(lang, "china_time") + (t(lang, "progress.calendar.passed") if passed else "")
        lines.append(t(lang, "progress.calendar.line", when=when, zone=zone, what=statement(d.key).text(lang)))
        if d.note is not None and d.day is not None:
            lines.append(t(lang, d.note, day=f"{d.day:%Y-%m-%d}", next=f"{d.day + timedelta(days=1):%Y-%m-%d}"))
        elif d.note is not None:
            lines.append(t(lang, d.note))
    out.replies.append(
        Reply(
            "\n".join(lines),
            # A way on from the file: back to the progress, or the menu.
            (
                (Button(t(lang, "menu.progress"), actions.encode(actions.ProgressShow())),),
                (Button(t(lang, "btn.menu"), actions.menu("menu")),),
            ),
            document=Document(FILENAME, "text", ics(session.user_id, due, lang)),
            screen="progress.calendar",
        )
    )


def _date(flow: Flow, session: Session, action: actions.ProgressDate, out: Outcome) -> None:
    """Say when the current stage happened: for the stage the button was shown for, if still there."""
    progress = data(session).progress()
    if action.stage is not progress.stage or not datable(progress.stage):
        out.toast = t(session.language, "progress.stale")
        out.replies.append(screen(data(session), session.language))
        return
    flow.start_dialog(session, flow.dialogs["stagedate"], out, edit=False)


def _not_yet(flow: Flow, session: Session, action: actions.ProgressNotYet, out: Outcome) -> None:
    out.replies.append(Reply(t(session.language, "remind.not_yet.reply"), (), False, "remind.not_yet"))


FEATURE = Feature(
    "progress",
    commands={"progress": _show},
    buttons={
        actions.ProgressShow: _show_pressed,
        actions.ProgressGo: _go,
        actions.ProgressReminders: _reminders,
        actions.ProgressNotYet: _not_yet,
        actions.ProgressCalendar: _calendar,
        actions.ProgressDate: _date,
    },
    typed={"menu.progress": actions.ProgressShow(), "progress.calendar": actions.ProgressCalendar()},
    screen=_screen,
)
