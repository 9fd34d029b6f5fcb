"""What the workbench marks on a page, and in which style: the words a hit matched (Hit.matched)
found again in a snippet, a page's text or its word boxes.

Each marked word carries the kind it matched through. Typed words and the alternatives search
added (translation, name, amount, similar spelling) are drawn in different styles; feedback
words only re-ranked the page, so they are drawn only when asked for. A phrase's words count
only where the phrase stands: «وزارت بهداشت و درمان» marks that stretch, not every «و» of the
page. A stopword or a one-letter word is marked only when the user typed it (inside a typed
phrase, or as the whole query), never as an alternative on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from archive.models import MATCH_KINDS, Matched, WordBox

# The three ways a word is drawn; the legend explains each.
STYLE_OF = {"typed": "typed", "translation": "alt", "name": "alt", "amount": "alt", "fuzzy": "alt",
            "feedback": "feedback"}
KIND_LABELS = {"typed": "as typed", "translation": "translation", "name": "name in the other script",
               "amount": "amount in another spelling", "fuzzy": "similar spelling",
               "feedback": "feedback word"}

_QUOTED = re.compile(r'"([^"]+)"')
_FILTER = re.compile(r'\b(?:source|tag|lang|date|doc|collection):(?:"[^"]*"|\S+)', re.IGNORECASE)
_OPERATORS = re.compile(r"\b(?:AND|OR|NOT)\b")


@cache
def _analyzers():
    from search.analysis import exact_analyzer, lexicon, text_analyzer

    return exact_analyzer(), text_analyzer(), lexicon().stopwords


def best_kind(kinds: Iterable[str]) -> str | None:
    """The kind reported first when a word matched in several ways (typed before translation …)."""
    found = [k for k in kinds if k in MATCH_KINDS]
    return min(found, key=MATCH_KINDS.index) if found else None


@dataclass(frozen=True)
class Unit:
    """One word of a text or one word box, as the index reads it: its unstemmed and stemmed terms."""

    start: int  # character range in the text, or the box's position in the page's word list
    end: int
    exact: frozenset[str]
    stems: frozenset[str]

    @property
    def terms(self) -> frozenset[str]:
        return self.exact | self.stems


@dataclass(frozen=True)
class Phrase:
    text: str  # as typed, or as the glossary gives it
    exact: tuple[frozenset[str], ...]  # the phrase's words, unstemmed, stopwords kept
    stems: tuple[frozenset[str], ...]  # stemmed, stopwords left out (as the text field has it)
    typed: bool


@dataclass(frozen=True)
class Wanted:
    """What to look for on the pages of one search."""

    kinds: dict[str, str]  # matched index term -> the kind it matched through
    phrases: tuple[Phrase, ...]
    loose: frozenset[str]  # terms that count wherever they stand (not only inside a phrase)


def units_of_text(text: str) -> list[Unit]:
    """The words of ``text`` in order, each with its character range: one unstemmed pass over
    the text, each word's stems looked up once per spelling (snippets and pages repeat words)."""
    exact_an, _, _ = _analyzers()
    words: dict[int, list] = {}  # exact position -> [start, end, exact terms]
    for t in exact_an(text, chars=True, positions=True, mode="index"):
        unit = words.setdefault(t.pos, [t.startchar, t.endchar, set()])
        unit[0], unit[1] = min(unit[0], t.startchar), max(unit[1], t.endchar)
        unit[2].add(t.text)
    return [Unit(s, e, frozenset(x), _stems(text[s:e])) for s, e, x in (words[p] for p in sorted(words))]


def units_of_boxes(words: Sequence[WordBox]) -> list[Unit]:
    """One unit per word box (by its place in ``words``), in the order the page lists them."""
    return [Unit(i, i + 1, _exact(w.text), _stems(w.text)) if w.text.strip() else
            Unit(i, i + 1, frozenset(), frozenset()) for i, w in enumerate(words)]


@lru_cache(maxsize=50_000)
def _exact(word: str) -> frozenset[str]:
    return frozenset(t.text for t in _analyzers()[0](word, mode="index"))


@lru_cache(maxsize=50_000)
def _stems(word: str) -> frozenset[str]:
    return frozenset(t.text for t in _analyzers()[1](word, mode="index"))


@lru_cache(maxsize=1024)
def _phrase(text: str, typed: bool) -> Phrase | None:
    exact_an, text_an, _ = _analyzers()

    def by_position(tokens) -> tuple[frozenset[str], ...]:
        words: dict[int, set[str]] = {}
        for t in tokens:
            words.setdefault(t.pos, set()).add(t.text)
        return tuple(frozenset(words[p]) for p in sorted(words))

    exact = by_position(exact_an(text, positions=True, mode="index"))
    stems = by_position(text_an(text, positions=True, mode="index"))
    return Phrase(text, exact, stems, typed) if len(exact) > 1 else None


