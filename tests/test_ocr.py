"""ingest.ocr with the real Tesseract (no mocks), on synthetic letters with exact ground truth."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from archive.errors import TooLarge, ToolMissing
from bench.letters import degrade, make_english_report, make_letter, render
from bench.ocr import cer, lost_lines, normalize, recall
from ingest import images
from ingest.ocr import check_tesseract, ocr_image
from ingest.textclean import BIDI_MARKS

REPO = Path(__file__).resolve().parents[1]
TESSTEST = Path("/work/shared/corpus/ocr/tesseract-test/testing")

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")

# Bounds from `python -m bench.ocr --quick`: Sanad's CER per kind was 1.7-2.9% (mean 2.1%).
CLEAN_CER = 0.05
DEGRADED_CER = 0.06


@pytest.fixture(scope="module")
def clean_letter():
    letter = make_letter(3)
    return letter, ocr_image(render(letter, "nazli"))


def test_clean_letter(clean_letter):
    letter, result = clean_letter
    assert result.lang == "fa"
    assert result.rotation == 0
    assert cer(letter.text, result.text) < CLEAN_CER
    assert lost_lines(letter.text, result.text) == []
    assert recall(letter.dates, result.text) == (2, 2)
    assert "N95" in result.text and "COVID-19" in result.text


def test_letter_number_exact(clean_letter):
    # The fas model reads ۱۲۳۴/ص/۹۹ in visual order and loses the ص; the line re-read repairs it.
    letter, result = clean_letter
    assert normalize(letter.reference) in normalize(result.text)


def test_degraded_letter():
    letter = make_letter(11)
    result = ocr_image(degrade(render(letter, "notosans"), "scan", seed=11))
    assert cer(letter.text, result.text) < DEGRADED_CER
    # No line may be lost, the short digit lines (phone, letter number) included, and dates exact.
    assert lost_lines(letter.text, result.text) == []
    assert recall(letter.dates, result.text) == (2, 2)


def test_number_lines_in_reading_order():
    # Mostly-digit lines came out number first (Tesseract's majority direction): fixed by _rtl_order.
    letter = make_letter(9)
    result = ocr_image(degrade(render(letter, "titr"), "blur", seed=9))
    assert lost_lines(letter.text, result.text) == []
    phone = [line for line in result.text.splitlines() if "تلفن" in line]
    assert phone and phone[0].startswith("تلفن")


def test_gap_band_is_read(monkeypatch):
    # A line the layout analysis skipped is still read from its band of ink rows.
    from ingest import ocr as ocr_mod

    letter = make_letter(3)
    page = render(letter, "nazli")
    real_words = ocr_mod._words

    def drop_last_line(data):
        words = real_words(data)
        if len(words) > 50:  # the page read, not the band re-read
            last = max(w.line for w in words)
            words = [w for w in words if w.line != last]
        return words

    monkeypatch.setattr(ocr_mod, "_words", drop_last_line)
    result = ocr_image(page)
    assert lost_lines(letter.text, result.text) == []
    assert result.text.splitlines()[-1].startswith("تلفن")


def test_valid_date():
    from ingest.ocr import valid_date

    assert valid_date("۱۳۹۹/۰۱/۰۵") and valid_date("05/01/2020")
    assert not valid_date("۱۳۹۸/۱۳/۱۴") and not valid_date("۱۳۹۹/۱۲/۳۲۰") and not valid_date("۹۸/۲/۸۳۳۶")


def test_date_readings_vote():
    from ingest.ocr import _vote

    # Readings seen in bench.ocr: the page read ۱۴۰۰ as ۱۳۰۰; the line crops mostly did not.
    readings = ["تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۳۰۰/۰۳/۱۳", "۱۴۰۰/۰۳/۱۳ ۱۳۹۹/۱۰/۳۲۰"]
    assert _vote("۱۳۰۰/۰۳/۱۳.", readings) == "۱۴۰۰/۰۳/۱۳."
    # A tie keeps the page's reading; garbled readings do not count.
    assert _vote("۱۳۹۹/۰۳/۰۲", ["۱۳۹۹/۰۲/۰۲", "ب 2(", ""]) is None
    # An invalid page reading takes the valid one; ASCII digits stay ASCII.
    assert _vote("1298/09/12", ["1298/09/12", "1398/09/12"]) == "1398/09/12"


def test_letter_number_rebuilt_from_line_reading():
    from ingest.ocr import _vote

    # The page read ۸۳۳۶/ص/۹۸ in visual order with ص as "2"; the Arabic model kept the letter but
    # added strokes to the digits: the letter and order come from it, the digits from the page.
    assert _vote("٩۸/2/۸۳۳۶", ["شماره: ٩۸/۸۳۳۶", "شماره: ۸۲۳۲۳۶/ص/۹۸"]) == "۸۳۳۶/ص/۹۸"
    assert _vote("٩۸/2/۸۳۳۶", ["شماره: ٩۸/۸۳۳۶"]) is None


def test_english_page_detected():
    report = make_english_report(2)
    result = ocr_image(render(report))
    assert result.lang == "en"
    assert cer(report.text, result.text) < 0.03


def test_upside_down_page_fixed():
    letter = make_letter(4)
    result = ocr_image(degrade(render(letter, "naskh"), "rot180"))
    assert result.rotation == 180
    assert cer(letter.text, result.text) < CLEAN_CER


def test_exif_rotated_jpeg():
    letter = make_letter(5)
    page = render(letter, "nazli").rotate(90, expand=True)  # stored sideways, as phones do
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=90, exif=exif)
    buf.seek(0)
    result = ocr_image(Image.open(buf))
    assert result.rotation == 0  # EXIF alone made it upright: no OSD turn needed
    assert (result.width, result.height) == (2480, 3508)
    assert cer(letter.text, result.text) < CLEAN_CER


def test_word_boxes_cover_words(clean_letter):
    _, result = clean_letter
    assert result.words
    assert " ".join(w.text for w in result.words).split() == result.text.split()
    for w in result.words:
        assert 0 <= w.left < w.left + w.width <= result.width
        assert 0 <= w.top < w.top + w.height <= result.height
    lines = [w.line for w in result.words]
    assert lines == sorted(lines)


def test_no_bidi_marks_zwnj_kept(clean_letter):
    _, result = clean_letter
    assert result.text.translate(BIDI_MARKS) == result.text
    assert "\u200c" in result.text  # زندان‌ها keeps its ZWNJ


def test_too_large_image():
    huge = Image.new("L", (15000, 15000), 255)  # 225 MP
    with pytest.raises(TooLarge):
        ocr_image(huge)


def test_large_image_downscaled():
    big = Image.new("L", (8000, 6000), 255)  # 48 MP: above the OCR limit, below the refusal limit
    out = images.guard_size(big)
    assert out.width * out.height <= images.MAX_PIXELS


def test_missing_tesseract(monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(ToolMissing, match="tesseract-ocr-fas"):
        check_tesseract()
    with pytest.raises(ToolMissing):
        ocr_image(Image.new("L", (100, 100), 255))


def test_missing_tesseract_empty_path():
    code = ("from PIL import Image\nfrom archive.errors import ToolMissing\nfrom ingest.ocr import ocr_image\n"
            "try:\n    ocr_image(Image.new('L', (50, 50), 255))\nexcept ToolMissing as e:\n    print('MISSING', e)\n")
    env = dict(os.environ, PATH="")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert "MISSING" in out.stdout, out.stderr


def test_omp_thread_limit_set():
    assert os.environ.get("OMP_THREAD_LIMIT") == "1"


@pytest.mark.skipif(not (TESSTEST / "phototest-rotated-180.png").exists(), reason="tesseract-test corpus absent")
def test_real_rotated_english_page():
    truth = (TESSTEST / "phototest.txt").read_text(encoding="utf-8")
    result = ocr_image(Image.open(TESSTEST / "phototest-rotated-180.png"))
    assert result.rotation == 180
    assert result.lang == "en"
    assert cer(truth, result.text) < 0.05


def test_fast_median_equals_pillow():
    import numpy as np
    from PIL import ImageFilter

    page = degrade(render(make_letter(5), "titr"), "noise", seed=5).crop((0, 0, 901, 677))
    for im in (page, Image.new("L", (8, 9), 0), Image.fromarray(np.random.default_rng(1).integers(0, 256, (31, 17), dtype=np.uint8))):
        assert images.denoise(im).tobytes() == im.filter(ImageFilter.MedianFilter(3)).tobytes()


def test_even_out_matches_divide_blur_threshold():
    import numpy as np
    from PIL import ImageFilter

    gray = degrade(render(make_letter(6), "nazli"), "shading", seed=6).convert("L")
    reference = np.asarray(images.binarize(images.flatten(gray).filter(ImageFilter.GaussianBlur(1))))
    ours = np.asarray(images.even_out(gray))
    assert set(np.unique(ours)) <= {0, 255}
    assert (reference != ours).mean() < 0.001


def test_broken_number_taken_from_agreeing_readings():
    from archive.models import WordBox
    from ingest.ocr import _agreed_number, _broken_numbers

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


def test_skew_angle_from_rotated_page():
    page = render(make_letter(4), "nazli").reduce(2)
    assert abs(images.skew_angle(page)) < 0.3
    for angle in (1.5, -2.0):
        turned = page.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
        assert abs(images.skew_angle(turned) - angle) <= 0.2


def test_arabic_model_reads_only_unsettled_numbers():
    from archive.models import WordBox
    from ingest.ocr import _unsettled

    words = [WordBox(text, 100 * k, 10, 90, 30, conf, k) for k, (text, conf) in
             enumerate([("۱۴۰۰/۰۳/۱۳", 90), ("۱۳۰۰/۰۳/۱۳", 90), ("۰۳۷-۷", 40), ("٩۷0۵", 40)])]
    groups = [[0], [1], [2, 3]]
    confirmed = ["تاریخ: ۱۴۰۰/۰۳/۱۳", "تاریخ: ۱۴۰۰/۰۳/۱۳"]
    # Every date confirmed: no call to the Arabic model, not even for the broken number.
    assert _unsettled(words, groups, [confirmed, ["تاریخ: ۱۳۰۰/۰۳/۱۳"] * 2, ["۰۳۷-۷۹۷۵"] * 2]) == []
    # A disputed date: it and the broken number are read again, the confirmed date is not.
    assert _unsettled(words, groups, [confirmed, confirmed, ["۰۳۷-۷۹۷۵"] * 2]) == [1, 2]
