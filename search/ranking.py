"""Scores of every page a query matches, computed on numpy arrays: Whoosh's scores, faster.

Sanad scores every matching page (search.order.ranked says why Whoosh's pruning cannot be used).
Whoosh does that one posting at a time through a tree of Python matcher objects: at 100,000 pages
a common word took over a tenth of a second and a phrase of two common words seconds. Here a query
is evaluated per segment on arrays as long as the segment: each term's postings are read whole
(search.postings), BM25F is computed on the arrays, an Or adds its parts, an And intersects them.
The scores are Whoosh's to the last bits of a float (tests/test_ranking.py compares them).

A phrase is the exception. Whoosh scores a phrase as the sum of its words' scores on the page,
but whether the words stand next to each other needs their positions, which cost a Python call
per page and word. So pages holding all the words are ranked by that sum first (an upper bound
of the final score, exact where the phrase is there), and positions are read down that list only
as far as the shown pages need. Beyond that, the number of matching pages is counted exactly when
few are left to check and estimated from a sample when many are (``Ranking.estimated``).

Query types not handled here are scored by Whoosh itself, one page at a time, so every query
still gets its exact scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from search import postings
from search.clauses import Scaled
from search.engine import FAST_PATHS, Q, scoring
from search.schema import SanadBM25F

# Candidates of a phrase query whose positions are read after the shown pages are settled, to
# count the matching pages; when more remain, a sample of this size estimates the rest. (A check
# costs 30-40 us: counting 2,000 exactly took longer than ranking the rest of the query.)
COUNT_CHECKS = 1000
COUNT_SAMPLE = 300
COUNT_RUNS = 10
FIRST_BATCH = 64  # candidates checked in the first round of a phrase query


@dataclass
class Ranking:
    pages: list[tuple[int, float]]  # (docnum, score) of the best pages, best first (ties unordered)
    total: int  # pages that match
    estimated: bool = False  # total is an estimate (a phrase with very many candidate pages)


@dataclass
class _Part:
    """A query's result on a segment: ``mask`` the pages that match, ``score`` their scores (only
    meaningful under the mask). Not ``exact``: the mask and scores are an upper bound, to be
    checked page by page (phrases)."""
    mask: np.ndarray
    score: np.ndarray
    exact: bool = True


def top(docnums: np.ndarray, scores: np.ndarray, limit: int, tolerance: float) -> list[tuple[int, float]]:
    """The ``limit`` best pages, best first, and every page tied (within ``tolerance``, relative)
    with the last of them."""
    if limit < 1 or not len(scores):
        return []
    if len(scores) > limit:
        keep = scores >= _tie_floor(scores, limit, tolerance)
        docnums, scores = docnums[keep], scores[keep]
    order = np.lexsort((docnums, -scores))
    return list(zip(docnums[order].tolist(), scores[order].tolist()))


class Evaluation:
    """Queries evaluated on one searcher, sharing their work: each term is looked up once, and a
    leaf query's pages and scores are computed once. A search ranks by its query, then by the
    feedback words, then asks which of the shown pages hold each word (for highlighting): with
    one Evaluation the last step reads nothing again."""

    def __init__(self, searcher):
        self.searcher = searcher
        leaves = searcher.leaf_searchers()
        terms = _Terms(searcher, [sub.reader() for sub, _ in leaves])
        self.segments = [_Segment(sub, offset, terms, i) for i, (sub, offset) in enumerate(leaves)]

    def rank(self, query, limit: int, tolerance: float) -> Ranking:
        """The ``limit`` best pages for ``query`` (and any tied with the last, see ``top``)."""
        parts = [segment.evaluate(query) for segment in self.segments]
        seg_of, local, scores = _candidates(parts)
        if all(part.exact for part in parts):
            offsets = np.array([segment.offset for segment in self.segments], dtype=np.int64)
            docnums = local + offsets[seg_of]
            return Ranking(top(docnums, scores, limit, tolerance), len(docnums))
        return _rank_checked(self.segments, query, seg_of, local, scores, limit, tolerance)

    def all_scores(self, query) -> tuple[np.ndarray, np.ndarray]:
        """(docnums, scores) of every page that matches ``query``, in docnum order."""
        docnums, scores = [], []
        for segment in self.segments:
            part = segment.evaluate(query)
            pages = np.flatnonzero(part.mask)
            if not part.exact:
                checked = segment.evaluate(query, pages)
                pages, score = pages[checked.mask], checked.score[checked.mask]
            else:
                score = part.score[pages]
            docnums.append(pages + segment.offset)
            scores.append(score)
        return _joined(docnums, np.int64), _joined(scores, np.float64)

    def holding(self, query, docnums) -> set[int]:
        """Those of ``docnums`` that ``query`` matches (a phrase checked on them only)."""
        found: set[int] = set()
        wanted = np.unique(np.asarray(list(docnums), dtype=np.int64))
        for segment in self.segments:
            pages = wanted[(wanted >= segment.offset) & (wanted < segment.offset + segment.size)] - segment.offset
            if len(pages):
                part = segment.evaluate(query, pages)
                found.update((pages[part.mask] + segment.offset).tolist())
        return found


def rank(searcher, query, limit: int, tolerance: float) -> Ranking:
    """The ``limit`` best pages for ``query`` (and any tied with the last, see ``top``)."""
    return Evaluation(searcher).rank(query, limit, tolerance)


def all_scores(searcher, query) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, scores) of every page that matches ``query``, in docnum order."""
    return Evaluation(searcher).all_scores(query)


