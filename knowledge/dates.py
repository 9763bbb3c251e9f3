"""Days as users type them, in English and Chinese: "today", "yesterday", "3 days ago", "28 Nov",
"November 28, 2026", "28/11", "2026-11-28", "今天", "昨天", "前天", "3天前", "11月28日",
"2026年11月28号", "a week ago", "一周前", "last Monday", "上周五", "周三", "十一月二十日". A day
without a year is the latest such day not after today; a weekday alone, the latest one (上周五: the
Friday of the week before this one, weeks beginning on Monday).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from knowledge.inputs import InvalidInput

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_RELATIVE = {
    "today": 0,
    "yesterday": 1,
    "day before yesterday": 2,
    "the day before yesterday": 2,
    "tomorrow": -1,
    "今天": 0,
    "今日": 0,
    "昨天": 1,
    "昨日": 1,
    "前天": 2,
    "明天": -1,
    "后天": -2,
}
OLDEST_DAYS = 366  # a stage of a filing more than a year back is taken for a typo in the year
# Text that tries to name a day but that we cannot read ("last monday", "上周一"): a hint, not the FAQ.
_DAY_LIKE = re.compile(
    r"\d|\b(?:today|tomorrow|yesterday|ago|last|next|week|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday|mon|tue|wed|thu|fri|sat|sun)\b|[今明昨前后]天|周|星期|礼拜|[号日月年]$",
    re.IGNORECASE,
)
_WEEKDAYS = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon", "一"),
            ("tuesday", "tue", "tues", "二"),
            ("wednesday", "wed", "三"),
            ("thursday", "thu", "thur", "thurs", "四"),
            ("friday", "fri", "五"),
            ("saturday", "sat", "六"),
            ("sunday", "sun", "日", "天"),
        )
    )
    for name in names
}
_WEEKDAY_EN = re.compile(
    r"(?:on\s+)?(last|this)?\s*(" + "|".join(sorted((w for w in _WEEKDAYS if w.isascii()), key=len, reverse=True)) + ")"
)
_WEEKDAY_ZH = re.compile(r"(上|这|本)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天])")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]+")
_EN_NUMBERS = {
    word: n
    for n, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": 30}
_EN_NUMBER = re.compile(r"\b(?:" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + r")\b")
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ago", re.compile(r"(\d{1,3})\s*(?:days?\s+ago|天前)")),
    ("weeks_ago", re.compile(r"(\d{1,2}|a|an|one)\s*(?:weeks?\s+ago|个?(?:周|星期|礼拜)前)")),
    ("ymd", re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")),
    ("md_zh", re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")),
    ("d_only", re.compile(r"(?:the\s+)?(\d{1,2})\s*(?:st|nd|rd|th|号|日)")),
    ("d_month", re.compile(rf"{_DAY}\s+(?:of\s+)?({_MONTH})\.?,?(?:\s+(\d{{4}}))?")),
    ("month_d", re.compile(rf"({_MONTH})\.?\s+{_DAY},?(?:\s+(\d{{4}}))?")),
    ("numeric", re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?")),
)


def parse_day(text: str, today: date) -> date | None:
    """The day the text names; None when it names none. Raises InvalidInput for a day that cannot
    be (30 February), one that could be two days (3/4), or one after today."""
    typed = " ".join(text.strip().casefold().rstrip(".。!！").split())
    if typed in _RELATIVE:
        return _checked(today - timedelta(days=_RELATIVE[typed]), today)
    weekday = _weekday(typed, today)
    if weekday is not None:
        return _checked(weekday, today)
    typed = _CN_NUMBER.sub(_cn_digits, typed)  # 十一月二十日 -> 11月20日
    typed = _EN_NUMBER.sub(lambda found: str(_EN_NUMBERS[found.group()]), typed)  # two days ago -> 2 days ago
    for kind, pattern in _PATTERNS:
        found = pattern.fullmatch(typed)
        if found is not None:
            return _checked(_day(kind, found.groups(), today), today)
    return None


def _weekday(typed: str, today: date) -> date | None:
    """A weekday: "monday" (周一) the latest one not after today; "this monday" (这周一) this week's
    (refused if still to come), "last monday" (上周一) the Monday of the week before (weeks begin on
    Monday, as in China)."""
    for pattern, text, week_before in ((_WEEKDAY_EN, typed, "last"), (_WEEKDAY_ZH, typed.replace(" ", ""), "上")):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        which, name = found.groups()
        day = _WEEKDAYS[name]
        if which is None:
            return today - timedelta(days=(today.weekday() - day) % 7)
        monday = today - timedelta(days=today.weekday() + (7 if which == week_before else 0))
        return monday + timedelta(days=day)
    return None


def _cn_digits(found: re.Match[str]) -> str:
    """A Chinese numeral as digits; one that gives a range ("两三天", "十一二号") is left as it is,
    so the day is not read (a range is no day)."""
    number = _cn_number(found.group())
    return found.group() if number is None else str(number)


def _cn_number(numeral: str) -> int | None:
    """一 to 九十九 ("二十", "三十一"), a year digit by digit (二〇二六); None for a range."""
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    if len(numeral) == 1 or len(numeral) == 4:  # a digit, or a year
        return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))
    return None


def looks_like_a_day(text: str) -> bool:
    """The text tries to name a day (a number, "last monday", "上周一"), though perhaps not readably."""
    return _DAY_LIKE.search(text.strip()) is not None


def _day(kind: str, groups: tuple[str | None, ...], today: date) -> date:
    if kind == "ago":
        return today - timedelta(days=int(groups[0] or 0))
    if kind == "weeks_ago":
        weeks = groups[0] or "1"
        return today - timedelta(weeks=int(weeks) if weeks.isdigit() else 1)
    if kind == "ymd":
        return _date(int(groups[0] or 0), int(groups[1] or 0), int(groups[2] or 0))
    if kind == "md_zh":
        return _latest(int(groups[0] or 0), int(groups[1] or 0), today)
    if kind == "d_only":  # "28号": the latest such day not after today ("31号" on 1 December: 31 October)
        nth = int(groups[0] or 0)
        month_first = today.replace(day=1)
        for _ in range(3):
            try:
                candidate = month_first.replace(day=nth)
            except ValueError:
                candidate = None
            if candidate is not None and candidate <= today:
                return candidate
            month_first = (month_first - timedelta(days=1)).replace(day=1)
        raise InvalidInput("date.invalid")
    if kind in ("d_month", "month_d"):
        named_day, named_month, named_year = groups if kind == "d_month" else (groups[1], groups[0], groups[2])
        return _in_year(_MONTHS[named_month or ""], int(named_day or 0), named_year, today)
    first, second = int(groups[0] or 0), int(groups[1] or 0)
    year = int(groups[2]) if groups[2] else None
    if year is not None and year < 100:  # 28/11/26
        year += 2000
    if first > 12 >= second:
        day, month = first, second
    elif second > 12 >= first:
        month, day = first, second
    elif first == second:
        day = month = first
    else:  # 3/4: the 3rd of April in most of the world, March 4th in the United States
        raise InvalidInput("date.ambiguous")
    return _date(year, month, day) if year is not None else _latest(month, day, today)


SOON = timedelta(days=31)  # a day without a year this close ahead is the coming one


def _in_year(month: int, day: int, year: str | None, today: date) -> date:
    return _date(int(year), month, day) if year else _latest(month, day, today)


def _latest(month: int, day: int, today: date) -> date:
    """The latest such day not after today (this year's, or an earlier year's for 29 February). A day
    that comes within the next month ("12月2日" on 1 December, "1月1日" on 31 December) is the coming
    one, and refused as still to come: it is not silently last year's."""
    for year in (today.year, today.year + 1):
        try:
            ahead = date(year, month, day)
        except ValueError:
            continue
        if today < ahead <= today + SOON:
            raise InvalidInput("date.future")
    for year in range(today.year, today.year - 8, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            if not (month == 2 and day == 29):
                raise InvalidInput("date.invalid") from None
            continue
        if candidate <= today:
            return candidate
    raise InvalidInput("date.invalid")


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidInput("date.invalid") from None


def _checked(day: date, today: date) -> date:
    if day > today:
        raise InvalidInput("date.future")
    if (today - day).days > OLDEST_DAYS:
        raise InvalidInput("date.too_old")
    return day
