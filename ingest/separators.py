"""Thousands separators (٬, U+066C) in amounts, put back from the shapes of the printed glyphs.

Why they are lost: the `fas` model's unicharset (`combine_tessdata -u fas.traineddata`) has no ٬
(nor ، or ٫), so it cannot write one. It reads the separator as the digit its shape is nearest to
(۳ in Nazli, Homa and DejaVu Sans, ٩ or / in Titr, an ASCII 6 for Noto Sans Arabic's comma-shaped
one) or drops it and merges its ink into the next digit's box; ۵٬۴۰۰٬۰۰۰ came out as ۵۳۴۰۰۳۰۰۰
or ۵۳۴۰۰۰۰۰. The `Arabic` model has ٬ in its unicharset but dropped it on every test line.

The glyph is easy to tell from a digit, though: it is a narrow mark that either sits high (its
bottom above half the digit height: most fonts) or is a comma on the baseline that is taller than
wide (Noto Sans Arabic), where the Persian zero is a dot about as wide as high at mid height.
So the ink of each number word is cut into glyphs at blank columns, each glyph is classed as
tall digit, zero dot or separator, and the word's digits are aligned to those glyphs: a separator
glyph may have been read as any one character or as nothing, a digit glyph must have been read as
a digit (a zero for the dot, another digit for a tall glyph). Only a word whose glyphs make a
well-formed grouping (1-3 digits, then groups of 3) and that aligns in exactly one way is
rewritten, so a number Tesseract read in some other way is left as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image

from archive.models import WordBox
from ingest.images import otsu_threshold, runs

SEPARATOR = "\u066c"
_DIGITS = "0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩"
_VALUE = {c: i % 10 for i, c in enumerate(_DIGITS)}
_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
# A word that can be an amount: digits and what a separator gets read as, no letters.
_CANDIDATE = re.compile(r"[0-9۰-۹٠-٩٬,.'’/]+")
_GROUPING = re.compile(r"D{1,3}(?:SD{3})+")
_LATIN_SEPARATORS = ",'’"
_MARK = "\0"  # a separator whose character is chosen once the word's digits are known


@dataclass
class Glyph:
    left: int
    width: int
    bottom: float  # above the digits' baseline, in pixels (up is positive)
    top: float

    @property
    def height(self) -> float:
        return self.top - self.bottom


def restore_separators(words: list[WordBox], page: Image.Image) -> list[WordBox]:
    """The words, with number words whose separators were misread or dropped rewritten."""
    out = []
    for w in words:
        text = w.text
        if _CANDIDATE.fullmatch(text) and sum(c in _VALUE for c in text) >= 4:
            fixed = rebuild(text, classify(glyphs(page, w)))
            if fixed is not None and fixed != text:
                w = WordBox(fixed, w.left, w.top, w.width, w.height, w.conf, w.line)
        out.append(w)
    return out


def glyphs(page: Image.Image, box: WordBox) -> list[Glyph]:
    """The ink of a word box cut at blank columns, left to right, heights from the baseline."""
    pad = max(2, box.height // 4)  # a high separator can reach above the word box
    crop = page.crop((max(0, box.left - 2), max(0, box.top - pad),
                      min(page.width, box.left + box.width + 2), min(page.height, box.top + box.height + pad)))
    a = np.asarray(crop.convert("L"), dtype=np.uint8)
    if a.size == 0 or a.min() == a.max():
        return []
    ink = a < otsu_threshold(a)
    cols = ink.any(axis=0)
    found = []
    for start, end in runs(cols):
        found += _split_mark(ink[:, start:end], start)
    if not found:
        return []
    tallest = max(b - t for _, _, t, b in found)
    baseline = float(np.median([b for _, _, t, b in found if b - t >= 0.6 * tallest]))
    return [Glyph(left, width, baseline - b, baseline - t) for left, width, t, b in found]


def _split_mark(ink: np.ndarray, left: int) -> list[tuple[int, int, int, int]]:
    """(left, width, top row, bottom row) of the glyphs in one run of inked columns: usually one,
    two when a mark reaching above the rest is a piece of its own. Noto Naskh Arabic kerns ٬ into
    the ۸ before it (۸٬۹۰۰ had no blank column between them)."""
    rows = np.flatnonzero(ink.any(axis=1))
    whole = [(left, ink.shape[1], int(rows[0]), int(rows[-1]) + 1)]
    labels = _components(ink)
    if labels.max() < 2 or len(np.unique(labels)) < 3:  # background and one piece
        return whole
    ids, sizes = np.unique(labels[labels > 0], return_counts=True)
    body = ink & (labels == ids[np.argmax(sizes)])
    pieces = []
    for part in (body, ink & ~body):
        r, c = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        pieces.append((left + int(c[0]), int(c[-1] - c[0]) + 1, int(r[0]), int(r[-1]) + 1))
    (_, body_w, body_top, body_bottom), (_, mark_w, mark_top, _) = pieces
    if body_top - mark_top >= 0.15 * (body_bottom - body_top) and mark_w <= 0.5 * body_w:
        return sorted(pieces)
    return whole


def _components(ink: np.ndarray) -> np.ndarray:
    """8-connected components of a small boolean array: each pixel takes the lowest label around
    it until nothing changes (a glyph is a few dozen pixels across)."""
    h, w = ink.shape
    big = h * w + 1
    labels = np.where(ink, np.arange(1, h * w + 1).reshape(h, w), big)
    while True:
        p = np.pad(labels, 1, constant_values=big)
        low = np.minimum.reduce([p[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]
                                 for dy in (-1, 0, 1) for dx in (-1, 0, 1)])
        new = np.where(ink, low, big)
        if (new == labels).all():
            return np.where(ink, labels, 0)
        labels = new


def classify(found: list[Glyph]) -> str:
    """One letter per glyph: D a tall digit, Z the zero dot, S a separator, ? anything else."""
    if not found:
        return ""
    digit = max(g.height for g in found)
    out = []
    for g in found:
        narrow = g.width <= 0.45 * digit
        if g.height >= 0.75 * digit:
            out.append("D")
        elif narrow and g.bottom >= 0.5 * digit:
            out.append("S")  # a mark sitting high: ٬ in most fonts
        elif narrow and g.bottom <= 0.15 * digit and g.top <= 0.55 * digit and g.height >= 1.4 * g.width:
            out.append("S")  # a comma on the baseline (Noto Sans Arabic)
        elif g.width <= 0.8 * digit and g.height <= 0.6 * digit and g.bottom > 0:
            out.append("Z")
        else:
            out.append("?")
    return "".join(out)


def rebuild(text: str, shapes: str) -> str | None:
    """`text` rewritten with ٬ where the glyph shapes have separators, or None if the shapes are not
    a grouped number or the characters align with them in none or in more than one way."""
    if not _GROUPING.fullmatch(shapes.replace("Z", "D")):
        return None
    results: set[str] = set()

    def align(i: int, j: int, built: str) -> None:
        # i: next character of text, j: next glyph. Few glyphs: plain recursion is enough.
        if len(results) > 1:
            return
        if j == len(shapes):
            if i == len(text):
                results.add(built)
            return
        if shapes[j] == "S":
            align(i, j + 1, built + _MARK)  # dropped
            if i < len(text):
                align(i + 1, j + 1, built + (text[i] if text[i] in _LATIN_SEPARATORS else _MARK))  # misread
            return
        if i < len(text) and text[i] in _VALUE and (_VALUE[text[i]] == 0) == (shapes[j] == "Z"):
            align(i + 1, j + 1, built + text[i])

    align(0, 0, "")
    if len(results) != 1:
        return None
    built = results.pop()
    if any(c in _PERSIAN for c in text):
        # The page's digits are Persian, and so is its separator (a comma read for it included).
        return "".join(_PERSIAN[_VALUE[c]] if c in _VALUE else SEPARATOR for c in built)
    # ASCII digits: an English page's 5,400,000 keeps its commas.
    return built.replace(_MARK, ",")
