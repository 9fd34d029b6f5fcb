"""The page strategy (ingest/ocr.py, ingest/passes.py) with a fake reader: no Tesseract needed."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from archive.errors import TooLarge
from archive.models import WordBox
from ingest import passes
from ingest.ocr import OcrSettings, ocr_image, ocr_images
from tests.fakes import FakeReader


def _page(*bands: tuple[int, int]) -> Image.Image:
    """A white page with a black bar (a stand-in for a printed line) over each row range."""
    page = Image.new("L", (800, 400), 255)
    draw = ImageDraw.Draw(page)
    for top, bottom in bands:
        draw.rectangle((100, top, 700, bottom), fill=0)
    return page


def test_passes_run_in_order_on_fake_reads():
    # Two printed lines; the page read finds only the first, so the gap pass reads the second.
    page = _page((50, 80), (200, 230))
    reader = FakeReader({("fas", 3): ["با سلام و احترام"], ("fas", 7): ["تلفن: ۰۲۱-۸۸۷۷۶۶"]})
    result = ocr_image(page, OcrSettings(clean=False), reader=reader)
    assert result.text == "با سلام و احترام\nتلفن: ۰۲۱-۸۸۷۷۶۶"
    assert [call[:2] for call in reader.calls] == [("fas", 3), ("fas", 7)]
    assert result.lang == "fa" and result.rotation == 0 and (result.width, result.height) == (800, 400)


def test_low_confidence_asks_for_orientation():
    page = _page((50, 80))
    reader = FakeReader({("fas", 3): ["x"], ("eng", 3): ["Dear Sir"]}, orientation=(0, "Latin"), conf=40)
    result = ocr_image(page, OcrSettings(clean=False, gap_pass=False), reader=reader)
    assert ("osd", 0, page.size) in reader.calls
    assert [call[:2] for call in reader.calls][:3] == [("fas", 3), ("osd", 0), ("eng", 3)]
    assert result.text == "x"  # the English reading was no more confident: the first one stays


def test_too_large_image_refused_before_reading():
    reader = FakeReader({})
    with pytest.raises(TooLarge):
        ocr_image(Image.new("L", (15000, 15000), 255), reader=reader)
    assert reader.calls == []


def test_gap_line_slotted_at_its_place():
    # The page read has lines at rows 50 and 300; the band at 200 was missed and goes between them.
    page = _page((50, 80), (200, 230), (300, 330))
    words = [WordBox("اول", 100, 50, 600, 30, 90, 0), WordBox("سوم", 100, 300, 600, 30, 90, 1)]
    reader = FakeReader({("fas", 7): ["دوم"]})
    out = passes.read_gaps(words, page, reader, "fas")
    assert [(w.text, w.line) for w in out] == [("اول", 0), ("دوم", 1), ("سوم", 2)]
    assert out[1].top == 200  # in page coordinates, not the crop's


def test_no_gap_no_read():
    page = _page((50, 80))
    reader = FakeReader({})
    words = [WordBox("اول", 100, 50, 600, 30, 90, 0)]
    assert passes.read_gaps(words, page, reader, "fas") == words
    assert reader.calls == []


def test_a_weak_line_read_alone_replaces_the_page_s_reading_when_more_confident():
    # As on a tuning photocopy: the page read garbled one clean item line at confidence 26.
    page = _page((50, 80), (200, 230))
    words = [WordBox("با", 500, 50, 200, 30, 92, 0), WordBox("سلام", 100, 50, 300, 30, 91, 0),
             WordBox("هایگ", 500, 200, 200, 30, 28, 1), WordBox("جراخ", 100, 200, 300, 30, 24, 1)]
    out = passes.reread_weak_lines(words, page, FakeReader({("fas", 7): ["ماسک جراحی"]}), "fas")
    assert [(w.text, w.line) for w in out] == [("با", 0), ("سلام", 0), ("ماسک", 1), ("جراحی", 1)]
    assert min(w.top for w in out if w.line == 1) == 200  # in page coordinates, not the crop's
    # No more confident alone (40 against 26): the page's reading stays.
    weak = FakeReader({("fas", 7): ["ماسک جراحی"]}, conf=40)
    assert passes.reread_weak_lines(words, page, weak, "fas") == words
    # No weak line, no call.
    strong = FakeReader({})
    assert passes.reread_weak_lines(words[:2], page, strong, "fas") == words[:2] and strong.calls == []


def test_a_weak_line_of_one_wide_word_is_read_again_but_not_a_speck():
    # A Nazli tuning fax's رونوشت: came out of the page read as one weak word, ربرنوشت:.
    page = _page((50, 80), (200, 230))
    words = [WordBox("با", 500, 50, 200, 30, 92, 0), WordBox("سلام", 100, 50, 300, 30, 91, 0),
             WordBox("ربرنوشت:", 500, 200, 90, 30, 30, 1)]
    reader = FakeReader({("fas", 7): ["رونوشت:"]})
    out = passes.reread_weak_lines(words, page, reader, "fas")
    assert [(w.text, w.line) for w in out] == [("با", 0), ("سلام", 0), ("رونوشت:", 1)]
    # A speck read as a weak letter, narrower than two word heights, costs no call.
    speck = [*words[:2], WordBox("ا", 500, 200, 12, 30, 20, 1)]
    quiet = FakeReader({})
    assert passes.reread_weak_lines(speck, page, quiet, "fas") == speck and quiet.calls == []


def test_latin_term_reread_with_english_model():
    page = _page((50, 80))
    words = [WordBox("ماسک", 500, 50, 200, 30, 90, 0), WordBox("۱95", 100, 50, 200, 30, 60, 0)]
    out = passes.reread_latin(words, page, FakeReader({("eng", 6): ["N95"]}))
    assert [w.text for w in out] == ["ماسک", "N95"]
    # A reading without a Latin letter (a number) does not replace the word.
    out = passes.reread_latin(words, page, FakeReader({("eng", 6): ["195"]}))
    assert [w.text for w in out] == ["ماسک", "۱95"]


def test_latin_reading_drops_the_neighbours_bits_and_trusts_the_page_s_digits():
    # (the English model's readings of fax crops of N95 and COVID-19 in the tuning letters)
    assert passes.latin_reading("۸95", [("N95.", 2.0)]) == ("N95", 2.0)
    assert passes.latin_reading("0۷10-19", [("|", 15.0), ("COVID-19", 79.0), (",", 85.0)]) == ("COVID-19", 79.0)
    assert passes.latin_reading("0۷10-19", [(":COVID-19,", 0.0)]) == ("COVID-19", 0.0)
    assert passes.latin_reading("0۷۲0-19", [("COVID-—19", 39.0)]) == ("COVID-19", 39.0)
    # A letter like a digit where the page read that digit, in its last run of digits only.
    assert passes.latin_reading("۸95", [("N9S", 76.0)]) == ("N95", 76.0)
    assert passes.latin_reading("0۷10-1", [("COVID-I", 76.0)]) == ("COVID-1", 76.0)
    assert passes.latin_reading("505", [("SOS", 80.0)]) == ("SOS", 80.0)
    # A mark the page read at the same end is the text's own.
    assert passes.latin_reading("۸95.", [("N95.", 30.0)]) == ("N95.", 30.0)
    # Unsure and not the page's digits, or only digit-like letters: the page's reading stays.
    assert passes.latin_reading("16", [("sie.", 24.0)]) is None
    assert passes.latin_reading("۱16", [("I16", 20.0)]) is None
    assert passes.latin_reading("۸95", [("iNOS", 6.0), ("«", 71.0)]) is None
    # Two pieces with letters or digits: the crop held more than one word.
    assert passes.latin_reading("۸95", [("N95", 90.0), ("mask", 90.0)]) is None
    assert passes.latin_reading("۸95", [("895", 90.0)]) is None
    assert passes.latin_reading("1٩", [("a", 78.0)]) is None


def test_latin_reread_skips_persian_numbers_and_stops_short_of_the_neighbours():
    page = _page((50, 80))
    words = [WordBox("ماسک", 500, 50, 200, 30, 90, 0), WordBox("۵1۱۰۰", 100, 50, 200, 30, 60, 0)]
    reader = FakeReader({("eng", 6): ["Olee"]})
    assert passes.reread_latin(words, page, reader) == words  # mostly Persian digits: not a suspect
    assert reader.calls == []
    words = [WordBox("ماسک", 310, 50, 100, 30, 90, 0), WordBox("۱95", 200, 50, 100, 30, 60, 0),
             WordBox("به", 100, 50, 96, 30, 90, 0)]
    assert passes._term_box(words, 1, page) == (198, 38, 305, 92)  # half of the 4 and 10 px gaps


def test_rtl_order_puts_the_label_first():
    # Tesseract gave a mostly-digit line number first; Latin runs keep left-to-right order.
    words = [WordBox("۱۲۳۴/ص/۹۹", 100, 0, 200, 30, 90, 0), WordBox("شماره:", 400, 0, 100, 30, 90, 0),
             WordBox("COVID-19", 100, 40, 100, 30, 90, 1), WordBox("N95", 220, 40, 50, 30, 90, 1),
             WordBox("ماسک", 400, 40, 100, 30, 90, 1)]
    assert [w.text for w in passes.rtl_order(words)] == ["شماره:", "۱۲۳۴/ص/۹۹", "ماسک", "COVID-19", "N95"]


def _line(row: int, line: int, *spans: tuple[str, int]) -> list[WordBox]:
    """Words of one Tesseract line at text row `row` (40 px pitch, 20 px high), each (text, left)."""
    return [WordBox(t, left, 10 + 40 * row, 60, 20, 90, line) for t, left in spans]


def _text(words: list[WordBox]) -> list[str]:
    lines: dict[int, list[str]] = {}
    for w in passes.rtl_order(words):
        lines.setdefault(w.line, []).append(w.text)
    return [" ".join(ws) for _, ws in sorted(lines.items())]


def test_left_header_block_is_cut_off_the_lines_beside_it_and_read_after_them():
    # psm 3 glued the number/date block at the top left onto the organisation's lines at the right.
    words = (_line(0, 0, ("بسمه", 900), ("تعالی", 830), ("شماره:", 200), ("۱۲۳۴/ص/۹۹", 130))
             + _line(1, 1, ("سازمان", 900), ("زندان‌ها", 830), ("تاریخ:", 200), ("۱۳۹۹/۰۱/۰۵", 130))
             + _line(2, 2, ("جناب", 900), ("آقای", 830), ("دکتر", 760)))
    assert _text(passes.layout(words)) == ["بسمه تعالی", "سازمان زندان‌ها", "شماره: ۱۲۳۴/ص/۹۹",
                                           "تاریخ: ۱۳۹۹/۰۱/۰۵", "جناب آقای دکتر"]


def test_signature_is_read_before_the_cc_list_that_starts_beside_it():
    words = (_line(0, 0, ("کاظم", 300), ("محمدی", 230))
             + _line(1, 1, ("رونوشت:", 900), ("مدیرکل", 300), ("زندان‌ها", 230))
             + _line(2, 2, ("معاونت", 900), ("بهداشت", 830)))
    assert _text(passes.layout(words)) == ["کاظم محمدی", "مدیرکل زندان‌ها", "رونوشت:", "معاونت بهداشت"]


def test_word_spaces_and_single_column_pages_are_left_alone():
    words = (_line(0, 0, ("با", 900), ("سلام", 800), ("و", 700), ("احترام", 600))
             + _line(1, 1, ("نظر", 900), ("به", 830)) + _line(3, 2, ("تلفن:", 900), ("۰۲۱-۸۸۷۷", 830)))
    assert passes.layout(words) == words


def test_a_gap_that_holds_ink_the_page_read_missed_is_no_column_gap():
    # An Amiri Bold fax: the page read gave a date a box a third of its width, and the rest of the
    # date's ink left a gap of 3.6 word heights in its line.
    words = _line(0, 0, ("تاریخ", 900), ("۷", 830), ("به", 200), ("این", 130))
    page = Image.new("L", (1000, 100), 255)
    ImageDraw.Draw(page).rectangle((300, 12, 820, 28), fill=0)  # the date's ink the box missed
    assert _text(passes.layout(words, page)) == ["تاریخ ۷ به این"]
    # The same gap blank but for specks is a column gap, as without the page.
    page = Image.new("L", (1000, 100), 255)
    page.paste(0, (400, 15, 403, 18))
    assert _text(passes.layout(words, page)) == _text(passes.layout(words)) == ["تاریخ ۷", "به این"]


def test_two_long_columns_are_read_whole_right_one_first():
    right = [w for row in range(8) for w in _line(row, row, ("راست", 900), ("ستون", 830))]
    left = [w for row in range(8) for w in _line(row, 8 + row, ("چپ", 200), ("ستون", 130))]
    assert _text(passes.layout(left + right)) == ["راست ستون"] * 8 + ["چپ ستون"] * 8


class _CountingReader(FakeReader):
    """A fake reader that also reads many images in one call, and counts those calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.many_calls: list[tuple[str, int, int]] = []

    def words_many(self, images, lang, psm):
        self.many_calls.append((lang, psm, len(images)))
        return [self.words(image, lang, psm) for image in images]


