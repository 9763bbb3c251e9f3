"""A user's filing deadlines as an iCalendar file (icalendar), importable into common calendars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from knowledge.deadlines import Deadline
from knowledge.domain import Language
from knowledge.statements import statement

FILENAME = "icp-filing-deadlines.ics"


def ics(user_id: int, deadlines: list[Deadline], lang: Language) -> str:
    cal = Calendar()
    cal.add("prodid", "-//ICP filing assistant//deadlines//EN")
    cal.add("version", "2.0")
    made = datetime.now(UTC)
    for d in deadlines:
        event = Event()
        event.add("uid", f"{d.key}-{user_id}@icp-filing-assistant")
        event.add("dtstamp", made)  # required by RFC 5545: when this file was made
        event.add("summary", statement(d.key).text(lang))
        if d.at is not None:
            event.add("dtstart", d.at)
            event.add("dtend", d.at + timedelta(minutes=30))
        else:
            assert d.day is not None
            event.add("dtstart", d.day)  # a whole day, as the user's calendar shows days
            event.add("dtend", d.day + timedelta(days=1))
        cal.add_component(event)
    return bytes(cal.to_ical()).decode()
