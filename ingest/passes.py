"""Passes over a page's word boxes after the page read: each takes the words (and the page image
and a reader where it reads again) and returns the new words. ingest/ocr.py runs them in order.
"""

from __future__ import annotations

import re

from PIL import Image

from archive.models import WordBox
from ingest import images
from ingest.reading import Reader, median_height, read_each, read_strip

ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")


def reread_latin(words: list[WordBox], page: Image.Image, reader: Reader, lang: str = "eng") -> list[WordBox]:
    """The Persian model has no Latin letters and writes N95 as '۱95', COVID-19 as '0۷10-19'.

    Words it wrote with ASCII characters are re-read with the English model; the English reading
    replaces the word only if it contains a Latin letter (a real Latin term, not a number) and
    `latin_reading` takes it.
    """
    words = list(words)
    suspects = [i for i, w in enumerate(words) if _ASCII_ALNUM.search(w.text)
                and len(_NATIVE_DIGIT.findall(w.text)) <= len(_ASCII_ALNUM.findall(w.text))]
    crops = [page.crop(_term_box(words, i, page)) for i in suspects]
    for i, pieces in zip(suspects, read_strip(reader, crops, lang, right_aligned=False)):
        found = latin_reading(words[i].text, pieces)
        if found is not None:
            w = words[i]
            words[i] = WordBox(found[0], w.left, w.top, w.width, w.height, found[1], w.line)
    return words


# A word the Persian model read mostly in its own digits is a Persian number with a stray ASCII
# digit (۵1۱۰۰), not a Latin term: the English model made O'lee of one.
_NATIVE_DIGIT = re.compile(r"[\u06f0-\u06f9\u0660-\u0669]")


