"""The best pages of a query in an order of the archive, not of the index's layout: ties put
newest document first, then by document id and page; tiers first (search.tiers); or newest first.
"""

from __future__ import annotations

import numpy as np

from search import postings, ranking, tiers
from search.engine import Q

# Scores closer than this (relative) are equal. A page's score is a sum over the query's clauses
# and Whoosh adds them in an order that depends on which terms each segment holds, so the same page
# scores a few units in the last place apart in a one-segment and a two-segment index (measured on
# Hamshahri: at most 6e-14 on scores of 3-120). Equal pages are ordered by their key.
SCORE_TOLERANCE = 1e-9


def top_hits(searcher, query, limit: int) -> tuple[list[tuple[int, float]], int]:
    """(docnum, score) of the ``limit`` best pages for ``query``, best first, and how many match
    (see ``ranked`` for whether that number is counted or estimated)."""
    ranked_ = ranked(searcher, query, limit)
    return ranked_.pages, ranked_.total


def ranked(searcher, query, limit: int, evaluation: ranking.Evaluation | None = None) -> ranking.Ranking:
    """The ``limit`` best pages for ``query``; the ranking does not depend on how the index is
    split into segments.

    Whoosh's pruning of hopeless pages is not safe: its preloaded union (chosen per segment, for
    segments of at most 5,000 pages) reports the largest of its clauses' maximum scores instead of
    their sum, and its block skipping bounds a page by the blocks its clauses are in now, not the
    ones they will reach. With that pruning a two-segment Hamshahri index lost the true top 10 of
    all 25 queries (the top page scored 78 instead of 124), and the feedback built on it moved MAP
    by up to 2.5%. So every matching page is scored (search.ranking, on arrays), and pages whose
    scores are equal within ``SCORE_TOLERANCE`` are put newest document first, then in the order
    of document id and page, not of their internal number, which follows the layout.
    ``evaluation``, when given, is the search's (see ranking.Evaluation)."""
    if limit < 1:
        return ranking.Ranking([], 0)
    result = (evaluation or ranking.Evaluation(searcher)).rank(query, limit, SCORE_TOLERANCE)
    result.pages = _stable_order(searcher, result.pages, limit)
    return result


def all_scores(searcher, query, evaluation: ranking.Evaluation | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, scores) of every page that matches ``query``, in docnum order."""
    return (evaluation or ranking.Evaluation(searcher)).all_scores(query)


def _same_score(a: float, b: float) -> bool:
    return abs(a - b) <= SCORE_TOLERANCE * max(abs(a), abs(b), 1.0)


def _stable_order(searcher, found: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """The first ``limit`` of ``found`` (in falling score order), pages of equal scores put newest
    document first, then by document id and page: an order of the archive, not of the index's
    layout."""
    ordered, run = [], []
    for page in found:
        if run and not _same_score(run[-1][1], page[1]):
            ordered += _tie_order(searcher, run, limit - len(ordered))
            run = []
        run.append(page)
    return (ordered + _tie_order(searcher, run, limit - len(ordered)))[:limit]


def _tie_order(searcher, run: list[tuple[int, float]], need: int) -> list[tuple[int, float]]:
    if need < 1 or len(run) < 2:
        return run[:max(need, 0)]
    added = _added_ticks(searcher)[[docnum for docnum, _ in run]]
    if len(run) > need:
        # A query of filters only ties every page it matches (50,000 at 100,000 pages): only the
        # pages as new as the need-th newest can be shown, and only theirs are read.
        newest = added >= np.partition(added, len(added) - need)[len(added) - need]
        run = [page for page, keep in zip(run, newest.tolist()) if keep]
        added = added[newest]
    keyed = sorted(zip(added.tolist(), run), key=lambda item: (-item[0], _page_key(searcher, item[1][0])))
    return [page for _, page in keyed]


def newest(searcher, query, limit: int, evaluation=None) -> tuple[list[tuple[int, float]], int]:
    """The ``limit`` matching pages of the most recently added documents, with their scores (the
    best scored first among pages added together), and how many pages match."""
    docnums, scores = all_scores(searcher, query, evaluation)
    order = np.lexsort((scores, _added_ticks(searcher)[docnums]))[::-1][:limit]
    return list(zip(docnums[order].tolist(), scores[order].tolist())), len(docnums)


def _added_ticks(searcher) -> np.ndarray:
    """When each page's document was added (Whoosh's ticks), indexed by the searcher's page numbers
    (all alike in an index without the field, such as the benchmark's baselines)."""
    if "added" not in searcher.schema:
        return np.zeros(searcher.doc_count_all(), dtype=np.uint64)
    return np.concatenate([postings.numeric_column(sub.reader(), "added") for sub, _ in searcher.leaf_searchers()])


def _page_key(searcher, docnum: int) -> tuple:
    fields = searcher.stored_fields(docnum)
    return fields.get("document_id", ""), fields.get("page", 0), fields.get("key", "")


def _ranked(searcher, docnums: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best pages in the order of ``top_hits``. Only the pages shown (and those tied
    with the last of them) are put in order: a query matches thousands of pages and many of them
    tie, each tie costing a read of stored fields."""
    return _stable_order(searcher, ranking.top(docnums, scores, limit, SCORE_TOLERANCE), limit)


def tiered(searcher, docnums: np.ndarray, scores: np.ndarray, page_tiers, limit: int) -> list[tuple[int, float]]:
    """``_ranked`` within each tier, the first tier's pages first (search.tiers)."""
    out: list[tuple[int, float]] = []
    for tier_docnums, tier_scores in tiers.by_tier(docnums, scores, page_tiers):
        if len(out) >= limit:
            break
        out += _ranked(searcher, tier_docnums, tier_scores, limit - len(out))
    return out


def tiered_ranking(searcher, query, first_tier, limit: int,
                   evaluation: ranking.Evaluation | None = None) -> ranking.Ranking:
    """``ranked`` with the pages that ``first_tier`` matches first (search.tiers); each tier is
    ranked by ``query``'s scores, so within a tier the order is the untiered one."""
    if first_tier is None:
        return ranked(searcher, query, limit, evaluation)
    evaluation = evaluation or ranking.Evaluation(searcher)
    first = ranked(searcher, Q.Require(query, first_tier), limit, evaluation)
    # the second tier is ranked even when the first fills the page, for its number of pages
    rest = ranked(searcher, Q.AndNot(query, first_tier), max(limit - len(first.pages), 1), evaluation)
    pages = (first.pages + rest.pages)[:limit]
    return ranking.Ranking(pages, first.total + rest.total, first.estimated or rest.estimated)
