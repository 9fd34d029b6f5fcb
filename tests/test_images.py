"""Image preparation (ingest/images.py, prepare.py, sheet.py): pure functions without Tesseract;
the last tests read photos and faxes with the real Tesseract."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest
from PIL import Image

from ingest import images
from ingest.letters import degrade, make_letter, render


def test_large_image_downscaled():
    big = Image.new("L", (8000, 6000), 255)  # 48 MP: above the OCR limit, below the refusal limit
    out = images.guard_size(big)
    assert out.width * out.height <= images.MAX_PIXELS


def test_runs_of_a_mask_at_both_edges_and_inside():
    mask = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], dtype=bool)
    assert images.runs(mask) == [(0, 2), (4, 5), (6, 9)]
    assert images.runs(np.zeros(4, dtype=bool)) == []


def test_fast_median_equals_pillow():
    from PIL import ImageFilter

    page = degrade(render(make_letter(5), "titr"), "noise", seed=5).crop((0, 0, 901, 677))
    for im in (page, Image.new("L", (8, 9), 0), Image.fromarray(np.random.default_rng(1).integers(0, 256, (31, 17), dtype=np.uint8))):
        assert images.denoise(im).tobytes() == im.filter(ImageFilter.MedianFilter(3)).tobytes()


def test_even_out_matches_divide_blur_threshold():
    from PIL import ImageFilter

    gray = degrade(render(make_letter(6), "nazli"), "shading", seed=6).convert("L")
    reference = np.asarray(images.binarize(images.flatten(gray).filter(ImageFilter.GaussianBlur(1))))
    ours = np.asarray(images.even_out(gray))
    assert set(np.unique(ours)) <= {0, 255}
    assert (reference != ours).mean() < 0.001


def test_skew_angle_from_rotated_page():
    page = render(make_letter(4), "nazli").reduce(2)
    assert abs(images.skew_angle(page)) < 0.3
    for angle in (1.5, -2.0):
        turned = page.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
        assert abs(images.skew_angle(turned) - angle) <= 0.2


# --- phone photos: the sheet and its corners -----------------------------------------------------

def test_deskew_keeps_pillows_canvas_and_pixels():
    """The OpenCV rotation (four times faster) gives the canvas and placement of PIL's bicubic
    rotate(expand=True), so word boxes refer to the same page; pixels differ only by the kernel."""

    page = degrade(render(make_letter(3), "nazli"), "scan", seed=3).convert("L").crop((0, 0, 1201, 900))
    for angle in (1.3, -0.7, 2.9, 0.0):
        ours = images.deskew(page, angle)
        pils = page.rotate(-angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
        assert ours.size == pils.size and ours.mode == "L"
        diff = np.abs(np.asarray(ours, dtype=int) - np.asarray(pils, dtype=int))
        assert diff.mean() < 1.0 and np.percentile(diff, 99) < 12, (angle, diff.mean())


def test_sheet_found_in_phone_photo_and_flattened():

    from ingest import sheet

    page = render(make_letter(21), "notosans")
    photo = degrade(page, "phone", seed=21)
    corners = sheet.find_sheet(photo)
    assert corners is not None
    # The sheet fills most of the photo but not all of it, and its edges are near-parallel pairs.
    d1, d2 = corners[2] - corners[0], corners[3] - corners[1]
    area = 0.5 * abs(float(d1[0] * d2[1] - d1[1] * d2[0]))
    assert 0.4 < area / (photo.width * photo.height) < 0.85
    flat = sheet.flatten_sheet(photo, corners)
    assert abs(flat.height / flat.width - page.height / page.width) < 0.06
    # Flattened, the text lines run straight again: no skew left to correct.
    assert abs(images.skew_angle(flat)) < 0.5
    # Scans, photocopies and faxes have no desk around the sheet: left alone.
    for kind in ("clean", "photocopy", "fax", "shading"):
        assert sheet.find_sheet(degrade(page, kind, seed=21)) is None, kind


def test_a_sheet_whose_edge_runs_off_the_photo_is_found():
    from ingest import sheet
    from tests.test_find_letter import phone_photo

    page = render(make_letter(7), "notosans")
    photo = Image.open(io.BytesIO(phone_photo(page)[0])).convert("L")
    corners = sheet.find_sheet(photo)
    assert corners is not None and min(corners[:, 0]) < 0.02 * photo.width  # it touches the left border
    flat = sheet.flatten_sheet(photo, corners)
    # this photo's slant is steeper, and the sheet's proportions are taken from its longer edges
    assert abs(flat.height / flat.width - page.height / page.width) < 0.1


def test_prepare_flattens_photos_and_never_enlarges_a_fax():
    from ingest import prepare

    page = render(make_letter(22), "dejavu")
    assert "sheet" in prepare.prepare(degrade(page, "phone", seed=22)).steps
    fax = degrade(page, "fax", seed=22)
    assert prepare.grey_share(fax) < prepare.BILEVEL_GREY_SHARE
    assert prepare.prepare(fax).scale == 1.0
    assert prepare.grey_share(page) > prepare.BILEVEL_GREY_SHARE
    assert prepare.prepare(page).steps == []


# --- possibly incomplete pages ----------------------------------------------------------------

def test_ink_that_gave_no_text_flags_the_page(tmp_path, capsys):
    from PIL import ImageDraw

    from archive.catalog import now
    from archive.models import Document, Page, Receipt
    from ingest.ocr import OcrSettings, ocr_image
    from tests.fakes import FakeReader

    page = Image.new("L", (1200, 500), 255)
    draw = ImageDraw.Draw(page)
    for top in (60, 200, 340):  # three bands of ink
        draw.rectangle((200, top, 1000, top + 40), fill=0)
    # The page read finds two lines; the re-read of the third band finds nothing either.
    reader = FakeReader({("fas", 3): ["یک", "دو"]})
    settings = OcrSettings(clean=False, latin_pass=False, digit_pass=False, separator_pass=False)
    result = ocr_image(page, settings, reader=reader)
    assert result.unread_lines == 1
    assert ocr_image(page, settings, reader=FakeReader({("fas", 3): ["یک", "دو", "سه"]})).unread_lines == 0

    # Stored with the page, and shown by `sanad show` and in its JSON.
    import json

    from archive.archive import Archive
    from ui.cli import main

    archive = Archive(tmp_path / "archive")
    cat = archive.catalog
    doc = Document(id="cd" * 32, filename="photo.jpg", media_type="image/jpeg", size=1, added_at=now())
    cat.add_document(doc, Receipt(doc.id, "photo.jpg", now(), "tester", ""))
    cat.plan_pages(doc.id, 2)
    cat.save_page(Page(doc.id, 1, result.text, "ocr", "fa", 90.0, 1200, 500, [], "done", unread_lines=1))
    cat.save_page(Page(doc.id, 2, "سه", "ocr", "fa", 90.0, 1200, 500, [], "done"))
    stored = cat.page(doc.id, 1)
    assert stored.unread_lines == 1 and stored.possibly_incomplete
    assert not cat.page(doc.id, 2).possibly_incomplete
    archive.close()
    capsys.readouterr()
    main(["--archive", str(tmp_path / "archive"), "show", doc.id[:12]])
    shown = capsys.readouterr().out
    assert "--- page 1 (ocr, confidence 90, POSSIBLY INCOMPLETE" in shown
    assert "--- page 2 (ocr, confidence 90) ---" in shown
    main(["--archive", str(tmp_path / "archive"), "show", doc.id[:12], "--json"])
    pages = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["page_texts"]
    assert [(p["possibly_incomplete"], p["unread_lines"]) for p in pages] == [(True, 1), (False, 0)]


# --- with the real Tesseract: photos and faxes lose no line ----------------------------------------

@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
@pytest.mark.parametrize("kind, font", [("phone", "nazli"), ("fax", "dejavu"), ("photocopy", "naskh")])
def test_degraded_letter_types_lose_no_line(kind, font):
    from bench.ocr import cer, lost_lines
    from ingest.ocr import ocr_image

    letter = make_letter(31)
    result = ocr_image(degrade(render(letter, font), kind, seed=31))
    assert lost_lines(letter.text, result.text) == []
    # bench.ocr --types --tuning: 1.5-3.3% mean CER per type; the bound leaves room for one letter.
    assert cer(letter.text, result.text) < 0.06
    assert result.unread_lines == 0


def test_document_page_warns_of_a_possibly_incomplete_page(tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from archive.archive import Archive
    from ingest.pipeline import Ingestor

    (tmp_path / "letter.txt").write_text("نامه شماره ۱۲۳۴/ص/۹۹", encoding="utf-8")
    archive = Archive(tmp_path / "archive")
    [result] = Ingestor(archive, jobs=1, actor="test").ingest([tmp_path / "letter.txt"], source="test")
    page = archive.catalog.page(result.document_id, 1)
    page.unread_lines = 2  # as an OCRed photo whose two bands of ink gave no text would be saved
    archive.catalog.save_page(page)
    archive.close()
    monkeypatch.setenv("SANAD_ARCHIVE", str(tmp_path / "archive"))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "ui" / "app.py"), default_timeout=60)
    at.query_params["doc"] = result.document_id
    at.query_params["page"] = "1"
    at.switch_page("views/document.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Possibly incomplete: 2 band(s) of ink" in w.value for w in at.warning)
