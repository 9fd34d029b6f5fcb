"""Numbers and codes read again with Sanad's own figures model (ingest/models/figures.traineddata).

Why: Debian's `fas` model has no ٬ ، ٫ in its unicharset, so it writes a thousands separator as
the digit it looks most like (۵٬۴۰۰٬۰۰۰ as ۵۳۴۰۰۳۰۰۰) or drops it, and in fonts it was not trained
on it confuses digits as well (Noto Kufi Arabic's ۴ as ۳, its comma-shaped ٬ as ۰ or ۲). The
figures model (built by ingest/figures_train.py) knows only digits, separators, / - and the
letters of letter numbers, and was trained on number crops like the ones cut here.

`read_figures` is a pass over a page's word boxes (see ingest/passes.py): each word that is a
number or a code, as the page read it, is cut out at three margins and all the crops are read in
one Tesseract call, each as a line of its own. What the readings come to, against the page's
reading, is decided in ingest/figure_readings.py. A letter's own number, after its label
`شماره:`, its date and its phone number are cut tighter (see `_HEADER_MARGINS`).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from PIL import Image

from archive.models import WordBox
from ingest.figure_readings import (LETTERS, accept, agreed, agrees, alike, completed, header_reading, trimmed, vote,
                                    vote_runs)
from ingest.images import ink_columns, runs
from ingest.numbers import edit_distance
from ingest.reading import Reader, median_height

MODEL = Path(__file__).resolve().parent / "models" / "figures.traineddata"

# A word the page read that may be a number or a code: digits, what separators are read as,
# and at most a few letters of a letter number.
# The page read also writes a separator as a colon (Noto Sans Arabic's ٬ in ۲۶٬۶۰۰٬۰۰۰ as ۲۶:۶۰۰۰۰۰)
# and the slashes of a letter number as ا, | or a bracket (۵۹۶۶ اص |۰۰); a fax's ٬ as * or " (۵*۹۰۰
# on a Titr one, ۵"۱۰۰ on a DejaVu Sans one), and a digit with its ٬ as » (»۲۲۰ for ۲٬۲۰۰ on Homa faxes).
_CANDIDATE = re.compile(r"[0-9۰-۹٠-٩٬,،.٫'’/\-:|\[\]*\"«»ا" + "".join(LETTERS.values()) + r"]+")
_DIGIT = re.compile(r"[0-9۰-۹٠-٩]")
_NATIVE_DIGIT = re.compile(r"[۰-۹٠-٩]")
# Pieces that are all digits and separators: one left-to-right run in bidi (see _union).
_ONE_RUN = re.compile(r"[0-9۰-۹٬,،.٫/\-]+")


def candidates(words: list[WordBox]) -> list[list[int]]:
    """The words worth reading again, in groups read as one crop: numbers of two digits or more
    and codes, with the pieces beside them on their line that the page read cut them into
    (`۲۲۲۰` `ص/۰۰`, `۵` `۴۰۰۰۰۰`: pieces less than the text height apart)."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    groups: list[list[int]] = []
    for members in lines.values():
        labelled, _ = _after_label(members, words)
        if labelled:
            groups.append(labelled)
            continue
        run: list[int] = []
        for i in [*sorted(members, key=lambda i: words[i].left), None]:
            if i is not None and _piece(words[i].text):
                prev = words[run[-1]] if run else None
                gap = words[i].left - (prev.left + prev.width) if prev else 0
                if not run or gap < max(prev.height, words[i].height):
                    run.append(i)
                    continue
            # A * is a ۰ the page read as one (***,۲ for ۲٬۰۰۰ on a FreeFarsi Bold phone photo).
            if sum(len(_DIGIT.findall(words[j].text)) + words[j].text.count("*") for j in run) >= 2:
                groups.append(run)
            run = [i] if i is not None and _piece(words[i].text) else []
    return sorted(groups)


