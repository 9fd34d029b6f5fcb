"""Text out of HTML and DOCX files, with the standard library only."""

from __future__ import annotations

import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

from archive.errors import InputError, TooLarge

_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_XML_BYTES = 200 << 20  # uncompressed document XML; more is a zip bomb, not a letter


class _HTMLText(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "head"}
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
              "table", "blockquote", "pre", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _zipped_xml(path: Path, name: str, kind: str) -> ElementTree.Element:
    """Parse one XML member of an office file, refusing members that unpack to absurd sizes."""
    try:
        with zipfile.ZipFile(path) as z:
            member = z.getinfo(name)
            if member.file_size > MAX_XML_BYTES:
                raise TooLarge(f"the {kind} text is larger than 200 MB when unpacked")
            return ElementTree.fromstring(z.read(member))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        raise InputError(f"a damaged {kind} file ({exc})") from None


def docx_pages(path: Path) -> list[str]:
    """Paragraph text of a DOCX, split where the author put explicit page breaks."""
    root = _zipped_xml(path, "word/document.xml", "DOCX")
    pages, lines = [], []
    for para in root.iter(f"{_W}p"):
        parts = []
        for node in para.iter():
            if node.tag == f"{_W}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{_W}tab":
                parts.append("\t")
            elif node.tag == f"{_W}br" and node.get(f"{_W}type") == "page":
                lines.append("".join(parts))
                parts = []
                pages.append("\n".join(lines))
                lines = []
        lines.append("".join(parts))
    pages.append("\n".join(lines))
    return [p.strip("\n") for p in pages] or [""]


def odt_pages(path: Path) -> list[str]:
    """Paragraph and heading text of an OpenDocument text file (one page: ODF has no fixed pages)."""
    root = _zipped_xml(path, "content.xml", "OpenDocument")
    lines = ["".join(node.itertext()) for node in root.iter()
             if node.tag in (f"{_TEXT_NS}p", f"{_TEXT_NS}h")]
    return ["\n".join(lines).strip("\n")]
