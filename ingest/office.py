"""Text out of HTML, DOCX and OpenDocument files, with the standard library only.

Office XML is streamed through expat, never built into a tree: a tree of a 150 MB
document.xml took 2.1 GB. What is kept is the text, and the XML member is checked against
declared limits before a byte of it is inflated.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from xml.parsers import expat

from archive.errors import EncryptedFile, InputError, TooLarge

_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0 "
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
# The document XML of a 1,000-page Word file is about 40 MB; more is a bomb, not a letter.
MAX_XML_BYTES = 100 << 20
# Word's XML deflates 5 to 20 times, a generated table of empty cells up to about 60; a
# member inflating more than this (and big enough to matter) is built to blow up.
MAX_RATIO = 100
RATIO_FLOOR = 4 << 20  # smaller members are cheap whatever their ratio
_CHUNK = 1 << 20


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


def check_member(member: zipfile.ZipInfo, kind: str) -> None:
    """Refuse an XML member whose declared sizes say it is a zip bomb, before inflating it."""
    size, packed = member.file_size, max(1, member.compress_size)
    if size > MAX_XML_BYTES:
        raise TooLarge(f"the {kind} text is {size / 2**20:,.0f} MB when unpacked, over the limit of "
                       f"{MAX_XML_BYTES >> 20} MB (split the document into several files)")
    if size > RATIO_FLOOR and size / packed > MAX_RATIO:
        raise TooLarge(f"the {kind} text unpacks {size / packed:,.0f} times (from {packed:,} to "
                       f"{size:,} bytes); more than {MAX_RATIO} times is a zip bomb, not a document")


def _stream_xml(path: Path, name: str, kind: str, parser: expat.XMLParserType) -> None:
    """Feed one XML member of an office file to ``parser`` a chunk at a time."""

    def no_dtd(*_args) -> None:
        # Word and LibreOffice never write one; a DTD's entities can expand without limit.
        raise InputError(f"a {kind} file whose XML declares a DTD (not written by an office program)")

    parser.StartDoctypeDeclHandler = no_dtd
    read = 0
    try:
        with zipfile.ZipFile(path) as z:
            member = z.getinfo(name)
            check_member(member, kind)
            with z.open(member) as f:
                while chunk := f.read(_CHUNK):
                    read += len(chunk)
                    if read > MAX_XML_BYTES:  # zipfile stops at the declared size; this is a backstop
                        raise TooLarge(f"the {kind} text is over the limit of {MAX_XML_BYTES >> 20} MB"
                                       " when unpacked")
                    parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except RuntimeError as exc:
        if "encrypted" in str(exc):
            raise EncryptedFile(f"the {kind} file is password-protected") from None
        raise InputError(f"a damaged {kind} file ({exc})") from None
    except (zipfile.BadZipFile, KeyError, expat.ExpatError, OSError, EOFError, zlib.error) as exc:
        raise InputError(f"a damaged {kind} file ({exc})") from None


def _parser(start: Callable, end: Callable, text: Callable) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True  # one call per text run, not per line or entity
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    return parser


class _Pages:
    """Lines of text gathered into pages while a document streams past."""

    def __init__(self) -> None:
        self.pages: list[str] = []
        self.lines: list[str] = []
        self.parts: list[str] = []

    def end_line(self) -> None:
        self.lines.append("".join(self.parts))
        self.parts = []

    def end_page(self) -> None:
        self.end_line()
        self.pages.append("\n".join(self.lines))
        self.lines = []

    def result(self) -> list[str]:
        self.pages.append("\n".join(self.lines))
        return [p.strip("\n") for p in self.pages]


def docx_pages(path: Path) -> list[str]:
    """Paragraph text of a DOCX, split where the author put explicit page breaks."""
    out = _Pages()
    in_text = False
    para_depth = 0

    def start(tag, attrs):
        nonlocal in_text, para_depth
        if tag == _W + "t":
            in_text = True
        elif tag == _W + "p":
            if para_depth and out.parts:
                out.end_line()  # a text box's paragraph inside a paragraph: a line of its own
            para_depth += 1
        elif tag == _W + "tab":
            out.parts.append("\t")
        elif tag == _W + "br":
            if attrs.get(_W + "type") == "page":
                out.end_page()
            else:
                out.parts.append("\n")  # a line break inside a paragraph still separates words

    def end(tag):
        nonlocal in_text, para_depth
        if tag == _W + "t":
            in_text = False
        elif tag == _W + "p":
            para_depth -= 1
            out.end_line()

    def text(data):
        if in_text:
            out.parts.append(data)

    _stream_xml(path, "word/document.xml", "DOCX", _parser(start, end, text))
    return out.result()


def odt_pages(path: Path) -> list[str]:
    """Paragraph and heading text of an OpenDocument text file (one page: ODF has no fixed pages)."""
    out = _Pages()
    depth = 0
    blocks = (_TEXT_NS + "p", _TEXT_NS + "h")

    def start(tag, attrs):
        nonlocal depth
        if tag in blocks:
            if depth and out.parts:
                out.end_line()  # a note's paragraph inside a paragraph
            depth += 1
        elif not depth:
            return
        elif tag == _TEXT_NS + "s":
            count = attrs.get(_TEXT_NS + "c", "1")
            out.parts.append(" " * min(int(count), 100) if count.isdigit() else " ")
        elif tag == _TEXT_NS + "tab":
            out.parts.append("\t")
        elif tag == _TEXT_NS + "line-break":
            out.parts.append("\n")

    def end(tag):
        nonlocal depth
        if tag in blocks:
            depth -= 1
            out.end_line()

    def text(data):
        if depth:
            out.parts.append(data)

    _stream_xml(path, "content.xml", "OpenDocument", _parser(start, end, text))
    return out.result()
