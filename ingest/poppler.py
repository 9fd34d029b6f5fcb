"""The one place that runs poppler's command-line tools (pdfinfo, pdftotext)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from archive.errors import EncryptedFile, InputError, ToolMissing

TIMEOUT = 120  # seconds per call; a PDF that takes longer is treated as broken
PACKAGES = "poppler-utils"


def _run(args: list[str], timeout: int = TIMEOUT) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        raise ToolMissing(f"{args[0]} is not installed; install the Debian package {PACKAGES}")
    try:
        return subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"{args[0]} gave up after {timeout} s: the PDF is too complex or broken") from None


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


def page_text(path: Path, number: int) -> str:
    """The text layer of one page (1-based), in poppler's reading order."""
    proc = _run(["pdftotext", "-f", str(number), "-l", str(number), "-enc", "UTF-8", str(path), "-"])
    if proc.returncode != 0:
        raise InputError(f"the text of page {number} cannot be read ({_explain(proc.stderr)})")
    return proc.stdout.decode("utf-8", "replace").replace("\f", "")


def version() -> str:
    proc = _run(["pdftotext", "-v"])
    return _explain(proc.stderr or proc.stdout)


_SIZE = re.compile(r"^Page\s+\d+\s+size:\s+([\d.]+) x ([\d.]+)")
_ROT = re.compile(r"^Page\s+\d+\s+rot:\s+(\d+)")


def page_size(path: Path, number: int) -> tuple[float, float]:
    """Width and height of one page in points (1/72 inch), rotation applied."""
    proc = _run(["pdfinfo", "-f", str(number), "-l", str(number), str(path)])
    # poppler reports no size for some broken PDFs: assume US Letter, the common default.
    width, height, rotation = 612.0, 792.0, 0
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if m := _SIZE.match(line):
            width, height = float(m.group(1)), float(m.group(2))
        elif m := _ROT.match(line):
            rotation = int(m.group(1))
    return (height, width) if rotation in (90, 270) else (width, height)
