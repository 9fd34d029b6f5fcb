"""Thousands separators put back from glyph shapes (ingest/separators.py). No Tesseract needed:
the numbers are rendered here and the misreadings are those the `fas` model made of them."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from archive.models import WordBox
from ingest.letters import draw_rtl, Fonts
from ingest.separators import classify, glyphs, rebuild, restore_separators

TUNING_FONTS = ["nazli", "titr", "homa", "naskh", "notosans", "dejavu"]  # bench.ocr's FONTS


def _rendered(text: str, font: str) -> tuple[Image.Image, WordBox]:
    """`text` printed at letter size (13 pt at 300 dpi) and the word box around its ink."""
    page = Image.new("L", (900, 120), 255)
    draw_rtl(ImageDraw.Draw(page), text, 850, 80, Fonts(font, 54))
    left, top, right, bottom = page.point(lambda v: 255 - v).getbbox()
    return page, WordBox("", left, top, right - left, bottom - top, 90.0, 0)


@pytest.mark.parametrize("font", TUNING_FONTS)
def test_separator_glyphs_found(font):
    page, box = _rendered("۵٬۴۰۰٬۰۰۰", font)
    assert classify(glyphs(page, box)) == "DSDZZSZZZ"


@pytest.mark.parametrize("font", TUNING_FONTS)
@pytest.mark.parametrize("misread", [
    "۵۳۴۰۰۳۰۰۰",  # both read as ۳ (Nazli, Homa)
    "۵۴۰۰۰۰۰",  # both dropped (Noto Naskh)
    "۵۳۴۰۰۰۰۰",  # one read as ۳, one dropped into a zero's box (DejaVu Sans)
    "۵٩۴۰۰/۰۰۰",  # read as ٩ and / (Titr)
    "۵۴۰۰6۰۰۰",  # a comma read as an ASCII 6 (Noto Sans Arabic), the other dropped
])
def test_separators_restored(font, misread):
    page, box = _rendered("۵٬۴۰۰٬۰۰۰", font)
    box = WordBox(misread, box.left, box.top, box.width, box.height, box.conf, box.line)
    assert [w.text for w in restore_separators([box], page)] == ["۵٬۴۰۰٬۰۰۰"]


def test_english_amount_keeps_its_commas():
    page = Image.new("L", (900, 120), 255)
    ImageDraw.Draw(page).text((50, 80), "5,400,000", font=Fonts("latin", 54).main, fill=0, anchor="ls")
    left, top, right, bottom = page.point(lambda v: 255 - v).getbbox()
    box = WordBox("5,400,000", left, top, right - left, bottom - top, 90.0, 0)
    assert [w.text for w in restore_separators([box], page)] == ["5,400,000"]


@pytest.mark.parametrize("misread", ["۸۲۹۰۰", "۸۹۰۰"])
def test_separator_kerned_into_a_digit(misread):
    # Noto Naskh Arabic leaves no blank column between ۸ and ٬: the mark is split off the digit.
    page, box = _rendered("۸٬۹۰۰", "naskh")
    assert classify(glyphs(page, box)) == "DSDZZ"
    box = WordBox(misread, box.left, box.top, box.width, box.height, box.conf, box.line)
    assert [w.text for w in restore_separators([box], page)] == ["۸٬۹۰۰"]


@pytest.mark.parametrize("font", ["nazli", "notosans"])
def test_numbers_without_separators_left_alone(font):
    for printed in ("۵۴۰۰۰۰۰", "۱۳۹۹/۰۱/۰۵", "۰۲۱-۸۸۷۷۶۶۵۵"):
        page, box = _rendered(printed, font)
        box = WordBox(printed, box.left, box.top, box.width, box.height, box.conf, box.line)
        assert restore_separators([box], page) == [box]


def test_rebuild_refuses_what_does_not_align():
    assert rebuild("۵۳۴۰۰۳۰۰۰", "DSDZZSZZZ") == "۵٬۴۰۰٬۰۰۰"
    assert rebuild("5400000", "DSDZZSZZZ") == "5,400,000"  # ASCII digits: an English page's comma
    assert rebuild("5,400,000", "DSDZZSZZZ") == "5,400,000"
    assert rebuild("۵,۴۰۰۳۰۰۰", "DSDZZSZZZ") == "۵٬۴۰۰٬۰۰۰"  # Persian digits take ٬
    assert rebuild("۵۴۰۰۰۰۰", "DDZZZZZ") is None  # no separator printed
    assert rebuild("۵۴۰۴۰۰۰", "DSDZZSZZZ") is None  # a digit read where the shapes show a zero
    assert rebuild("۵۴۰۰۰", "DSDZZSZZZ") is None  # digits lost: not a separator problem
    assert rebuild("۵۴۰۰6۰۰", "DSDZZSZZZ") is None  # Noto Sans Arabic's real reading lost a zero too
    assert rebuild("۵۴۰۰۰۰۰", "DSDZZZSZZ") is None  # not a grouping of three
    assert rebuild("۵۴۰۰۰۰۰", "") is None
