"""Number checking (ingest/numbers.py): the votes over line readings, and the whole pass with a
fake reader. No Tesseract needed."""

from __future__ import annotations

from PIL import Image, ImageDraw

from archive.models import WordBox
from ingest.numbers import check_numbers
from tests.fakes import FakeReader


def test_valid_date():
    from ingest.numbers import valid_date

    assert valid_date("۱۳۹۹/۰۱/۰۵") and valid_date("05/01/2020")
    assert not valid_date("۱۳۹۸/۱۳/۱۴") and not valid_date("۱۳۹۹/۱۲/۳۲۰") and not valid_date("۹۸/۲/۸۳۳۶")


def test_date_readings_vote():
    from ingest.numbers import _vote

    # Readings seen in bench.ocr: the page read ۱۴۰۰ as ۱۳۰۰; the line crops mostly did not.
    readings = ["تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۳۰۰/۰۳/۱۳", "۱۴۰۰/۰۳/۱۳ ۱۳۹۹/۱۰/۳۲۰"]
    assert _vote("۱۳۰۰/۰۳/۱۳.", readings) == "۱۴۰۰/۰۳/۱۳."
    # A tie keeps the page's reading; garbled readings do not count.
    assert _vote("۱۳۹۹/۰۳/۰۲", ["۱۳۹۹/۰۲/۰۲", "ب 2(", ""]) is None
    # An invalid page reading takes the valid one; ASCII digits stay ASCII.
    assert _vote("1298/09/12", ["1298/09/12", "1398/09/12"]) == "1398/09/12"


def test_letter_number_rebuilt_from_line_reading():
    from ingest.numbers import _vote

    # The page read ۸۳۳۶/ص/۹۸ in visual order with ص as "2"; the Arabic model kept the letter but
    # added strokes to the digits: the letter and order come from it, the digits from the page.
    assert _vote("٩۸/2/۸۳۳۶", ["شماره: ٩۸/۸۳۳۶", "شماره: ۸۲۳۲۳۶/ص/۹۸"]) == "۸۳۳۶/ص/۹۸"
    assert _vote("٩۸/2/۸۳۳۶", ["شماره: ٩۸/۸۳۳۶"]) is None


def test_broken_number_taken_from_agreeing_readings():
    from archive.models import WordBox
    from ingest.numbers import _agreed_number, _broken_numbers

    # A phone number the page read as low-confidence pieces, in visual order (bench.ocr, DejaVu Sans).
    pieces = [("۰", 89), ("۳۷-۷", 67), ("٩۷0۵", 31), ("۷", 79), ("تلفن:", 92)]
    words = [WordBox(text, 100 * k, 10, 90, 30, conf, 0) for k, (text, conf) in enumerate(pieces)]
    assert _broken_numbers(words) == [[0, 1, 2, 3]]
    readings = ["تلفن: ۱۲۷ ۰۳۷-۷۹۷۵", "تلفن: ۰۲۳۷-۷۹۷۵۱۲۷", "تلفن: ۰۳۷-۷۹۷۵۱۲۷", "۰۳۷-۷۹۷۵۱۲۷ تلفن:"]
    assert _agreed_number(words, [0, 1, 2, 3], readings) == "۰۳۷-۷۹۷۵۱۲۷"
    # Readings that agree on nothing leave the pieces as they are.
    assert _agreed_number(words, [0, 1, 2, 3], readings[:2]) is None
    # A number read whole and with confidence is not a suspect.
    assert _broken_numbers([WordBox("۳۶۸۰۰۰", 0, 10, 90, 30, 91.0, 0)]) == []


def test_arabic_model_reads_only_unsettled_numbers():
    from archive.models import WordBox
    from ingest.numbers import _unsettled

    words = [WordBox(text, 100 * k, 10, 90, 30, conf, k) for k, (text, conf) in
             enumerate([("۱۴۰۰/۰۳/۱۳", 90), ("۱۳۰۰/۰۳/۱۳", 90), ("۰۳۷-۷", 40), ("٩۷0۵", 40)])]
    groups = [[0], [1], [2, 3]]
    confirmed = ["تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۴۰۰/۰۳/۱۳"]
    # Every date confirmed: no call to the Arabic model, not even for the broken number.
    assert _unsettled(words, groups, [confirmed, ["تاریخ: ۱۳۰۰/۰۳/۱۳"] * 2, ["۰۳۷-۷۹۷۵"] * 2]) == []
    # A disputed date: it and the broken number are read again, the confirmed date is not.
    assert _unsettled(words, groups, [confirmed, confirmed, ["۰۳۷-۷۹۷۵"] * 2]) == [1, 2]


def test_check_numbers_takes_the_date_the_readings_agree_on():
    # The page read ۱۳۰۰ for ۱۴۰۰; both Persian re-readings of the date's line (as is and enlarged)
    # say ۱۴۰۰/۰۳/۱۳. They dispute the page, so the Arabic model is asked too (here it reads nothing),
    # and two votes beat the page's one.
    page = Image.new("L", (600, 200), 255)
    ImageDraw.Draw(page).rectangle((100, 50, 500, 80), fill=0)
    words = [WordBox("تاریخ:", 400, 50, 100, 30, 90, 0), WordBox("۱۳۰۰/۰۳/۱۳", 100, 50, 250, 30, 85, 0)]
    reader = FakeReader({("fas", 6): ["تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۴۰۰/۰۳/۱۳"]})
    out = check_numbers(words, page, reader)
    assert [w.text for w in out] == ["تاریخ:", "۱۴۰۰/۰۳/۱۳"]
    assert [call[:2] for call in reader.calls] == [("fas", 6), ("Arabic", 6)]
    assert words[1].text == "۱۳۰۰/۰۳/۱۳"  # the input is left as it was
    # Readings that confirm the page's date settle it: no Arabic call, nothing changed.
    reader = FakeReader({("fas", 6): ["تاریخ: ۱۳۰۰/۰۳/۱۳", "تاریخ: ۱۳۰۰/۰۳/۱۳"]})
    assert check_numbers(words, page, reader) == words
    assert [call[:2] for call in reader.calls] == [("fas", 6)]


def test_check_numbers_reads_nothing_without_suspects():
    words = [WordBox("سلام", 0, 0, 50, 20, 90, 0), WordBox("۳۶۸۰۰۰", 60, 0, 50, 20, 91, 0)]
    reader = FakeReader({})
    assert check_numbers(words, Image.new("L", (200, 50), 255), reader) == words
    assert reader.calls == []
