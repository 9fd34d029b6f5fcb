"""search.engine: Whoosh's version is the one its private formats are read for, and every fast
reader of those formats is taken on a real index (a fallback is correct but silently slow)."""

from __future__ import annotations

import tomllib
import warnings
from datetime import datetime
from pathlib import Path

import pytest

from search import caches, engine, postings, ranking
from search.index import VERSION_FILE, SearchIndex
from search.query import parse_query
from search.schema import SCHEMA_VERSION, build_schema, weighting

REPO = Path(__file__).resolve().parents[1]


def test_whoosh_is_the_pinned_version():
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"whoosh-reloaded>={engine.PINNED},<2.7.6" in pins
    assert engine.version() == engine.PINNED


def _index(path: Path):
    ix = engine.index.create_in(str(path), build_schema())
    words = "زندان اوین وزارت بهداشت ماسک prison ministry health mask report".split()
    for segment in range(2):  # two segments, one with a deleted page
        writer = ix.writer()
        for i in range(300):  # enough pages for posting lists longer than their entry holds inline
            text = " ".join(words[(i * k + segment) % len(words)] for k in range(1, 40))
            key = f"d{segment}-{i}"
            writer.add_document(key=f"{key}:1", document_id=key, page=1, text=text, exact=text,
                                title=text[:20], dates="20200105", tags="urgent",
                                added=datetime(2024, 1, 1 + segment, 0, i % 60))
        writer.commit(merge=False)
    writer = ix.writer()
    writer.delete_by_term("document_id", "d0-3")
    writer.commit(merge=False)
    (path / VERSION_FILE).write_text(str(SCHEMA_VERSION))


@pytest.fixture()
def index_dir(tmp_path):
    _index(tmp_path)
    return tmp_path


def test_every_fast_path_is_taken_on_a_real_index(index_dir):
    engine.FAST_PATHS.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a fallback's warning fails the test
        sx = SearchIndex(index_dir)
        for text in ("ماسک", '"وزارت بهداشت"', "prison AND health", "mask tag:urgent date:2020-01-01..2020-02-01",
                     "heal*", "prison~"):
            sx.search(text, limit=5)
        sx.search("report", sort="date", limit=5)
    assert dict(engine.FAST_PATHS.missed) == {}
    assert set(engine.FAST_PATHS.taken) == set(engine.FastPaths.NAMES)


def test_a_fast_path_that_stops_being_taken_is_counted_and_warned(index_dir, monkeypatch):
    engine.FAST_PATHS.reset()
    caches.clear()
    # as if a Whoosh upgrade had renamed what the readers use
    monkeypatch.setattr(engine, "length_bytes", lambda reader, field_name: None)
    monkeypatch.setattr(engine, "posting_list_bytes", lambda reader, info: None)
    ix = engine.open_index(index_dir)
    with ix.searcher(weighting=weighting()) as searcher:
        with pytest.warns(RuntimeWarning, match="fell back"):
            found = ranking.Evaluation(searcher).rank(parse_query("ماسک", ix.schema), 5, 1e-9)
    assert found.total > 0  # still correct ...
    assert engine.FAST_PATHS.missed["lengths"] and engine.FAST_PATHS.missed["postings"]  # ... and told
    caches.clear()


def test_a_column_no_page_has_is_read_fast_too(tmp_path):
    ix = engine.index.create_in(str(tmp_path), build_schema())
    writer = ix.writer()
    writer.add_document(key="a:1", document_id="a", page=1, text="word")  # no "added"
    writer.commit()
    engine.FAST_PATHS.reset()
    with engine.open_index(tmp_path).reader() as reader:
        leaf = reader.leaf_readers()[0][0] if reader.is_atomic() is False else reader
        values = postings.numeric_column(leaf, "added")
    assert len(values) == 1 and not engine.FAST_PATHS.missed


def test_a_search_leaves_the_garbage_collector_as_it_found_it(index_dir):
    import gc

    before = gc.isenabled(), gc.get_threshold()
    SearchIndex(index_dir).search("ماسک", limit=5)
    assert (gc.isenabled(), gc.get_threshold()) == before


def test_the_search_keeps_its_caches_in_one_module():
    """search/caches.py owns every cache of the search's state: no other module keeps a
    module-level dict or OrderedDict, but for the opened searchers (search.searchers), the
    count of rebuilds of each index (search.index) and the search processes with the index each
    keeps open (search.pool): state, not caches."""
    import ast

    owners = []
    for path in sorted((REPO / "search").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
            if isinstance(value, ast.Dict) and not value.keys or (
                    isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("OrderedDict", "dict")
                    and not value.args):
                owners.append(path.name)
    assert sorted(set(owners)) == ["caches.py", "index.py", "pool.py", "searchers.py"]


def test_the_collector_is_paused_only_while_searches_run(monkeypatch):
    import gc
    import threading

    from search import searching

    assert gc.isenabled()
    inside, go_on = threading.Event(), threading.Event()

    def long_search():
        with searching.paused_gc():
            inside.set()
            go_on.wait(10)

    other = threading.Thread(target=long_search)
    other.start()
    inside.wait(10)
    with searching.paused_gc():  # a second search overlapping the first
        assert not gc.isenabled()
    assert not gc.isenabled()  # the first still runs
    go_on.set()
    other.join()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):  # a failed search gives the pause back too
        with searching.paused_gc():
            1 / 0
    assert gc.isenabled()
    gc.disable()  # off before: stays off
    try:
        with searching.paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