def _candidates(parts: list[_Part]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment index, page in the segment, score) of every page the parts match."""
    seg_of = _joined([np.full(int(p.mask.sum()), i) for i, p in enumerate(parts)], np.int64)
    local = _joined([np.flatnonzero(p.mask) for p in parts], np.int64)
    return seg_of, local, _joined([p.score[p.mask] for p in parts], np.float64)


def _tie_floor(scores: np.ndarray, limit: int, tolerance: float) -> float:
    """The lowest score still tied (within ``tolerance``, relative) with the ``limit``-th best."""
    kth = -np.partition(-scores, limit - 1)[limit - 1]
    return kth - tolerance * max(abs(kth), 1.0)


def _rank_checked(segments, query, seg_of, local, bound, limit: int, tolerance: float) -> Ranking:
    """Rank by upper bounds, checking candidates best first until no unchecked one can enter."""
    order = np.argsort(-bound, kind="stable")
    found_docs, found_scores = [], []
    done = 0
    while done < len(order):
        chosen = order[done:done + _next_batch(bound[order[done:]], _joined(found_scores, np.float64), done,
                                               limit, tolerance)]
        if not len(chosen):
            break
        done += len(chosen)
        docs, scores = _check(segments, query, seg_of[chosen], local[chosen])
        found_docs.append(docs)
        found_scores.append(scores)
    docnums, scores = _joined(found_docs, np.int64), _joined(found_scores, np.float64)
    total, estimated = _count_rest(segments, query, seg_of, local, order[done:], len(docnums))
    return Ranking(top(docnums, scores, limit, tolerance), total, estimated)


def _next_batch(bounds: np.ndarray, matched: np.ndarray, done: int, limit: int, tolerance: float) -> int:
    """How many of the unchecked candidates (``bounds``, best first) to check next. Each check
    opens posting blocks, so no more than the top places can need: once ``limit`` pages match,
    only candidates whose bound reaches the tie floor can still enter (the floor only rises as
    more are found), at most as many as were checked so far, so that a rising floor can cut the
    rest; before that, as many as the match rate so far says will give the missing pages."""
    if not done:
        return FIRST_BATCH
    if len(matched) >= limit:
        above = int(np.searchsorted(-bounds, -_tie_floor(matched, limit, tolerance), side="right"))
        return min(above, max(done, FIRST_BATCH))
    if not len(matched):
        return 3 * done
    return max(FIRST_BATCH, int(1.5 * (limit - len(matched)) * done / len(matched)))


def _count_rest(segments, query, seg_of, local, rest: np.ndarray, found: int) -> tuple[int, bool]:
    """Pages that match in all: ``found`` among the checked candidates plus those of ``rest``,
    counted when few, else estimated from a fixed sample (the same query gives the same count).

    The sample is ``COUNT_RUNS`` runs of neighbouring candidates spread evenly over the index:
    neighbouring pages share posting blocks, and opening a block to read positions is what a
    check costs (as many pages picked one by one open a block each)."""
    if len(rest) <= COUNT_CHECKS:
        docs, _ = _check(segments, query, seg_of[rest], local[rest])
        return found + len(docs), False
    in_order = rest[np.lexsort((local[rest], seg_of[rest]))]
    run = COUNT_SAMPLE // COUNT_RUNS
    step = len(in_order) / COUNT_RUNS
    first = np.random.default_rng(0).uniform(0, step - run)
    sample = np.concatenate([in_order[int(first + i * step):][:run] for i in range(COUNT_RUNS)])
    docs, _ = _check(segments, query, seg_of[sample], local[sample])
    return found + round(len(rest) * len(docs) / len(sample)), True


def _check(segments, query, seg_of: np.ndarray, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact (docnums, scores) of the given candidate pages that really match."""
    docs, scores = [], []
    for i in np.unique(seg_of).tolist():
        pages = np.sort(local[seg_of == i])
        part = segments[i].evaluate(query, pages)
        docs.append(pages[part.mask] + segments[i].offset)
        scores.append(part.score[part.mask])
    return _joined(docs, np.int64), _joined(scores, np.float64)


