"""What the figures model's readings of a number's crops come to (see ingest/figures.py, which cuts
and reads them): the rules that judge a reading against the page's own reading of the number.

A reading is a label in the model's alphabet and visual order (ingest/figures_train.py, LABELS):
`to_logical` puts it in typed order and `written` in the page's digits. It replaces the page's
reading when it fits it (`accept`) and the crops do not disagree (`vote`, and `vote_runs` for three
readings of one shape); failing that, when most crops gave it and it differs from the page's
reading only by digits the page added or lost (`agreed`). What follows a header's label is taken
as its crops read it (`header_reading`). No Tesseract here: every rule is tested on strings.
"""

from __future__ import annotations

import re
from collections import Counter

from ingest.figure_dates import as_typed, slash_restored, typed_in_full, year_restored
from ingest.numbers import valid_date

_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC = "٠١٢٣٤٥٦٧٨٩"
_TO_ASCII = str.maketrans(_PERSIAN + _ARABIC, "0123456789" * 2)
# The model's labels for letters (ingest/figures_train.py, LETTERS) and back.
LETTERS = {"S": "ص", "Q": "ق", "M": "م", "D": "د", "B": "ب", "T": "ت", "K": "ک"}
_FROM_LETTER = {v: k for k, v in LETTERS.items()}
_LABEL = re.compile(r"[0-9,./\-SQMDBTK]+")
# A grouped amount: 1-3 digits, then groups of three. None starts with ۰: a crop's 0,000 for
# ۶۰٬۰۰۰ lost its first digit.
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:,\d{3})+")
_REFERENCE = re.compile(r"\d+/[SQMDBTK]/\d+|[SQMDBTK]/\d+/\d+|\d+/\d+/[SQMDBTK]|\d+/[SQMDBTK]")
_PHONE = re.compile(r"(\d{2,4})-\d{5,8}")


def header_reading(old: str, labels: list[str], kind: str) -> str | None:
    """A header's letter number, date or phone number as its crops read it: the reading most of
    them gave, or on a tie each run the one most gave, else the first crop's (of a phone number,
    two must agree), of those that are a letter number (a valid date, a phone number with its
    area code); None if none is.

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
        readings = [slash_restored(r) or r for r in readings]
    every = readings
    readings = [r for r in readings if fits(r)]
    if not readings:
        return None
    if kind == "date" and any(typed_in_full(r) for r in readings):
        # Letters type dates in full: a crop that reads one short lost a digit (a Noto Sans Arabic
        # phone photo's crops gave 1398/11/8 twice and 1398/11/18 once for ۱۳۹۸/۱۱/۱۸).
        readings = [r for r in readings if typed_in_full(r)]
    best, n = Counter(readings).most_common(1)[0]
    if n == 1 and kind == "phone":
        return None  # a phone number has no shape to check it by: two crops must agree
    if n == 1:
        # Each run by itself, else the first crop's: a Titr fax's crops gave ۸۱۴۱/ص/۹۹, ۸۱۴۹/ص/۹۹
        # and ۸۱۴۹/ص/۹ for ۸۱۴۹/ص/۹۹. A crop that lost the letter still has its runs of digits: a
        # Homa fax's ۹۳۰۸۵/ص/۹۸, ۹۳۸۵/ص/۹۸ and ۹۳۸۵//۹۸ are ۹۳۸۵/ص/۹۸.
        best = _runs_voted(readings) or _tie_broken(readings, every, fits, old) or readings[0]
    return written(_page_letter(best, old) if kind == "number" else best, old)


def _tie_broken(readings: list[str], every: list[str], fits, old: str) -> str | None:
    """Two or more crops' readings that fit, all different, with each run of digits the one that
    most voters gave, at least two and more than any other: every crop whose reading has as many
    runs, a crop that lost its letter too, and the page's reading (a Homa fax's ۹۳۰۸۵/ص/۹۸,
    ۹۳۸۵/ص/۹۸ and ۹۳۸۵//۹۸; another's ۲۵۷۸/ص/۰۵, ۲۵۷۸/ص/۰۰ and ۲۵۷۸/ص/۵۰, the page ۲۵۷۸7ص۰۰).
    None unless that fits as well. Readings that do not fit only break a tie: a Titr fax's
    1399/09/15 stays against two crops' 13499/09/15."""
    if len(readings) < 2:
        return None
    count = len(re.findall(r"\d+", readings[0]))
    voters = [re.findall(r"\d+", r) for r in (readings[0], *(r for r in every if r != readings[0]))]
    voters.append(re.findall(r"\d+", _as_label(old)))
    chosen = []
    for column in zip(*(v for v in voters if len(v) == count)):
        ranked = Counter(column).most_common(2)
        if ranked[0][1] < 2 or len(ranked) == 2 and ranked[1][1] == ranked[0][1]:
            return None
        chosen.append(ranked[0][0])
    voted = _with_runs(readings[0], chosen)
    return voted if fits(voted) else None


