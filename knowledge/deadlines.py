"""The dated deadlines of a user's filing, from the dates they reached each stage (/progress).

- the MIIT SMS verification: within 24 hours of the SMS (a further public fact: Alibaba Cloud
  help, "SMS check"), counted from when the user reached that stage; when only its day is known
  (dated back), the end of that day: the earliest the 24 hours can end, never a later hour than theirs;
- the PSB filing: within 30 days after launching (filing-process.txt).
The ICP number on the homepage is a requirement from approval on (filing-process.txt, post-filing
processing), with no date by which: not a deadline (a reminder says it on approval).
A deadline is a moment (the SMS window, its hour known) or a day in China time (the others).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from knowledge.progress import CHINA, PSB_DEADLINE_DAYS, Stage, hour_known

SMS_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Deadline:
    key: str  # the statement that says what is due
    at: datetime | None = None  # a moment (aware)
    day: date | None = None  # or a whole day, in China time
    note: str | None = None  # a text key: what the deadline assumes, said with it

    def sort_key(self) -> date:
        return self.at.astimezone(CHINA).date() if self.at is not None else self.day or date.min


def deadlines(dates: Mapping[Stage, datetime], current: Stage) -> list[Deadline]:
    """The deadlines still open where the user stands, in date order: the SMS window only while the
    verification is the current stage, the PSB filing until it is done."""
    out: list[Deadline] = []
    if current is Stage.SMS_VERIFICATION and Stage.SMS_VERIFICATION in dates:
        sms = dates[Stage.SMS_VERIFICATION]
        if hour_known(sms):
            # The moment the stage was recorded, not the SMS's own: said with it.
            out.append(Deadline("deadline.sms", at=sms + SMS_WINDOW, note="progress.calendar.sms_recorded"))
        else:  # as if the SMS came as its day began: by the end of that day
            out.append(Deadline("deadline.sms", day=sms.astimezone(CHINA).date(), note="progress.calendar.sms_day"))
    if Stage.LAUNCHED in dates and current is not Stage.PSB_DONE:
        launched = dates[Stage.LAUNCHED].astimezone(CHINA).date()
        out.append(Deadline("deadline.psb", day=launched + timedelta(days=PSB_DEADLINE_DAYS)))
    return sorted(out, key=Deadline.sort_key)