# The labels of a letter's header block (`شماره: ۱۲۳۴/ص/۹۹`, `تاریخ: ۱۳۹۹/۰۱/۰۵`) and of its footer's
# phone number (`تلفن: ۰۱۸-۷۷۴۳۳۶۹`), and what follows each.
_HEADER_LABELS = {"شماره": "number", "تاریخ": "date", "تلفن": "phone"}


def _label_kind(text: str) -> str | None:
    """"number" for `شماره:`, "date" for `تاریخ:`, "phone" for `تلفن:` (also without the colon,
    or with it and one letter misread: faxes gave شمارد: and شمازه:, or with a semicolon for it),
    None for any other word."""
    text = re.sub(r"[؛;]$", ":", text)  # a fax's تاریخ: came out as تاریخ؛
    for label, kind in _HEADER_LABELS.items():
        if re.fullmatch(label + r"\s*:?", text) or text.endswith(":") and edit_distance(text[:-1].strip(), label) == 1:
            return kind
    return None


def _after_label(members: list[int], words: list[WordBox]) -> tuple[list[int], str | None]:
    """On a labelled line `شماره: …`, `تاریخ: …` or `تلفن: …` (its own line after
    ingest/passes.layout), all the words after the label, whatever the page read made of them: it
    reads the ص of ۹۴۹/ص/۹۸ as هن now and then, a fax's date as 7 or ۱۳۱(, and a phone number as
    pieces and letters, which no candidate piece matches; and the label's kind (see `_label_kind`).
    Empty and None for any other line."""
    kinds = {i: kind for i in members if (kind := _label_kind(words[i].text))}
    if len(kinds) != 1:
        return [], None
    (label, kind), = kinds.items()
    rest = sorted((i for i in members if words[i].left + words[i].width <= words[label].left + 1),
                  key=lambda i: words[i].left)
    if not rest or len(rest) != len(members) - 1 or len(rest) > 4:
        return [], None
    return (rest, kind) if any(_DIGIT.search(words[i].text) for i in rest) else ([], None)


# A lone digit's box this many of the page's word heights wide holds more than one digit.
_WIDE = 2.0


def _wide_digits(words: list[WordBox], groups: list[list[int]], page: Image.Image) -> list[list[int]]:
    """Words the page read as one digit whose box, kept in its line and grown over the ink beside
    it (`_in_line`, `_widened`), is at least `_WIDE` word heights wide: the page read lost the
    rest of the number (an Amiri fax's body dates ۱۳۹۸/۰۲/۱۴ came out as ۸ and ۱), and only a crop
    can tell what it holds. Each is a group of its own, read as a grown one (see `_outcome`)."""
    taken = {i for g in groups for i in g}
    height = median_height(words)
    out = []
    for i, w in enumerate(words):
        if i in taken or not _NATIVE_DIGIT.fullmatch(w.text) or _header_kind([i], words):
            continue
        box = _widened(_in_line(w, [i], words), [i], words, page)
        if box.width >= _WIDE * height:
            out.append([i])
    return out


def _header_kind(group: list[int], words: list[WordBox]) -> str | None:
    """What the group is when it is all that follows a header label: "number", "date" or "phone"."""
    members = [i for i, w in enumerate(words) if w.line == words[group[0]].line]
    rest, kind = _after_label(members, words)
    return kind if rest == group else None


def _piece(text: str) -> bool:
    # Digits must include Persian or Arabic-Indic ones: an all-ASCII "number" on a Persian page is
    # a Latin term the fas model mangled (N95 as 895), left to the Latin pass.
    return bool(_CANDIDATE.fullmatch(text)) and (not _DIGIT.search(text) or bool(_NATIVE_DIGIT.search(text)))


