"""Decide what a file is from its bytes, never from its name."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from archive.errors import InputError
from ingest import charset

PDF = "application/pdf"
TEXT = "text/plain"
HTML = "text/html"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
ZIP = "application/zip"
UNKNOWN = "application/octet-stream"

_IMAGE_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
]
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
# A text file bigger than this is almost certainly not a document a person wrote.
MAX_TEXT_BYTES = 64 << 20


def sniff(path: Path) -> str:
    """Return the media type of the file at ``path``; raise InputError when it cannot be read."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise InputError("the file is empty")
    # PDF writers sometimes put junk before the header; readers accept it within 1 KiB.
    if b"%PDF-" in head[:1024]:
        return PDF
    for magic, media_type in _IMAGE_MAGIC:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heif"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(path)
    return _text_kind(path, head)


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError("a damaged ZIP file (its directory cannot be read)") from None
    if "word/document.xml" in names:
        return DOCX
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        return ODT
    return ZIP


def _text_kind(path: Path, head: bytes) -> str:
    if path.stat().st_size > MAX_TEXT_BYTES:
        return UNKNOWN
    try:
        text = read_text(path).text
    except InputError:
        return UNKNOWN
    start = text.lstrip()[:200].lower()
    if start.startswith(("<!doctype html", "<html")) or ("<body" in text[:4096].lower() and "</" in text):
        return HTML
    return TEXT


# An HTML page's own word on its encoding, e.g. <meta charset="windows-1256">.
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?([A-Za-z0-9_:.-]+)""", re.IGNORECASE)


def read_text(path: Path) -> charset.Decoded:
    """Decode a text file: UTF-8, UTF-16 (with or without a byte order mark), UTF-32 (with
    one), or the legacy code page its bytes check out as (see ingest.charset)."""
    data = path.read_bytes()
    declared = _META_CHARSET.search(data[:4096])
    return charset.decode(data, declared.group(1).decode("ascii") if declared else None)
