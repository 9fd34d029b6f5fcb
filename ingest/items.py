"""The numbers of a letter's list items (`۱- ماسک N95 …`, `۲- …`) put back in sequence.

Why: an item's number is the digit the page read gets wrong most often. It stands alone at the
line's edge with only a dash beside it, and the page read has no number nearby to compare it
with. On the first tuning set's clean letters (6 fonts, seeds 0-2), 13 of 72 item numbers came
out wrong: `۳-` as `۲-`, `۱-` as `-` or `(-`, `۴-` as `*-`, `۲-` as `۷`. A letter numbers its
items one after the other. So where most of a list's numbers were read in one sequence, the rest
are set to follow it. A list whose numbers fit no sequence is left as it was read.
"""

from __future__ import annotations

import re

from archive.models import WordBox

# A line's first word as an item number: a digit and a dash, a dash after a mark the digit was
# read as, a bare dash, or a bare digit (its dash lost).
# (The Latin pass may have written its digit in ASCII: 1- on a Harmattan fax.)
_MARKER = re.compile(r"(?:([۰-۹٠-٩0-9])|[^\w\s]?)-|([۰-۹٠-٩0-9])")
_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_TO_INT = {c: i for digits in (_DIGITS, "٠١٢٣٤٥٦٧٨٩", "0123456789") for i, c in enumerate(digits)}
_PERSIAN_LETTER = re.compile(r"[\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]")


def in_sequence(words: list[WordBox]) -> list[WordBox]:
    """The words, in reading order, with the item numbers of each list made one sequence."""
    firsts: dict[int, int] = {}
    count: dict[int, int] = {}
    for i, w in enumerate(words):
        firsts.setdefault(w.line, i)
        count[w.line] = count.get(w.line, 0) + 1
    # Items of a Persian list: their numbers are written in Persian digits, and an English list
    # is left alone.
    persian = [i for line, i in firsts.items() if count[line] >= 2 and _PERSIAN_LETTER.search(words[i + 1].text)]
    out = list(words)
    for run in _lists(persian, words):
        for i, number in zip(run, _sequence([_MARKER.fullmatch(words[i].text) for i in run]) or []):
            w = words[i]
            text = f"{_DIGITS[number]}-"
            if w.text != text:
                out[i] = WordBox(text, w.left, w.top, w.width, w.height, w.conf, w.line)
    return out


def _lists(firsts: list[int], words: list[WordBox]) -> list[list[int]]:
    """Runs of lines, one right after the other, whose first words are item numbers; those with
    three items at least, one of their numbers with a dash. (An item of two lines, or one whose
    number the page read glued to its first word, ends the run: where the next number stands is
    then not known.)"""
    runs: list[list[int]] = []
    run: list[int] = []
    for i in firsts:
        if not _MARKER.fullmatch(words[i].text):
            continue
        if run and words[i].line != words[run[-1]].line + 1:
            runs.append(run)
            run = []
        run.append(i)
    runs.append(run)
    return [r for r in runs if len(r) >= 3 and any("-" in words[i].text for i in r)]


def _sequence(markers: list[re.Match]) -> list[int] | None:
    """The numbers start, start + 1, … that more than half the markers were read as (two at
    least), or, for a list that starts at ۱, that two were read as and more than any other
    sequence; None if no sequence is so read."""
    read = [_TO_INT[d] if (d := m[1] or m[2]) else None for m in markers]
    starts = [n - k for k, n in enumerate(read) if n is not None]
    best = max(set(starts), key=lambda s: (starts.count(s), s == 1), default=None)
    if best is None or best < 1 or best + len(read) - 1 > 9 or starts.count(best) < 2:
        return None
    agree = starts.count(best)
    runner_up = max((starts.count(s) for s in set(starts) if s != best), default=0)
    if 2 * agree > len(read) or best == 1 and agree > runner_up:
        return [best + k for k in range(len(read))]
    return None