def _joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.empty(0, dtype=dtype)


_NOT_LOOKED_UP = object()


class _Terms:
    """A search's terms, shared by its segments: each term's entry in each segment's term index,
    looked up once, and how the term is scored. A lookup costs several small file reads, and
    Whoosh's own way (a scorer, then a postings reader) looks a term up three times per segment:
    a sixth of a phrase query's time at 100,000 pages."""

    def __init__(self, searcher, readers: list):
        self.searcher = searcher
        self.readers = readers
        self._entries: dict[tuple[str, bytes], list] = {}
        self._scoring: dict[tuple[str, bytes], tuple | None] = {}

    def entry(self, i: int, field_name: str, btext: bytes):
        """The term's entry in segment ``i``, None if it is not there."""
        entries = self._entries.setdefault((field_name, btext), [_NOT_LOOKED_UP] * len(self.readers))
        if entries[i] is _NOT_LOOKED_UP:
            entries[i] = postings.term_info(self.readers[i], field_name, btext)
        return entries[i]

    def scoring(self, field_name: str, btext: bytes) -> tuple | None:
        """How the term's pages are scored: ("weight",) by the term's weight on them, ("bm25",
        idf, average field length, K1, B) by BM25F, None by a scorer only Whoosh computes."""
        key = (field_name, btext)
        if key not in self._scoring:
            self._scoring[key] = self._how(field_name, btext)
        return self._scoring[key]

    def _how(self, field_name: str, btext: bytes) -> tuple | None:
        weighting, top = self.searcher.weighting, self.searcher.get_parent()
        if isinstance(weighting, SanadBM25F) and type(weighting).scorer is scoring.BM25F.scorer:
            FAST_PATHS.took("scoring")
            # what BM25F.scorer and BM25FScorer compute, from the entries already looked up
            if not top.schema[field_name].scorable:
                return ("weight",)
            entries = [self.entry(i, field_name, btext) for i in range(len(self.readers))]
            pages = sum(e.doc_frequency() for e in entries if e is not None)
            return ("bm25", weighting.idf_of(pages, top.doc_count_all()), top.avg_field_length(field_name) or 1,
                    weighting.K1, weighting.field_b(field_name))
        scorer = weighting.scorer(self.searcher, field_name, btext)
        if type(scorer) is scoring.WeightScorer:
            return ("weight",)
        if isinstance(scorer, scoring.BM25FScorer) and type(scorer)._score is scoring.BM25FScorer._score:
            return ("bm25", scorer.idf, scorer.avgfl, scorer.K1, scorer.B)
        if isinstance(weighting, SanadBM25F):  # Sanad's own weighting, yet not computed here
            FAST_PATHS.fell_back("scoring", f"the scorer of {field_name}:{btext!r}")
        return None


