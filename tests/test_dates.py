"""Dates in both calendars: extraction from text, user filter input, display."""

from __future__ import annotations

import datetime

import pytest

from archive.errors import QueryError
from search.dates import find_dates, format_both, parse_date_input, two_digit_jalali_year

D = datetime.date
NOWRUZ_5 = D(2020, 3, 24)  # 1399/1/5


def days(text):
    return [f.day for f in find_dates(text)]


@pytest.mark.parametrize("text", [
    "۱۳۹۹/۰۱/۰۵",
    "۱۳۹۹-۰۱-۰۵",
    "۱۳۹۹.۰۱.۰۵",
    "1399/1/5",
    "١٣٩٩/٠١/٠٥",  # Arabic-Indic digits
    "۰۵/۰۱/۱۳۹۹",  # day first
    "۵ فروردین ۱۳۹۹",
    "۵ فروردين ۱۳۹۹",  # Arabic yeh
    "۵ فروردین ماه ۱۳۹۹",
    "۵ فروردین، ۱۳۹۹",
    "۹۹/۱/۵",
    "۵ فروردین ۹۹",
])
def test_jalali_forms(text):
    found = find_dates(f"تاریخ: {text} شماره")
    assert [f.day for f in found] == [NOWRUZ_5]
    assert found[0].calendar == "jalali"
    assert found[0].text == text


@pytest.mark.parametrize("text,day", [
    ("25 March 2020", D(2020, 3, 25)),
    ("March 25, 2020", D(2020, 3, 25)),
    ("march 25 2020", D(2020, 3, 25)),
    ("25th of Mar. 2020", D(2020, 3, 25)),
    ("25-Mar-2020", D(2020, 3, 25)),
    ("Sept 1, 2021", D(2021, 9, 1)),
    ("2020-03-25", D(2020, 3, 25)),
    ("03/25/2020", D(2020, 3, 25)),  # US order, unambiguous
    ("25/03/2020", D(2020, 3, 25)),
    ("05/03/2020", D(2020, 3, 5)),  # ambiguous: read day-first
    ("۲۵ مارس ۲۰۲۰", D(2020, 3, 25)),  # Gregorian month written in Persian
    ("۲۴ آوریل ۲۰۲۰", D(2020, 4, 24)),
])
def test_gregorian_forms(text, day):
    found = find_dates(f"Report of {text}.")
    assert [f.day for f in found] == [day]
    assert found[0].calendar == "gregorian"
    assert found[0].text == text


def test_offsets_point_into_original_text():
    text = "نامه مورخ ۱۳۹۹/۰۱/۰۵ و گزارش 25 March 2020 و ۱۰ اسفند ۱۳۹۸"
    found = find_dates(text)
    assert [f.day for f in found] == [NOWRUZ_5, D(2020, 3, 25), D(2020, 2, 29)]
    for f in found:
        assert text[f.start:f.end] == f.text


def test_all_months_have_names():
    months = "فروردین اردیبهشت خرداد تیر مرداد شهریور مهر آبان آذر دی بهمن اسفند".split()
    for i, month in enumerate(months, 1):
        f = find_dates(f"۱ {month} ۱۴۰۰")
        assert len(f) == 1, month
        assert (f[0].day - D(2021, 3, 21)).days == [0, 31, 62, 93, 124, 155, 186, 216, 246, 276, 306, 336][i - 1]


def test_leap_years():
    assert days("1399/12/30") == [D(2021, 3, 20)]  # 1399 is a leap year
    assert days("1400/12/30") == []  # 1400 is not
    assert days("۳۰ اسفند ۱۴۰۰") == []
    assert days("۳۰ اسفند ۱۳۹۹") == [D(2021, 3, 20)]
    assert days("29 February 2020") == [D(2020, 2, 29)]
    assert days("29 February 2021") == []


@pytest.mark.parametrize("text", [
    "1399/12/31",  # Esfand never has 31 days
    "۳۱ اسفند ۱۳۹۹",
    "1399/07/31",  # Mehr has 30 days
    "1399/13/01",
    "1399/00/10",
    "Feb 30, 2020",
    "30 February 2020",
    "2020-02-30",
    "2020-13-01",
    "31 April 2020",
])
def test_impossible_dates_are_not_dates(text):
    assert find_dates(text) == []


@pytest.mark.parametrize("text", [
    "شماره: ۱۲۳۴/ص/۹۹",  # letter number
    "شماره ۹۹/۱۲۳۴/ص",
    "tel 021-8888-1234",
    "0912-345-6789",
    "IP 192.168.1.1",
    "version 1.2.3",
    "مبلغ ۵٬۴۰۰٬۰۰۰ ریال",
    "5.400.000 rials",
    "N95 masks, COVID-19",
    "12/3/45 in an English report",  # two-digit year without Persian context: ambiguous, skipped
    "ref 1234/56/99",
    "۹۹/۱۲/۳۴۵",
    "March 2020",  # no day
    "۵ فروردین",  # no year
])
def test_false_positives_rejected(text):
    assert find_dates(text) == []


def test_two_digit_year_window():
    assert two_digit_jalali_year(99) == 1399
    assert two_digit_jalali_year(31) == 1331
    assert two_digit_jalali_year(0) == 1400
    assert two_digit_jalali_year(2) == 1402
    assert days("۰۲/۰۷/۱۵") == [D(2023, 10, 7)]


def test_overlapping_matches_keep_one():
    assert len(find_dates("۱۳۹۹/۰۱/۰۵")) == 1


@pytest.mark.parametrize("s,day", [
    ("1399/01/05", NOWRUZ_5),
    ("۱۳۹۹-۰۱-۰۵", NOWRUZ_5),
    (" 1399/1/5 ", NOWRUZ_5),
    ("05/01/1399", NOWRUZ_5),
    ("2020-03-25", D(2020, 3, 25)),
    ("2020/3/25", D(2020, 3, 25)),
    ("25 March 2020", D(2020, 3, 25)),
    ("March 25, 2020", D(2020, 3, 25)),
    ("۵ فروردین ۱۳۹۹", NOWRUZ_5),
    ("1399/12/30", D(2021, 3, 20)),
])
def test_parse_date_input(s, day):
    assert parse_date_input(s) == day


@pytest.mark.parametrize("s", [
    "", "   ", "yesterday", "1400/12/30", "1399/12/31", "2020-02-30", "99/1/5", "0999/01/01",
    "1399/01/05 and more", "13990105", "25 Smarch 2020",
])
def test_parse_date_input_rejects_nonsense(s):
    with pytest.raises(QueryError) as err:
        parse_date_input(s)
    assert str(err.value)


def test_format_both_shows_both_calendars():
    text = format_both(NOWRUZ_5)
    assert text.startswith("2020-03-24")
    assert "24 March 2020" in text
    assert "۱۳۹۹/۰۱/۰۵" in text
    assert "۵ فروردین ۱۳۹۹" in text


def test_round_trip_every_day_of_two_years():
    day = D(2020, 3, 20)
    while day < D(2022, 3, 21):
        text = format_both(day)
        jalali = text.split(" / ")[1].split(" (")[0]
        assert parse_date_input(jalali) == day
        assert parse_date_input(day.isoformat()) == day
        day += datetime.timedelta(days=1)
