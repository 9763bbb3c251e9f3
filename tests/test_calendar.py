"""The filing deadlines as a calendar file: sent in the chat from /progress and written by the
command line; parsed back with the same library, dates right across the UTC/China date boundary."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar

from bot.cli import main
from knowledge.deadlines import deadlines
from knowledge.progress import Stage
from tests.harness import BotHarness
from tests.test_progress_reminders import advance

USER = 6161


def test_deadlines_fall_on_china_days_across_the_utc_date_boundary() -> None:
    # 17:30 UTC on 30 November is 01:30 on 1 December in China: the day counts from 1 December.
    late = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    sms = deadlines({Stage.SMS_VERIFICATION: late}, Stage.SMS_VERIFICATION)
    assert [d.at for d in sms] == [late + timedelta(hours=24)]
    due = {
        d.key: d
        for d in deadlines({Stage.SMS_VERIFICATION: late, Stage.APPROVED: late, Stage.LAUNCHED: late}, Stage.LAUNCHED)
    }
    assert "deadline.sms" not in due  # done: the verification is behind the user
    assert "deadline.icp_number" not in due  # a requirement from approval on, with no date by which
    assert due["deadline.psb"].day == date(2026, 12, 31)  # 30 days after launching on 1 December


def _parsed(content: bytes | str) -> dict[str, object]:
    cal = Calendar.from_ical(content)
    return {str(e["summary"]): e.decoded("dtstart") for e in cal.walk("VEVENT")}


async def test_the_calendar_file_is_sent_in_the_chat_and_parses_back(bot: BotHarness) -> None:
    await bot.send(USER, "/progress")
    labels = [b["text"] for b in bot.last_screen(USER).buttons]
    assert "📅 My deadlines as a calendar file" not in labels  # nothing dated yet
    await advance(bot, USER, 6)  # launched
    calls = await bot.tap(USER, "📅 My deadlines as a calendar file")
    [sent] = [c for c in calls if c.method == "sendDocument"]
    name, content = sent.params["_files"]["document"]
    assert name == "icp-filing-deadlines.ics"
    assert [b["text"] for b in sent.buttons] == ["My filing progress", "Menu"]  # a way on from the file
    events = _parsed(content)
    # The SMS verification is behind the user; the ICP number on the homepage has no date by which.
    assert set(events) == {"PSB filing due: within 30 days after launching"}
    psb = events["PSB filing due: within 30 days after launching"]
    assert isinstance(psb, date) and psb >= date.today() + timedelta(days=29)
    assert "China time" in sent.params["caption"]


async def test_the_command_line_writes_the_same_file(
    bot: BotHarness, tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await bot.send(USER, "/progress", lang="zh")
    await advance(bot, USER, 6, lang="zh")
    monkeypatch.setenv("DATABASE_URL", bot.settings.database_url)
    out = f"{tmp_path}/deadlines.ics"
    assert await asyncio.to_thread(main, ["calendar", "--user", str(USER), "--out", out, "--lang", "zh"]) == 0
    with open(out, "rb") as f:
        events = _parsed(f.read())
    assert "公安联网备案截止：上线后 30 日内" in events


def test_only_open_deadlines_in_date_order_and_the_file_has_its_stamp() -> None:
    from dialogs.calendar_file import ics

    start = datetime(2026, 11, 1, 4, tzinfo=UTC)
    dates = {Stage.SMS_VERIFICATION: start, Stage.APPROVED: start + timedelta(days=3), Stage.LAUNCHED: start}
    due = deadlines(dates, Stage.LAUNCHED)
    # The SMS window is behind the user; the ICP number on the homepage has no date by which (a tester
    # read it as a deadline that had passed the day after approval).
    assert [d.key for d in due] == ["deadline.psb"]
    assert deadlines(dates, Stage.PSB_DONE) == []  # done: not a deadline any more
    cal = Calendar.from_ical(ics(1, due, "en"))
    assert all("DTSTAMP" in event for event in cal.walk("VEVENT"))
