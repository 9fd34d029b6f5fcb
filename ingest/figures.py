"""Numbers and codes read again with Sanad's own figures model (ingest/models/figures.traineddata).

Why: Debian's `fas` model has no ٬ ، ٫ in its unicharset, so it writes a thousands separator as
the digit it looks most like (۵٬۴۰۰٬۰۰۰ as ۵۳۴۰۰۳۰۰۰) or drops it, and in fonts it was not trained
on it confuses digits as well (Noto Kufi Arabic's ۴ as ۳, its comma-shaped ٬ as ۰ or ۲). The
figures model (built by ingest/figures_train.py) knows only digits, separators, / - and the
letters of letter numbers, and was trained on number crops like the ones cut here.

`read_figures` is a pass over a page's word boxes (see ingest/passes.py): each word that is a
number or a code, as the page read it, is cut out with a margin and all of them are read in one
Tesseract call; a reading replaces the word when it is well formed (see `accept`).
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from archive.models import WordBox
from ingest.reading import Reader, read_strip

MODEL = Path(__file__).resolve().parent / "models" / "figures.traineddata"

_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(_PERSIAN + _ARABIC, "0123456789" * 2)
# The model's labels for letters (ingest/figures_train.py, LETTERS) and back.
_LETTERS = {"S": "ص", "Q": "ق", "M": "م", "D": "د", "B": "ب", "T": "ت", "K": "ک"}
_FROM_LETTER = {v: k for k, v in _LETTERS.items()}
_LABEL = re.compile(r"[0-9,./\-SQMDBTK]+")
# A word the page read that may be a number or a code: digits, what separators are read as,
# and at most a few letters of a letter number.
_CANDIDATE = re.compile(r"[0-9۰-۹٠-٩٬,،.٫'’/\-" + "".join(_LETTERS.values()) + r"]+")
_DIGIT = re.compile(r"[0-9۰-۹٠-٩]")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+")
_REFERENCE = re.compile(r"\d+/[SQMDBTK]/\d+|[SQMDBTK]/\d+/\d+|\d+/\d+/[SQMDBTK]|\d+/[SQMDBTK]")


def candidates(words: list[WordBox]) -> list[list[int]]:
    """The words worth reading again, in groups read as one crop: numbers of two digits or more
    and codes, with the pieces beside them on their line that the page read cut them into
    (`۲۲۲۰` `ص/۰۰`, `۵` `۴۰۰۰۰۰`: pieces less than 0.6 of the text height apart)."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    groups: list[list[int]] = []
    for members in lines.values():
        run: list[int] = []
        for i in [*sorted(members, key=lambda i: words[i].left), None]:
            if i is not None and _CANDIDATE.fullmatch(words[i].text):
                prev = words[run[-1]] if run else None
                gap = words[i].left - (prev.left + prev.width) if prev else 0
                if not run or gap < 0.6 * max(prev.height, words[i].height):
                    run.append(i)
                    continue
            if sum(len(_DIGIT.findall(words[j].text)) for j in run) >= 2:
                groups.append(run)
            run = [i] if i is not None and _CANDIDATE.fullmatch(words[i].text) else []
    return sorted(groups)


def read_figures(words: list[WordBox], page: Image.Image, reader: Reader, model: Path = MODEL) -> list[WordBox]:
    """The words, with numbers and codes replaced by the figures model's reading where accepted."""
    groups = candidates(words)
    if not groups or not model.is_file():
        return words
    boxes = [_union([words[i] for i in g]) for g in groups]
    readings = read_strip(reader, [_crop(page, b) for b in boxes], str(model), right_aligned=False)
    out: list[WordBox | None] = list(words)
    for group, box, found in zip(groups, boxes, readings):
        if len(found) != 1:
            continue  # read as several pieces or nothing: not comparable with the words
        label, conf = found[0]
        text = accept(box.text, label)
        if text is None:
            continue
        out[group[0]] = WordBox(text, box.left, box.top, box.width, box.height, max(box.conf, conf), box.line)
        for i in group[1:]:
            out[i] = None
    return [w for w in out if w is not None]


def _union(ws: list[WordBox]) -> WordBox:
    """One box around pieces of a line given left to right; its text the pieces right to left,
    as a Persian line reads them."""
    left, top = min(w.left for w in ws), min(w.top for w in ws)
    right, bottom = max(w.left + w.width for w in ws), max(w.top + w.height for w in ws)
    return WordBox("".join(w.text for w in reversed(ws)), left, top, right - left, bottom - top,
                   min(w.conf for w in ws), ws[0].line)


def _crop(page: Image.Image, w: WordBox) -> Image.Image:
    # A high separator can reach above the word box; the model was trained with margins of up to
    # a third of the text size.
    side, vertical = max(4, w.height // 5), max(4, w.height // 4)
    return page.crop((max(0, w.left - side), max(0, w.top - vertical),
                      min(page.width, w.left + w.width + side), min(page.height, w.top + w.height + vertical)))


def accept(old: str, label: str) -> str | None:
    """The figures model's reading written as the page prints it, if it is to replace `old`.

    Taken: a grouped amount (1-3 digits, then groups of three), a letter number, or any other
    label whose digit count is that of the page's reading give or take one where the page's
    reading was not itself a well-formed grouped amount or letter number. Nothing is taken that
    is not a whole label of the model's alphabet.
    """
    if not _LABEL.fullmatch(label):
        return None
    logical = to_logical(label)
    old_label = _as_label(old)
    if old_label == logical:
        return None
    digits_old, digits_new = len(_DIGIT.findall(old)), sum(c.isdigit() for c in logical)
    if _GROUPED.fullmatch(logical) or _REFERENCE.fullmatch(logical):
        return written(logical, old)
    if _GROUPED.fullmatch(old_label) or _REFERENCE.fullmatch(old_label):
        return None  # the page's reading has the better form
    if any(c in ",SQMDBTK" for c in logical):
        return None  # a separator or letter in a reading that is neither amount nor letter number
    if abs(digits_old - digits_new) <= 1 and digits_new >= 2:
        return written(logical, old)
    return None


def to_logical(label: str) -> str:
    """A label in the glyphs' left-to-right order as typed: digit runs (with the separators between
    digits) stay as they are, and the runs and other characters are put right to left (the
    model's ۹۹/ص/۱۲۳۴ is ۱۲۳۴/ص/۹۹, -۱ is ۱-)."""
    return "".join(reversed(re.findall(r"\d+(?:[,./\-]\d+)*|.", label)))


def _as_label(text: str) -> str:
    return "".join(_FROM_LETTER.get(c, c) for c in text.translate(_TO_ASCII)).replace("٬", ",").replace("،", ",")


def written(label: str, old: str) -> str:
    """A logical label in the digits the page's reading used: Persian unless it had only
    Arabic-Indic or only ASCII digits; the Persian separators ٬ and ٫ go with Persian digits."""
    if any(c in _PERSIAN for c in old) or not any(c in _ARABIC or c.isascii() and c.isdigit() for c in old):
        digits = _PERSIAN
    elif any(c in _ARABIC for c in old):
        digits = _ARABIC
    else:
        return label  # ASCII: 5,400,000 as on an English page
    out = label.translate(str.maketrans("0123456789", digits))
    return "".join(_LETTERS.get(c, c) for c in out).replace(",", "٬").replace(".", "٫")
