"""The one place that runs poppler's command-line tools (pdfinfo, pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from archive.errors import EncryptedFile, InputError, ToolMissing
from archive.models import WordBox
from archive.settings import BY_NAME

TIMEOUT = BY_NAME["poppler_timeout"].default  # seconds per call; a PDF that takes longer is broken
PACKAGES = "poppler-utils"


def _run(args: list[str], timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        raise ToolMissing(f"{args[0]} is not installed; install the Debian package {PACKAGES}")
    try:
        return subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"{args[0]} gave up after {timeout:.0f} s: the PDF is too complex or broken") from None


def _explain(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "unknown error"


def info(path: Path) -> dict[str, str]:
    """pdfinfo's fields; raises EncryptedFile / InputError for PDFs poppler cannot open."""
    proc = _run(["pdfinfo", str(path)])
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        if "Incorrect password" in err or "encrypted" in err.lower():
            raise EncryptedFile("the PDF is password-protected; add it again after removing the password")
        raise InputError(f"a damaged PDF that cannot be opened ({_explain(proc.stderr)})")
    fields = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def page_count(path: Path) -> int:
    fields = info(path)
    try:
        pages = int(fields.get("Pages", "0"))
    except ValueError:
        pages = 0
    if pages < 1:
        raise InputError("the PDF has no pages")
    return pages


def page_text(path: Path, number: int, timeout: float = TIMEOUT) -> str:
    """The text layer of one page (1-based), in poppler's reading order."""
    proc = _run(["pdftotext", "-f", str(number), "-l", str(number), "-enc", "UTF-8", str(path), "-"], timeout)
    if proc.returncode != 0:
        raise InputError(f"the text of page {number} cannot be read ({_explain(proc.stderr)})")
    return proc.stdout.decode("utf-8", "replace").replace("\f", "")


def render(path: Path, number: int, dpi: int, *, grayscale: bool = False, timeout: float = TIMEOUT):
    """One page as a PIL image (through pdf2image, which runs pdftoppm)."""
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    try:
        images = convert_from_path(path, dpi=dpi, first_page=number, last_page=number, timeout=timeout,
                                   grayscale=grayscale)
    except PDFInfoNotInstalledError:
        raise ToolMissing(f"pdftoppm is not installed; install the Debian package {PACKAGES}") from None
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise InputError(f"page {number} cannot be rendered ({exc})") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"pdftoppm gave up on page {number} after {timeout:.0f} s: the PDF is too complex "
                         "or broken") from None
    if not images:
        raise InputError(f"page {number} cannot be rendered")
    return images[0]


_XHTML = "{http://www.w3.org/1999/xhtml}"


def page_words(path: Path, number: int, scale: float = 1.0, timeout: float = TIMEOUT) -> list[WordBox]:
    """The words of one page's text layer with their boxes, in points times ``scale``.

    A text layer has no confidence; its words get 100. A page poppler lays out differently
    from ``page_text`` only loses its outlines, never its text, so a failure here gives [].
    """
    proc = _run(["pdftotext", "-bbox-layout", "-f", str(number), "-l", str(number), "-enc", "UTF-8",
                 str(path), "-"], timeout)
    if proc.returncode != 0:
        return []
    try:
        root = ET.fromstring(proc.stdout)
    except ET.ParseError:
        return []
    words = []
    for line_no, line in enumerate(root.iter(f"{_XHTML}line"), start=1):
        for word in line.iter(f"{_XHTML}word"):
            try:
                x0, y0, x1, y1 = (float(word.get(k, "")) * scale for k in ("xMin", "yMin", "xMax", "yMax"))
            except ValueError:
                continue
            if word.text and word.text.strip():
                words.append(WordBox(word.text.strip(), round(x0), round(y0), max(1, round(x1 - x0)),
                                     max(1, round(y1 - y0)), 100.0, line_no))
    return words


def version() -> str:
    proc = _run(["pdftotext", "-v"])
    return _explain(proc.stderr or proc.stdout)


_SIZE = re.compile(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+)")
_ROT = re.compile(r"^Page\s+\d+\s+rot:\s+(\d+)")


def page_size(path: Path, number: int, timeout: float = TIMEOUT) -> tuple[float, float]:
    """Width and height of one page in points (1/72 inch), rotation applied."""
    proc = _run(["pdfinfo", "-f", str(number), "-l", str(number), str(path)], timeout)
    # poppler reports no size for some broken PDFs: assume US Letter, the common default.
    width, height, rotation = 612.0, 792.0, 0
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if m := _SIZE.match(line):
            width, height = float(m.group(1)), float(m.group(2))
        elif m := _ROT.match(line):
            rotation = int(m.group(1))
    return (height, width) if rotation in (90, 270) else (width, height)