class _Segment:
    """Evaluates queries on one segment: on all its pages (``pages`` None), where phrases give
    upper bounds, or exactly on the given pages."""

    def __init__(self, searcher, offset: int, terms: _Terms, index: int):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.offset = offset
        self.size = self.reader.doc_count_all()
        self._terms = terms
        self._index = index  # in ``terms``
        # (id(query), scored) -> the query and its part on all pages; (id(phrase), "phrase") -> the
        # phrase, its bound on all pages and its words' postings. The query is kept to tell it from
        # a later one given the same id.
        self._leaves: dict[tuple[int, bool], tuple] = {}

    # -- dispatch ---------------------------------------------------------------------------

    def evaluate(self, q, pages: np.ndarray | None = None, scored: bool = True) -> _Part:
        """``q``'s part; unless ``scored``, only which pages match counts (a filter), and the
        scores are left at 0 where that saves work."""
        if isinstance(q, Q.Phrase) and q.slop == 1:
            return self._phrase(q, pages)
        kept = None if scored else _kept_filter(q)
        if kept:
            part = self._terms_filter(kept)
            return part if pages is None else _Part(part.mask[pages], part.score[pages])
        children = self._children(q)
        if children is None:  # a leaf: computed once on all pages
            kept = self._leaves.get((id(q), scored))
            if kept is None or kept[0] is not q:
                kept = self._leaves[(id(q), scored)] = (q, self._leaf(q, scored))
            part = kept[1]
            return part if pages is None else _Part(part.mask[pages], part.score[pages])
        kind, subs, factor = children
        # the second part of a Require, and what a constant score wraps, only filter
        unscored = {"require": [1], "constant": [0]}.get(kind, [])
        results = [self.evaluate(sub, pages, scored and i not in unscored) for i, sub in enumerate(subs)]
        return _combine(kind, results, factor)

    @staticmethod
    def _children(q):
        """(how to combine, subqueries, factor on the result) for compound queries Whoosh
        scores by adding up their parts; None for leaves."""
        if type(q) is Q.Or and not q.minmatch and q.scale is None and q.subqueries:
            return ("or", q.subqueries, q.boost) if len(q.subqueries) > 1 else ("one", q.subqueries, 1.0)
        if type(q) is Q.And and q.subqueries:
            return ("and", q.subqueries, q.boost) if len(q.subqueries) > 1 else ("one", q.subqueries, 1.0)
        if type(q) in (Q.AndNot, Q.AndMaybe, Q.Require):
            return type(q).__name__.lower(), [q.a, q.b], 1.0
        if type(q) is Scaled:
            return "one", [q.child], q.factor
        if type(q) is Q.ConstantScoreQuery:
            return "constant", [q.child], q.score
        return None

    # -- leaves -----------------------------------------------------------------------------

    def _leaf(self, q, scored: bool = True) -> _Part:
        if type(q) is Q.Term:
            return self._term(q.fieldname, q.text, q.boost, scored=scored)
        if type(q) is type(Q.NullQuery):
            return self._empty()
        if isinstance(q, Q.MultiTerm):
            if not scored:
                return self._filter(q)
            # Whoosh: one expanded term is searched as a Term without the boost, several as an
            # Or of them with it
            words = self._expanded(q)
            if not words:
                return self._empty()
            if len(words) == 1:
                return self._term(q.field(), words[0], 1.0)
            return self._any_term(q.field(), words, q.boost, scored)
        return self._by_whoosh(q)

    def _filter(self, q: Q.MultiTerm) -> _Part:
        """The pages of a prefix or range that only filters, kept per segment: a date range is a
        term per day, and reading a few hundred posting lists per segment costs more than the rest
        of a search, while a user changing the words of a search mostly keeps its filters."""
        def compute():
            mask = self._any_term(q.field(), self._expanded(q), 1.0, scored=False).mask
            mask.flags.writeable = False  # shared by every search that uses the filter
            return mask
        # a segment's pages only ever get deleted: its number of deletions dates what it holds
        mask = postings.per_segment(self.reader, ("filter", self.reader.segment().deleted_count(), q), compute)
        return _Part(mask, np.zeros(self.size))

    def _terms_filter(self, terms: list) -> _Part:
        """The pages of Terms of one field (see _kept_filter) that only filter, kept per segment:
        team mode wraps every search of a member in their collections, a filter that stays the
        same from one search to the next and would otherwise be read from the postings each time."""
        field_name = terms[0].fieldname
        words = sorted({t.text for t in terms})

        def compute():
            mask = self._any_term(field_name, words, 1.0, scored=False).mask
            mask.flags.writeable = False  # shared by every search that uses the filter
            return mask
        what = ("terms", self.reader.segment().deleted_count(), field_name, tuple(words))
        return _Part(postings.per_segment(self.reader, what, compute), np.zeros(self.size))

    def _expanded(self, q: Q.MultiTerm) -> list:
        return [text for _, text in q.expanded_terms(self.reader) if text]

    def _any_term(self, field_name: str, words: list, boost: float, scored: bool) -> _Part:
        """An Or of many terms (a prefix, a date range): their scores added up page by page."""
        found = [self._term_scores(field_name, w, scored=scored) for w in words]
        if any(f is None for f in found):  # a term Whoosh must score itself
            return _combine("or", [self._term(field_name, w, 1.0) for w in words], boost)
        ids = _joined([f[0] for f in found], np.int64)
        part = self._empty()
        part.mask[ids] = True
        part.score = np.bincount(ids, weights=_joined([f[1] for f in found], np.float64), minlength=self.size)
        if boost != 1.0:
            part.score = part.score * boost
        return part

    def _empty(self) -> _Part:
        return _Part(np.zeros(self.size, dtype=bool), np.zeros(self.size))

    def _term(self, field_name: str, text, boost: float, keep: list | None = None, scored: bool = True) -> _Part:
        """A term's part; its postings, with their word positions, are appended to ``keep``
        when given (a phrase's words)."""
        found = self._term_scores(field_name, text, keep, scored)
        if found is None:
            return self._by_whoosh(Q.Term(field_name, text, boost=boost))
        ids, scores = found
        part = self._empty()
        part.mask[ids] = True
        part.score[ids] = scores * boost if boost != 1.0 else scores
        return part

    def _term_scores(self, field_name: str, text, keep: list | None = None, scored: bool = True):
        """(pages, scores) of a term in the segment, unboosted (zeros unless ``scored``); None
        when its scorer is not one computed here."""
        nothing = (np.empty(0, dtype=np.int64), np.empty(0))
        schema = self.searcher.schema
        if field_name not in schema:
            return nothing
        try:
            btext = schema[field_name].to_bytes(text)
        except ValueError:
            return nothing
        entry = self._terms.entry(self._index, field_name, btext)
        if entry is None:
            return nothing
        how = self._terms.scoring(field_name, btext) if scored else ("weight",)
        if how is None and keep is None:
            return None
        found = postings.term_postings(self.reader, field_name, btext, entry, values=keep is not None)
        if keep is not None:
            keep.append(found)  # a phrase's word: its positions are needed however it is scored
        if how is None:
            return None
        ids, weights = found.ids, found.weights
        if not scored:
            return ids, np.zeros(len(ids))
        if how[0] == "weight":
            return ids, weights
        _, idf, avgfl, k1, b = how
        lengths = postings.field_lengths(self.reader, field_name)[ids]
        # the expression and its order of operations are whoosh.scoring.bm25's
        return ids, idf * ((weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl)))

    def _by_whoosh(self, q) -> _Part:
        """Any other query: Whoosh's own matcher, page by page."""
        part = self._empty()
        matcher = q.matcher(self.searcher, self.searcher.context())
        while matcher.is_active():
            docnum = matcher.id()
            part.mask[docnum] = True
            part.score[docnum] = matcher.score()
            matcher.next()
        return part

    # -- phrases ----------------------------------------------------------------------------

    def _phrase(self, q: Q.Phrase, pages: np.ndarray | None) -> _Part:
        """Whoosh scores a phrase as the sum of its words' scores (each unboosted) times its boost.
        On all pages: that sum where all the words are (an upper bound). On given pages: checked."""
        kept = self._leaves.get((id(q), "phrase"))
        if kept is None or kept[0] is not q:
            words: list[postings.Postings] = []
            parts = [self._term(q.fieldname, w, 1.0, keep=words) for w in q.words]
            bound = _combine("and", parts, q.boost) if parts else self._empty()
            bound.exact = False
            kept = self._leaves[(id(q), "phrase")] = (q, bound, words)
        _, bound, words = kept
        if pages is None:
            return bound
        mask = bound.mask[pages]
        mask[mask] = self._in_order(q, words, pages[mask])
        return _Part(mask, bound.score[pages])

    def _in_order(self, q: Q.Phrase, words: list[postings.Postings], pages: np.ndarray) -> np.ndarray:
        """For each page (all holding every word), whether the words stand in a row."""
        positions = self.searcher.schema[q.fieldname].format.decoder("positions")
        where = [np.searchsorted(w.ids, pages).tolist() for w in words]
        values = [w.values for w in words]
        ok = np.zeros(len(pages), dtype=bool)
        for i in range(len(pages)):
            starts = set(positions(values[0][where[0][i]]))
            for step in range(1, len(words)):
                if not starts:
                    break
                starts &= {p - step for p in positions(values[step][where[step][i]])}
            ok[i] = bool(starts)
        return ok