def test_pages_read_together_share_one_call_per_model_and_pass():
    pages = [_page((50, 80), (200, 230)) for _ in range(3)]
    reader = _CountingReader({("fas", 3): ["با سلام و احترام"], ("fas", 7): ["تلفن: ۰۲۱-۸۸۷۷۶۶"]})
    alone = [ocr_image(p, OcrSettings(clean=False), reader=FakeReader(reader.script)) for p in pages]
    together = ocr_images(pages, OcrSettings(clean=False), reader=reader)
    assert [r.text for r in together] == [r.text for r in alone]
    assert reader.many_calls == [("fas", 3, 3), ("fas", 7, 3)]  # the page reads, then the gap reads


class _FiguresReader(_CountingReader):
    """Also reads crops with the figures model: each call's answers are taken in turn from
    `answers`, one label per crop; the calls are counted."""

    def __init__(self, *args, answers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.answers = list(answers)
        self.line_calls: list[int] = []

    def lines(self, images, model):
        self.line_calls.append(len(images))
        return [[(self.answers.pop(0) if self.answers else "5,400,000", 90.0)] for _ in images]


def test_figures_crops_of_pages_read_together_share_one_call():
    pages = [_page((50, 80)) for _ in range(3)]
    reader = _FiguresReader({("fas", 3): ["تعداد ۵۳۴۰۰۳۰۰۰ عدد"]})
    together = ocr_images(pages, OcrSettings(clean=False, gap_pass=False), reader=reader)
    assert [r.text for r in together] == ["تعداد ۵٬۴۰۰٬۰۰۰ عدد"] * 3
    # Two crops a number, both read alike: the third crop is not read.
    assert reader.line_calls == [6]


def test_a_third_crop_is_read_only_where_the_first_two_differ():
    page = _page((50, 80))
    reader = _FiguresReader({("fas", 3): ["تعداد ۵۳۴۰۰۳۰۰۰ عدد"]}, answers=["5,400,000", "5,500,000", "5,400,000"])
    result = ocr_image(page, OcrSettings(clean=False, gap_pass=False), reader=reader)
    assert result.text == "تعداد ۵٬۴۰۰٬۰۰۰ عدد" and reader.line_calls == [2, 1]


def test_a_page_that_fails_fails_alone():
    pages = [_page((50, 80)), Image.new("L", (4, 4), 255), _page((50, 80))]
    out = ocr_images(pages, OcrSettings(clean=False, gap_pass=False), reader=_CountingReader({("fas", 3): ["سلام"]}))
    assert [type(r).__name__ for r in out] == ["OcrResult", "InputError", "OcrResult"]
    assert out[0].text == out[2].text == "سلام"


def test_item_line_mixing_persian_digits_and_latin_reads_in_logical_order():
    # As printed, right to left: ۲- | تعداد | ۱۰۰٬۰۰۰ | عدد | ماسک | N95; Tesseract's order scrambled.
    visual = ["N95", "ماسک", "عدد", "۱۰۰٬۰۰۰", "تعداد", "۲-"]
    words = [WordBox(t, 100 + 120 * k, 0, 100, 30, 90, 0) for k, t in enumerate(visual)]
    scrambled = [words[k] for k in (3, 0, 5, 1, 4, 2)]
    assert [w.text for w in passes.rtl_order(passes.layout(scrambled))] == \
        ["۲-", "تعداد", "۱۰۰٬۰۰۰", "عدد", "ماسک", "N95"]


def test_a_word_box_drawn_over_the_word_before_it_keeps_its_place():
    # bench.layout at 150 dpi: Tesseract's box of ماسک reached right over عدد; by centres the two
    # swapped (عدد جراحی ماسک style errors), by left edges they do not.
    words = [WordBox("تعداد", 1055, 0, 63, 15, 90, 0), WordBox("عدد", 927, 0, 31, 40, 90, 0),
             WordBox("ماسک", 870, 0, 172, 17, 90, 0), WordBox("جراحی", 805, 0, 56, 23, 90, 0)]
    assert [w.text for w in passes.rtl_order(words)] == ["تعداد", "عدد", "ماسک", "جراحی"]


def test_bench_counts_latin_terms_only_as_words_of_their_own():
    from bench.ocr import latin_terms

    printed = "۱- ماسک N95 به تعداد ۵٬۰۰۰ عدد\nبیماری COVID-19 و\nماسک N95"
    assert latin_terms(printed, "ماسک N95 به\nبیماری COVID-19, و\n\u200fN95\u200e") == (2, 3)
    assert latin_terms(printed, "ماسک »N95. به") == (0, 3)
