"""Dates as the figures model's crops read them (see ingest/figure_readings.py): what letters type
(۱۳۹۸/۰۸/۲۷, in full) and what a crop's reading lost of it. Rules on strings, in the model's
ASCII label digits."""

from __future__ import annotations

import re

from ingest.numbers import valid_date

_TYPED = re.compile(r"\d{4}/\d\d/\d\d")


def typed_in_full(date: str) -> bool:
    """Whether the date has the shape letters type dates in: ۱۳۹۸/۰۸/۲۷, not ۱۳۹۸/۸/۲۷."""
    return bool(_TYPED.fullmatch(date))


def as_typed(was: str, new: str) -> bool:
    """Whether the page's reading is a date as the crop's is typed: a page's ۱۳۰۰/۰۲/۱ is valid,
    but beside a crop's ۱۴۰۰/۰۴/۱۷ it is the page read's loss of a digit (a Naskh phone photo)."""
    return valid_date(was) and not (typed_in_full(new) and not typed_in_full(was))


def slash_restored(date: str) -> str | None:
    """A date the crop read with a ۱/ as one ۷ (the two strokes make its V: 1398/1702 for
    ۱۳۹۸/۱۱/۰۲ in all crops of a Noto Sans Arabic fax), put back when exactly one ۷ so read gives
    a valid date of the typed shape ۱۳۹۸/۰۸/۲۷; None for a valid date or any other reading."""
    if valid_date(date):
        return None
    mended = {date[:i] + "1/" + date[i + 1:] for i, c in enumerate(date) if c == "7"}
    mended = [d for d in mended if typed_in_full(d) and valid_date(d)]
    return mended[0] if len(mended) == 1 else None


def year_restored(date: str) -> str | None:
    """A date whose year lost its leading ۱ (398/03/11 for ۱۳۹۸/۰۳/۱۱: the ۱ is a bare stroke the
    model reads as nothing at a crop's edge), with it put back when that gives a valid date."""
    if re.fullmatch(r"[34]\d\d/\d\d/\d\d", date) and valid_date("1" + date):
        return "1" + date
    return None
