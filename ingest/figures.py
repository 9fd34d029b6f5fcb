"""Numbers and codes read again with Sanad's own figures model (ingest/models/figures.traineddata).

Why: Debian's `fas` model has no ٬ ، ٫ in its unicharset, so it writes a thousands separator as
the digit it looks most like (۵٬۴۰۰٬۰۰۰ as ۵۳۴۰۰۳۰۰۰) or drops it, and in fonts it was not trained
on it confuses digits as well (Noto Kufi Arabic's ۴ as ۳, its comma-shaped ٬ as ۰ or ۲). The
figures model (built by ingest/figures_train.py) knows only digits, separators, / - and the
letters of letter numbers, and was trained on number crops like the ones cut here.

`read_figures` is a pass over a page's word boxes (see ingest/passes.py): each word that is a
number or a code, as the page read it, is cut out at three margins and all the crops are read in
one Tesseract call, each as a line of its own. A reading replaces the word when it fits the page's
reading (see `accept`) and the crops' readings do not disagree (see `vote`, and `vote_runs` for
three readings of one shape); failing that, when most crops gave it and it differs from the page's
reading only by digits the page added or lost (see `agreed`). A letter's own number, after its
label `شماره:`, its date and its phone number are cut tighter and taken as their crops read them
(see `header_reading`).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from PIL import Image

from archive.models import WordBox
from ingest.numbers import edit_distance, valid_date
from ingest.reading import Reader

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
# The page read also writes a separator as a colon (Noto Sans Arabic's ٬ in ۲۶٬۶۰۰٬۰۰۰ as ۲۶:۶۰۰۰۰۰)
# and the slashes of a letter number as ا, | or a bracket (۵۹۶۶ اص |۰۰); a fax's ٬ as * (۵*۹۰۰ on a Titr one).
_CANDIDATE = re.compile(r"[0-9۰-۹٠-٩٬,،.٫'’/\-:|\[\]*ا" + "".join(_LETTERS.values()) + r"]+")
_DIGIT = re.compile(r"[0-9۰-۹٠-٩]")
_NATIVE_DIGIT = re.compile(r"[۰-۹٠-٩]")
# A grouped amount: 1-3 digits, then groups of three. None starts with ۰: a crop's 0,000 for
# ۶۰٬۰۰۰ lost its first digit.
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+")
# Pieces that are all digits and separators: one left-to-right run in bidi (see _union).
_ONE_RUN = re.compile(r"[0-9۰-۹٬,،.٫/\-]+")
_REFERENCE = re.compile(r"\d+/[SQMDBTK]/\d+|[SQMDBTK]/\d+/\d+|\d+/\d+/[SQMDBTK]|\d+/[SQMDBTK]")
_PHONE = re.compile(r"(\d{2,4})-\d{5,8}")


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
            if sum(len(_DIGIT.findall(words[j].text)) for j in run) >= 2:
                groups.append(run)
            run = [i] if i is not None and _piece(words[i].text) else []
    return sorted(groups)


# The labels of a letter's header block (`شماره: ۱۲۳۴/ص/۹۹`, `تاریخ: ۱۳۹۹/۰۱/۰۵`) and of its footer's
# phone number (`تلفن: ۰۱۸-۷۷۴۳۳۶۹`), and what follows each.
_HEADER_LABELS = {"شماره": "number", "تاریخ": "date", "تلفن": "phone"}


def _label_kind(text: str) -> str | None:
    """"number" for `شماره:`, "date" for `تاریخ:`, "phone" for `تلفن:` (also without the colon,
    or with it and one letter misread: faxes gave شمارد: and شمازه:), None for any other word."""
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


def _header_kind(group: list[int], words: list[WordBox]) -> str | None:
    """What the group is when it is all that follows a header label: "number", "date" or "phone"."""
    members = [i for i, w in enumerate(words) if w.line == words[group[0]].line]
    rest, kind = _after_label(members, words)
    return kind if rest == group else None


def header_reading(old: str, labels: list[str], kind: str) -> str | None:
    """A header's letter number, date or phone number as its crops read it: the reading most of
    them gave, or on a tie the first crop's (of a phone number, two must agree), of those that are
    a letter number (a valid date, a phone number with its area code); None if none is.

    No check against the page's reading: on the 144 tuning letters (`bench.ocr --types --tuning
    --letters 6`) these crops' readings gave 137 letter numbers exactly, where the page's reading
    with the checks of `accept` kept 126, and the page's reading was right in none of their
    misses. The page read garbles a letter number past what a rule can mend (۵۳۳۲۰/ص/۰۰ for
    ۵۴۲۰/ص/۰۰, the ص read as digits in ۹۸۸ 0۵۸۱۷۲۸۱), and a fax's date to ۱۳۷ in a box as wide as
    the date. A phone number the page read cut into pieces and letters (`۳` `۳۶-۴` `۰` on a
    DejaVu Sans fax, `۱۷۰۹۰۳ اعد` on a Homa one) is a line lost to a reader who quotes it."""
    fits = {"number": _REFERENCE.fullmatch, "phone": _PHONE.fullmatch,
            "date": lambda r: "/" in r and valid_date(r)}[kind]
    readings = [to_logical(label) for label in labels if _LABEL.fullmatch(label)]
    if kind == "number":  # no letter number has a thousands separator (00/S/78,76 is ۷۸۷۶/ص/۰۰)
        readings = [re.sub(r"(?<=\d),(?=\d)", "", r) for r in readings]
    if kind == "date":
        readings = [_slash_restored(r) or r for r in readings]
    readings = [r for r in readings if fits(r)]
    if not readings:
        return None
    best, n = Counter(readings).most_common(1)[0]
    if n == 1 and kind == "phone":
        return None  # a phone number has no shape to check it by: two crops must agree
    if n == 1:
        # Each run by itself, else the first crop's: a Titr fax's crops gave ۸۱۴۱/ص/۹۹, ۸۱۴۹/ص/۹۹
        # and ۸۱۴۹/ص/۹ for ۸۱۴۹/ص/۹۹.
        best = _runs_voted(readings) or readings[0]
    return written(best, old)


def _slash_restored(date: str) -> str | None:
    """A date the crop read with a ۱/ as one ۷ (the two strokes make its V: 1398/1702 for
    ۱۳۹۸/۱۱/۰۲ in all crops of a Noto Sans Arabic fax), put back when exactly one ۷ so read gives
    a valid date of the typed shape ۱۳۹۸/۰۸/۲۷; None for a valid date or any other reading."""
    if valid_date(date):
        return None
    mended = {date[:i] + "1/" + date[i + 1:] for i, c in enumerate(date) if c == "7"}
    mended = [d for d in mended if re.fullmatch(r"\d{4}/\d\d/\d\d", d) and valid_date(d)]
    return mended[0] if len(mended) == 1 else None


def _piece(text: str) -> bool:
    # Digits must include Persian or Arabic-Indic ones: an all-ASCII "number" on a Persian page is
    # a Latin term the fas model mangled (N95 as 895), left to the Latin pass.
    return bool(_CANDIDATE.fullmatch(text)) and (not _DIGIT.search(text) or bool(_NATIVE_DIGIT.search(text)))


def read_figures(words: list[WordBox], page: Image.Image, reader: Reader, model: Path = MODEL) -> list[WordBox]:
    """The words, with numbers and codes replaced by the figures model's reading where accepted."""
    groups = candidates(words)
    lines = getattr(reader, "lines", None)  # a fake reader without line reads skips the pass
    if not groups or lines is None or not model.is_file():
        return words
    boxes = [_union([words[i] for i in g]) for g in groups]
    headers = [_header_kind(g, words) for g in groups]
    crops = [[_crop(page, _in_line(b, g, words), margin) for margin in (_HEADER_MARGINS if kind else _MARGINS)]
             for b, g, kind in zip(boxes, groups, headers)]
    flat = iter(lines([c for pair in crops for c in pair], model))
    out: list[WordBox | None] = list(words)
    for k, (group, box) in enumerate(zip(groups, boxes)):
        read = [next(flat) for _ in crops[k]]  # this group's crops, whichever margins they had
        found = [(_trimmed(f[0][0]), f[0][1]) for f in read if len(f) == 1]
        text = header_reading(box.text, [label for label, _ in found], headers[k]) if headers[k] else None
        # A crop read as the page read it votes for the page's reading.
        texts = [accept(box.text, label) or (box.text if _agrees(box.text, label) else None) for label, _ in found]
        text = text or vote(texts, box.text) or vote_runs(box.text, texts)
        if text is None and found:
            label, n = Counter(label for label, _ in found).most_common(1)[0]
            text = agreed(box.text, label) if 2 * n > len(read) else None
        conf = max((c for _, c in found), default=box.conf)
        if text is None or text == box.text and len(group) == 1:
            continue  # (pieces the crops read as their union are one word from now on)
        out[group[0]] = WordBox(text, box.left, box.top, box.width, box.height, max(box.conf, conf), box.line)
        for i in group[1:]:
            out[i] = None
    return [w for w in out if w is not None]


def _trimmed(label: str) -> str:
    """A crop's reading less what the crop's edges took in of the words beside the number: a
    separator at either end (a neighbour's dot), and a letter right against a digit (the ز of
    `از` before ۴٬۷۰۰, read as D: 4,700D), with what lies beyond it. A letter number's letters
    stand between slashes."""
    label = label.strip(",.")
    # From such a letter outwards all is the neighbour's (4,700D1: the ا of از read as 1 too).
    label = re.sub(r"(?<=[0-9,])[SQMDBTK][^/]*$", "", label)
    label = re.sub(r"^[^/]*[SQMDBTK](?=[0-9,])", "", label)
    return label.strip(",.")


def _agrees(old: str, label: str) -> bool:
    return bool(_LABEL.fullmatch(label)) and written(to_logical(label), old) == old


def vote(texts: list[str | None], old: str | None = None) -> str | None:
    """The accepted reading of a number's crops that more of them gave than any other (None
    abstains). The model confuses ۳ and ۴ in some crops of Noto Kufi Arabic: readings that
    disagree leave the page's reading as it was, unless exactly one of the tied readings has the
    page's digits (`old`), only its slashes or separators read anew (۷۶۴۰اص|۰۰: ۷۶۴۰/ص/۰۰ against
    ۲۲۰/ص/۰۰)."""
    counts = Counter(t for t in texts if t is not None)
    ranked = counts.most_common()
    if not ranked:
        return None
    tied = [t for t, n in ranked if n == ranked[0][1]]
    if len(tied) == 1:
        return tied[0]
    if old is not None:
        same = [t for t in tied if _digit_string(t) == _digit_string(old)]
        if len(same) == 1:
            return same[0]
    return None


def _digit_string(text: str) -> str:
    return re.sub(r"\D", "", text.translate(_TO_ASCII))


def vote_runs(old: str, texts: list[str | None]) -> str | None:
    """When the crops' accepted readings all differ but have one shape (three letter numbers, say),
    each run of digits by itself: the run most of them gave, if every run has one and the result
    is still a reading `accept` takes (۸۳۹۶/ص/۹۸, ۸۴۹۶۸/ص/۹۸ and ۸۳۹۶/ص/۱۸ give ۸۳۹۶/ص/۹۸)."""
    # The page's own runs vote too: ۳۶۰۴ against two crops' ۳۶۰۲ is no majority.
    text = _runs_voted([t for t in texts if t is not None], re.findall(r"\d+", old))
    return text if text is not None and accept(old, _visual(text)) == text else None


def _runs_voted(readings: list[str], page: list[str] | None = None) -> str | None:
    """Three or more readings of one shape, each run of digits the one most of them gave (and the
    page's runs, when it has as many); None if the shapes differ or a run has no majority."""
    shapes = {re.sub(r"\d+", "#", t) for t in readings}
    if len(readings) < 3 or len(shapes) != 1:
        return None
    runs = [re.findall(r"\d+", t) for t in readings]
    if page is not None and len(page) == len(runs[0]):
        runs.append(page)
    chosen = []
    for column in zip(*runs):
        run, n = Counter(column).most_common(1)[0]
        if 2 * n <= len(column):
            return None
        chosen.append(run)
    pieces = iter(chosen)
    return re.sub(r"\d+", lambda _: next(pieces), readings[0])


def _visual(text: str) -> str:
    # A reading as written on the page, back in the model's label form: to_logical is its own inverse.
    return to_logical(_as_label(text).replace("٫", "."))


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


# (side, top and bottom) margins of the three crops of a number, in text heights: the model was
# trained with margins of up to a third of the text size; a high separator can reach above the box.
_MARGINS = ((0.25, 0.12), (0.4, 0.3), (0.15, 0.22))
# A header's crops: tighter above and below. On the tuning letters' letter numbers a crop
# 0.04-0.12 text heights high read 132-135 of 142 exactly, one 0.3 high 115-119 (the ص's tail and
# the line above come in); the side margin hardly mattered. Dates read as well either way.
_HEADER_MARGINS = ((0.25, 0.08), (0.35, 0.04), (0.1, 0.12))


def _crop(page: Image.Image, w: WordBox, margin: tuple[float, float]) -> Image.Image:
    side, vertical = max(3, round(w.height * margin[0])), max(3, round(w.height * margin[1]))
    return page.crop((max(0, w.left - side), max(0, w.top - vertical),
                      min(page.width, w.left + w.width + side), min(page.height, w.top + w.height + vertical)))


def accept(old: str, label: str) -> str | None:
    """The figures model's reading written as the page prints it, if it is to replace `old`.

    The reading must be a whole label of the model's alphabet and fit what the page read: the
    page's reading is wrong in the separators and some digits (Noto Kufi Arabic's ۴ read as ۳),
    rarely in the number of digits, while the model, which sees only the number, is the one that
    loses a zero dot now and then. So:
    - a grouped amount (1-3 digits, then groups of three) is taken when it has the page's digits
      less those the separators were read as (or one more); if the page's reading was a grouped
      amount too, only with as many digits;
    - a letter number is taken when the page's reading was none, within two digits of it, or one
      with the same number of digits in each part;
    - a valid date when the page's reading was not one (within a digit of it; a date typed
      ۱۳۰۰/۰۲/۱ is not one beside ۱۴۰۰/۰۴/۱۷, see `_typed_date`), or was one of the same shape
      (Noto Kufi Arabic's ۱۴۰۰/۰۴/۱۶, read as ۱۳۰۰/۰۳/۱۶ by the page and by every re-read with
      the Persian model);
    - any other number (a phone number, a count, a date of the same shape) when it has as many
      digits as the page's reading and the same characters between them.
    """
    if not _LABEL.fullmatch(label):
        return None
    new, was = to_logical(label), _as_label(old)
    if written(new, old) == old:
        return None
    nd, od = _digits(new), _digits(was)
    if _GROUPED.fullmatch(new):
        if _GROUPED.fullmatch(was):
            return written(new, old) if nd == od else None
        return written(new, old) if od - new.count(",") <= nd <= od + 1 else None
    if _REFERENCE.fullmatch(new):
        if _REFERENCE.fullmatch(was):
            same = [len(p) for p in re.split(r"\D+", new)] == [len(p) for p in re.split(r"\D+", was)]
            doubled = _DOUBLED_NINE.search(old) and od - nd == 1
            return written(new, old) if same or doubled else None
        return written(new, old) if abs(nd - od) <= 2 else None
    if any(c in ",SQMDBTK" for c in new) or _GROUPED.fullmatch(was) or _REFERENCE.fullmatch(was):
        return None
    if "/" in new and not valid_date(new):
        return None
    if "/" in new and not _typed_date(was, new):
        return written(new, old) if abs(nd - od) <= 1 else None
    shape = re.sub(r"\d", "0", new)
    if shape != re.sub(r"\d", "0", was) and _DOUBLED_NINE.search(old):
        was = _as_label(old.replace("٩", ""))  # ۰۱۸-۷۷۴۳۳۶۹٩: the stray ٩ is not a digit of the number
    return written(new, old) if shape == re.sub(r"\d", "0", was) else None


def _typed_date(was: str, new: str) -> bool:
    """Whether the page's reading is a date as the crop's is typed: a page's ۱۳۰۰/۰۲/۱ is valid,
    but beside a crop's ۱۴۰۰/۰۴/۱۷ it is the page read's loss of a digit (a Naskh phone photo)."""
    full = r"\d{4}/\d\d/\d\d"
    return valid_date(was) and not (re.fullmatch(full, new) and not re.fullmatch(full, was))


def agreed(old: str, label: str) -> str | None:
    """The reading most crops agreed on, when `accept` refused it for its number of digits: taken
    if it is an amount, a letter number, a date or a phone number (one digit fewer only, with the
    page's area code: a phone photo and a fax of the same letter gave ۰۱۸-۷۷۴۳۲۳۶۹ and
    ۰۱۸-۷۷۴۳۴۳۶۹ for ۰۱۸-۷۷۴۳۳۶۹, which all three crops read) and either
    - has the page's digits in order less one or two, or in an amount up to one more than it has
      separators (the page read adds a digit where a slash or a separator stood: ۶۷۶۴/ص/۹۹۸ for
      ۶۷۶۴/ص/۹۸, ۳۸۵۲۰۰۰ for ۳۵٬۰۰۰), none of them a ۰ unless it is a grouped amount (the model, when it loses a digit, loses the small dot of a ۰; an amount
      that lost one seldom still falls into groups of three), or
    - has one digit more than the page's reading, which it holds in order (۴۰۰,۰۰۰ for ۴٬۰۰۰٬۰۰۰).
    A grouped amount whose last group is short (40,00) is made up with the page's digits, see
    `_zeros_restored`.
    """
    if not _LABEL.fullmatch(label):
        return None
    new, was = to_logical(label), _as_label(old)
    if short := _SHORT_GROUP.fullmatch(new):
        return _zeros_restored(new, short[1], old)
    if _GROUPED.fullmatch(new) and _zeros_lost_by_page(new, was):
        return written(new, old)
    phone, was_phone = _PHONE.fullmatch(new), _PHONE.fullmatch(was)
    if phone and not (was_phone and phone[1] == was_phone[1]):
        return None
    if not (phone or _GROUPED.fullmatch(new) or _REFERENCE.fullmatch(new) or "/" in new and valid_date(new)):
        return None
    have, had = _digit_string(new), _digit_string(was)
    if len(have) == len(had) + 1 and _in_order(had, have) and not phone:
        return written(new, old)  # the page lost a digit (۴۰۰,۰۰۰ for ۴٬۰۰۰٬۰۰۰)
    # How many digits the page may have added: in an amount, one more than it has separators (one
    # was read as ۳۳ in ۸۴۳۳۴۰۰۳۰۰۰).
    most = new.count(",") + 1 if _GROUPED.fullmatch(new) else 1 if phone else 2
    if not 1 <= len(had) - len(have) <= most or not _in_order(have, had):
        return None
    # Only a grouped amount may drop a ۰: one the model lost seldom leaves groups of three.
    if (Counter(had) - Counter(have))["0"] and not _GROUPED.fullmatch(new):
        return None
    return written(new, old)


# A grouped amount whose last group the model read short: it lost the small dots of its last ۰s
# (all three crops of ۴۰٬۰۰۰ and ۱٬۷۰۰ on a tuning fax read 40,00 and 1,70).
_SHORT_GROUP = re.compile(r"[1-9]\d{0,2}(?:,\d{3})*,(\d{1,2})")


def _zeros_restored(new: str, last: str, old: str) -> str | None:
    """The crops' separators with the page's digits: taken when the reading, its last group made
    up with ۰s, is the page's digits less at most one digit where each separator stands (the page
    read ۴۰۳۰۰۰ for ۴۰٬۰۰۰, its separator as a ۳), so the page vouches for every digit."""
    whole = new + "0" * (3 - len(last))
    pattern = r"\d?".join(re.escape(run) for run in whole.split(","))
    return written(whole, old) if re.fullmatch(pattern, _digit_string(old)) else None


# What the page read writes for a thousands separator it saw as one: ۷۱:۰۰:۰۰, ۱۴,۰, ۴.۷۰۰.
_PAGE_SEPARATOR = re.compile(r"[,:.'’*]")


def _zeros_lost_by_page(new: str, was: str) -> bool:
    """Whether the page's reading is the crops' amount with separators where the crops have them
    and only ۰s missing from its groups (۱۴,۰ and ۷۱:۰۰:۰۰ for ۱۴٬۰۰۰ and ۷۱٬۰۰۰٬۰۰۰ on tuning
    faxes and photocopies): the page vouches for every other digit and for the grouping, and
    the fas model, like the figures model, loses the small dot of a ۰. Every group after the
    first has three digits, so only there is it known how many ۰s are lost."""
    groups, page = new.split(","), _PAGE_SEPARATOR.split(was)
    if len(groups) != len(page) or not all(p.isdigit() for p in page):
        return False
    # Only a group of three can be made up: the first group's length is the page's word.
    return groups[0] == page[0] and all(_in_order(p, g) and set(Counter(g) - Counter(p)) <= {"0"}
                                        for g, p in zip(groups[1:], page[1:]))


def _in_order(short: str, long: str) -> bool:
    rest = iter(long)
    return all(c in rest for c in short)


def _digits(label: str) -> int:
    return sum(c.isdigit() for c in label)


def to_logical(label: str) -> str:
    """A label in the glyphs' left-to-right order as typed: digit runs (with the separators between
    digits) stay as they are, and the runs and other characters are put right to left (the
    model's ۹۹/ص/۱۲۳۴ is ۱۲۳۴/ص/۹۹, -۱ is ۱-)."""
    return "".join(reversed(re.findall(r"\d+(?:[,./\-]\d+)*|.", label)))


# The fas model writes some ۹ twice, as ۹ and as the Arabic-Indic ٩ (its unicharset holds both):
# ۱۲۳۴/ص/۹۹٩ is one digit too long, not a different number; so is ۶۲۹۲/ص/۹۸٩, a ٩ beside another
# Persian digit. But it also writes a real ۹۹ as ۹٩.
_DOUBLED_NINE = re.compile(r"[۰-۹]٩|٩[۰-۹]")


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
