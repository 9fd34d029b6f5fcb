"""Searchers kept between searches (search.searchers): searches in many threads at once give
what one search at a time gives, and a search sees every commit and rebuild."""

from __future__ import annotations


from whoosh import index as whoosh_index

from search import searchers
from search.index import SearchIndex
from tests.conftest import from_threads
from tests.test_index_segments import _QUERIES, _build, _pages


def _results(index: SearchIndex, text: str):
    found = index.search(text, limit=10)
    return found.total, [(h.document_id, h.page, h.score, h.snippet) for h in found.hits]


def test_concurrent_searches_match_sequential_ones(tmp_path):
    index = _build(tmp_path / "index", _pages(), segments=3)
    expected = {q: _results(index, q) for q in _QUERIES}
    got = from_threads(lambda q: _results(index, q), _QUERIES)
    assert all(result == expected[q] for q, result in got)
    pool = searchers._POOLS[str(index.path)]
    assert 1 <= len(pool.idle) <= searchers.IDLE_KEPT  # given back, kept for the next searches


def test_a_kept_searcher_sees_the_next_commit(tmp_path):
    pages = _pages()
    index = _build(tmp_path / "index", pages[:200], segments=1)
    before = index.search("زلزله", limit=1).total
    writer = whoosh_index.open_dir(index.path).writer()
    for page in pages[200:]:
        writer.add_document(**page)
    writer.commit()
    after = index.search("زلزله", limit=1).total
    fresh = _build(tmp_path / "all", pages, segments=1).search("زلزله", limit=1).total
    assert before < after == fresh
