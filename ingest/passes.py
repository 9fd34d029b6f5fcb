"""Passes over a page's word boxes after the page read: each takes the words (and the page image
and a reader where it reads again) and returns the new words. ingest/ocr.py runs them in order.
"""

from __future__ import annotations

import re

from PIL import Image

from archive.models import WordBox
from ingest import images
from ingest.reading import Reader, read_crops

ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")


def reread_latin(words: list[WordBox], page: Image.Image, reader: Reader, lang: str = "eng") -> list[WordBox]:
    """The Persian model has no Latin letters and writes N95 as '۱95', COVID-19 as '0۷10-19'.

    Words it wrote with ASCII characters are re-read with the English model; the English reading
    replaces the word only if it contains a Latin letter (a real Latin term, not a number).
    """
    words = list(words)
    suspects = [i for i, w in enumerate(words) if _ASCII_ALNUM.search(w.text)]
    readings = read_crops(reader, page, [words[i] for i in suspects], lang)
    for i, (text, conf) in zip(suspects, readings):
        if _LATIN_LETTER.search(text) and conf >= 50:
            w = words[i]
            words[i] = WordBox(text, w.left, w.top, w.width, w.height, conf, w.line)
    return words


def read_gaps(words: list[WordBox], page: Image.Image, reader: Reader, lang: str) -> list[WordBox]:
    """Ink bands that no word box touches are cropped and read as single lines (psm 7).

    Whatever the band yields is added as a line of its own, at its place in reading order, even at
    low confidence: a poorly read line is visible to an investigator, a dropped one is not.
    """
    bands = images.text_bands(page)
    missing = [(top, bottom) for top, bottom in bands
               if not any(min(bottom, w.top + w.height) - max(top, w.top) > 0.25 * (bottom - top) for w in words)]
    if not missing:
        return words
    first_new = max((w.line for w in words), default=-1) + 1
    next_line = first_new
    added: list[WordBox] = []
    for top, bottom in missing:
        pad = max(8, (bottom - top) // 2)
        box = (0, max(0, top - pad), page.width, min(page.height, bottom + pad))
        for w in reader.words(page.crop(box), lang, 7):
            added.append(WordBox(w.text, w.left, w.top + box[1], w.width, w.height, w.conf, next_line))
        next_line += 1
    if not added:
        return words
    return _slot_lines(words + added, first_new)


def _slot_lines(words: list[WordBox], first_new: int) -> list[WordBox]:
    """Renumber lines in reading order: Tesseract's own lines (numbered below `first_new`) keep
    their order, and each new line goes before the first line whose topmost word is below its own."""
    tops: dict[int, int] = {}
    for w in words:
        tops[w.line] = min(tops.get(w.line, w.top), w.top)
    order = sorted(ln for ln in tops if ln < first_new)
    for ln in sorted((ln for ln in tops if ln >= first_new), key=tops.get):
        at = next((k for k, o in enumerate(order) if tops[o] > tops[ln]), len(order))
        order.insert(at, ln)
    rank = {ln: k for k, ln in enumerate(order)}
    words = [WordBox(w.text, w.left, w.top, w.width, w.height, w.conf, rank[w.line]) for w in words]
    return sorted(words, key=lambda w: w.line)  # stable: word order inside a line is kept


def rtl_order(words: list[WordBox]) -> list[WordBox]:
    """Words of each Persian line in right-to-left order, Latin runs left to right inside it.

    Tesseract orders a line by its majority direction: a short line that is mostly digits
    (`تلفن: ۰۲۱-۸۸۷۷۶۶۵۵`, `شماره: ۱۲۳۴/ص/۹۹`) came out number first, and the reversed line then
    failed to match its ground truth (4 of 11 lost lines in bench.ocr). In a right-to-left line,
    numbers separated by spaces are also placed right to left (Unicode bidi rule W7 with an R
    context), only Latin words keep left-to-right order among themselves.
    """
    lines: dict[int, list[WordBox]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    out: list[WordBox] = []
    for line in lines.values():
        if not any(ARABIC_LETTER.search(w.text) for w in line):
            out.extend(line)
            continue
        ordered = sorted(line, key=lambda w: -(w.left + w.width / 2))
        run: list[WordBox] = []
        for w in ordered:
            if _LATIN_LETTER.search(w.text) and not ARABIC_LETTER.search(w.text):
                run.append(w)
                continue
            out.extend(reversed(run))
            run = []
            out.append(w)
        out.extend(reversed(run))
    return out