def read_figures(words: list[WordBox], page: Image.Image, reader: Reader, model: Path = MODEL) -> list[WordBox]:
    """The words, with numbers and codes replaced by the figures model's reading where accepted."""
    lines = getattr(reader, "lines", None)  # a fake reader without line reads skips the pass
    if lines is None or not model.is_file():
        return words
    words = unglued(words, page)
    groups = candidates(words)
    wide = _wide_digits(words, groups, page)
    groups = sorted(groups + wide)
    if not groups:
        return words
    boxes = [_union([words[i] for i in g]) for g in groups]
    headers = [_header_kind(g, words) for g in groups]
    cut = [_in_line(b, g, words) for b, g in zip(boxes, groups)]
    cut = [c if kind else _widened(c, g, words, page) for c, g, kind in zip(cut, groups, headers)]
    grown = [c.width > b.width + b.height / 2 or g in wide for c, b, g in zip(cut, boxes, groups)]
    crops = [[_crop(page, c, margin) for margin in (_HEADER_MARGINS if kind else _MARGINS)]
             for c, kind in zip(cut, headers)]
    # Two crops of each number first, the third only where those two leave the outcome open: most
    # numbers' crops all read alike, and a crop read costs more than the call's model load.
    first = iter(lines([c for group_crops in crops for c in group_crops[:2]], model))
    reads = [[next(first), next(first)] for _ in groups]
    open_ = [k for k, read in enumerate(reads) if not _settled(read, boxes[k].text, headers[k], grown[k])]
    for k, more in zip(open_, lines([crops[k][2] for k in open_], model) if open_ else []):
        reads[k].append(more)
    out: list[WordBox | None] = list(words)
    for group, box, read, kind, more in zip(groups, boxes, reads, headers, grown):
        found = [(trimmed(f[0][0]), f[0][1]) for f in read if len(f) == 1]
        text = _outcome(box.text, [label for label, _ in found], kind, len(read), more)
        conf = max((c for _, c in found), default=box.conf)
        if text is None or text == box.text and len(group) == 1:
            continue  # (pieces the crops read as their union are one word from now on)
        out[group[0]] = WordBox(text, box.left, box.top, box.width, box.height, max(box.conf, conf), box.line)
        for i in group[1:]:
            out[i] = None
    return [w for w in out if w is not None]


# A word the page read glued from a word and the number beside it (مبلغ:۳۲۳۸۰۰۳۰۰۰ on a tuning
# photocopy, printed مبلغ ۳۲٬۸۰۰٬۰۰۰): a word (and a colon) and a number, either way round.
_NUMBER_PART = r"[0-9۰-۹٠-٩٬,،.٫'’/\-:*]*[0-9۰-۹٠-٩][0-9۰-۹٠-٩٬,،.٫'’/\-:*]*"
# Three Arabic-script letters at least: the ص of a letter number the page read as اص is none.
_WORD_PART = r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]{3,}"
_GLUED = re.compile(rf"({_WORD_PART}:?)({_NUMBER_PART})|({_NUMBER_PART})({_WORD_PART})")


def unglued(words: list[WordBox], page: Image.Image) -> list[WordBox]:
    """The words, each one glued from a word and a number of three digits or more cut in two
    where a column of the page between them is blank (the printed word space); a word with no
    such column stays whole."""
    out: list[WordBox] = []
    for w in words:
        m = _GLUED.fullmatch(w.text)
        first, second = ((m[1], m[2]) if m[1] else (m[3], m[4])) if m else ("", "")
        number = second if m and m[1] else first
        gap = _blank_gap(page, w, len(second) / len(w.text)) if len(_DIGIT.findall(number)) >= 3 else None
        if gap is None:
            out.append(w)
            continue
        # Logical order: the first part is read first, so it stands on the right.
        out.append(WordBox(first, gap[1], w.top, w.left + w.width - gap[1], w.height, w.conf, w.line))
        out.append(WordBox(second, w.left, w.top, gap[0] - w.left, w.height, w.conf, w.line))
    return out


