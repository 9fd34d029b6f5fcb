"""A search ranks the same pages in the same order however the index is split into segments.

Whoosh writes one segment per commit (and one per writer process), and merges them when it
likes: the layout is an accident of how the archive was filled, so it must not show in results.
"""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from search import searching
from search.index import VERSION_FILE, SearchIndex
from search.schema import SCHEMA_VERSION, build_schema, weighting

_WORDS = """
زلزله بم بازسازی شهر زندان اوین قرارداد نفت وزارت بانک مرکزی ماسک بیمارستان واکسن دادگاه
قاضی پرونده شاهد گزارش بودجه میلیون ریال صادرات واردات گمرک مالیات بازرسی سند بایگانی نامه
مدیر کل استان مرز تجارت تحریم وام درآمد هزینه آزمایش نتیجه تجهیزات سفارش فاکتور رسید فوری
محرمانه پیوست ترجمه جلسه توافق پروژه کارخانه کارگر دستمزد اعتصاب روزنامه خبرنگار انتخابات
ministry oil contract payment bank transfer court prison mask vaccine report budget customs
""".split()

_QUERIES = ["زلزله بم", "قرارداد نفت وزارت", "زندان اوین", "ماسک بیمارستان واکسن", "بودجه میلیون ریال",
            "گزارش بازرسی گمرک", "oil contract", "prison court", "کارگر دستمزد اعتصاب", "نامه محرمانه"]

PAGES = 300  # above the top-k sizes searched, so Whoosh would prune if it could


def _pages():
    rng = random.Random(5)
    weights = [1 / (rank + 1) for rank in range(len(_WORDS))]
    rng.shuffle(weights)
    pages = []
    for i in range(PAGES):
        if i % 50 == 7:
            text = pages[i - 1]["text"]  # reprinted articles score exactly alike
        else:
            text = " ".join(rng.choices(_WORDS, weights, k=rng.randint(20, 150)))
        doc = f"{i:064x}"
        pages.append({"key": f"{doc}:1", "document_id": doc, "page": 1, "filename": f"p{i}.txt",
                      "title": " ".join(text.split()[:4]), "text": text, "exact": text, "stem": text,
                      "lang": "fa", "source": "test", "tags": "", "dates": "",
                      "added": datetime(2024, 1, 1)})
    return pages


def _build(path: Path, pages: list[dict], segments: int) -> SearchIndex:
    path.mkdir(parents=True)
    ix = whoosh_index.create_in(path, build_schema())
    (path / VERSION_FILE).write_text(str(SCHEMA_VERSION))
    size = -(-len(pages) // segments)
    for start in range(0, len(pages), size):
        writer = ix.writer()
        for page in pages[start:start + size]:
            writer.add_document(**page)
        writer.commit(merge=False)  # one segment per commit
    assert len(whoosh_index.open_dir(path)._segments()) == segments
    return SearchIndex(path)


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    pages = _pages()
    root = tmp_path_factory.mktemp("segments")
    # pages in another order as well: internal page numbers must not decide ties either
    shuffled = pages[:]
    random.Random(9).shuffle(shuffled)
    return {"one": _build(root / "one" / "index", pages, 1),
            "three": _build(root / "three" / "index", pages, 3),
            "seven-shuffled": _build(root / "seven" / "index", shuffled, 7)}


def _same(a, b):
    assert [(d, p) for d, p, _ in a] == [(d, p) for d, p, _ in b]
    for (_, _, x), (_, _, y) in zip(a, b):
        assert x == pytest.approx(y, rel=1e-9)


@pytest.mark.parametrize("feedback", [False, True])
def test_ranking_does_not_depend_on_segments(layouts, feedback):
    for query in _QUERIES:
        rankings = {name: sx.ranked_pages(query, limit=50, feedback=feedback) for name, sx in layouts.items()}
        assert len(rankings["one"]) == 50
        for name in ("three", "seven-shuffled"):
            _same(rankings["one"], rankings[name])


def test_top_pages_are_the_best_scored(layouts):
    # the best 10 must be the best 10 of every matching page scored, not of those Whoosh kept
    for sx in layouts.values():
        ix = sx._open()
        for query in _QUERIES:
            q, _, _ = searching.build_query(sx.path, sx.schema, ix, query, "relevance", True, False)
            with ix.searcher(weighting=weighting()) as searcher:
                every = sorted((-hit.score for hit in searcher.search(q, limit=None)))
            top = sx.ranked_pages(query, limit=10, feedback=False)
            assert [s for _, _, s in top] == pytest.approx([-s for s in every[:10]], rel=1e-9)


def test_search_hits_and_ties_are_stable(layouts):
    for query in _QUERIES:
        hits = {name: [(h.document_id, h.page, h.score, h.snippet) for h in sx.search(query, limit=10).hits]
                for name, sx in layouts.items()}
        assert hits["one"] == hits["three"] == hits["seven-shuffled"]
    # reprinted pages tie; the one with the smaller document id comes first in every layout
    text = _pages()[6]["text"]
    words = " ".join(dict.fromkeys(text.split()))[:60].rsplit(" ", 1)[0]
    for sx in layouts.values():
        ranked = sx.ranked_pages(words, limit=PAGES, feedback=False)
        scores = {d: s for d, _, s in ranked}
        six, seven = f"{6:064x}", f"{7:064x}"
        assert scores[six] == pytest.approx(scores[seven], rel=1e-12)
        order = [d for d, _, _ in ranked]
        assert order.index(six) + 1 == order.index(seven)
