"""Tiers of a search: what a page matched through decides its place before its score does.

An investigator reads the first results as "pages with my words". So within one query:

    tier 0  the page holds words as typed (a stem or a joined compound of them counts, and every
            ending of a `word*`; of a `word~` only the word itself)
    tier 1  the page holds only alternatives: a translation, a name in the other script, another
            spelling of an amount, or a fuzzy variant (of a `word~`, or a near spelling of a name)

Tier is the primary sort key and the score (BM25, plus feedback) orders pages within a tier: a
tier-1 page never ranks above a tier-0 page, whatever its score. Feedback words never make a page
match (they are optional, see search.feedback.feedback_ranking), so there is no page matching only
through them; they only reorder pages inside their tier.

The kind of every query term (typed, translation, ...) is also kept here, so that each hit can say
why it matched (archive.models.Matched).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from search.engine import Q

TYPED, ALTERNATIVE = 0, 1
# How a crosslingual.Expansion's kind is reported on a hit.
EXPANSION_KINDS = {"glossary": "translation", "wiktionary": "translation", "name": "name",
                   "fuzzy": "fuzzy", "amount": "amount"}
# When one term came in several ways, the first of these is reported.
PRIORITY = ("typed", "translation", "name", "amount", "fuzzy", "feedback")


def strict(typed):
    """The pages of tier 0: ``typed`` with each fuzzy term reduced to the word itself (a prefix
    stays whole: every ending is what `ventil*` asks for)."""
    def narrow(q):
        if isinstance(q, Q.FuzzyTerm):
            return Q.Term(q.fieldname, q.text, boost=q.boost)
        return q
    return typed.accept(narrow)


def first_tier(text: str, typed):
    """The query whose pages form tier 0: ``strict(typed)``, on pages of the language the query
    is written in. A query in Latin letters only (codes such as N95, with digits, aside) puts no
    Persian page in tier 0, a query in Persian letters only no English page; a mixed page, or a
    page of unknown language, can be in tier 0 for either.

    Hamshahri's Persian articles hold stray English words in web addresses and titles (`iran`,
    `national`, `open`, 0-8 articles for each English query): with "any word as typed" an English
    query ranked them above the articles that hold all its words in Persian, English-query MAP
    0.5535 -> 0.4791. (Also tried: tier 0 only for pages holding every typed word, which ranked
    Persian queries by how many words a page holds first, Persian MAP 0.8588 -> 0.8091; and tier
    0 only for pages holding no word through an alternative alone, English MAP 0.4837.)"""
    first = strict(typed)
    # the script of the words: not of codes (digits), filters (lang:fa) or operators
    words = [w for w in text.split() if not any(ch.isdigit() for ch in w) and ":" not in w
             and w.strip("-()") not in ("AND", "OR", "NOT")]
    latin = any(_is_latin(ch) for w in words for ch in w)
    persian = any("\u0600" <= ch <= "\u06ff" for w in words for ch in w)
    if latin and not persian:
        return Q.AndNot(first, Q.Term("lang", "fa"))
    if persian and not latin:
        return Q.AndNot(first, Q.Term("lang", "en"))
    return first


def _is_latin(ch: str) -> bool:
    return "a" <= ch.lower() <= "z"


def tier_of(docnums: np.ndarray, typed_docnums: np.ndarray) -> np.ndarray:
    """TYPED for each of ``docnums`` among ``typed_docnums``, ALTERNATIVE for the others."""
    return np.where(np.isin(docnums, typed_docnums), TYPED, ALTERNATIVE).astype(np.int8)


def by_tier(docnums: np.ndarray, scores: np.ndarray, tiers: np.ndarray | None):
    """(docnums, scores) of each tier, best tier first; one group when there are no tiers."""
    if tiers is None:
        yield docnums, scores
        return
    for tier in (TYPED, ALTERNATIVE):
        chosen = tiers == tier
        if chosen.any():
            yield docnums[chosen], scores[chosen]


def query_terms(query, reader) -> set[tuple[str, str]]:
    """The (field, term) pairs a query's positive leaves look up (a fuzzy or prefix word's
    expansions in this index included)."""
    out = set()
    for leaf in positive_leaves(query):
        for field_name, term in leaf.expanded_terms(reader, phrases=True):
            out.add((field_name, term.decode("utf-8") if isinstance(term, bytes) else term))
    return out


def typed_kinds(typed, reader) -> dict[tuple[str, str], str]:
    """The kind of each term of the query as typed: a fuzzy word's variants are "fuzzy"."""
    kinds = {}
    for leaf in positive_leaves(typed):
        kind_of_variant = "fuzzy" if isinstance(leaf, Q.FuzzyTerm) else "typed"
        for field_name, term in leaf.expanded_terms(reader, phrases=True):
            term = term.decode("utf-8") if isinstance(term, bytes) else term
            kinds[(field_name, term)] = "typed" if (kind_of_variant == "typed" or term == leaf.text) else "fuzzy"
    return kinds


def merge_kinds(*maps: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """One map of term -> kind; a term found in several ways keeps the kind first in PRIORITY."""
    out: dict[tuple[str, str], str] = {}
    for kinds in maps:
        for key, kind in kinds.items():
            if key not in out or PRIORITY.index(kind) < PRIORITY.index(out[key]):
                out[key] = kind
    return out


def kinds_of(terms: Iterable[tuple[str, str]], kind: str) -> dict[tuple[str, str], str]:
    return {key: kind for key in terms}


def positive_leaves(query):
    """The leaves a page must or may match by its words: those under a NOT are left out, and so
    are ranges, which are filters (a date range's terms are every day in it: listing them cost a
    filtered search at 100,000 pages 50 ms, for terms no page shows)."""
    if isinstance(query, Q.Not):
        return
    if isinstance(query, Q.AndNot):
        yield from positive_leaves(query.a)
    elif query.is_leaf():
        if not isinstance(query, Q.RangeMixin):
            yield query
    else:
        for child in query.children():
            yield from positive_leaves(child)