def _blank_gap(page: Image.Image, w: WordBox, share: float) -> tuple[int, int] | None:
    """(start, end) in page columns of the blank run inside the word's box nearest to where its
    left part (`share` of its characters) should end; None if no column is blank."""
    blank = ~ink_columns(page, (w.left, w.top, w.left + w.width, w.top + w.height))
    gaps = [(a, b) for a, b in runs(blank) if b - a >= 2 and a > 0.05 * w.width and b < 0.95 * w.width]
    if not gaps:
        return None
    a, b = min(gaps, key=lambda r: abs((r[0] + r[1]) / 2 - share * w.width))
    return w.left + a, w.left + b


def _outcome(old: str, labels: list[str], kind: str | None, crops: int, grown: bool = False) -> str | None:
    """The number's new text from its crops' readings (`labels`, of the `crops` read, those read
    as one word), or None to keep the page's: see ingest/figure_readings.py. `grown`: the crops
    take in ink beside the page's box that no word covers (see `_widened`)."""
    text = header_reading(old, labels, kind) if kind else None
    # A crop read as the page read it votes for the page's reading.
    texts = [accept(old, label) or (old if agrees(old, label) else None) for label in labels]
    text = text or vote(texts, old) or vote_runs(old, texts)
    if text is None and labels:
        label, n = Counter(labels).most_common(1)[0]
        if 2 * n > crops:
            text = agreed(old, label) or (completed(old, label, zeros_only=not grown) if grown or n == 3 else None)
            text = text or (alike(old, label) if n == 3 else None)
    return text


def _settled(read: list[list[tuple[str, float]]], old: str, kind: str | None, grown: bool = False) -> bool:
    """Whether a third crop could not change what two crops that read alike decide: two like
    votes outweigh the third's, unless they decided nothing (then the third alone may)."""
    if len(read) != 2 or any(len(f) != 1 for f in read) or trimmed(read[0][0][0]) != trimmed(read[1][0][0]):
        return False
    label = trimmed(read[0][0][0])
    if kind:
        return header_reading(old, [label, label], kind) is not None
    return bool(accept(old, label) or agrees(old, label) or grown and completed(old, label))


def _union(ws: list[WordBox]) -> WordBox:
    """One box around pieces of a line given left to right; its text the pieces right to left,
    as a Persian line reads them, except for pieces of one number: Persian digits with / - , .
    between them are one left-to-right run in bidi, so `۰۷۷-۶` `۲۷۱۰۲۶` is ۰۷۷-۶۲۷۱۰۲۶."""
    left, top = min(w.left for w in ws), min(w.top for w in ws)
    right, bottom = max(w.left + w.width for w in ws), max(w.top + w.height for w in ws)
    ltr = all(_ONE_RUN.fullmatch(w.text) for w in ws)
    return WordBox("".join(w.text for w in (ws if ltr else reversed(ws))), left, top, right - left,
                   bottom - top, min(w.conf for w in ws), ws[0].line)