# A letter of a letter number, standing alone: not one of the letters of a word the page misread
# (۲۵۵۵منزر on a Homa fax).
_LONE_LETTER = re.compile(r"(?<![\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff])([" + "".join(LETTERS.values())
                          + r"])(?![\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff])")


def _page_letter(reading: str, old: str) -> str:
    """A letter number's letter as the page read it, where the page read one and the crop another:
    the fas model knows Persian letters, the figures model mostly digits (all three crops of a
    DejaVu Sans fax's ۳۳۹۹/ص/۰۰ read its ص as ت, the page read ص)."""
    page = set(_LONE_LETTER.findall(old))
    mine = [c for c in reading if c in LETTERS]
    if len(page) != 1 or len(mine) != 1:
        return reading
    return reading.replace(mine[0], _FROM_LETTER[page.pop()])


def trimmed(label: str) -> str:
    """A crop's reading less what the crop's edges took in of the words beside the number: a
    separator at either end (a neighbour's dot), a ۰ before an amount, and a letter right against
    a digit (the ز of `از` before ۴٬۷۰۰, read as D: 4,700D), with what lies beyond it. A letter number's letters
    stand between slashes."""
    label = label.strip(",.")
    # A ۰ before an amount's first group is a speck: no amount begins with ۰ (a DejaVu Sans Bold
    # fax's ۴۹٬۰۰۰ as 049,000 in two crops of three, and as ۰۴۹۰۰۰ by the page).
    label = re.sub(r"^0(?=[1-9]\d{0,2}(?:,\d{3})+$)", "", label)
    # From such a letter outwards all is the neighbour's (4,700D1: the ا of از read as 1 too).
    label = re.sub(r"(?<=[0-9,])[SQMDBTK][^/]*$", "", label)
    label = re.sub(r"^[^/]*[SQMDBTK](?=[0-9,])", "", label)
    return label.strip(",.")


def agrees(old: str, label: str) -> bool:
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
    return _with_runs(readings[0], chosen)


def _with_runs(reading: str, runs: list[str]) -> str:
    """The reading with its runs of digits replaced, in order, by `runs`."""
    pieces = iter(runs)
    return re.sub(r"\d+", lambda _: next(pieces), reading)


def _visual(text: str) -> str:
    # A reading as written on the page, back in the model's label form: to_logical is its own inverse.
    return to_logical(_as_label(text).replace("٫", "."))


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
      ۱۳۰۰/۰۲/۱ is not one beside ۱۴۰۰/۰۴/۱۷, see ingest/figure_dates.py, `as_typed`), or was one of the same shape
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
    if "/" in new and not as_typed(was, new):
        return written(new, old) if abs(nd - od) <= 1 else None
    if re.fullmatch(r"0\d+", new) and not was.startswith("0"):
        return None  # a count begins with no ۰: a Harmattan Bold fax's ۱٬۹۰۰ as 0900, the page 1۹۰۰
    shape = re.sub(r"\d", "0", new)
    if shape != re.sub(r"\d", "0", was) and _DOUBLED_NINE.search(old):
        was = _as_label(old.replace("٩", ""))  # ۰۱۸-۷۷۴۳۳۶۹٩: the stray ٩ is not a digit of the number
    return written(new, old) if shape == re.sub(r"\d", "0", was) else None


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
    if "/" in new and typed_in_full(was) and valid_date(was):
        return None  # a date the page read typed in full is not one the page added digits to
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


def completed(old: str, label: str, zeros_only: bool = False) -> str | None:
    """The reading most crops agreed on, when the page read lost part of the number: the page
    vouches only for its own digits, which the reading must hold in a row, with more besides.
    Taken if it is a grouped amount or a valid date. Used where the crops were widened over ink
    beside the page's box that no word covered (ingest/figures.py, `_widened`), and with
    `zeros_only` where all three crops read alike and the page lacks only ۰s (۱۹۰ for ۱۹٬۰۰۰ on
    a Homa fax: the fas model loses a ۰'s small dot, see `accept`), in a date anywhere."""
    if not _LABEL.fullmatch(label):
        return None
    new = to_logical(label)
    new = year_restored(new) or new
    if not (_GROUPED.fullmatch(new) or "/" in new and valid_date(new)):
        return None
    have, had = _digit_string(new), _digit_string(_as_label(old))
    if zeros_only and set(Counter(have) - Counter(had)) - {"0"}:
        return None
    # A date's slashes place its parts, so the ۰s the page lost may be anywhere in it (۱۴/۱۱/۰۸ for
    # ۱۴۰۰/۱۱/۰۸ on a FreeFarsi Bold fax); an amount's lost ۰s could be any of its groups'.
    kept = _in_order(had, have) if zeros_only and "/" in new else had in have
    return written(new, old) if len(have) > len(had) and kept else None


