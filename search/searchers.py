"""Opened Whoosh searchers, kept between searches and lent to one search at a time.

Opening a searcher reads the table of contents (the pickled schema with its analyzers), opens
every segment's compound file, maps it and reads its directories: about 5 ms of a 37 ms search
at 20,000 pages, and the new maps have to be faulted into memory page by page again as the
search reads them. So searchers are kept per index and lent out: a search takes an idle one or
opens one, and gives it back. A searcher is used by one search at a time (Whoosh's
are not made for sharing); searches in several threads each get their own. When the index
changes (a commit, a rebuild) the kept ones are closed and new ones opened.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from archive.errors import SanadError

IDLE_KEPT = 8  # idle searchers kept per index (the web app's concurrent searches)


class _Pool:
    def __init__(self, version: tuple, ix):
        self.version = version
        self.ix = ix
        self.idle: list = []


_LOCK = threading.Lock()
_POOLS: dict[str, _Pool] = {}


def version(path: Path) -> tuple:
    """What changes whenever the index in ``path`` does: the folder (a rebuild swaps in a new
    one) and its newest table of contents (a commit writes the next)."""
    folder = os.stat(path)
    tocs = [name for name in os.listdir(path) if name.startswith("_MAIN_") and name.endswith(".toc")]
    if not tocs:
        return (folder.st_ino, None)
    latest = max(tocs, key=lambda name: (len(name), name))
    toc = os.stat(os.path.join(path, latest))
    return (folder.st_ino, folder.st_dev, latest, toc.st_mtime_ns, toc.st_size)


@contextmanager
def lend(path: Path, open_index, weighting):
    """(index, searcher) of the index in ``path`` as it is now, for one search: ``open_index()``
    opens the index when none of the kept ones is current; the searcher scores with
    ``weighting`` (made per search: the benchmark's tuning changes its settings between them).
    A searcher whose search failed is closed, not kept."""
    key = str(path)
    now = version(path)
    with _LOCK:
        pool = _POOLS.get(key)
        stale = None
        if pool is None or pool.version != now:
            stale = pool
            pool = None
        searcher = pool.idle.pop() if pool is not None and pool.idle else None
    if stale is not None:
        _close_all(stale)
    if pool is None:
        pool = _Pool(now, open_index())
        with _LOCK:
            current = _POOLS.get(key)
            if current is None or current.version != now:
                _POOLS[key] = pool
            else:
                pool = current
    if searcher is None:
        searcher = pool.ix.searcher(weighting=weighting)
    _set_weighting(searcher, weighting)
    try:
        yield pool.ix, searcher
    except SanadError:  # a query that cannot be understood: the searcher is sound
        _give_back(key, pool, searcher)
        raise
    except BaseException:
        _close(searcher)
        raise
    _give_back(key, pool, searcher)


def _give_back(key: str, pool: _Pool, searcher) -> None:
    with _LOCK:
        keep = _POOLS.get(key) is pool and len(pool.idle) < IDLE_KEPT
        if keep:
            pool.idle.append(searcher)
    if not keep:
        _close(searcher)


def forget(path: Path) -> None:
    """Close the searchers kept for ``path`` (before its index is replaced or removed)."""
    with _LOCK:
        pool = _POOLS.pop(str(path), None)
    if pool is not None:
        _close_all(pool)


def _set_weighting(searcher, weighting) -> None:
    searcher.weighting = weighting
    for sub, _ in searcher.leaf_searchers():
        sub.weighting = weighting


def _close_all(pool: _Pool) -> None:
    with _LOCK:
        idle, pool.idle = pool.idle, []
    for searcher in idle:
        _close(searcher)


def _close(searcher) -> None:
    try:
        searcher.close()
    except Exception:  # noqa: BLE001 - a searcher of a damaged or removed index; nothing to keep
        pass