def wanted(matched: Iterable[Matched], query: str = "", expansions: Iterable = ()) -> Wanted:
    """What to mark for hits that matched ``matched``: the phrases are the quoted parts of
    ``query`` and the alternatives of several words of ``expansions`` (crosslingual.Expansion)."""
    kinds: dict[str, str] = {}
    for m in matched:
        kinds[m.term] = best_kind([m.kind, kinds.get(m.term, m.kind)])
    phrases = [p for p in (_phrase(q, True) for q in _QUOTED.findall(query)) if p]
    alone = set(_alone(_OPERATORS.sub(" ", _QUOTED.sub(" ", _FILTER.sub(" ", query)))))
    for expansion in expansions:
        for alternative in getattr(expansion, "added", ()):
            p = _phrase(alternative, False)
            if p:
                phrases.append(p)
            else:
                alone |= _alone(alternative)
    in_phrases = {t for p in phrases for words in (p.exact + p.stems) for t in words}
    loose = frozenset(t for t in kinds if t not in in_phrases or t in alone)
    return Wanted(kinds, tuple(phrases), loose)


def grouped(matched: Iterable[Matched], want: Wanted | None) -> list[tuple[str, str]]:
    """(words, kind) for listing why a hit matched: a phrase whose words all matched is listed
    as the phrase, once, instead of word by word («و» on its own explains nothing)."""
    matched = list(matched)
    terms = {m.term for m in matched}
    out, used = [], set()
    for phrase in (want.phrases if want else ()):
        for words in (phrase.exact, phrase.stems):
            if words and all(w & terms for w in words):
                hit_terms = {t for w in words for t in w & terms}
                kind = best_kind(m.kind for m in matched if m.term in hit_terms) or "typed"
                if (phrase.text, kind) not in out:
                    out.append((phrase.text, kind))
                used |= hit_terms
                break
    out += [(m.term, m.kind) for m in matched if m.term not in used]
    return out


@lru_cache(maxsize=1024)
def _alone(text: str) -> frozenset[str]:
    """The terms of words searched on their own (not inside a phrase)."""
    exact_an, text_an, _ = _analyzers()
    return frozenset(t.text for an in (exact_an, text_an) for t in an(text, mode="query"))


def _slight(unit: Unit, stopwords: frozenset[str]) -> bool:
    """A stopword or a one-letter word: marked only where the user typed it."""
    return bool(unit.exact) and all(t in stopwords or len(t) <= 1 for t in unit.exact)


def _runs(units: list[Unit], phrase: Phrase) -> list[tuple[int, int]]:
    """(first, last) unit index of each place the phrase stands, read unstemmed or stemmed."""
    found = set()
    n = len(phrase.exact)
    for i in range(len(units) - n + 1):
        if units[i].exact & phrase.exact[0] and all(units[i + k].exact & phrase.exact[k] for k in range(1, n)):
            found.add((i, i + n - 1))
    # the text field leaves stopwords out: "Ministry of Health" also stands in "ministries for health"
    m = len(phrase.stems)
    if m:
        worded = [i for i, u in enumerate(units) if u.stems]
        for j in range(len(worded) - m + 1):
            if units[worded[j]].stems & phrase.stems[0] and \
                    all(units[worded[j + k]].stems & phrase.stems[k] for k in range(1, m)):
                found.add((worded[j], worded[j + m - 1]))
    return sorted(found)


def marks(units: list[Unit], want: Wanted, *, feedback: bool = False) -> list[tuple[int, str]]:
    """(unit index, kind) of each unit to mark, in order; feedback words only with ``feedback``."""
    _, _, stopwords = _analyzers()
    chosen: dict[int, str] = {}
    for phrase in want.phrases:
        for first, last in _runs(units, phrase):
            run = units[first:last + 1]
            kind = best_kind(want.kinds[t] for u in run for t in u.terms if t in want.kinds)
            kind = kind or ("typed" if phrase.typed else "translation")
            for i, unit in enumerate(run, first):
                if _slight(unit, stopwords) and kind != "typed":
                    continue
                chosen[i] = best_kind([kind, chosen.get(i, kind)])
    for i, unit in enumerate(units):
        kind = best_kind(want.kinds[t] for t in unit.terms & want.loose)
        if kind is None:
            continue
        if kind == "feedback" and not feedback:
            continue
        if _slight(unit, stopwords) and kind != "typed":  # the parser keeps a typed one only when alone
            continue
        chosen[i] = best_kind([kind, chosen.get(i, kind)])
    return sorted(chosen.items())


def text_marks(text: str, want: Wanted, *, feedback: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each marked word of ``text``."""
    units = units_of_text(text)
    return [(units[i].start, units[i].end, kind) for i, kind in marks(units, want, feedback=feedback)]


def box_marks(words: Sequence[WordBox], want: Wanted, *, feedback: bool = False) -> list[tuple[WordBox, str]]:
    """(word box, kind) of each word box to outline."""
    return [(words[i], kind) for i, kind in marks(units_of_boxes(words), want, feedback=feedback)]
