"""A list's item numbers put in sequence (ingest/items.py), on word boxes: no Tesseract needed."""

from __future__ import annotations

from archive.models import WordBox
from ingest.items import in_sequence


def _lines(*lines: tuple[str, ...]) -> list[WordBox]:
    """Words in reading order, one tuple of texts a line (right to left, 100 px apart)."""
    return [WordBox(t, 900 - 100 * k, 40 * n, 60, 20, 90.0, n) for n, texts in enumerate(lines) for k, t in enumerate(texts)]


def _firsts(words: list[WordBox]) -> list[str]:
    seen: dict[int, str] = {}
    for w in words:
        seen.setdefault(w.line, w.text)
    return list(seen.values())


def test_numbers_the_page_misread_follow_the_list_s_sequence():
    # As tuning letters gave them: ۱- read as (-, ۴- as ۴ without its dash, ۳- as ۲-.
    words = _lines(("دستور", "فرمایید"), ("(-", "ماسک"), ("۲-", "مایع"), ("۲-", "دستگاه"), ("۴", "گان"),
                   ("برآورد", "هزینه"))
    assert _firsts(in_sequence(words)) == ["دستور", "۱-", "۲-", "۳-", "۴-", "برآورد"]
    # Boxes and lines stay as they were.
    assert [(w.left, w.line) for w in in_sequence(words)] == [(w.left, w.line) for w in words]


def test_a_list_that_starts_at_one_needs_two_numbers_read_in_it():
    words = _lines(("۱-", "ماسک"), ("۲-", "مایع"), ("۲-", "دستگاه"), ("۲-", "گان"))
    assert _firsts(in_sequence(words)) == ["۱-", "۲-", "۳-", "۴-"]
    words = _lines(("-", "ماسک"), ("۲-", "مایع"), ("۲", "دستگاه"), ("*-", "گان"))
    assert in_sequence(words) == words  # one number fits 1, 2, 3, 4, one 0, 1, 2, 3
    # A list continued from another page: more than half its numbers must fit.
    words = _lines(("۵-", "ماسک"), ("۶-", "مایع"), ("۶-", "دستگاه"))
    assert _firsts(in_sequence(words)) == ["۵-", "۶-", "۷-"]
    words = _lines(("۵-", "ماسک"), ("۶-", "مایع"), ("۹-", "دستگاه"), ("۹-", "گان"))
    assert in_sequence(words) == words


def test_lines_that_are_no_list_are_left_alone():
    # Two items only; an English list; lines starting with counts, no dash among them.
    assert in_sequence(words := _lines(("۱-", "ماسک"), ("۳-", "مایع"))) == words
    assert in_sequence(words := _lines(("1-", "masks"), ("1-", "gloves"), ("3-", "gowns"))) == words
    assert in_sequence(words := _lines(("۵", "دستگاه"), ("۵", "عدد"), ("۷", "لیتر"))) == words
    # A line between items ends the run: where the next number stands is not known.
    words = _lines(("۱-", "ماسک"), ("۲-", "مایع"), ("کننده", "دست"), ("۲-", "گان"), ("۵-", "دستکش"))
    assert in_sequence(words) == words
