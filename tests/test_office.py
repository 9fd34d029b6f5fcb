"""Office files: bounded (size and compression-ratio limits) and streamed (no XML tree)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from archive.errors import InputError, TooLarge
from bench.office_memory import bomb_paragraphs, varied_paragraphs, write_docx
from ingest import detect, extract, office

REPO = Path(__file__).resolve().parent.parent
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _docx(path: Path, body: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>')
    return path


def test_docx_bomb_fails_cleanly_as_too_large(sanad, tmp_path):
    bomb = write_docx(tmp_path / "bomb.docx", bomb_paragraphs(150))
    assert bomb.stat().st_size < 2 << 20
    with pytest.raises(TooLarge, match="over the limit of 100 MB"):
        office.docx_pages(bomb)
    [result] = sanad.json("ingest", str(bomb), check=1)
    assert result["status"] == "failed" and "over the limit of 100 MB" in result["error"], result


def test_highly_compressed_docx_under_the_size_limit_is_refused_by_ratio(tmp_path):
    bomb = write_docx(tmp_path / "ratio.docx", bomb_paragraphs(20))
    with pytest.raises(TooLarge, match="zip bomb"):
        office.docx_pages(bomb)


def test_small_repetitive_docx_is_read_whatever_its_ratio(tmp_path):
    path = write_docx(tmp_path / "small.docx", bomb_paragraphs(2))
    pages = office.docx_pages(path)
    assert len(pages) == 1 and pages[0].count("زندان اوین") > 10_000


def test_docx_with_a_dtd_is_refused(tmp_path):
    laughs = ('<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>')
    path = tmp_path / "dtd.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", laughs)
    with pytest.raises(InputError, match="DTD"):
        office.docx_pages(path)


def test_multi_megabyte_docx_extracts_every_page(sanad, tmp_path):
    paragraphs = list(varied_paragraphs(6, seed=3))
    path = write_docx(tmp_path / "report.docx", paragraphs)
    assert path.stat().st_size > 500_000
    expected = "\n".join(paragraphs).split("\n\f\n")
    assert len(expected) > 10
    assert office.docx_pages(path) == expected
    # Every page through the real command line (`sanad ocr` extracts without indexing).
    pages = sanad.json("ocr", str(path))
    assert [p["text"] for p in pages] == expected


def test_docx_pages_are_ingested_and_found(sanad, tmp_path):
    paragraphs = list(varied_paragraphs(1, seed=4, page_every=100))
    path = write_docx(tmp_path / "report.docx", paragraphs)
    pages = "\n".join(paragraphs).count("\f") + 1
    [result] = sanad.json("ingest", str(path))
    assert result["status"] == "ingested" and result["pages"] == pages, result
    # A marker word on the last page: its text went through a worker and into the index.
    marker = next(p for p in reversed(paragraphs) if p != "\f").split()[0]
    hits = sanad.json("search", marker)
    assert [h["page"] for h in hits] == [pages], hits


def test_streaming_reader_keeps_memory_below_the_xml_size(tmp_path):
    path = write_docx(tmp_path / "big.docx", varied_paragraphs(20, seed=5))
    with zipfile.ZipFile(path) as z:
        xml = z.getinfo("word/document.xml").file_size
    code = ("import resource, sys; from pathlib import Path; from ingest import office;"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
            "pages = office.docx_pages(Path(sys.argv[1]));"
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
            "print(len(pages), (after - before) * 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout.split()
    pages, growth = int(out[0]), int(out[1])
    assert pages > 100
    # The text is kept (about half the XML here); a tree of it took ten times the XML.
    assert growth < 0.8 * xml, (growth, xml)


def test_docx_structure_text_boxes_breaks_and_tabs(tmp_path):
    body = ("<w:p><w:r><w:t>شماره:</w:t><w:tab/><w:t>۱۲۳۴</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>before</w:t></w:r><w:r><w:pict><w:txbxContent><w:p><w:r><w:t>in the box</w:t>"
            "</w:r></w:p></w:txbxContent></w:pict></w:r><w:r><w:t>after</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>line one</w:t><w:br/><w:t>line two</w:t></w:r></w:p>"
            '<w:p><w:r><w:br w:type="page"/><w:t>page two</w:t></w:r></w:p>')
    path = _docx(tmp_path / "s.docx", body)
    assert office.docx_pages(path) == ["شماره:\t۱۲۳۴\nbefore\nin the box\nafter\nline one\nline two", "page two"]


def test_odt_spaces_notes_and_damage(tmp_path):
    content = (f'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
               f' xmlns:text="{TEXT_NS}"><office:body><office:text>'
               '<text:h>گزارش</text:h><text:p>two<text:s text:c="2"/>spaces<text:tab/>tab'
               '<text:note><text:note-body><text:p>a note</text:p></text:note-body></text:note></text:p>'
               "</office:text></office:body></office:document-content>")
    path = tmp_path / "r.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("META-INF/manifest.xml", "<manifest/>")
        z.writestr("content.xml", content)
    assert detect.sniff(path) == detect.ODT
    assert office.odt_pages(path) == ["گزارش\ntwo  spaces\ttab\na note"]
    broken = tmp_path / "broken.odt"
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("META-INF/manifest.xml", "<manifest/>")
        z.writestr("content.xml", content[:-30])
    with pytest.raises(InputError, match="damaged OpenDocument"):
        extract.count_pages(broken, detect.ODT)


def test_declared_limits_are_checked_before_inflating():
    member = zipfile.ZipInfo("word/document.xml")
    member.file_size, member.compress_size = 101 << 20, 50 << 20
    with pytest.raises(TooLarge, match="101 MB"):
        office.check_member(member, "DOCX")
    member.file_size, member.compress_size = 10 << 20, 10 << 10
    with pytest.raises(TooLarge, match="1,024 times"):
        office.check_member(member, "DOCX")
    member.file_size, member.compress_size = 40 << 20, 4 << 20
    office.check_member(member, "DOCX")  # a real large document: no error
