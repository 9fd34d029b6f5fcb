"""One search, from the text typed to the hits shown: the query parsed and expanded, the pages
ranked in their tiers (search.tiers, search.order), re-ranked by feedback (search.feedback) and
marked (search.highlight). search.index.SearchIndex lends the searcher and recovers from damage.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from archive.errors import QueryError
from archive.models import Hit
from search import caches, crosslingual, highlight, ranking, tiers
from search.engine import Q
from search.feedback import feedback_ranking
from search.order import SCORE_TOLERANCE, newest, tiered_ranking
from search.query import Scaled, parse_query

# A page found only through a translation or transliteration ranks lower: the alternative query
# repeats the words as typed, so at weight 1 they count twice and their alternatives once. (Until
# the Scaled wrapper, Whoosh ignored the 0.5 written here and 1 is what was measured: Hamshahri MAP
# 0.8588, English queries 0.5535; with 0.5 applied, 0.8584 and 0.5198, as feedback then outweighs
# a query found only through translations.)
EXPANSION_WEIGHT = 1.0


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


def readable_expansions(expansions: list, readable: frozenset[str], evaluation, schema) -> list:
    """The expansions worth showing a member: a transliterated name comes from the words of the
    whole index, and "also searched: X -> Y" must not tell that Y is on a page they cannot read."""
    out = []
    for expansion in expansions:
        if expansion.kind != "name":
            out.append(expansion)
            continue
        added = []
        for word in expansion.added:
            try:
                probe = access_filter(parse_query(word, schema), readable)
            except Exception:  # noqa: BLE001 - an alternative that does not parse is not shown
                continue
            if evaluation.rank(probe, 1, SCORE_TOLERANCE).total:
                added.append(word)
        if added:
            out.append(crosslingual.Expansion(expansion.text, added, expansion.kind))
    return out


def _merge_terms(query):
    """A query that only adds up terms (Ors of terms, scaled or not) as one Or holding each term
    once with its weights summed: the same scores, computed once. An expanded query repeats every
    typed word, five fields each; merged, a Hamshahri search took p50 313 ms instead of 427 (same
    MAP to the last digit). Any other query is returned as it is."""
    weights: dict[tuple[str, str], float] = {}

    def add(q, factor: float) -> bool:
        if type(q) is Q.Term:
            key = (q.fieldname, q.text)
            weights[key] = weights.get(key, 0.0) + q.boost * factor
            return True
        if type(q) is Scaled:
            return add(q.child, factor * q.factor)
        if type(q) is Q.Or and len(q.subqueries) > 1 and not q.minmatch and q.scale is None:
            return all(add(sub, factor * q.boost) for sub in q.subqueries)
        return False

    if not add(query, 1.0):
        return query
    return Q.Or([Q.Term(field_name, text, boost=weight) for (field_name, text), weight in weights.items()])


def _is_plain_words(query) -> bool:
    """True when the query ranks by words (a stemmed-word lookup) and holds no phrase."""
    words = False
    for leaf in query.leaves():
        if isinstance(leaf, Q.Phrase):
            return False
        if isinstance(leaf, Q.Term) and leaf.fieldname == "text":
            words = True
    return words


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
    typed = parse_query(text, schema)
    first_tier = tiers.first_tier(text, typed) if expanded and expanded.expansions or _has_fuzzy(typed) else None
    evaluation = ranking.Evaluation(searcher)  # the ranking's work, reused for highlighting
    if readable is not None and expanded is not None:
        expanded.expansions = readable_expansions(expanded.expansions, readable, evaluation, schema)
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
    kinds = term_kinds(searcher, schema, typed, expanded, extra)
    shown = query if extra is None else Q.AndMaybe(query, extra)
    in_first = (evaluation.holding(first_tier, [d for d, _ in found]) if first_tier is not None
                else {d for d, _ in found})
    hits = highlight.hits(found, shown, searcher, schema, evaluation, kinds, in_first)
    return SearchResults(text, hits, total, len({h.document_id for h in hits}),
                         expanded.expansions if expanded else [], estimated)


def ranked_pages(path: Path, schema, ix, searcher, text: str, limit: int, expand: bool,
                 feedback: bool | None, readable: frozenset[str] | None) -> list[tuple[str, int, float]]:
    """(document id, page, score) in the order ``run`` ranks them, without snippets."""
    with paused_gc():
        return _ranked_pages(path, schema, ix, searcher, text, limit, expand, feedback, readable)


def _ranked_pages(path, schema, ix, searcher, text, limit, expand, feedback, readable):
    query, expanded, feedback = build_query(path, schema, ix, text, "relevance", expand, feedback)
    query = access_filter(query, readable)
    typed = parse_query(text, schema)
    first_tier = tiers.first_tier(text, typed) if expanded and expanded.expansions or _has_fuzzy(typed) else None
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
    """The query for ``text`` with its expansions, and whether feedback applies to it."""
    query = parse_query(text, schema)
    if feedback is None:
        feedback = expand and sort == "relevance" and _is_plain_words(query)
    expanded = None
    if expand:
        expanded = crosslingual.expand(text, crosslingual.archive_glossary(path.parent), name_keys(path, ix))
        if expanded.expansions:
            query = Q.Or([query, Scaled(parse_query(expanded.alternative, schema, expanded.whole_words),
                                        EXPANSION_WEIGHT)])
            query = _merge_terms(query)
    return query, expanded, feedback


def name_keys(path: Path, ix) -> crosslingual.NameKeys:
    """Skeleton keys of every word in the index, rebuilt when the index has changed."""
    def compute():
        with ix.reader() as reader:
            return crosslingual.NameKeys([t.decode("utf-8", "replace") for t in reader.lexicon("exact")])
    return caches.name_keys(str(path), ix.latest_generation(), compute)


def term_kinds(searcher, schema, typed, expanded, extra) -> dict[tuple[str, str], str]:
    """(field, term) -> how the term came into the query (see search.tiers)."""
    reader = searcher.reader()
    maps = [tiers.typed_kinds(typed, reader)]
    for expansion in (expanded.expansions if expanded else []):
        kind = tiers.EXPANSION_KINDS.get(expansion.kind, "translation")
        try:  # one parse for all the alternatives of an expansion
            alt = parse_query(" OR ".join(f'"{a}"' for a in expansion.added), schema, expanded.whole_words)
        except QueryError:
            continue
        maps.append(tiers.kinds_of(tiers.query_terms(alt, reader), kind))
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

    def boxes(self, text: str, words: list) -> list:
        """The page image's word boxes (WordBox, in the page's words) under the marks, each a
        highlight.BoxMark with its kind; ``text`` is the page's text as the catalog has it."""
        return highlight.word_boxes(text, list(words), list(self.marks))

    @property
    def tier(self) -> int:
        return tiers.TYPED if any(m.kind == "typed" for m in self.matched) else tiers.ALTERNATIVE


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
    kinds = term_kinds(searcher, schema, parse_query(text, schema), expanded, None)
    found = highlight.page_matches(searcher, query, [docnum], evaluation)[docnum]
    page_text = searcher.stored_fields(docnum).get("text", "")
    ranges = highlight.term_ranges(searcher, [(docnum, page_text, found.pairs())], schema)[0]
    return PageMarks(tuple(sorted(pages)), tuple(highlight.marks(page_text, found, ranges, kinds)),
                     highlight.matched_of(found, kinds), highlight.phrases_of(found, kinds))
