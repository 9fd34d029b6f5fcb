"""Checking the numbers investigators quote: dates, letter numbers and numbers the page read broke up.

`check_numbers` is a pass over a page's word boxes (see ingest/passes.py): the suspects are read
again inside crops of their lines, with the Persian model and, where that leaves them unsettled,
the Arabic-script one, and the readings vote.
"""

from __future__ import annotations

import re

from PIL import Image

from archive.models import WordBox
from ingest.passes import ARABIC_LETTER
from ingest.reading import Reader, read_strip, union

_DIGIT = re.compile(r"[0-9\u06f0-\u06f9\u0660-\u0669]")
_DATE = re.compile(r"[0-9\u06f0-\u06f9\u0660-\u0669]+(?:/[0-9\u06f0-\u06f9\u0660-\u0669]+)+")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_TO_ASCII = str.maketrans({**{c: str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")},
                           **{c: str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}})


def valid_date(text: str) -> bool:
    """y/m/d with a Jalali (1300-1499) or Gregorian (1900-2099) year, or d/m/y the other way round."""
    parts = text.translate(_TO_ASCII).split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    if len(parts[0]) != 4 and len(parts[2]) == 4:
        parts = parts[::-1]
    y, m, d = (int(p) for p in parts)
    if len(parts[0]) != 4 or not (1300 <= y <= 1499 or 1900 <= y <= 2099):
        return False
    return 1 <= m <= 12 and 1 <= d <= 31 and len(parts[1]) <= 2 and len(parts[2]) <= 2


def check_numbers(words: list[WordBox], page: Image.Image, reader: Reader, lang: str = "fas",
                  second_lang: str = "Arabic") -> list[WordBox]:
    """Dates, letter numbers and numbers the page read broke up are read again, and readings vote.

    In the page read, digits of dates come out wrong in ways no validity check catches (۱۴۰۰ as
    ۱۳۰۰, day ۲۰ as ۳۰), while the same line cropped and read alone (psm 7) usually comes out
    right: bench.ocr --quick found all five such errors on pages in Persian-digit fonts put right
    by the majority of the readings below, and none made wrong.
    1. Each number is read once more with the Persian model inside a crop of its line, as it is
       and enlarged 1.5 times (one Tesseract call for all: the crops are stacked on one strip).
    2. Where those readings leave a date or letter number unsettled, the Arabic model reads its
       crops and those of the broken numbers (one more call; settled dates are left out).
    3. A date takes the valid date read most often (a tie keeps the page's own reading). A letter
       number the page read garbled, typically in visual order with the letter lost, is taken from
       a reading that has the digits/letter/digits shape. A number the page read as low-confidence
       pieces (a phone number as ۰ ۳۷-۷ ٩۷0۵ ۷) takes the reading two line readings agree on.
    """
    words = _join_references(words)
    groups = [[i] for i, w in enumerate(words) if _slashed_number(w.text)]
    groups += _broken_numbers(words)
    if not groups:
        return words
    crops: list[list[Image.Image]] = []
    for group in groups:
        crop = page.crop(union(_neighbourhood(words, group), 20, page))
        crops.append([crop, crop.resize((round(crop.width * 1.5), round(crop.height * 1.5)), Image.LANCZOS)])
    readings = _read_lines(reader, crops, lang)
    again = _unsettled(words, groups, readings)
    if again:
        for k, found in zip(again, _read_lines(reader, [crops[k] for k in again], second_lang)):
            readings[k] += found
    drop: set[int] = set()
    for group, found in zip(groups, readings):
        text = _resolve(words, group, found)
        if text is None:
            continue
        ws = [words[i] for i in group]
        left, top, right, bottom = union(ws, 0, page)
        words[group[0]] = WordBox(text, left, top, right - left, bottom - top,
                                       min(w.conf for w in ws), ws[0].line)
        drop.update(group[1:])
    return [w for i, w in enumerate(words) if i not in drop]


def _unsettled(words: list[WordBox], groups: list[list[int]], readings: list[list[str]]) -> list[int]:
    """The groups the Arabic model reads: none if the Persian readings settled every date and letter
    number; otherwise those not settled and the broken numbers. A date the Persian readings
    confirmed would keep its reading whatever the Arabic model says (three readings to its two):
    leaving it out of the strip saves over a quarter of that call's recognition, for the same CER,
    dates and letter numbers on bench.ocr --quick.
    """
    if all(_settled(words, g, r) for g, r in zip(groups, readings)):
        return []
    return [k for k, g in enumerate(groups) if not _settled(words, g, readings[k]) or not _is_date(words, g)]


def _read_lines(reader: Reader, crops: list[list[Image.Image]], lang: str) -> list[list[str]]:
    """One reading per crop (the text of its words), grouped as given, all in one Tesseract call."""
    pieces = iter(read_strip(reader, [c for group in crops for c in group], lang))
    return [[" ".join(t for t, _ in next(pieces)) for _ in group] for group in crops]


def _is_date(words: list[WordBox], group: list[int]) -> bool:
    """A group of one slashed word (a date or a letter number), not a run of a broken number."""
    return len(group) == 1 and "/" in words[group[0]].text


def _settled(words: list[WordBox], group: list[int], readings: list[str]) -> bool:
    # Broken numbers never call for the Arabic model on their own: they are on most scanned pages,
    # and the extra call there cost more than 10% of the page's OCR time.
    return not _is_date(words, group) or _date_settled(words[group[0]].text, readings)


def _resolve(words: list[WordBox], group: list[int], readings: list[str]) -> str | None:
    """The text that replaces the group's words, or None to keep them."""
    if _is_date(words, group):
        return _vote(words[group[0]].text, readings)
    return _agreed_number(words, group, readings)


_NUMBER_PIECE = re.compile(r"[\d\-٬,.]*\d[\d\-٬,.]*")  # a word of digits and separators
_NUMBER = re.compile(r"\d(?:[\d\-٬,.]*\d)?")  # a number inside a reading


def _broken_numbers(words: list[WordBox]) -> list[list[int]]:
    """Runs of adjacent words on a line made of digits and separators only (no slash: dates are
    checked on their own) that look broken: more than one piece, or one read with low confidence."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    runs: list[list[int]] = []
    for members in lines.values():
        run: list[int] = []
        for i in [*sorted(members, key=lambda i: words[i].left), None]:
            if i is not None and _NUMBER_PIECE.fullmatch(words[i].text):
                run.append(i)
                continue
            digits = sum(len(_DIGIT.findall(words[j].text)) for j in run)
            if digits >= 4 and (len(run) > 1 or words[run[0]].conf < 50):
                runs.append(run)
            run = []
    return runs


def _agreed_number(words: list[WordBox], group: list[int], readings: list[str]) -> str | None:
    """A number that two line readings read alike and that holds about the digits of the pieces
    (in any order: the pieces may be in visual order)."""
    pieces = sorted("".join(_DIGIT.findall(" ".join(words[i].text for i in group))).translate(_TO_ASCII))
    counts: dict[str, int] = {}
    forms: dict[str, str] = {}
    for reading in readings:
        for number in set(_NUMBER.findall(reading)):
            digits = sorted("".join(_DIGIT.findall(number)).translate(_TO_ASCII))
            if len(digits) >= 4 and _edits("".join(digits), "".join(pieces)) <= max(2, len(pieces) // 3):
                key = number.translate(_TO_ASCII)
                counts[key] = counts.get(key, 0) + 1
                forms.setdefault(key, number)
    agreed = [key for key, n in counts.items() if n >= 2]
    if not agreed:
        return None
    return forms[max(agreed, key=lambda key: (counts[key], len(key)))]


def _neighbourhood(words: list[WordBox], group: list[int], each_side: int = 2) -> list[WordBox]:
    """The group's words with up to `each_side` words either side on their line, by position.

    A number read alone comes out as garbage (fas and Arabic read a clean cropped ۱۳۹۸/۱۱/۱۴ as
    'ب 2(' at psm 7, 8 and 13) but right inside a few words of its line; the whole of a long body
    line cost 0.25 s of Tesseract per page for nothing more.
    """
    line = sorted((w for w in words if w.line == words[group[0]].line), key=lambda w: w.left)
    at = [k for k, w in enumerate(line) if any(w is words[i] for i in group)]
    return line[max(0, min(at) - each_side): max(at) + each_side + 1]


def _slashed_number(text: str) -> bool:
    """A slashed number without letters: a date, or a letter number that lost its letter."""
    token = text.rstrip(".،,")
    return "/" in token and not ARABIC_LETTER.search(token) and 4 <= len(_DIGIT.findall(token)) <= 10


def _candidates(old: str, reading: str) -> list[str]:
    """The dates (in ASCII digits) in one line reading that could be the printed date read as `old`."""
    dates = (t.translate(_TO_ASCII) for t in _DATE.findall(reading))
    return [t for t in dates if valid_date(t) and _edits(t, old) <= 2]


def _date_settled(old: str, readings: list[str]) -> bool:
    """No further reading needed: a valid date that every reading able to read it confirms, or a
    letter number that a reading has put right. (A garbled reading abstains: half the pages had
    one, and each sent the lines to the slower Arabic model for nothing.)"""
    token = old.rstrip(".،,").translate(_TO_ASCII)
    if not valid_date(token):
        return _reference_from(readings, token) is not None
    found = [date for reading in readings for date in _candidates(token, reading)]
    return bool(found) and all(date == token for date in found)


def _vote(old: str, readings: list[str]) -> str | None:
    """The valid date most readings agree on (the page's own reading counts once and wins ties)."""
    token = old.rstrip(".،,")
    ascii_token = token.translate(_TO_ASCII)
    votes: dict[str, int] = {ascii_token: 1} if valid_date(ascii_token) else {}
    for reading in readings:
        found = _candidates(ascii_token, reading)
        if found:
            best = min(found, key=lambda t: _edits(t, ascii_token))
            votes[best] = votes.get(best, 0) + 1
    if not votes:
        return _reference_from(readings, token)
    best = max(votes, key=lambda t: (votes[t], t == ascii_token))
    if best == ascii_token:
        return None
    # Written in the digits the page used: Persian digits unless the word had only ASCII ones.
    return (best.translate(_TO_PERSIAN) if token != ascii_token else best) + old[len(token):]


def _reference_from(readings: list[str], old: str) -> str | None:
    """A letter number rebuilt from a line reading with the digits/letter/digits shape.

    The letter and the order come from the reading; the digits come from the page read where each
    group is within two edits of a group there (the Persian model's digits beat the Arabic model's,
    which adds strokes: ۸۲۳۲۳۶/ص/۹۸ for ۸۳۳۶/ص/۹۸, read on the page as ۹۸/2/۸۳۳۶).
    """
    groups = re.findall(r"\d+", old.translate(_TO_ASCII))
    for reading in readings:
        m = _REFERENCE.search(reading.translate(_TO_ASCII))
        if not m:
            continue
        rebuilt = []
        for part in (m.group(1), m.group(3)):
            near = [g for g in groups if _edits(g, part) <= 2]
            rebuilt.append(min(near, key=lambda g: _edits(g, part)) if near else None)
        if None not in rebuilt and rebuilt[0] != rebuilt[1]:
            ref = f"{rebuilt[0]}/{m.group(2)}/{rebuilt[1]}"
            return ref.translate(_TO_PERSIAN)
    return None


def _join_references(words: list[WordBox]) -> list[WordBox]:
    """Rejoin a letter number split at a slash (`۳۱۵ /ص/۹۹` -> `۳۱۵/ص/۹۹`), one word box for both."""
    out: list[WordBox] = []
    for w in words:
        prev = out[-1] if out else None
        if prev is not None and prev.line == w.line and ("/" in (prev.text[-1], w.text[0])):
            joined = prev.text + w.text
            if _REFERENCE.fullmatch(joined.translate(_TO_ASCII)):
                left, top = min(prev.left, w.left), min(prev.top, w.top)
                right = max(prev.left + prev.width, w.left + w.width)
                bottom = max(prev.top + prev.height, w.top + w.height)
                out[-1] = WordBox(joined, left, top, right - left, bottom - top, min(prev.conf, w.conf), w.line)
                continue
        out.append(w)
    return out


_REFERENCE = re.compile(r"(\d+)\s*/\s*([\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]{1,3})\s*/?\s*(\d+)")


def _edits(a: str, b: str) -> int:
    return edit_distance(a.translate(_TO_ASCII), b.translate(_TO_ASCII))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance; the strings compared here are short (words and lines)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]
