"""Dating a stage: a user who starts tracking after the fact says when a stage happened (today,
yesterday, a day typed in English or Chinese), and the reminders follow that day: those whose time
has passed are not sent, the review reminder falls due from the real submission day. Every date
shown on /progress and in a code's history says its zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from knowledge.dates import parse_day
from knowledge.deadlines import deadlines
from knowledge.inputs import InvalidInput
from knowledge.progress import CHINA, ReminderKind, Stage, add_business_days, on_day, reminders_after
from storage.models import FilingStage, Reminder
from tests.harness import BotHarness
from tests.test_progress_reminders import advance

USER = 7272
TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("today", TODAY),
        ("Yesterday", date(2026, 11, 29)),
        ("3 days ago", date(2026, 11, 27)),
        ("the day before yesterday", date(2026, 11, 28)),
        ("28 Nov", date(2026, 11, 28)),
        ("Nov 28", date(2026, 11, 28)),
        ("November 28, 2026", date(2026, 11, 28)),
        ("28th of November", date(2026, 11, 28)),
        ("28/11", date(2026, 11, 28)),
        ("11/28", date(2026, 11, 28)),
        ("28.11.2026", date(2026, 11, 28)),
        ("28/11/26", date(2026, 11, 28)),
        ("2026-11-28", date(2026, 11, 28)),
        ("2026/11/28", date(2026, 11, 28)),
        ("1 Jun", date(2026, 6, 1)),  # no year: this year's, when behind
        ("今天", TODAY),
        ("昨天", date(2026, 11, 29)),
        ("前天", date(2026, 11, 28)),
        ("3天前", date(2026, 11, 27)),
        ("11月28日", date(2026, 11, 28)),
        ("11月28号", date(2026, 11, 28)),
        ("2026年11月28日", date(2026, 11, 28)),
        # Refused before, typed by a tester: weeks ago, weekdays, Chinese numerals (TODAY is a Monday).
        ("a week ago", date(2026, 11, 23)),
        ("2 weeks ago", date(2026, 11, 16)),
        # Numbers as words were refused: "two days ago" while "a week ago" was read.
        ("two days ago", date(2026, 11, 28)),
        ("Ten days ago", date(2026, 11, 20)),
        ("three weeks ago", date(2026, 11, 9)),
        ("一周前", date(2026, 11, 23)),
        ("两个星期前", date(2026, 11, 16)),
        ("last Monday", date(2026, 11, 23)),
        ("Monday", TODAY),
        ("friday", date(2026, 11, 27)),
        ("上周五", date(2026, 11, 27)),
        ("上礼拜一", date(2026, 11, 23)),
        ("周五", date(2026, 11, 27)),
        ("这周一", TODAY),
        ("十一月二十日", date(2026, 11, 20)),
        ("二〇二六年十一月二十八日", date(2026, 11, 28)),
        ("三天前", date(2026, 11, 27)),
        # A range is no day: "两三天前" was read as 23 days ago, "十一二号" as the 10th.
        ("两三天前", None),
        ("一两周前", None),
        ("十一二号", None),
        ("hello", None),
        ("how long does the review take", None),
    ],
)
def test_days_typed_in_either_language(typed: str, day: date | None) -> None:
    assert parse_day(typed, TODAY) == day


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("3/4", "date.ambiguous"),
        ("30 Feb", "date.invalid"),
        ("2026-12-01", "date.future"),
        # No year, and nearer ahead than behind: the coming one, not silently last year's.
        ("12月1日", "date.future"),
        ("Dec 25", "date.future"),
        ("这周三", "date.future"),  # this week's Wednesday is still to come
        ("this friday", "date.future"),  # the same in English (it was last week's Friday)
    ],
)
def test_days_that_cannot_be(typed: str, key: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_day(typed, TODAY)
    assert exc.value.key == key


def test_a_day_of_december_typed_in_january_is_last_years() -> None:
    """Nearer behind than ahead: 28 December typed on 5 January is eight days ago."""
    assert parse_day("12月28日", date(2027, 1, 5)) == date(2026, 12, 28)
    assert parse_day("Dec 28", date(2027, 1, 5)) == date(2026, 12, 28)


def test_a_day_of_the_month_alone_is_the_latest_that_exists() -> None:
    assert parse_day("31号", date(2026, 12, 1)) == date(2026, 10, 31)  # no 31 November
    assert parse_day("30号", date(2026, 3, 1)) == date(2026, 1, 30)  # no 30 February
    with pytest.raises(InvalidInput):
        parse_day("32号", date(2026, 3, 1))


def test_a_day_without_a_year_is_refused_only_when_it_comes_within_a_month() -> None:
    assert parse_day("12月25日", date(2026, 7, 1)) == date(2025, 12, 25)  # half a year back: that one
    assert parse_day("7月3日", date(2026, 1, 2)) == date(2025, 7, 3)
    with pytest.raises(InvalidInput):  # tomorrow, though in the next year
        parse_day("1月1日", date(2026, 12, 31))


async def _stage_dates(bot: BotHarness) -> dict[str, datetime]:
    rows = await bot.app_service_db_run(
        lambda c: c.execute(select(FilingStage.c.stage, FilingStage.c.reached_at)).all()
    )
    return {stage: at.replace(tzinfo=UTC) if at.tzinfo is None else at for stage, at in rows}


async def _reminders(bot: BotHarness) -> dict[str, datetime]:
    rows = await bot.app_service_db_run(lambda c: c.execute(select(Reminder.c.kind, Reminder.c.due_at)).all())
    return {kind: at.replace(tzinfo=UTC) if at.tzinfo is None else at for kind, at in rows}


async def test_dating_the_review_moves_the_submission_and_its_reminder(bot: BotHarness) -> None:
    await advance(bot, USER, 2)  # the preliminary review: the review reminder still holds
    await bot.tap(USER, "📅 When did “Alibaba Cloud preliminary review” happen?")
    await bot.send(USER, "5 days ago")
    at = (await _stage_dates(bot))["submitted"]
    assert at.astimezone(CHINA).date() == datetime.now(CHINA).date() - timedelta(days=5)
    assert (await _reminders(bot))["review_overdue"] == add_business_days(at, 2)


async def test_a_submission_dated_yesterday_moves_the_review_reminder(bot: BotHarness) -> None:
    await advance(bot, USER, 1)  # order submitted, stamped now
    screen = bot.last_screen(USER)
    assert "(dates in China time)" in screen.text
    calls = await bot.tap(USER, "📅 When did “Order submitted” happen?")
    assert "type the day" in calls[-1].text and "China time" in calls[-1].text
    calls = await bot.tap(USER, "Yesterday")
    yesterday = datetime.now(CHINA).date() - timedelta(days=1)
    assert f"dated {yesterday.isoformat()} (China time)" in calls[-1].text
    at = (await _stage_dates(bot))["submitted"]
    assert at.astimezone(CHINA).date() == yesterday
    due = (await _reminders(bot))["review_overdue"]
    assert due == add_business_days(at, 2)


async def test_a_typed_day_and_the_sms_window_that_has_passed(bot: BotHarness) -> None:
    await advance(bot, USER, 3)  # the MIIT SMS verification
    assert set(await _reminders(bot)) == {"sms_soon", "sms_last_call"}
    await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    calls = await bot.send(USER, "3 days ago")
    assert "dated" in calls[-1].text
    # the stages clicked through today cannot come after it: they take the same day
    assert "Earlier stages recorded after that day now have the same day: Order submitted, Alibaba Cloud" in (
        calls[-1].text
    )
    day = datetime.now(CHINA).date() - timedelta(days=3)
    dates = await _stage_dates(bot)
    assert {s: d.astimezone(CHINA).date() for s, d in dates.items() if s != "preparing"} == {
        "submitted": day,
        "preliminary_review": day,
        "sms_verification": day,
    }
    assert await _reminders(bot) == {}  # both SMS reminders' times have passed: nothing is sent


async def test_days_that_cannot_be_get_a_hint_and_the_question_stays(bot: BotHarness) -> None:
    await advance(bot, USER, 2)  # preliminary review, after the submission today
    await bot.tap(USER, "📅 When did “Alibaba Cloud preliminary review” happen?")
    calls = await bot.send(USER, "3/4")
    assert "could be read two ways" in calls[-2].text and "When did" in calls[-1].text
    future = (datetime.now(CHINA).date() + timedelta(days=3)).isoformat()
    calls = await bot.send(USER, future)
    assert "still to come" in calls[-2].text
    calls = await bot.send(USER, "how long does the review take")  # not a day: the FAQ answers
    assert "business days" in " ".join(c.text for c in calls)


async def test_in_chinese_and_a_stale_date_button(bot: BotHarness) -> None:
    await advance(bot, USER, 1, lang="zh")
    assert "（日期为北京时间）" in bot.last_screen(USER).text
    old = bot.button(USER, "📅 “已提交订单”是哪天？")
    calls = await bot.send(USER, "昨天", lang="zh")  # not at the question yet: the FAQ, not a date
    await bot.press(USER, old, lang="zh")
    calls = await bot.send(USER, "昨天", lang="zh")
    assert "北京时间" in calls[-1].text and "已将“已提交订单”的日期记为" in calls[-1].text
    await advance(bot, USER, 1, lang="zh")  # moved on: the old date button is stale
    calls = await bot.press(USER, old, lang="zh")
    assert any(c.method == "answerCallbackQuery" and c.params.get("text") for c in calls)


async def test_back_and_next_offer_the_day_given_before(bot: BotHarness) -> None:
    await advance(bot, USER, 3)  # the MIIT SMS verification
    await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    await bot.send(USER, "3 days ago")
    day = datetime.now(CHINA).date() - timedelta(days=3)
    await bot.tap(USER, "My filing progress")
    await bot.tap(USER, "« Back to: Alibaba Cloud preliminary review")
    calls = await bot.tap(USER, "Next: MIIT SMS verification »")
    # Not silently replaced: the screen says which day it had, and how to give it again.
    assert f"had the day {day.isoformat()} before you went back" in calls[-1].text
    calls = await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    assert f"You gave {day.isoformat()} before" in calls[-1].text
    calls = await bot.tap(USER, day.isoformat())  # the earlier day, one tap away
    assert f"dated {day.isoformat()}" in calls[-1].text
    assert (await _stage_dates(bot))["sms_verification"].astimezone(CHINA).date() == day


async def test_today_keeps_the_moment_recorded_today(bot: BotHarness) -> None:
    await advance(bot, USER, 3)  # the SMS verification, stamped when Next was pressed
    clicked = (await _stage_dates(bot))["sms_verification"]
    await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    await bot.tap(USER, "Today")
    # "Today" changes nothing: the SMS deadline is not moved later to the moment of the answer.
    assert (await _stage_dates(bot))["sms_verification"] == clicked


async def test_going_back_to_a_stage_dated_back_announces_no_closed_sms_window(bot: BotHarness) -> None:
    await advance(bot, USER, 4)  # the communications administration review
    await bot.tap(USER, "📅 When did “Communications administration review” happen?")
    await bot.send(USER, "3 days ago")  # the SMS verification takes that day too
    await bot.tap(USER, "My filing progress")
    await bot.tap(USER, "« Back to: MIIT SMS verification")
    assert await _reminders(bot) == {}  # its 24 hours ran out days ago: nothing to remind of


async def test_a_dated_sms_deadline_is_the_end_of_that_day(bot: BotHarness) -> None:
    await advance(bot, USER, 3)
    await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    await bot.tap(USER, "Yesterday")
    yesterday = datetime.now(CHINA).date() - timedelta(days=1)
    await bot.tap(USER, "My filing progress")
    calls = await bot.tap(USER, "📅 My deadlines as a calendar file")
    [document] = [c for c in calls if c.method == "sendDocument"]
    caption = str(document.params.get("caption", ""))
    # The earliest the 24 hours can end (the SMS at the day's start), said as such: no made-up hour.
    # ... and that it has passed (the end of yesterday).
    assert f"• {yesterday.isoformat()} (China time, passed): ICP filing: complete the MIIT SMS verification" in caption
    assert f"by the end of {yesterday.isoformat()}" in caption
    assert f"at that hour on {(yesterday + timedelta(days=1)).isoformat()}" in caption
    ics = document.params["_files"]["document"][1]
    ics = ics.decode() if isinstance(ics, bytes) else str(ics)
    assert f"DTSTART;VALUE=DATE:{yesterday:%Y%m%d}" in ics


async def test_an_sms_deadline_to_the_minute_says_from_when_it_counts(bot: BotHarness) -> None:
    """A stage recorded now counts from the tap, not from the SMS: the calendar says so with the hour."""
    await advance(bot, USER, 3)
    calls = await bot.tap(USER, "📅 My deadlines as a calendar file")
    [document] = [c for c in calls if c.method == "sendDocument"]
    caption = str(document.params.get("caption", ""))
    assert "complete the MIIT SMS verification" in caption
    assert "24 hours from when you recorded the SMS verification stage here" in caption


def test_the_sms_deadline_has_an_hour_only_when_one_was_recorded() -> None:
    day = date(2026, 11, 28)
    [dated] = deadlines({Stage.SMS_VERIFICATION: on_day(day)}, Stage.SMS_VERIFICATION)
    assert dated.at is None and dated.day == day  # the end of that day: the earliest the 24 hours end
    clicked = datetime(2026, 11, 28, 9, 14, 5, 123, tzinfo=CHINA)
    [stamped] = deadlines({Stage.SMS_VERIFICATION: clicked}, Stage.SMS_VERIFICATION)
    assert stamped.at == clicked + timedelta(hours=24) and stamped.day is None


async def test_a_review_past_its_business_days_says_so_on_the_progress_screen(bot: BotHarness) -> None:
    """Seven business days after the order, /progress still said only "this takes 1–2 business days"."""
    await advance(bot, USER, 2)  # the preliminary review, the order submitted now
    calls = await bot.send(USER, "/progress")
    assert "⏳" not in calls[-1].text  # not yet
    await bot.tap(USER, "📅 When did “Alibaba Cloud preliminary review” happen?")
    await bot.send(USER, "10 days ago")
    calls = await bot.send(USER, "/progress")
    submitted = (datetime.now(CHINA).date() - timedelta(days=10)).isoformat()
    assert f"⏳ Your order was submitted on {submitted}" in calls[-1].text
    assert "1–2 business days Alibaba Cloud's guide gives" in calls[-1].text


async def test_an_sms_window_that_has_passed_says_so_on_the_progress_screen(bot: BotHarness) -> None:
    """With the SMS stage dated three days back, /progress still said only "within 24 hours"."""
    await advance(bot, USER, 3)  # the MIIT SMS verification, reached now
    calls = await bot.send(USER, "/progress")
    assert "⏳" not in calls[-1].text  # its 24 hours run
    await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    await bot.send(USER, "3 days ago")
    calls = await bot.send(USER, "/progress")
    recorded = (datetime.now(CHINA).date() - timedelta(days=3)).isoformat()
    assert f"The 24 hours for the SMS verification have passed, counted from {recorded}" in calls[-1].text
    assert "the filing is rejected" in calls[-1].text


async def test_an_sms_stage_dated_yesterday_by_its_day_is_not_said_to_be_over(bot: BotHarness) -> None:
    """An SMS that came late yesterday still has hours left today: "have passed" was said at once."""
    await advance(bot, USER, 3)
    await bot.tap(USER, "📅 When did “MIIT SMS verification” happen?")
    await bot.tap(USER, "Yesterday")
    calls = await bot.send(USER, "/progress")
    assert "have passed" not in calls[-1].text


def test_a_launch_dated_back_past_day_28_still_gets_its_last_psb_reminder_while_the_30_days_run() -> None:
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    [last] = reminders_after(Stage.LAUNCHED, now - timedelta(days=29), now)
    assert last.kind is ReminderKind.PSB_DAY_28 and last.due_at == now
    assert [r.kind for r in reminders_after(Stage.LAUNCHED, now - timedelta(days=25), now)] == [ReminderKind.PSB_DAY_28]
    assert reminders_after(Stage.LAUNCHED, now - timedelta(days=31), now) == []  # the 30 days are over
    # Launched 30 days ago by the day (noon is stored): the evening of the last day still counts.
    evening = datetime(2026, 12, 1, 20, 0, tzinfo=CHINA)
    assert [r.kind for r in reminders_after(Stage.LAUNCHED, on_day(date(2026, 11, 1)), evening)] == [
        ReminderKind.PSB_DAY_28
    ]
