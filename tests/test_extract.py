"""Detection and text extraction for born-digital files (OCR has its own tests)."""

from __future__ import annotations

import zipfile

import pytest

from archive.errors import InputError
from ingest import detect, extract, office

LETTER = "سازمان زندان‌ها درخواست ماسک و مواد ضدعفونی کننده برای زندانیان را به وزارت بهداشت ارسال کرد"


def test_sniff_by_content_not_name(tmp_path):
    cases = {
        "a.pdf": ("hello", detect.TEXT),
        "a.txt": (b"%PDF-1.4\n", detect.PDF),
        "page.dat": ("<!DOCTYPE html><html><body><p>x</p></body></html>", detect.HTML),
        "x.jpg": (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "image/png"),
        "bin.txt": (bytes(range(256)), detect.UNKNOWN),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        assert detect.sniff(path) == expected, name
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        detect.sniff(empty)


def test_docx_pages_and_html(tmp_path):
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = (f'<w:document xmlns:w="{w}"><w:body>'
            f"<w:p><w:r><w:t>{LETTER}</w:t></w:r></w:p>"
            '<w:p><w:r><w:br w:type="page"/><w:t>Second page, N95</w:t></w:r></w:p>'
            "</w:body></w:document>")
    path = tmp_path / "letter.bin"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", body)
    assert detect.sniff(path) == detect.DOCX
    assert extract.count_pages(path, detect.DOCX) == 2
    assert extract.extract_page(path, detect.DOCX, 1).text == LETTER
    second = extract.extract_page(path, detect.DOCX, 2)
    assert second.text == "Second page, N95" and second.lang == "en"
    text = office.html_text("<html><head><script>alert(1)</script></head><body><p>زندان</p><p>prison</p></body></html>")
    assert text == "زندان\nprison"


def test_sound_text_layer_is_kept():
    assert extract.text_layer_verdict(LETTER + "\u200f") == LETTER
    assert extract.text_layer_verdict("An English page, nothing odd.") == "An English page, nothing odd."


def test_reversed_persian_text_layer_is_put_right():
    visual = "\n".join(line[::-1] for line in [LETTER, "تاریخ نامه ۱۳۹۹/۰۱/۰۵ درباره ماسک"])
    fixed = extract.text_layer_verdict(visual)
    assert fixed.splitlines()[0] == LETTER


def test_presentation_forms_are_folded():
    # "لا" written as the lam-alef ligature and letters as isolated/final presentation forms.
    text = "\ufefb\ufee3\ufe8e\ufeb3\ufedb " + LETTER
    fixed = extract.text_layer_verdict(text)
    assert "\ufefb" not in fixed and fixed.startswith("لا")


def test_unmapped_text_layer_means_ocr():
    assert extract.text_layer_verdict("(cid:12)(cid:45)(cid:99) (cid:3)") is None
    assert extract.text_layer_verdict("\ue001\ue002\ue003\ue004 \ue005\ue006") is None
    assert extract.text_layer_verdict("   \n ") is None
