"""The Whoosh clauses a query's words and phrases become: the fields a word is looked up in and
what each weighs, a phrase, a compound, a prefix, a fuzzy word, and Scaled. search.query builds
them while it parses what was typed; search.expansion builds an alternative's clause with the same
functions, so that an alternative is searched as it would be if it were typed in quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from search.analysis import exact_analyzer, fold, stem_analyzer, text_analyzer
from search.engine import Q, WrappingQuery, matching

# Score weights of the fields a plain word is looked up in (tuned with bench/retrieval.py
# --tune). A small exact boost is enough to put the very form typed first; larger ones cost MAP.
TEXT_BOOST = 1.0
EXACT_BOOST = 0.25
TITLE_BOOST = 0.25
FILENAME_BOOST = 1.0
STEM_BOOST = 0.25  # the aggressively stemmed field (see search.schema)
WHOLE_WORD_BOOST = TEXT_BOOST + EXACT_BOOST + TITLE_BOOST + STEM_BOOST  # see whole_word

# Persian writes a compound with a space, a ZWNJ or nothing (جلو گیری, جلوگیری); the index folds
# ZWNJ away, so a compound written closed or with ZWNJ is one word there. Each pair of neighbouring
# Persian words of a query is therefore also looked up joined, with this weight. Hamshahri's text
# has spaces where ZWNJs were, so it barely shows there (MAP 0.8585 without, 0.8588 at 0.5, 0.8578
# at 1.0; جلو گیری gains 0.97 -> 0.98 AP); it is for archives whose text keeps its ZWNJs.
COMPOUND_BOOST = 0.5

MAX_FUZZY = 2

TEXT_AN = text_analyzer()
EXACT_AN = exact_analyzer()
STEM_AN = stem_analyzer()

_PERSIAN_WORD = re.compile(r"[\u0621-\u06d5]+")


@dataclass
class Word:
    exact: str  # as the exact field has it
    stem: str | None  # as the text field has it; None for a stopword
    leaf: int = -1  # its search.query.Leaf (index in Parsed.leaves); -1 when it has none


def phrase_clause(text: str, whole: frozenset[str] = frozenset()) -> Q.Query | None:
    """What a quoted ``text`` searches: its words in order, or one word (spelled as it is when
    among ``whole``). Also the clause of an alternative search.expansion ORs in."""
    exact = [t.text for t in EXACT_AN(text, mode="query")]
    stems = [t.text for t in TEXT_AN(text, mode="query")]
    if not exact:
        return None
    if len(exact) == 1:
        if exact[0] in whole:
            return whole_word(exact[0])
        roots = [t.text for t in STEM_AN(text, mode="query")] if STEM_BOOST > 0 else []
        return word_clause(exact[0], stems[0] if stems else None, roots[0] if roots else None)
    alternatives = [Q.Phrase("exact", exact, boost=1.0 + EXACT_BOOST)]
    if len(stems) > 1:
        alternatives.append(Q.Phrase("text", stems))
        if TITLE_BOOST > 0:
            alternatives.append(Q.Phrase("title", stems, boost=TITLE_BOOST))
    return or_(alternatives)


def whole_word(term: str) -> Q.Query:
    """A word looked up spelled as it is, never by its stem: a name (جهانگیر) shares its stem
    with another family name (جهانگیری)."""
    # weighed as the fields of a word's clause together, so a name counts as much as a word
    return Q.Or([Q.Term("exact", term, boost=WHOLE_WORD_BOOST), Q.Term("filename", term, boost=FILENAME_BOOST)])


def word_clause(term: str, stem: str | None, root: str | None = None) -> Q.Query:
    subs = [("exact", term, EXACT_BOOST), ("filename", term, FILENAME_BOOST)]
    if stem is not None:
        subs += [("text", stem, TEXT_BOOST), ("title", stem, TITLE_BOOST)]
    if root is not None and stem is not None:
        subs.append(("stem", root, STEM_BOOST))
    # a zero boost would make Whoosh's quality skipping divide by zero
    terms = [Q.Term(field, t, boost=boost) for field, t, boost in subs if boost > 0]
    if stem is None and EXACT_BOOST <= 0:
        terms.append(Q.Term("exact", term))  # a stopword-only query still needs the exact field
    return or_(terms)


def compounds(runs: list[list[Word]]) -> list[tuple[tuple[str, Q.Query], int, int]]:
    """Each pair of neighbouring Persian words also looked up as one word (see COMPOUND_BOOST),
    with the Leaf of each word."""
    if COMPOUND_BOOST <= 0:
        return []
    out = []
    for run in runs:
        for a, b in zip(run, run[1:]):
            # a one-letter word is و or a letter of an abbreviation, never half of a compound
            # (joined, و makes "مرگ ومیر" of "مرگ و میر")
            if min(len(a.exact), len(b.exact)) < 2 \
                    or not (_PERSIAN_WORD.fullmatch(a.exact) and _PERSIAN_WORD.fullmatch(b.exact)):
                continue
            joined = a.exact + b.exact
            stems = [t.text for t in TEXT_AN(joined, mode="query")]
            if len(stems) != 1 or stems[0] in (a.stem, b.stem) or not (a.stem or b.stem):
                continue
            roots = [t.text for t in STEM_AN(joined, mode="query")] if STEM_BOOST > 0 else [None]
            clause = word_clause(joined, stems[0], roots[0])
            out.append((("should", clause.with_boost(clause.boost * COMPOUND_BOOST)), a.leaf, b.leaf))
    return out


def prefix(word: str):
    term = fold(word)
    if not term:
        return None
    return ("should", Q.Or([Q.Prefix("exact", term), Q.Prefix("filename", term)]))


def fuzzy(word: str, distance: int):
    term = fold(word)
    if not term:
        return None
    distance = max(1, min(distance, MAX_FUZZY))
    return ("should", Q.Or([Q.FuzzyTerm("exact", term, maxdist=distance, prefixlength=1),
                            Q.FuzzyTerm("filename", term, maxdist=distance, prefixlength=1)]))


class Scaled(WrappingQuery):
    """``child`` with its scores multiplied by ``factor``. Whoosh drops the boost of a compound
    query that holds one subquery, so ``Or([q], boost=0.5)`` scores as ``q``: the alternatives of
    an expanded query weighed as much as what was typed until this wrapper was used."""

    def __init__(self, child, factor: float):
        super().__init__(child)
        self.factor = factor

    def __eq__(self, other):
        return type(other) is Scaled and self.child == other.child and self.factor == other.factor

    def __hash__(self):
        return hash(self.child) ^ hash(self.factor)

    def _rewrap(self, child):
        return Scaled(child, self.factor)

    def matcher(self, searcher, context=None):
        m = self.child.matcher(searcher, context)
        return m if self.factor == 1.0 else matching.WrappingMatcher(m, boost=self.factor)


def or_(subs: list[Q.Query]) -> Q.Query:
    return subs[0] if len(subs) == 1 else Q.Or(subs)
