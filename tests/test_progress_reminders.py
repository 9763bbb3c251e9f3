"""Filing progress and reminders: due times, exactly-once delivery across restarts and processes."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, select, update

from bot.reminders import ReminderDispatcher
from knowledge.progress import CHINA, ReminderKind, Stage, add_business_days, reminders_for
from storage.models import Reminder
from tests.harness import BotHarness, RecordingRequest, api_method

USER = 8080


def cst(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (cst(2026, 11, 23, 10), cst(2026, 11, 25, 10)),  # Monday -> Wednesday
        (cst(2026, 11, 26, 15), cst(2026, 11, 30, 15)),  # Thursday -> Monday
        (cst(2026, 11, 27, 9), cst(2026, 12, 1, 9)),  # Friday -> Tuesday
        (cst(2026, 11, 28, 22), cst(2026, 12, 2, 9)),  # Saturday counts from Monday 09:00
        (cst(2026, 11, 29, 1), cst(2026, 12, 2, 9)),  # Sunday too
    ],
)
def test_two_business_days(start: datetime, due: datetime) -> None:
    assert add_business_days(start, 2) == due


def test_business_days_use_china_time() -> None:
    # Friday 23:00 UTC is already Saturday 07:00 in China.
    assert add_business_days(datetime(2026, 11, 27, 23, tzinfo=UTC), 2) == cst(2026, 12, 2, 9)


def test_reminder_plan_per_stage() -> None:
    t0 = datetime(2026, 11, 23, 2, tzinfo=UTC)
    kinds = {s: [(r.kind, r.due_at - t0) for r in reminders_for(s, t0)] for s in Stage}
    assert kinds[Stage.SMS_VERIFICATION] == [
        (ReminderKind.SMS_SOON, timedelta(hours=2)),
        (ReminderKind.SMS_LAST_CALL, timedelta(hours=20)),
    ]
    assert kinds[Stage.LAUNCHED] == [
        (ReminderKind.PSB_DAY_20, timedelta(days=20)),
        (ReminderKind.PSB_DAY_28, timedelta(days=28)),
    ]
    assert kinds[Stage.APPROVED] == [(ReminderKind.ICP_NUMBER, timedelta(0))]
    # the review takes 1-2 business days after the order is submitted (the source): planned then
    assert kinds[Stage.SUBMITTED] == [(ReminderKind.REVIEW_OVERDUE, timedelta(days=2))]  # Mon -> Wed
    assert not kinds[Stage.PREPARING] and not kinds[Stage.PRELIMINARY_REVIEW] and not kinds[Stage.PSB_DONE]


async def advance(bot: BotHarness, user: int, steps: int, lang: str = "en") -> list:
    await bot.send(user, "/progress", lang=lang)
    calls: list = []
    for _ in range(steps):
        data = next(
            b["callback_data"]
            for b in bot.last_screen(user).buttons
            if b["callback_data"].startswith("p:go:") and b["text"].endswith("»")
        )
        calls = await bot.press(user, data, lang=lang)
    return calls


def reminders_sent(bot: BotHarness, user: int) -> list[str]:
    return [c.text for c in bot.request.to_chat(user, ("sendMessage",)) if c.text.startswith("⏰")]


async def test_progress_moves_forward_and_back_with_dates(bot: BotHarness) -> None:
    calls = await advance(bot, USER, 2)
    screen = calls[-1].text
    assert "▶ Alibaba Cloud preliminary review — " in screen and "✓ Order submitted — " in screen
    assert "✓ Preparing\n" in screen and "· MIIT SMS verification\n" in screen
    assert "1–2 business days" in screen
    calls = await bot.tap(USER, "« Back to: Order submitted")
    assert "▶ Order submitted" in calls[-1].text
    assert "· Alibaba Cloud preliminary review\n" in calls[-1].text  # its date is gone
    pending = await bot.app_service_db_run(lambda c: c.execute(select(Reminder.c.kind)).scalars().all())
    assert pending == ["review_overdue"]  # back at "submitted": the review is still awaited


async def test_chinese_progress(bot: BotHarness) -> None:
    calls = await advance(bot, USER, 3, lang="zh")
    assert "▶ 工信部短信核验" in calls[-1].text and "24 小时" in calls[-1].text


async def test_review_reminder_falls_due_two_business_days_after_the_order_is_submitted(bot: BotHarness) -> None:
    await advance(bot, USER, 1)  # order submitted: the review starts
    dispatcher = ReminderDispatcher(bot.service.db, bot.parts.sender, "w1")
    due = await bot.app_service_db_run(lambda c: c.execute(select(Reminder.c.due_at)).scalar_one())
    assert await dispatcher.run_once(bot.app.bot, due - timedelta(minutes=1)) == 0
    assert await dispatcher.run_once(bot.app.bot, due) == 1
    [text] = reminders_sent(bot, USER)
    assert "You submitted your filing order on" in text
    assert "usually takes 1–2 business days. Has it come back?" in text
    buttons = [b["text"] for b in bot.last_screen(USER).buttons]
    assert buttons[:2] == ["My filing progress", "Not yet"]
    calls = await bot.tap(USER, "My filing progress")
    assert "▶ Order submitted" in calls[-1].text
    await advance(bot, USER, 2)  # the review passed: on to the SMS verification
    assert await dispatcher.run_once(bot.app.bot, due + timedelta(days=10)) == 2  # both SMS reminders


async def test_psb_reminders_on_day_20_and_28(bot: BotHarness) -> None:
    await advance(bot, USER, 6)  # launched
    dispatcher = ReminderDispatcher(bot.service.db, bot.parts.sender, "w1")
    launched = datetime.now(UTC)
    assert await dispatcher.run_once(bot.app.bot, launched + timedelta(days=19)) == 1  # the ICP-number one
    assert await dispatcher.run_once(bot.app.bot, launched + timedelta(days=20, minutes=1)) == 1
    assert await dispatcher.run_once(bot.app.bot, launched + timedelta(days=28, minutes=1)) == 1
    sent = reminders_sent(bot, USER)
    assert "ICP number at the bottom of your homepage" in sent[0]
    assert "(10 days left)" in sent[1] and "(2 days left)" in sent[2]


async def test_each_reminder_sent_once_across_a_restart(sqlite_url: str) -> None:
    async with BotHarness(sqlite_url) as first:
        await advance(first, USER, 5)  # approved: the ICP-number reminder is due at once
        assert await ReminderDispatcher(first.service.db, first.parts.sender, "a").run_once(first.app.bot) == 1
    async with BotHarness(sqlite_url) as second:
        later = datetime.now(UTC) + timedelta(days=5)
        assert (
            await ReminderDispatcher(second.service.db, second.parts.sender, "b").run_once(second.app.bot, later) == 0
        )
        assert reminders_sent(second, USER) == []


class DatabaseGoneAfterAReminder(RecordingRequest):
    """Right after Telegram accepts a reminder, another connection takes the database's write lock."""

    path = ""
    lock: sqlite3.Connection | None = None

    async def do_request(self, url: str, method: str, request_data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super().do_request(url, method, request_data, *args, **kwargs)
        params = dict(request_data.parameters) if request_data is not None else {}
        if self.path and api_method(url) == "sendMessage" and str(params.get("text", "")).startswith("⏰"):
            self.lock = sqlite3.connect(self.path, isolation_level=None)
            self.lock.execute("BEGIN EXCLUSIVE")
        return result


@pytest.mark.usefixtures("quick_lock_wait")
async def test_a_reminder_sent_just_before_a_database_blip_is_not_sent_again(tmp_path: Path) -> None:
    """Its record failed, and five minutes later (its lease) the same reminder went out again."""
    path = tmp_path / "b.db"
    request = DatabaseGoneAfterAReminder()
    async with BotHarness(f"sqlite:///{path}", request=request) as harness:
        await advance(harness, USER, 5)  # approved: the ICP-number reminder is due at once
        dispatcher = ReminderDispatcher(harness.service.db, harness.parts.sender, "w")
        now = datetime.now(UTC) + timedelta(minutes=1)
        request.path = str(path)
        assert await dispatcher.run_once(harness.app.bot, now) == 1  # sent; its record did not go in
        request.path = ""
        assert request.lock is not None
        request.lock.execute("ROLLBACK")  # the database is back a moment later
        request.lock.close()
        assert await dispatcher.run_once(harness.app.bot, now + timedelta(seconds=30)) == 0
        assert await dispatcher.run_once(harness.app.bot, now + timedelta(minutes=6)) == 0
        other = ReminderDispatcher(harness.service.db, harness.parts.sender, "other process")
        assert await other.run_once(harness.app.bot, now + timedelta(minutes=6)) == 0
        assert len(reminders_sent(harness, USER)) == 1


async def test_two_applications_on_one_database_send_each_reminder_once(database_url: str) -> None:
    async with BotHarness(database_url) as one, BotHarness(database_url) as two:
        users = range(9000, 9030)
        for user in users:
            await advance(one, user, 5)  # each gets an ICP-number reminder, due now
        later = datetime.now(UTC) + timedelta(minutes=1)
        d1, d2 = (
            ReminderDispatcher(one.service.db, one.parts.sender, "one"),
            ReminderDispatcher(two.service.db, two.parts.sender, "two"),
        )
        counts = await asyncio.gather(
            *[d.run_once(app.app.bot, later) for d, app in [(d1, one), (d2, two), (d1, one), (d2, two)]]
        )
        assert sum(counts) == len(users)
        for user in users:
            assert len(reminders_sent(one, user)) + len(reminders_sent(two, user)) == 1


async def test_reminders_can_be_switched_off_and_on(bot: BotHarness) -> None:
    await advance(bot, USER, 5)
    calls = await bot.tap(USER, "🔔 Reminders on (tap to turn off)")
    assert "Reminders are off" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    dispatcher = ReminderDispatcher(bot.service.db, bot.parts.sender, "w")
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await dispatcher.run_once(bot.app.bot, later) == 0
    await bot.tap(USER, "🔕 Reminders off (tap to turn on)")
    assert await dispatcher.run_once(bot.app.bot, later) == 1


async def test_failed_send_is_retried_and_blocked_user_gets_no_more(bot: BotHarness) -> None:
    await advance(bot, USER, 5)
    dispatcher = ReminderDispatcher(bot.service.db, bot.parts.sender, "w")
    later = datetime.now(UTC) + timedelta(minutes=1)
    bot.request.fail_next("sendMessage", 500, "Internal Server Error")
    assert await dispatcher.run_once(bot.app.bot, later) == 0
    assert await dispatcher.run_once(bot.app.bot, later) == 1  # released and retried

    await advance(bot, USER + 1, 5)
    bot.request.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    assert await dispatcher.run_once(bot.app.bot, later) == 0
    assert await dispatcher.run_once(bot.app.bot, later) == 0  # blocked: not tried again
    await bot.send(USER + 1, "/start")  # they are back
    assert await dispatcher.run_once(bot.app.bot, later) == 1


async def test_expired_claim_of_a_crashed_worker_is_taken_over(bot: BotHarness) -> None:
    await advance(bot, USER, 5)
    now = datetime.now(UTC) + timedelta(minutes=1)

    def crashed_claim(conn: Connection) -> None:
        conn.execute(update(Reminder).values(claimed_by="dead", claimed_until=now + timedelta(minutes=2)))

    await bot.app_service_db_run(crashed_claim)
    dispatcher = ReminderDispatcher(bot.service.db, bot.parts.sender, "alive")
    assert await dispatcher.run_once(bot.app.bot, now) == 0  # the lease still holds
    assert await dispatcher.run_once(bot.app.bot, now + timedelta(minutes=3)) == 1