# Fields whose filters are kept from one search to the next: few values, the same in every search
# of a member (a document id's filter is not: one per page viewed, it would push out what matters).
KEPT_FILTERS = ("collections",)


def _kept_filter(q) -> list | None:
    """The Terms of ``q`` when it is a Term, or an Or of plain Terms, of one of KEPT_FILTERS, else None."""
    if type(q) is Q.Term:
        terms = [q]
    elif type(q) is Q.Or and q.subqueries and not q.minmatch and all(type(t) is Q.Term for t in q.subqueries):
        terms = list(q.subqueries)
    else:
        return None
    return terms if terms[0].fieldname in KEPT_FILTERS and len({t.fieldname for t in terms}) == 1 else None


def _combine(kind: str, parts: list[_Part], factor: float) -> _Part:
    """Whoosh's matchers: a union adds the scores of the parts that match, an intersection adds
    all, AndNot keeps the first part's, AndMaybe adds the second where it matches, Require keeps
    the first's where both match."""
    exact = all(p.exact for p in parts)
    if kind == "one":
        mask, score = parts[0].mask, parts[0].score
    elif kind == "or":
        mask = np.logical_or.reduce([p.mask for p in parts])
        score = np.zeros(len(mask))
        for p in parts:
            score += np.where(p.mask, p.score, 0.0)
    elif kind == "and":
        mask = np.logical_and.reduce([p.mask for p in parts])
        score = parts[0].score.copy()
        for p in parts[1:]:
            score += p.score
    elif kind == "andnot":
        a, b = parts
        # unchecked pages of the excluded part may still turn out not to match: keep them
        mask = a.mask & ~b.mask if b.exact else a.mask.copy()
        score = a.score
    elif kind == "andmaybe":
        a, b = parts
        mask = a.mask
        score = a.score + np.where(b.mask, b.score, 0.0)
        exact = a.exact and b.exact
    elif kind == "require":
        a, b = parts
        mask, score = a.mask & b.mask, a.score
    elif kind == "constant":  # the factor is the score
        mask = parts[0].mask
        return _Part(mask, np.where(mask, factor, 0.0), exact)
    else:
        raise ValueError(kind)
    if factor != 1.0:
        score = score * factor
    return _Part(mask, score, exact)
