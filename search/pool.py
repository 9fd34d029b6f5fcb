"""Searches run in a few processes of their own, each with the index open, for a server that
searches on behalf of many people at once (the web workbench).

A search is some 35 ms of Python (Whoosh's matchers, the ranking, the snippets) at 20,000 pages,
and Python runs one thread at a time in a process: the workbench runs every session's script in
a thread of one server, so eight people searching at once shared one core between them, and
each waited for the other seven (bench/concurrency.py: 8 clients reached the throughput of one,
at 8x its p95). Here the searches go to ``processes`` worker processes (one per core by
default, the `search_processes` setting), each holding the index open as SearchIndex does
(search.searchers) and sending back the SearchResults, a plain value. Queued searches are
taken first come, first served, so each waits its turn instead of every search slowing down.

A worker opens SearchIndex(path) without the catalog: when it finds the index damaged, missing or
out of date, the search is run again in the caller's own SearchIndex, which rebuilds it or says
what to do, as without a pool. A worker that dies takes only its search with it: that one runs in
the caller and the next starts new workers. Workers are started with "spawn" (the server has
threads; a forked copy of a threaded process may hold a lock no thread will release) and die
with the process that started them.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from archive.errors import IndexDamaged, IntegrityError

WATCH_SECONDS = 1.0  # how often a worker looks for its parent


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def processes_for(setting: int) -> int:
    """Search processes for the `search_processes` setting: 0 means one per core; 1 means none
    beside the caller (its searches run in its own threads)."""
    return cores() if setting == 0 else setting


class SearchPool:
    """``processes`` search processes, started at the first search. With ``own_sessions`` each
    worker leads a session of its own: Linux's scheduler (autogroup) shares the CPU between
    sessions first, so workers left in the server's session would share its one share between
    them (and with the server) whenever another session is busy, such as the `sanad ingest` an
    upload starts in a session of its own."""

    def __init__(self, processes: int, *, own_sessions: bool = True):
        self.processes = max(1, processes)
        self.own_sessions = own_sessions
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=_start_worker,
                                                     initargs=(os.getpid(), self.own_sessions))
            return self._executor

    def start(self) -> None:
        """Start every worker and have it load the search code now, not at the first searches."""
        pool = self._pool()
        for done in [pool.submit(_ready) for _ in range(self.processes * 2)]:
            done.result()

    def search(self, index, text: str, **options):
        """``index.search(text, **options)`` (index: a search.index.SearchIndex) run in a worker."""
        pool = self._pool()
        try:
            return pool.submit(_search, str(index.path), text, options).result()
        except (IndexDamaged, IntegrityError):  # the caller's index rebuilds it, or says why not
            return index.search(text, **options)
        except BrokenProcessPool:  # a worker died (killed, out of memory): new ones next time
            with self._lock:
                if self._executor is pool:
                    self._executor = None
            pool.shutdown(wait=False, cancel_futures=True)
            return index.search(text, **options)

    def close(self) -> None:
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


class PooledIndex:
    """A SearchIndex whose searches run in a SearchPool; everything else is the index's own."""

    def __init__(self, index, pool: SearchPool):
        self._index = index
        self._search_pool = pool

    def search(self, text: str, **options):
        return self._search_pool.search(self._index, text, **options)

    def __getattr__(self, name: str):
        return getattr(self._index, name)


_SHARED: dict[int, SearchPool] = {}
_SHARED_LOCK = threading.Lock()


def shared(processes: int) -> SearchPool:
    """The process's one pool of ``processes`` workers (the web server's sessions share it)."""
    with _SHARED_LOCK:
        pool = _SHARED.get(processes)
        if pool is None:
            pool = _SHARED[processes] = SearchPool(processes)
        return pool


# -- in a worker --------------------------------------------------------------------------------

_INDEXES: dict = {}  # path -> SearchIndex, in a worker


def _start_worker(parent: int, own_session: bool) -> None:
    if own_session:
        os.setsid()
    # A worker whose parent is gone has no one to answer. Not PR_SET_PDEATHSIG: it fires when the
    # thread that started the worker ends, and workers are started by whichever thread searched
    # first (in the web server, a session's script run, which ends at once).
    threading.Thread(target=_watch_parent, args=(parent,), name="sanad-watch-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    os._exit(0)


def _ready() -> int:
    import search.index  # noqa: F401 - loads Whoosh, the analysis and the glossary now

    return os.getpid()


def _search(path: str, text: str, options: dict):
    from search.index import SearchIndex

    index = _INDEXES.get(path)
    if index is None:
        index = _INDEXES[path] = SearchIndex(path)
    return index.search(text, **options)