def alike(old: str, label: str) -> str | None:
    """The reading all three crops agreed on, when the page's reading is the same number misread
    past what `agreed` takes, but recognisably it:
    - a valid date typed in full (۱۳۹۸/۰۲/۱۴) where the page's digits, two at least, stand in a
      row of the date's with at most one of them different (an Amiri fax's ۹۸۰۲۱۸);
    - a grouped amount with as many groups as the page read, the first as long (۴٬۷۰۰٬۰۰۰ read as
      ۴:۲۰۰:۰۰۰ on a Harmattan fax).
    Three like readings of a crop cut three ways are seldom all wrong in the same way."""
    if not _LABEL.fullmatch(label):
        return None
    new, was = to_logical(label), _as_label(old)
    have, had = _digit_string(new), _digit_string(was)
    if typed_in_full(new) and valid_date(new) and 2 <= len(had) <= len(have):
        rows = (have[k:k + len(had)] for k in range(len(have) - len(had) + 1))
        if any(sum(a != b for a, b in zip(row, had)) <= 1 for row in rows):
            return written(new, old)
        return None
    page = [p for p in _PAGE_SEPARATOR.split(was) if p]
    if _GROUPED.fullmatch(new) and len(page) == new.count(",") + 1 and len(page[0]) == len(new.split(",")[0]):
        return written(new, old)
    return None


# A grouped amount whose last group the model read short: it lost the small dots of its last ۰s
# (all three crops of ۴۰٬۰۰۰ and ۱٬۷۰۰ on a tuning fax read 40,00 and 1,70).
_SHORT_GROUP = re.compile(r"[1-9]\d{0,2}(?:,\d{3})*,(\d{1,2})")


def _zeros_restored(new: str, last: str, old: str) -> str | None:
    """The reading with its last group made up with ۰s, taken when the page vouches for them:
    - the page has the reading's digits, where at each separator it read nothing, one digit more
      (۴۰۳۰۰۰ for ۴۰٬۰۰۰), or the separator and the digit beside it as one other digit (۳۹۰۰ for
      ۲٬۹۰۰ and ۴۴۳۰۰۳۰۰۰ for ۴۴٬۲۰۰٬۰۰۰ on Nazli faxes whose crops all read 2,90 and 44,200,00),
      so it vouches for every digit but those the crops read beside a separator;
    - or its groups are the reading's with only ۰s missing (`_zeros_lost_by_page`: ۱۰*۰۰ for
      ۱۰٬۰۰۰ on a Homa fax, whose crops all read 10,00)."""
    whole = new + "0" * (3 - len(last))
    groups = whole.split(",")
    pattern = re.escape(groups[0][:-1])
    for k, (left, right) in enumerate(zip(groups, groups[1:]), 1):
        a, b, last_one = left[-1], right[0], k == len(groups) - 1
        # Not the last group's first digit: the page must vouch for the ۰s made up after it.
        merged = rf"\d{b}" if last_one else rf"\d{b}|{a}\d"
        pattern += rf"(?:{a}\d?{b}|{merged})" + re.escape(right[1:] if last_one else right[1:-1])
    if re.fullmatch(pattern, _digit_string(old)) or _zeros_lost_by_page(whole, _as_label(old)):
        return written(whole, old)
    return None


# What the page read writes for a thousands separator it saw as one: ۷۱:۰۰:۰۰, ۱۴,۰, ۴.۷۰۰.
_PAGE_SEPARATOR = re.compile(r"[,:.'’*\"]")


def _zeros_lost_by_page(new: str, was: str) -> bool:
    """Whether the page's reading is the crops' amount with separators where the crops have them
    and only ۰s missing from its groups (۱۴,۰ and ۷۱:۰۰:۰۰ for ۱۴٬۰۰۰ and ۷۱٬۰۰۰٬۰۰۰ on tuning
    faxes and photocopies): the page vouches for every other digit and for the grouping, and
    the fas model, like the figures model, loses the small dot of a ۰. Every group after the
    first has three digits, so only there is it known how many ۰s are lost."""
    # A separator or a speck read at either end is no group (**۴,۱ for ۴٬۱۰۰ on a tuning fax).
    groups, page = new.split(","), _PAGE_SEPARATOR.split(was.strip(",:.'’*\""))
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
    return "".join(LETTERS.get(c, c) for c in out).replace(",", "٬").replace(".", "٫")
