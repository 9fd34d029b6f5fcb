"""Find dates in Persian and English text, in both calendars, and land them on one Gregorian day.

Letters carry Jalali dates (`۱۳۹۹/۰۱/۰۵`, `۵ فروردین ۱۳۹۹`, `۹۹/۱/۵`); English reports carry
Gregorian ones (`25 March 2020`, `March 25, 2020`, `2020-03-24`). Every candidate is validated with
jdatetime / datetime: an impossible date (31 Esfand, 30 Esfand of a common year, 30 February) is
simply not a date. Nothing is rolled forward.

Rules where the brief left the choice to us:
- Two-digit years are read as Jalali, only in the order year/month/day with `/` (`۹۹/۱/۵`), and only
  when the digits are Persian/Arabic-Indic or Persian letters are nearby. Window: 00-30 -> 1400-1430,
  31-99 -> 1331-1399.
- `dd/mm/yyyy` with a Gregorian year is read day-first unless the first number is above 12 and the
  second is not (then it is the US `mm/dd/yyyy`).
- Years accepted in running text: Jalali 1250-1499, Gregorian 1850-2100 (outside, a number group is
  more likely a reference number than a date).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import jdatetime

from archive.errors import QueryError
from search import letters

# Length-preserving folding: character offsets in the folded text are offsets in the original.
_FOLD = letters.table({**letters.DIGITS, "\u200c": " "}, same_length=True)


def fold(text: str) -> str:
    """Digits to ASCII, Arabic letter variants to Persian, ZWNJ to space. Same length as `text`."""
    return text.translate(_FOLD)


JALALI_MONTHS = {
    "فروردین": 1, "اردیبهشت": 2, "خرداد": 3, "تیر": 4, "مرداد": 5, "امرداد": 5,
    "شهریور": 6, "مهر": 7, "ابان": 8, "اذر": 9, "دی": 10, "بهمن": 11, "اسفند": 12,
}
# Gregorian months as Persian newspapers write them (after fold(): آ -> ا).
PERSIAN_GREGORIAN_MONTHS = {
    "ژانویه": 1, "فوریه": 2, "مارس": 3, "اوریل": 4, "مه": 5, "می": 5,
    "ژوئن": 6, "ژوین": 6, "ژوئیه": 7, "جولای": 7, "اوت": 8, "اگوست": 8, "اگوئست": 8,
    "سپتامبر": 9, "اکتبر": 10, "نوامبر": 11, "دسامبر": 12,
}
ENGLISH_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
JALALI_MONTH_DISPLAY = [
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
]
ENGLISH_MONTH_DISPLAY = [
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
]

JALALI_YEARS = range(1250, 1500)
GREGORIAN_YEARS = range(1850, 2101)


@dataclass
class FoundDate:
    day: datetime.date  # always Gregorian
    text: str  # the original text that was matched
    start: int
    end: int
    calendar: str  # "jalali" | "gregorian"


def _alternation(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


# A number group must not touch other digits, letters or separators: `۱۲۳۴/ص/۹۹`, `1.2.3.4`,
# `021-8888-1234` and `N95` stay out.
_NUMERIC = re.compile(
    r"(?<![\w/\-.])(\d{1,4})([/\-.])(\d{1,2})\2(\d{1,4})(?!\w|[/\-.]\d)"
)
_SPACE = r"[ \t\u00a0]+"
_PERSIAN_WRITTEN = re.compile(
    rf"(?<![\w])(\d{{1,2}}){_SPACE}({_alternation(list(JALALI_MONTHS) + list(PERSIAN_GREGORIAN_MONTHS))})"
    rf"(?:{_SPACE}ماه)?(?:{_SPACE}|[ \t\u00a0]*[،,][ \t\u00a0]*)(?:سال{_SPACE})?(\d{{4}}|\d{{2}})(?![\w/\-.]\d|\w)"
)
_ORD = r"(?:st|nd|rd|th)?"
_EN_MONTH = rf"({_alternation(ENGLISH_MONTHS)})\.?"
_ENGLISH_DMY = re.compile(
    rf"(?<![\w])(\d{{1,2}}){_ORD}(?:{_SPACE}of)?[ \t\u00a0\-]+{_EN_MONTH}[ \t\u00a0\-,]+(\d{{4}})(?!\w)",
    re.IGNORECASE,
)
_ENGLISH_MDY = re.compile(
    rf"(?<![\w]){_EN_MONTH}{_SPACE}(\d{{1,2}}){_ORD},?{_SPACE}(\d{{4}})(?!\w)",
    re.IGNORECASE,
)
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")


def _jalali(y: int, m: int, d: int) -> datetime.date | None:
    if y not in JALALI_YEARS:
        return None
    try:
        return jdatetime.date(y, m, d).togregorian()
    except ValueError:
        return None


def _gregorian(y: int, m: int, d: int) -> datetime.date | None:
    if y not in GREGORIAN_YEARS:
        return None
    try:
        return datetime.date(y, m, d)
    except ValueError:
        return None


def two_digit_jalali_year(yy: int) -> int:
    """`99` -> 1399, `05` -> 1405 (00-30 -> 1400s, 31-99 -> 1300s)."""
    return 1400 + yy if yy <= 30 else 1300 + yy


def _read_numeric(a: str, b: str, c: str, sep: str, persian_context: bool):
    """Return (gregorian day, calendar) for three number groups, or None."""
    x, y, z = int(a), int(b), int(c)
    if len(a) == 4:  # yyyy/mm/dd
        if x in JALALI_YEARS:
            return _jalali(x, y, z), "jalali"
        if len(c) <= 2:
            return _gregorian(x, y, z), "gregorian"
        return None
    if len(c) == 4:  # dd/mm/yyyy (or mm/dd/yyyy)
        if z in JALALI_YEARS:
            return _jalali(z, y, x), "jalali"
        if x > 12 or y <= 12:
            return _gregorian(z, y, x), "gregorian"
        return _gregorian(z, x, y), "gregorian"
    if len(a) == 2 and len(c) <= 2 and sep == "/" and persian_context:  # yy/m/d
        return _jalali(two_digit_jalali_year(x), y, z), "jalali"
    return None


def find_dates(text: str) -> list[FoundDate]:
    """Every valid date in `text`, in order of position, non-overlapping."""
    folded = fold(text)
    found: list[FoundDate] = []

    def add(match: re.Match, day: datetime.date | None, calendar: str) -> None:
        if day is not None:
            found.append(FoundDate(day, text[match.start():match.end()], match.start(), match.end(), calendar))

    for m in _NUMERIC.finditer(folded):
        a, sep, b, c = m.groups()
        original = text[m.start():m.end()]
        nearby = text[max(0, m.start() - 40):m.end() + 40]
        persian_context = bool(re.search(r"[۰-۹٠-٩]", original)) or bool(_ARABIC_SCRIPT.search(nearby))
        result = _read_numeric(a, b, c, sep, persian_context)
        if result:
            add(m, *result)

    for m in _PERSIAN_WRITTEN.finditer(folded):
        d, month, year = int(m.group(1)), m.group(2), m.group(3)
        if month in JALALI_MONTHS:
            y = int(year) if len(year) == 4 else two_digit_jalali_year(int(year))
            add(m, _jalali(y, JALALI_MONTHS[month], d), "jalali")
        elif len(year) == 4:
            add(m, _gregorian(int(year), PERSIAN_GREGORIAN_MONTHS[month], d), "gregorian")

    for m in _ENGLISH_DMY.finditer(folded):
        add(m, _gregorian(int(m.group(3)), ENGLISH_MONTHS[m.group(2).lower()], int(m.group(1))), "gregorian")
    for m in _ENGLISH_MDY.finditer(folded):
        add(m, _gregorian(int(m.group(3)), ENGLISH_MONTHS[m.group(1).lower()], int(m.group(2))), "gregorian")

    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    result: list[FoundDate] = []
    for f in found:
        if not result or f.start >= result[-1].end:
            result.append(f)
    return result


_INPUT_NUMERIC = re.compile(r"(\d{1,4})\s*([/\-.])\s*(\d{1,2})\s*\2\s*(\d{1,4})")


def parse_date_input(s: str) -> datetime.date:
    """A date typed by a user into a filter, in either calendar, as a Gregorian date.

    Accepts `1399/01/05`, `۱۳۹۹-۰۱-۰۵`, `2020-03-25`, `25/03/2020`, `25 March 2020`,
    `March 25, 2020`, `۵ فروردین ۱۳۹۹`. A numeric year up to 1500 is Jalali, above it Gregorian.
    Raises QueryError for anything else.
    """
    raw = (s or "").strip()
    if not raw:
        raise QueryError("Empty date: write a date such as 1399/01/05 or 2020-03-24.")
    folded = fold(raw)
    m = _INPUT_NUMERIC.fullmatch(folded)
    if m:
        a, _, b, c = m.groups()
        if len(a) == 4:
            y, mo, d = int(a), int(b), int(c)
        elif len(c) == 4:
            y, mo, d = int(c), int(b), int(a)
        else:
            raise QueryError(
                f"Cannot read the date {raw!r}: write the year in full, e.g. 1399/01/05 or 2020-03-24."
            )
        if y < 1000:
            raise QueryError(f"Cannot read the date {raw!r}: the year {y} is not plausible.")
        if y <= 1500:
            try:
                return jdatetime.date(y, mo, d).togregorian()
            except ValueError:
                raise QueryError(f"{raw!r} is not a valid Jalali (Persian calendar) date.") from None
        try:
            return datetime.date(y, mo, d)
        except ValueError:
            raise QueryError(f"{raw!r} is not a valid Gregorian date.") from None

    dates = find_dates(raw)
    if len(dates) == 1 and dates[0].start == 0 and dates[0].end == len(raw):
        return dates[0].day
    raise QueryError(
        f"Cannot read the date {raw!r}. Examples that work: 1399/01/05, ۵ فروردین ۱۳۹۹, "
        "2020-03-24, 24 March 2020 (a year up to 1500 is read as Jalali). "
        "Check that the day exists in that month."
    )


def to_persian_digits(s: str) -> str:
    return "".join(PERSIAN_DIGITS[int(ch)] if ch.isascii() and ch.isdigit() else ch for ch in s)


def format_both(day: datetime.date) -> str:
    """`2020-03-24 (24 March 2020) / ۱۳۹۹/۰۱/۰۵ (۵ فروردین ۱۳۹۹)`: both calendars for the UI."""
    j = jdatetime.date.fromgregorian(date=day)
    english = f"{day.day} {ENGLISH_MONTH_DISPLAY[day.month - 1]} {day.year}"
    jalali_numeric = to_persian_digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
    jalali_written = to_persian_digits(f"{j.day} {JALALI_MONTH_DISPLAY[j.month - 1]} {j.year}")
    return f"{day.isoformat()} ({english}) / {jalali_numeric} ({jalali_written})"