def _in_line(box: WordBox, group: list[int], words: list[WordBox]) -> WordBox:
    """The box to crop a number at, kept within its line: on faxes and photocopies Tesseract
    sometimes gives a number a box a few pixels high (۳۴۰۰۰ as 60x4), or one that runs over the
    words beside it (۲۸۰۰۰ over تعداد and به), and the figures model then reads the crop as noise."""
    others = [w for k, w in enumerate(words) if w.line == box.line and k not in group]
    if not others:
        return box
    tops = sorted(w.top for w in others)
    bottoms = sorted(w.top + w.height for w in others)
    top, bottom = box.top, box.top + box.height
    if box.height < 0.6 * (bottoms[len(bottoms) // 2] - tops[len(tops) // 2]):
        top, bottom = min(top, tops[len(tops) // 2]), max(bottom, bottoms[len(bottoms) // 2])
    left, right = box.left, box.left + box.width
    for w in others:
        # A neighbour whose middle lies inside the box marks where the number ends on that side.
        middle = w.left + w.width / 2
        if left < middle < right:
            if middle > (box.left + box.width / 2):
                right = min(right, w.left)
            else:
                left = max(left, w.left + w.width)
    if right - left < 0.3 * box.width:
        left, right = box.left, box.left + box.width  # the neighbours' boxes are the wrong ones
    return WordBox(box.text, left, top, right - left, bottom - top, box.conf, box.line)


def _widened(box: WordBox, group: list[int], words: list[WordBox], page: Image.Image) -> WordBox:
    """The box grown on either side over inked columns that no word covers: the page read drops
    the end of a number now and then, with no word for it (۴۴۶ for ۴۴٬۶۰۰٬۰۰۰ on a Nazli phone
    photo, ۱۹۰ for ۱۹٬۰۰۰ on a Homa fax), and a crop of the page's box reads only what it holds.
    Gaps inside a number are as wide as word spaces (the ۰s of that photo's ۶۰۰٬۰۰۰ stand 8-15 px
    apart, its words 11-16 px), so the growth goes on across gaps of up to most of the text height
    and ends only at a wider one or short of a neighbour's box: words on the same rows of the page,
    of any line, so that ink a word holds is never read twice."""
    # The line's words, and any other word on the box's rows (a fax's تعداد, whose box sat higher
    # than the number's, had been grown over).
    beside = [w for k, w in enumerate(words) if k not in group
              and (w.line == box.line or min(w.top + w.height, box.top + box.height) - max(w.top, box.top) > 0)]
    right_end = min((w.left for w in beside if w.left >= box.left + box.width / 2), default=page.width)
    left_end = max((w.left + w.width for w in beside if w.left + w.width <= box.left + box.width / 2), default=0)
    if right_end <= box.left + box.width and left_end >= box.left:
        return box
    inked = ink_columns(page, (left_end, box.top, right_end, box.top + box.height))
    widest, clear = 0.8 * box.height, max(2, box.height // 4)
    left, right = box.left - left_end, box.left + box.width - left_end  # in band columns
    for start, end in runs(inked):
        if end <= right:
            continue
        if start - right > widest or end > len(inked) - clear:
            break  # a word space, or ink too near the neighbour's box to tell from it
        right = end
    for start, end in reversed(runs(inked)):
        if start >= left:
            continue
        if left - end > widest or start < clear:
            break
        left = start
    return WordBox(box.text, left + left_end, box.top, right - left, box.height, box.conf, box.line)


# (side, top and bottom) margins of the three crops of a number, in text heights: the model was
# trained with margins of up to a third of the text size; a high separator can reach above the box.
_MARGINS = ((0.25, 0.12), (0.4, 0.3), (0.15, 0.22))
# A header's crops: tighter above and below. On the tuning letters' letter numbers a crop
# 0.04-0.12 text heights high read 132-135 of 142 exactly, one 0.3 high 115-119 (the ص's tail and
# the line above come in); the side margin hardly mattered. Dates read as well either way.
_HEADER_MARGINS = ((0.25, 0.08), (0.35, 0.04), (0.1, 0.12))


# Crops lower than this are enlarged to it. The model's training lines are 38-62 px high for the
# middle half (ingest/figures_train.py), a 150 dpi fax's or a phone photo's number crops 22-36:
# read as they are, a Homa fax's ۰۶۴-۵۶۳۸۶۷۹ came out as 064-5 from all three crops, enlarged
# twice as 064-5638679.
MIN_CROP_HEIGHT = 44


def _crop(page: Image.Image, w: WordBox, margin: tuple[float, float]) -> Image.Image:
    side, vertical = max(3, round(w.height * margin[0])), max(3, round(w.height * margin[1]))
    crop = page.crop((max(0, w.left - side), max(0, w.top - vertical),
                      min(page.width, w.left + w.width + side), min(page.height, w.top + w.height + vertical)))
    if 0 < crop.height < MIN_CROP_HEIGHT:
        factor = MIN_CROP_HEIGHT / crop.height
        crop = crop.resize((max(1, round(crop.width * factor)), MIN_CROP_HEIGHT), Image.LANCZOS)
    return crop
