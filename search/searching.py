"""One search, from the text typed to the hits shown: the query parsed once and expanded
(search.expansion), the pages ranked in their tiers (search.tiers, search.order), re-ranked by
feedback (search.feedback) and marked (search.highlight). search.index.SearchIndex lends the
searcher and recovers from damage.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from archive.models import Hit
from search import caches, crosslingual, expansion, highlight, ranking, tiers
from search.engine import Q
from search.feedback import feedback_ranking
from search.order import SCORE_TOLERANCE, newest, tiered_ranking
from search.query import parse


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]  # best first, at most `limit`
    total: int  # pages that match
    documents: int  # documents that match, among the hits fetched
    expansions: list = field(default_factory=list)  # crosslingual.Expansion: what was searched as well
    estimated: bool = False  # total is estimated (a phrase of common words, see search.ranking)

    @property
    def total_text(self) -> str:
        """The number of matching pages as a user should read it."""
        return f"about {self.total:,}" if self.estimated else f"{self.total:,}"

    def by_document(self) -> list[list[Hit]]:
        """Hits grouped per document, documents in order of their best page."""
        groups: dict[str, list[Hit]] = {}
        for hit in self.hits:
            groups.setdefault(hit.document_id, []).append(hit)
        return list(groups.values())


def access_filter(query, readable: frozenset[str] | None):
    """``query`` narrowed to the pages of the ``readable`` collections (None: no narrowing). A
    Require around the whole query: it weighs nothing, so scores are those of the same pages
    unfiltered, and nothing a user types sits outside it."""
    if readable is None:
        return query
    if not readable:
        return Q.NullQuery
    keep = [Q.Term("collections", name) for name in sorted(readable)]
    return Q.Require(query, keep[0] if len(keep) == 1 else Q.Or(keep))


def readable_expansions(expanded: expansion.Expanded, readable: frozenset[str], evaluation) -> list:
    """The expansions worth showing a member: a transliterated name comes from the words of the
    whole index, and "also searched: X -> Y" must not tell that Y is on a page they cannot read.
    Y is shown when the clause searched for it matches a page they can read."""
    shown: dict[int, list[str]] = {}
    for alternative in expanded.alternatives:
        if expanded.expansions[alternative.expansion].kind != "name":
            continue
        probe = access_filter(alternative.query, readable)
        if evaluation.rank(probe, 1, SCORE_TOLERANCE).total:
            shown.setdefault(alternative.expansion, []).append(alternative.text)
    return [e if e.kind != "name" else crosslingual.Expansion(e.text, shown[i], e.kind)
            for i, e in enumerate(expanded.expansions) if e.kind != "name" or i in shown]


def _is_plain_words(query) -> bool:
    """True when the query ranks by words (a stemmed-word lookup) and holds no phrase."""
    words = False
    for leaf in query.leaves():
        if isinstance(leaf, Q.Phrase):
            return False
        if isinstance(leaf, Q.Term) and leaf.fieldname == "text":
            words = True
    return words


def _first_tier(text: str, expanded):
    """The query of the words as typed (see search.tiers), when anything was searched as well."""
    typed = expanded.typed
    return tiers.first_tier(text, typed) if expanded.expansions or _has_fuzzy(typed) else None


def _has_fuzzy(query) -> bool:
    return any(isinstance(leaf, Q.FuzzyTerm) for leaf in query.leaves())


# The garbage collector is paused while a search evaluates: a search makes many short-lived
# objects (posting lists, pickles, arrays) and none that refer to themselves, and collections
# triggered by them cost about a quarter of a search (16 word searches at 40,000 pages, loaded
# machine: 20.5 s with collections, 15.6 s without). The pause is the searches' only: taken by
# the first search that runs and given back by the last, and never if it was already off.
_GC_LOCK = threading.Lock()
_GC_PAUSES = [0, False]  # searches running, whether the first found the collector on


@contextmanager
def paused_gc():
    with _GC_LOCK:
        if _GC_PAUSES[0] == 0:
            _GC_PAUSES[1] = gc.isenabled()
            gc.disable()
        _GC_PAUSES[0] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_PAUSES[0] -= 1
            if _GC_PAUSES[0] == 0 and _GC_PAUSES[1]:
                gc.enable()


def run(path: Path, schema, ix, searcher, text: str, limit: int, sort: str, expand: bool,
        feedback: bool | None, readable: frozenset[str] | None) -> SearchResults:
    """The search of ``text`` on ``searcher`` (of the index ``ix`` in ``path``); see
    search.index.SearchIndex.search for the options."""
    with paused_gc():
        return _run(path, schema, ix, searcher, text, limit, sort, expand, feedback, readable)


def _run(path, schema, ix, searcher, text, limit, sort, expand, feedback, readable) -> SearchResults:
    query, expanded, feedback = build_query(path, schema, ix, text, sort, expand, feedback)
    query = access_filter(query, readable)
    first_tier = _first_tier(text, expanded)
    evaluation = ranking.Evaluation(searcher)  # the ranking's work, reused for highlighting
    expansions = expanded.expansions
    if readable is not None:
        expansions = readable_expansions(expanded, readable, evaluation)
    estimated = False
    extra = None
    if sort == "date":
        found, total = newest(searcher, query, limit, evaluation)
    elif feedback:
        found, total, ranked_by = feedback_ranking(searcher, query, schema, limit, evaluation,
                                                   first_tier=first_tier)
        extra = ranked_by.b if isinstance(ranked_by, Q.AndMaybe) else None
    else:
        best = tiered_ranking(searcher, query, first_tier, limit, evaluation)
        found, total, estimated = best.pages, best.total, best.estimated
    kinds = term_kinds(searcher, expanded, extra)
    shown = query if extra is None else Q.AndMaybe(query, extra)
    in_first = (evaluation.holding(first_tier, [d for d, _ in found]) if first_tier is not None
                else {d for d, _ in found})
    hits = highlight.hits(found, shown, searcher, schema, evaluation, kinds, in_first)
    return SearchResults(text, hits, total, len({h.document_id for h in hits}), expansions, estimated)


def ranked_pages(path: Path, schema, ix, searcher, text: str, limit: int, expand: bool,
                 feedback: bool | None, readable: frozenset[str] | None) -> list[tuple[str, int, float]]:
    """(document id, page, score) in the order ``run`` ranks them, without snippets."""
    with paused_gc():
        return _ranked_pages(path, schema, ix, searcher, text, limit, expand, feedback, readable)


def _ranked_pages(path, schema, ix, searcher, text, limit, expand, feedback, readable):
    query, expanded, feedback = build_query(path, schema, ix, text, "relevance", expand, feedback)
    query = access_filter(query, readable)
    first_tier = _first_tier(text, expanded)
    if feedback:
        found, _, _ = feedback_ranking(searcher, query, schema, limit, first_tier=first_tier)
    else:
        found = tiered_ranking(searcher, query, first_tier, limit).pages
    out = []
    for docnum, score in found:
        stored = searcher.stored_fields(docnum)
        out.append((stored["document_id"], stored["page"], score))
    return out


def build_query(path: Path, schema, ix, text: str, sort: str, expand: bool, feedback: bool | None):
    """(the query for ``text`` with its expansions, the expansion.Expanded it came from, whether
    feedback applies to it). ``text`` is parsed here, once: everything after works on that tree."""
    parsed = parse(text, schema)
    if feedback is None:
        feedback = expand and sort == "relevance" and _is_plain_words(parsed.query)
    if not expand:
        expanded = expansion.unexpanded(parsed)
    else:
        expanded = expansion.expand(parsed, crosslingual.archive_glossary(path.parent), name_keys(path, ix))
    return expanded.query, expanded, feedback


def name_keys(path: Path, ix) -> crosslingual.NameKeys:
    """Skeleton keys of every word in the index, rebuilt when the index has changed."""
    def compute():
        with ix.reader() as reader:
            return crosslingual.NameKeys([t.decode("utf-8", "replace") for t in reader.lexicon("exact")])
    return caches.name_keys(str(path), ix.latest_generation(), compute)


def term_kinds(searcher, expanded: expansion.Expanded, extra) -> dict[tuple[str, str], str]:
    """(field, term) -> how the term came into the query (see search.tiers): read off the typed
    tree and the clauses of its alternatives, each of which carries its kind."""
    reader = searcher.reader()
    maps = [tiers.typed_kinds(expanded.typed, reader)]
    maps += [tiers.kinds_of(tiers.query_terms(a.query, reader), a.kind) for a in expanded.alternatives]
    if extra is not None:
        maps.append(tiers.kinds_of(tiers.query_terms(extra, reader), "feedback"))
    return tiers.merge_kinds(*maps)


@dataclass(frozen=True)
class PageMarks:
    """What a query marks on one page of a document (the document page's view of a hit)."""
    pages: tuple[int, ...]  # the document's pages the query matches
    marks: tuple[highlight.Mark, ...] = ()  # the marked places of the page's text, with their kinds
    matched: tuple = ()  # archive.models.Matched: what the page holds of the query, as Hit.matched
    phrases: tuple = ()  # as Hit.phrases
    tier: int = tiers.TYPED  # as Hit.tier

    def boxes(self, text: str, words: list) -> list:
        """The page image's word boxes (WordBox, in the page's words) under the marks, each a
        highlight.BoxMark with its kind; ``text`` is the page's text as the catalog has it."""
        return highlight.word_boxes(text, list(words), list(self.marks))


def page_marks(path: Path, schema, ix, searcher, text: str, document_id: str, number: int,
               readable: frozenset[str] | None) -> PageMarks:
    """The marks ``run`` gives a hit on page ``number`` of the document, found with the same
    highlighter on the document's pages alone: no ranking of the archive (feedback words, which
    are not marked, are not looked for)."""
    with paused_gc():
        return _page_marks(path, schema, ix, searcher, text, document_id, number, readable)


def _page_marks(path, schema, ix, searcher, text, document_id, number, readable) -> PageMarks:
    query, expanded, _ = build_query(path, schema, ix, text, "relevance", True, False)
    query = access_filter(query, readable)
    evaluation = ranking.Evaluation(searcher)
    docnums, _ = evaluation.all_scores(Q.Require(query, Q.Term("document_id", document_id)))
    pages, docnum = [], None
    for d in docnums.tolist():
        page = searcher.stored_fields(d)["page"]
        pages.append(page)
        if page == number:
            docnum = d
    if docnum is None:
        return PageMarks(tuple(sorted(pages)), ())
    kinds = term_kinds(searcher, expanded, None)
    found = highlight.page_matches(searcher, query, [docnum], evaluation)[docnum]
    page_text = searcher.stored_fields(docnum).get("text", "")
    ranges = highlight.term_ranges(searcher, [(docnum, page_text, found.pairs())], schema)[0]
    first_tier = _first_tier(text, expanded)
    tier = tiers.TYPED if first_tier is None or evaluation.holding(first_tier, [docnum]) else tiers.ALTERNATIVE
    return PageMarks(tuple(sorted(pages)), tuple(highlight.marks(page_text, found, ranges, kinds)),
                     highlight.matched_of(found, kinds), highlight.phrases_of(found, kinds), tier)
