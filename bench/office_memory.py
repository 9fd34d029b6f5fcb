"""Peak memory and time of reading a DOCX's text: the streaming reader against the old tree one.

    python -m bench.office_memory [--bomb-mb 150] [--large-mb 40]

Builds two DOCX files: a bomb (a highly compressible document.xml of --bomb-mb MB, which
deflates to a few hundred KB) and a large but legal document (--large-mb MB of varied
paragraphs with page breaks). Each is read by each code path in a fresh process, so the
peak RSS is that path's own. The old path is the reader as it was before streaming (whole
member read into memory, ElementTree built), kept here verbatim for the comparison.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.etree import ElementTree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WORDS = ("زندان اوین درخواست ماسک جراحی شماره تاریخ وزارت بهداشت سازمان زندان‌ها گزارش وضعیت "
         "prison request masks N95 ministry health report warden letter").split()


def write_docx(path: Path, paragraphs: Iterable[str]) -> Path:
    """A minimal DOCX whose document.xml is streamed into the ZIP, never held whole.
    A paragraph "\\f" is a page break."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxml'
                   'formats.org/package/2006/content-types"/>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W_NS}"><w:body>'.encode())
            batch = []
            for text in paragraphs:
                if text == "\f":
                    batch.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
                else:
                    batch.append(f'<w:p><w:pPr><w:bidi/></w:pPr><w:r><w:rPr><w:rtl/></w:rPr><w:t xml:space='
                                 f'"preserve">{text}</w:t></w:r></w:p>')
                if len(batch) >= 1000:
                    f.write("".join(batch).encode())
                    batch = []
            f.write(("".join(batch) + "</w:body></w:document>").encode())
    return path


def bomb_paragraphs(megabytes: int) -> Iterator[str]:
    """The same short paragraph over and over: deflates about 300 times, and is millions of
    elements (what makes a tree of it big)."""
    paragraph = "زندان اوین"
    per = len(paragraph.encode()) + 110
    for _ in range(megabytes * 2**20 // per):
        yield paragraph


def varied_paragraphs(megabytes: int, seed: int = 1, page_every: int = 400) -> Iterator[str]:
    """Paragraphs of shuffled words with a numbered marker, page breaks every few hundred."""
    rng = random.Random(seed)
    size, number = 0, 0
    while size < megabytes * 2**20:
        number += 1
        text = f"p{number} " + " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(12))
        size += len(text.encode()) + 110
        yield text
        if number % page_every == 0:
            yield "\f"


# -- the old code path, as it was before streaming --------------------------------------------

def old_docx_pages(path: Path) -> list[str]:
    w = "{" + W_NS + "}"
    with zipfile.ZipFile(path) as z:
        member = z.getinfo("word/document.xml")
        if member.file_size > 200 << 20:
            raise ValueError("TooLarge: the DOCX text is larger than 200 MB when unpacked")
        root = ElementTree.fromstring(z.read(member))
    pages, lines = [], []
    for para in root.iter(f"{w}p"):
        parts = []
        for node in para.iter():
            if node.tag == f"{w}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{w}tab":
                parts.append("\t")
            elif node.tag == f"{w}br" and node.get(f"{w}type") == "page":
                lines.append("".join(parts))
                parts = []
                pages.append("\n".join(lines))
                lines = []
        lines.append("".join(parts))
    pages.append("\n".join(lines))
    return [p.strip("\n") for p in pages] or [""]


def _child(which: str, path: str) -> None:
    """Runs in the measured process: read the file, print the outcome."""
    if which == "old":
        reader = old_docx_pages
    else:
        from ingest.office import docx_pages as reader
    try:
        pages = reader(Path(path))
        print(f"{len(pages)} pages, {sum(map(len, pages)):,} characters")
    except Exception as exc:  # noqa: BLE001 - the outcome is what is measured
        print(f"{type(exc).__name__}: {exc}"[:90])


def measure(which: str, path: Path) -> tuple[str, float, float]:
    """(outcome, peak RSS in MB, seconds) of one code path on one file, in its own process."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "bench.office_memory", "--child", which, str(path)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent)
    out = proc.stdout.read().strip()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return out, usage.ru_maxrss / 1024, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bomb-mb", type=int, default=150)
    p.add_argument("--large-mb", type=int, default=40)
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            "bomb": write_docx(Path(tmp) / "bomb.docx", bomb_paragraphs(args.bomb_mb)),
            "large": write_docx(Path(tmp) / "large.docx", varied_paragraphs(args.large_mb)),
        }
        print(f"{'file':6} {'size':>9} {'XML':>8} {'path':4} {'peak RSS':>9} {'time':>7}  outcome")
        for name, path in files.items():
            with zipfile.ZipFile(path) as z:
                xml = z.getinfo("word/document.xml").file_size
            figures = {}
            for which in ("old", "new"):
                out, rss, seconds = measure(which, path)
                figures[which] = (rss, seconds)
                print(f"{name:6} {path.stat().st_size / 1024:7,.0f} KB {xml / 2**20:5.0f} MB {which:4}"
                      f" {rss:6,.0f} MB {seconds:6.1f}s  {out}")
            (old_rss, old_s), (new_rss, new_s) = figures["old"], figures["new"]
            print(f"{name:6} old/new: peak RSS {old_rss / new_rss:.1f}x, time {old_s / new_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
