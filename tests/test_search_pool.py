"""Searches in search processes (search.pool): they give what a search in the caller gives, from
many threads at once; what a worker cannot do (a missing or damaged index) and a worker that dies
fall back to the caller's own search; workers die with the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search import pool as search_pool
from search.index import SearchIndex
from tests.conftest import from_threads
from tests.test_index_segments import _QUERIES, _build, _pages

REPO = Path(__file__).resolve().parent.parent


def _results(found):
    return found.total, [(h.document_id, h.page, h.score, h.snippet, h.matched) for h in found.hits]


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> SearchIndex:
    return _build(tmp_path_factory.mktemp("pool") / "index", _pages(), segments=2)


@pytest.fixture
def pool():
    pool = search_pool.SearchPool(2)
    yield pool
    pool.close()


def test_pooled_searches_give_what_searches_in_the_caller_give(index, pool):
    expected = {q: _results(index.search(q, limit=10)) for q in _QUERIES}
    pooled = search_pool.PooledIndex(index, pool)
    got = from_threads(lambda q: _results(pooled.search(q, limit=10)), _QUERIES)
    assert all(result == expected[q] for q, result in got)
    # The workers were started by client threads that have ended since: they still serve (they
    # would not, had they died with those threads, and their searches run in the caller instead).
    assert pool._executor is not None, "the pool broke: its workers died with the threads that started them"
    workers = set(pool._executor._processes)
    time.sleep(1)
    assert _results(pooled.search(_QUERIES[0], limit=10)) == expected[_QUERIES[0]]
    assert set(pool._executor._processes) == workers and len(workers) == 2
    assert pooled.path == index.path and pooled.current  # everything else is the index's own


def test_a_query_that_cannot_be_understood_says_so_from_a_worker(index, pool):
    from archive.errors import QueryError

    with pytest.raises(QueryError) as in_caller:
        index.search("prison date:1399/13/40", limit=5)
    with pytest.raises(QueryError) as in_worker:
        pool.search(index, "prison date:1399/13/40", limit=5)
    assert str(in_worker.value) == str(in_caller.value)


class _Caller(SearchIndex):
    """The caller's index: records the searches that came back to it."""

    asked: list

    def search(self, text, **options):
        self.asked.append(text)
        return "searched by the caller"


def test_a_search_the_workers_cannot_do_runs_in_the_caller(tmp_path, pool):
    caller = _Caller(tmp_path / "no-index-here")
    caller.asked = []
    # the worker finds no index there (IntegrityError): the caller's index rebuilds one or says why not
    assert pool.search(caller, "زلزله", limit=5) == "searched by the caller"
    assert caller.asked == ["زلزله"]


def test_a_dead_worker_costs_no_search(index, pool):
    pool.start()
    expected = _results(index.search("زندان اوین", limit=10))
    workers = list(pool._executor._processes)
    os.kill(workers[0], signal.SIGKILL)
    for _ in range(3):  # the search running when the pool broke comes back from the caller, later ones from new workers
        assert _results(pool.search(index, "زندان اوین", limit=10)) == expected
    assert not set(pool._executor._processes) & set(workers)


def test_workers_die_with_the_process_that_started_them(tmp_path):
    script = ("import sys, time; from search.pool import SearchPool; p = SearchPool(2); p.start(); "
              "print(*p._executor._processes, flush=True); time.sleep(600)")
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env=os.environ | {"PYTHONPATH": str(REPO)})
    try:
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in workers):
        assert time.monotonic() < deadline, "the search workers outlived their parent"
        time.sleep(0.2)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_the_setting_chooses_where_the_workbench_searches(index, monkeypatch, tmp_path):
    pytest.importorskip("streamlit")
    from ui import web

    assert search_pool.processes_for(0) == search_pool.cores()
    assert search_pool.processes_for(3) == 3
    monkeypatch.setenv("SANAD_SEARCH_PROCESSES", "1")
    assert web._searched_apart(index, tmp_path) is index
    monkeypatch.setenv("SANAD_SEARCH_PROCESSES", "2")
    pooled = web._searched_apart(index, tmp_path)
    assert isinstance(pooled, search_pool.PooledIndex) and pooled._search_pool is search_pool.shared(2)
    assert _results(pooled.search("oil contract", limit=5)) == _results(index.search("oil contract", limit=5))
    search_pool.shared(2).close()
