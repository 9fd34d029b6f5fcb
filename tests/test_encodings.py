"""Text files in the encodings Iranian and English offices write, through `sanad ingest`:
each is decoded, its encoding recorded on the page, and its words found by `sanad search`.

Windows-1256 has no Persian digits and no Persian yeh (ی): a real Windows-1256 letter writes
Latin digits and the Arabic yeh (ي), and that is what these files hold. ISO-8859-6 and Mac
Arabic have no keheh (ک) either: they write the Arabic kaf (ك). Search folds both.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from archive.errors import UnsupportedFile
from ingest import charset

LETTER = ["شماره: ۱۲۳۴/ص/۹۹", "تاریخ: ۱۳۹۹/۰۱/۰۵", "درخواست ۵٬۴۰۰٬۰۰۰ عدد ماسک جراحی برای زندان اوین"]
# The same letter as Windows-1256 can hold it.
LETTER_1256 = ["شماره: 1234/ص/99", "تاريخ: 1399/01/05", "درخواست 5,400,000 عدد ماسک جراحي براي زندان اوين",
               "گزارش وضعيت بهداشتي زندانيان و پيگيري چاپ فرم‌ها"]
ARABIC = "طلب شراء كمامات طبية للسجن المركزي"
# Mac Arabic has پ چ گ ژ but neither ی nor ک.
LETTER_MAC = "پرونده گچ و ژاكت براي زندان اوين"
ENGLISH = "The warden’s “urgent” request for 5,000 masks — café résumé, naïve façade"


def _ingest_and_find(sanad, tmp_path: Path, name: str, data: bytes, query: str) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    [result] = sanad.json("ingest", str(path))
    assert result["status"] == "ingested", result
    hits = sanad.json("search", query)
    assert [h["document_id"] for h in hits] == [result["document_id"]], hits
    [shown] = sanad.json("show", result["document_id"])
    return shown


@pytest.mark.parametrize("lines", [LETTER_1256[:1], LETTER_1256 * 40], ids=["short", "long"])
def test_windows_1256_persian(sanad, tmp_path, lines):
    data = "\r\n".join(lines).encode("cp1256")
    shown = _ingest_and_find(sanad, tmp_path, "nameh.txt", data, "شماره")
    page = shown["page_texts"][0]
    assert page["encoding"] == "cp1256" and page["lang"] == "fa"
    assert page["text"].startswith("شماره: 1234/ص/99")


def test_windows_1256_one_word_is_not_latin_mojibake(sanad, tmp_path):
    # Two bytes above 0x7F per letter-pair: charset-normalizer alone calls this cp1006 or worse.
    shown = _ingest_and_find(sanad, tmp_path, "w.txt", "زندان".encode("cp1256"), "زندان")
    assert shown["page_texts"][0]["encoding"] == "cp1256"
    assert shown["page_texts"][0]["text"] == "زندان"


def test_iso_8859_6_and_mac_arabic(sanad, tmp_path):
    shown = _ingest_and_find(sanad, tmp_path, "iso.txt", ARABIC.encode("iso8859_6"), "كمامات")
    assert shown["page_texts"][0]["encoding"] == "iso8859-6"
    assert shown["page_texts"][0]["text"] == ARABIC
    shown = _ingest_and_find(sanad, tmp_path, "mac.txt", LETTER_MAC.encode("mac_arabic"), "پرونده")
    assert shown["page_texts"][0]["encoding"] == "mac-arabic"
    assert shown["page_texts"][0]["text"] == LETTER_MAC


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(sanad, tmp_path, codec):
    data = "\n".join(LETTER + ["Request for 5,000 N95 masks"]).encode(codec)
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    shown = _ingest_and_find(sanad, tmp_path, "u16.txt", data, "ماسک")
    assert shown["page_texts"][0]["encoding"] == codec
    assert shown["page_texts"][0]["text"].splitlines()[1] == LETTER[1]


def test_persian_with_nul_bytes_is_read_and_says_so(sanad, tmp_path):
    # A converter that padded words with NULs, and a preallocated file's NUL tail.
    utf8 = " ".join(LETTER).encode().replace(" ".encode(), b" \0\0") + b"\0" * 500
    shown = _ingest_and_find(sanad, tmp_path, "nul.txt", utf8, "اوین")
    page = shown["page_texts"][0]
    assert page["encoding"] == "utf-8" and page["nuls_removed"] == utf8.count(0)
    assert page["text"] == " ".join(LETTER)
    text = sanad("show", shown["document_id"]).stdout
    assert f"encoding utf-8, {utf8.count(0)} NUL bytes removed" in text
    legacy = "\n".join(LETTER_1256).encode("cp1256").replace(b"\n", b"\n\0") + b"\0" * 64
    shown = _ingest_and_find(sanad, tmp_path, "nul1256.txt", legacy, "پيگيري")
    assert shown["page_texts"][0]["encoding"] == "cp1256"
    assert shown["page_texts"][0]["nuls_removed"] == legacy.count(0)


@pytest.mark.parametrize("text", [ENGLISH, "Café", ENGLISH + "\n" + "Señor Muñoz, São Paulo\n" * 40],
                         ids=["line", "one-word", "long"])
def test_english_in_windows_1252(sanad, tmp_path, text):
    shown = _ingest_and_find(sanad, tmp_path, "en.txt", text.encode("cp1252"), "café" if "café" in text else "Café")
    page = shown["page_texts"][0]
    assert page["encoding"] == "cp1252" and page["text"] == text


def test_encoding_shown_in_text_output(sanad, tmp_path):
    shown = _ingest_and_find(sanad, tmp_path, "a.txt", "\n".join(LETTER_1256).encode("cp1256"), "زندان")
    assert "(text, encoding cp1256)" in sanad("show", shown["document_id"]).stdout
    # Typed with the Persian yeh and Persian digits, found in the Arabic yeh and Latin digits.
    for query in ("زندانیان", "۱۲۳۴"):
        assert [h["document_id"] for h in sanad.json("search", query)] == [shown["document_id"]], query


def test_binary_files_are_still_unsupported(sanad, tmp_path):
    files = {"ls.txt": Path("/bin/ls").read_bytes()[:200_000] if Path("/bin/ls").exists()
             else Path(sys.executable).read_bytes()[:200_000],
             "random.txt": random.Random(7).randbytes(5000),
             "short.txt": random.Random(8).randbytes(24),
             "nuls.txt": b"\0" * 4096}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    results = sanad.json("ingest", *(str(tmp_path / n) for n in files), check=1)
    assert {r["status"] for r in results} == {"failed"}, results
    assert all("not supported" in r["error"] for r in results), results


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_never_decode(seed):
    rng = random.Random(seed)
    with pytest.raises(UnsupportedFile):
        charset.decode(rng.randbytes(rng.choice([16, 64, 700, 9000])))


def test_utf8_interleaved_with_nuls_is_not_read_as_utf16():
    data = bytes(b for c in LETTER[2].encode() for b in (c, 0))
    decoded = charset.decode(data)
    assert (decoded.text, decoded.encoding) == (LETTER[2], "utf-8")


def test_nuls_are_counted_per_form_feed_page():
    data = "صفحه یک\fصفحه دو".encode().replace(" ".encode(), b" \0")
    decoded = charset.decode(data + b"\0\0")
    assert decoded.nuls_by_page == (1, 3)


def test_html_meta_charset_is_used_when_it_checks_out():
    page = f'<html><head><meta charset="windows-1256"></head><body><p>{LETTER_1256[2]}</p></body></html>'
    decoded = charset.decode(page.encode("cp1256"), "windows-1256")
    assert decoded.encoding == "cp1256" and LETTER_1256[2] in decoded.text
