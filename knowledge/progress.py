"""Filing progress: the stages of filing-process.txt, and when each reminder falls due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum

# China Standard Time has no daylight saving: a fixed offset is exact.
CHINA = timezone(timedelta(hours=8), "CST")
REVIEW_BUSINESS_DAYS = 2
PSB_DEADLINE_DAYS = 30
# A stage the user dates by its day alone is kept at noon China time, so that the reminders counted
# from it come in the daytime; that exact moment (a click practically never lands on it to the microsecond)
# marks the hour as unknown, and a deadline counted from it claims none (knowledge/deadlines.py).
DAY_ONLY = time(12)


class Stage(StrEnum):
    PREPARING = "preparing"
    SUBMITTED = "submitted"
    PRELIMINARY_REVIEW = "preliminary_review"
    SMS_VERIFICATION = "sms_verification"
    ADMIN_REVIEW = "admin_review"
    APPROVED = "approved"
    LAUNCHED = "launched"
    PSB_DONE = "psb_done"


STAGES: tuple[Stage, ...] = tuple(Stage)


def next_stage(stage: Stage) -> Stage | None:
    i = STAGES.index(stage)
    return STAGES[i + 1] if i + 1 < len(STAGES) else None


def previous_stage(stage: Stage) -> Stage | None:
    i = STAGES.index(stage)
    return STAGES[i - 1] if i > 0 else None


def on_day(day: date) -> datetime:
    """A stage reached on `day` (China time), at an hour nobody gave."""
    return datetime.combine(day, DAY_ONLY, CHINA)


def hour_known(at: datetime) -> bool:
    return at.astimezone(CHINA).time() != DAY_ONLY


class ReminderKind(StrEnum):
    REVIEW_OVERDUE = "review_overdue"
    SMS_SOON = "sms_soon"
    SMS_LAST_CALL = "sms_last_call"
    ICP_NUMBER = "icp_number"
    PSB_DAY_20 = "psb_day_20"
    PSB_DAY_28 = "psb_day_28"


@dataclass(frozen=True)
class PlannedReminder:
    kind: ReminderKind
    stage: Stage  # the reminder only makes sense while the user is at this stage
    due_at: datetime


def add_business_days(start: datetime, days: int) -> datetime:
    """`start` plus `days` working days (Monday to Friday, China time), at the same time of day.

    A start on a weekend counts from Monday 09:00. Chinese public holidays are not known here,
    so around them a reminder can come a day or two early.
    """
    local = start.astimezone(CHINA)
    if local.weekday() >= 5:
        local = datetime.combine(local.date() + timedelta(days=7 - local.weekday()), time(9), CHINA)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local.astimezone(UTC)


def reminders_for(stage: Stage, entered_at: datetime) -> list[PlannedReminder]:
    """The reminders to plan when a user enters `stage` at `entered_at`."""
    if stage is Stage.SUBMITTED:  # the review takes 1-2 business days after the order is submitted
        due = add_business_days(entered_at, REVIEW_BUSINESS_DAYS)
        return [PlannedReminder(ReminderKind.REVIEW_OVERDUE, stage, due)]
    if stage is Stage.SMS_VERIFICATION:
        return [
            PlannedReminder(ReminderKind.SMS_SOON, stage, entered_at + timedelta(hours=2)),
            PlannedReminder(ReminderKind.SMS_LAST_CALL, stage, entered_at + timedelta(hours=20)),
        ]
    if stage is Stage.APPROVED:
        return [PlannedReminder(ReminderKind.ICP_NUMBER, stage, entered_at)]
    if stage is Stage.LAUNCHED:
        return [
            PlannedReminder(ReminderKind.PSB_DAY_20, stage, entered_at + timedelta(days=20)),
            PlannedReminder(ReminderKind.PSB_DAY_28, stage, entered_at + timedelta(days=28)),
        ]
    return []


def reminders_after(stage: Stage, entered_at: datetime, now: datetime) -> list[PlannedReminder]:
    """The reminders of a stage the user dates back: only those still ahead (an SMS window that
    closed days ago is not announced), but for two that stay true when late: the review is then
    overdue, which is what its reminder says, and the ICP number still belongs on the homepage;
    and the PSB filing's last reminder while its 30 days still run."""
    always = (ReminderKind.REVIEW_OVERDUE, ReminderKind.ICP_NUMBER)
    planned = [r for r in reminders_for(stage, entered_at) if r.due_at >= now or r.kind in always]
    # A launch dated back past day 28 but not past day 30: the last PSB reminder still has something
    # to say in time, so it goes now rather than not at all.
    last_day = entered_at.astimezone(CHINA).date() + timedelta(days=PSB_DEADLINE_DAYS)
    if stage is Stage.LAUNCHED and not planned and now.astimezone(CHINA).date() <= last_day:
        planned = [PlannedReminder(ReminderKind.PSB_DAY_28, stage, now)]
    return planned


def still_relevant(kind_stage: Stage, current: Stage) -> bool:
    """A planned reminder is kept while the user stays at its stage; the ICP-number reminder
    also holds after launch (the number must stay on the homepage)."""
    if kind_stage is Stage.APPROVED:
        return current in (Stage.APPROVED, Stage.LAUNCHED, Stage.PSB_DONE)
    if kind_stage is Stage.SUBMITTED:  # the review reminder holds while the review runs
        return current in (Stage.SUBMITTED, Stage.PRELIMINARY_REVIEW)
    return current is kind_stage