def _term_box(words: list[WordBox], i: int, page: Image.Image, pad: int = 12) -> tuple[int, int, int, int]:
    """The word's box with a margin, which stops halfway to the words beside it on its line: the
    English model read their strokes as letters of the term (1N95, iN95)."""
    w = words[i]
    line = [o for k, o in enumerate(words) if k != i and o.line == w.line]
    left_gap = min((w.left - (o.left + o.width) for o in line if o.left + o.width <= w.left), default=2 * pad)
    right_gap = min((o.left - (w.left + w.width) for o in line if o.left >= w.left + w.width), default=2 * pad)
    left, right = min(pad, max(2, left_gap // 2)), min(pad, max(2, right_gap // 2))
    return (max(0, w.left - left), max(0, w.top - pad), min(page.width, w.left + w.width + right),
            min(page.height, w.top + w.height + pad))


_MARKS_AROUND = re.compile(r"([^0-9A-Za-z]*)(.*?)([^0-9A-Za-z]*)", re.S)  # head, term, tail
_UNLIKE_DIGIT = re.compile(r"[A-HJ-NP-Za-km-np-z]")


def latin_reading(old: str, pieces: list[tuple[str, float]]) -> tuple[str, float] | None:
    """The English model's reading of a word's crop, as the word's new text, or None.

    The crop's margin takes in bits of the Persian words beside it, which the English model reads
    as `» , ; | (`: a piece with no letter or digit is that, and so is punctuation at either end
    of the term, unless the page's own reading has the same mark there (N95. and ۸95.). Those bits
    also pull the confidence down (a fax's N95 came out at 0-31), so a term is also taken below 50
    when its last run of digits is the one the page read (N95 for ۸95, COVID-19 for 0۷10-19), as
    both models then saw the same figures, and it has a letter no digit looks like (not I l O o:
    I16 may be a Persian ۱۱۶).
    """
    kept = [(text, conf) for text, conf in pieces if _ASCII_ALNUM.search(text)]
    if len(kept) != 1:
        return None
    raw, conf = kept[0]
    if "-" in old:  # the page's hyphen: COVID—19 and COVID-—19 are COVID-19
        raw = re.sub("[-\u2013\u2014]+", "-", raw)
    head, text, tail = _MARKS_AROUND.fullmatch(raw).groups()
    lead = head if head and old.startswith(head) else ""
    trail = tail if tail and old.endswith(tail) else ""
    text = _page_digits(text, old)
    if not _LATIN_LETTER.search(text) or len(_ASCII_ALNUM.findall(text)) < 2:
        return None  # a number, or one letter (a for the digits 1٩)
    last = _last_digits(text)
    if conf < 50 and not (_UNLIKE_DIGIT.search(text) and last is not None and last == _last_digits(old)):
        return None
    return lead + text + trail, conf


# Latin letters the English model writes for a digit it saw: S for 5 in N95.
_LOOKS_LIKE = {"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "i": "1", "Z": "2", "z": "2", "S": "5",
               "s": "5", "G": "6", "b": "6", "T": "7", "B": "8", "g": "9", "q": "9"}


def _page_digits(text: str, old: str) -> str:
    """The term with the last run of ASCII digits the page read put back where the English model
    wrote a letter that looks like that digit (N9S for ۸95 is N95), unless no letter would be
    left. Only that run: the page's 0۷10-19 for COVID-19 has 0 and 1 where the term has O, I, D."""
    run = re.search(r"[0-9]+$", old.rstrip(".,;:!?)("))
    if not run or len(run.group()) > len(text):
        return text
    digits, tail = run.group(), text[len(text) - len(run.group()):]
    fixed = text[:len(text) - len(digits)] + "".join(d if _LOOKS_LIKE.get(c) == d else c for c, d in zip(tail, digits))
    return fixed if _LATIN_LETTER.search(fixed) else text  # SOS read as 505 stays SOS


def _last_digits(text: str) -> str | None:
    runs = re.findall(r"[0-9]+", text)
    return runs[-1] if runs else None


# A line whose words the page read gave at most this mean confidence is read again on its own
# (psm 7), and the new reading is taken when it is WEAK_GAIN points more confident: on a tuning
# photocopy in Noto Naskh Arabic two clean item lines came out of the page read at 26 and 27 as
# garbage (`۲ هایگ جراخ مدلایه ده داد ۰ عدد`), and read alone at 80 and 81, word for word.
WEAK_LINE = 40
WEAK_GAIN = 20


# A word this many of the page's word heights wide is worth a re-read as a line by itself.
_WIDE_WORD = 2.0


def reread_weak_lines(words: list[WordBox], page: Image.Image, reader: Reader, lang: str) -> list[WordBox]:
    """Lines of low confidence read again, each cropped alone (all in one Tesseract call)."""
    lines: dict[int, list[WordBox]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    text_height = median_height(words)
    # A line of one word is weak too when the word is wide (a Nazli fax's رونوشت: read as ربرنوشت)
    # and not a speck the page read as a letter.
    weak = [ln for ln, ws in lines.items() if _mean(ws) <= WEAK_LINE
            and (len(ws) >= 2 or ws[0].width >= _WIDE_WORD * text_height)]
    if not weak:
        return words
    boxes = []
    for ln in weak:
        height = median_height(lines[ln])
        left, top, right, bottom = _box(lines[ln])
        boxes.append((max(0, left - height // 2), max(0, top - height // 3),
                      min(page.width, right + height // 2), min(page.height, bottom + height // 3)))
    better: dict[int, list[WordBox]] = {}
    for ln, box, found in zip(weak, boxes, read_each(reader, [page.crop(b) for b in boxes], lang, 7)):
        found = [w for w in found if w.text.strip()]
        if found and _mean(found) >= _mean(lines[ln]) + WEAK_GAIN:
            better[ln] = [WordBox(w.text, w.left + box[0], w.top + box[1], w.width, w.height, w.conf, ln)
                          for w in found]
    out: list[WordBox] = []
    placed: set[int] = set()
    for w in words:
        if w.line not in better:
            out.append(w)
        elif w.line not in placed:  # at the line's first word, so lines keep their order
            out.extend(better[w.line])
            placed.add(w.line)
    return out


def _mean(words: list[WordBox]) -> float:
    return sum(w.conf for w in words) / len(words)


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
    boxes = []
    for top, bottom in missing:
        pad = max(8, (bottom - top) // 2)
        boxes.append((0, max(0, top - pad), page.width, min(page.height, bottom + pad)))
    added: list[WordBox] = []
    for k, (box, found) in enumerate(zip(boxes, read_each(reader, [page.crop(b) for b in boxes], lang, 7))):
        for w in found:
            added.append(WordBox(w.text, w.left, w.top + box[1], w.width, w.height, w.conf, first_new + k))
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
        # By left edges: at low resolution Tesseract draws some words wider to the right, over the
        # word before them (ماسک over عدد, اقدامات over و), and centres then swap them.
        ordered = sorted(line, key=lambda w: -w.left)
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


# --- layout: side blocks as lines of their own, in reading order -----------------------------------

# A horizontal gap wider than this many word heights inside one Tesseract line is a column gap, not
# a word space. psm 3 reads the number/date/attachments block at a letter's top left as the ends of
# the organisation's lines beside it (gaps of 15-25 heights), and the cc list's first line onto the
# signature's last; word spaces are under one height, the widest justified ones about two.
COLUMN_GAP = 3.5
# Lines closer than this many word heights, one under the other and overlapping, belong to one
# block (1.9-line spacing leaves 1.2 heights; a blank line 3.5).
BLOCK_GAP = 2.0
# A block this short beside a taller one is a side block (a letter's header or signature block):
# the taller one is read down to its end, then the side block, then the rest. Taller blocks side
# by side are columns and are read whole, one after the other.
SIDE_BLOCK_LINES = 6


def layout(words: list[WordBox], page: Image.Image | None = None) -> list[WordBox]:
    """Lines split at column gaps, grouped into blocks, and renumbered in reading order.

    Blocks are lines one under the other that overlap horizontally, one to one (a line spanning
    two blocks below it joins neither). They are read top to bottom, side by side ones from the
    right on Persian pages (from the left on English ones); a side block is read after the part
    of the block beside it, so the left header comes after the organisation's lines and before
    the salutation, and the signature before the cc list that starts beside its last line.
    Words keep their order inside a line (rtl_order sets it). With the `page`, a gap that holds
    ink on the line's rows is no column gap (see `_inked`).
    """
    if not words:
        return words
    h = max(1, median_height(words))
    rtl = 2 * sum(bool(ARABIC_LETTER.search(w.text)) for w in words) >= len(words)
    segments: list[list[WordBox]] = []
    for line in _lines(words):
        segments.extend(_split_at_gaps(line, COLUMN_GAP * h, page))
    boxes = [_box(s) for s in segments]
    blocks = _side_blocks_cut([sorted(b, key=lambda k: boxes[k][1]) for b in _blocks(boxes, h)], boxes)
    blocks.sort(key=lambda b: boxes[b[0]][1])
    ordered: list[int] = []
    k = 0
    while k < len(blocks):
        top = boxes[blocks[k][0]][1]
        tied = [b for b in blocks[k:] if boxes[b[0]][1] - top < 0.6 * h]
        tied.sort(key=lambda b: -max(boxes[i][2] for i in b) if rtl else min(boxes[i][0] for i in b))
        for b in tied:
            ordered.extend(b)
        k += len(tied)
    return [WordBox(w.text, w.left, w.top, w.width, w.height, w.conf, rank)
            for rank, k in enumerate(ordered) for w in segments[k]]


def _lines(words: list[WordBox]) -> list[list[WordBox]]:
    lines: dict[int, list[WordBox]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    return list(lines.values())


def _split_at_gaps(line: list[WordBox], gap: float, page: Image.Image | None = None) -> list[list[WordBox]]:
    """The line cut where the space between two neighbouring words is wider than `gap` (and, with
    the page, blank)."""
    by_x = sorted(line, key=lambda w: w.left)
    cuts = []
    for k in range(1, len(by_x)):
        start, end = max(w.left + w.width for w in by_x[:k]), by_x[k].left
        if end - start > gap and not (page is not None and _inked(page, line, start, end)):
            cuts.append(k)
    if not cuts:
        return [line]
    pieces = []
    for start, end in zip([0, *cuts], [*cuts, len(by_x)]):
        members = {id(w) for w in by_x[start:end]}
        pieces.append([w for w in line if id(w) in members])  # Tesseract's word order kept
    return pieces


def _inked(page: Image.Image, line: list[WordBox], start: int, end: int) -> bool:
    """Whether the columns from `start` to `end`, on the rows of the line's middle word, hold ink
    over a fifth of their width and half a word height at least: words the page read missed, not
    a column gap (an Amiri Bold fax's date ۱۴۰۰/۰۷/۲۷, read as ۷ in a box a third of its width, left
    a gap of 3.6 word heights in its line, which was then read as two). A gutter between columns
    or blocks is blank but for specks."""
    middle = sorted(line, key=lambda w: w.height)[len(line) // 2]
    ink = images.ink_columns(page, (start, middle.top, end, middle.top + middle.height))
    return int(ink.sum()) >= max(middle.height / 2, 0.2 * (end - start))


def _box(words: list[WordBox]) -> tuple[int, int, int, int]:
    return (min(w.left for w in words), min(w.top for w in words),
            max(w.left + w.width for w in words), max(w.top + w.height for w in words))


def _blocks(boxes: list[tuple[int, int, int, int]], h: int) -> list[list[int]]:
    """Connected groups of segments: each joined to the one right under it when they overlap
    horizontally and neither overlaps another segment of the other's row."""
    def below(i: int) -> list[int]:
        l, t, r, b = boxes[i]
        found = [j for j, (l2, t2, r2, b2) in enumerate(boxes)
                 if j != i and t2 > t + 0.5 * h and t2 - b < BLOCK_GAP * h and min(r, r2) > max(l, l2)]
        if not found:
            return []
        nearest = min(boxes[j][1] for j in found)
        return [j for j in found if boxes[j][1] - nearest < 0.5 * h]

    unders = [below(i) for i in range(len(boxes))]
    parent = list(range(len(boxes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, under in enumerate(unders):
        if len(under) == 1 and [k for k, u in enumerate(unders) if under[0] in u] == [i]:
            parent[root(under[0])] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _side_blocks_cut(blocks: list[list[int]], boxes: list[tuple[int, int, int, int]]) -> list[list[int]]:
    """A block that runs on below a short block beside it is cut under that block's last line."""
    changed = True
    while changed:
        changed = False
        for a in blocks:
            for side in blocks:
                if side is a or len(side) > SIDE_BLOCK_LINES:
                    continue
                s_left, s_right = min(boxes[i][0] for i in side), max(boxes[i][2] for i in side)
                s_top, s_bottom = boxes[side[0]][1], max(boxes[i][3] for i in side)
                beside = [i for i in a if boxes[i][1] <= s_bottom and boxes[i][3] >= s_top]
                rest = [i for i in a if boxes[i][1] > s_bottom]
                if beside and rest and all(min(boxes[i][2], s_right) <= max(boxes[i][0], s_left) for i in beside):
                    blocks.remove(a)
                    blocks += [[i for i in a if i not in rest], rest]
                    changed = True
                    break
            if changed:
                break
    return blocks
