"""The search's caches, all of them, owned here: what each keeps, for how long, and the one
``clear``. Each is kept because recomputing it costs a search far more than finding it:

- per segment (a segment never changes once written): arrays with a value per page (field
  lengths, dates, a filter's pages; search.postings.per_segment), at most SEGMENT_ARRAYS_KEPT;
- per index version (its segments and their live pages): the page and occurrence counts of the
  words feedback weighs (search.feedback), at most TEXT_STATS_KEPT words, dropped when the
  index changes;
- per segment and term: the decoded postings of words on many pages (search.postings), at most
  POSTINGS_BYTES_KEPT bytes: feedback adds the same common words to search after search, and
  decoding their posting lists is most of what a search with feedback costs;
- per index folder and generation: the name keys of the index's words (search.searching), for
  at most NAME_KEYS_KEPT folders.

Opened searchers are search.searchers'. Nothing here changes anything outside these caches.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

SEGMENT_ARRAYS_KEPT = 256  # (segment, what) pairs
TEXT_STATS_KEPT = 500_000  # words
NAME_KEYS_KEPT = 4  # index folders (an archive has one; tests and benchmarks open several)
POSTINGS_BYTES_KEPT = 64 << 20  # decoded posting lists (ids and weights), in bytes

_LOCK = threading.Lock()  # the web app searches from several threads
_SEGMENT_ARRAYS: OrderedDict[tuple, Any] = OrderedDict()
_TEXT_STATS: dict = {}
_NAME_KEYS: OrderedDict[str, tuple] = OrderedDict()
_POSTINGS: OrderedDict[tuple, Any] = OrderedDict()
_POSTINGS_BYTES = [0]


def segment_array(key: tuple, size: int, compute: Callable[[], Any]):
    """The array kept under ``key`` (a segment's id first) if it still has ``size`` values,
    else ``compute()``, kept."""
    with _LOCK:
        cached = _SEGMENT_ARRAYS.get(key)
        if cached is not None and len(cached) == size:
            _SEGMENT_ARRAYS.move_to_end(key)
            return cached
    values = compute()
    with _LOCK:
        _SEGMENT_ARRAYS[key] = values
        while len(_SEGMENT_ARRAYS) > SEGMENT_ARRAYS_KEPT:
            _SEGMENT_ARRAYS.popitem(last=False)
    return values


def text_stats(version: tuple, word: str, compute: Callable[[], tuple[int, float]]) -> tuple[int, float]:
    """The counts of ``word`` in the index ``version``, computed once while it stays current."""
    with _LOCK:
        if _TEXT_STATS.get("key") != version:
            _TEXT_STATS.clear()
            _TEXT_STATS["key"] = version
        stats = _TEXT_STATS.get(word)
    if stats is None:
        stats = compute()
        with _LOCK:
            if _TEXT_STATS.get("key") == version and len(_TEXT_STATS) < TEXT_STATS_KEPT:
                _TEXT_STATS[word] = stats
    return stats


def postings(key: tuple, compute: Callable[[], Any], size: Callable[[Any], int]):
    """The postings kept under ``key`` (a segment's id first, then what dates its deletions and the
    term), else ``compute()``, kept unless larger than a sixteenth of POSTINGS_BYTES_KEPT."""
    with _LOCK:
        cached = _POSTINGS.get(key)
        if cached is not None:
            _POSTINGS.move_to_end(key)
            return cached[0]
    value = compute()
    nbytes = size(value)
    if nbytes <= POSTINGS_BYTES_KEPT // 16:
        with _LOCK:
            if key not in _POSTINGS:
                _POSTINGS[key] = (value, nbytes)
                _POSTINGS_BYTES[0] += nbytes
            while _POSTINGS_BYTES[0] > POSTINGS_BYTES_KEPT:
                _, (_, dropped) = _POSTINGS.popitem(last=False)
                _POSTINGS_BYTES[0] -= dropped
    return value


def name_keys(folder: str, generation: int, compute: Callable[[], Any]):
    """The name keys of the index in ``folder`` at ``generation``, computed once per generation."""
    with _LOCK:
        cached = _NAME_KEYS.get(folder)
        if cached is not None and cached[0] == generation:
            _NAME_KEYS.move_to_end(folder)
            return cached[1]
    keys = compute()
    with _LOCK:
        _NAME_KEYS[folder] = (generation, keys)
        _NAME_KEYS.move_to_end(folder)
        while len(_NAME_KEYS) > NAME_KEYS_KEPT:
            _NAME_KEYS.popitem(last=False)
    return keys


def clear() -> None:
    """Forget everything kept (tests that break a fast path on purpose)."""
    with _LOCK:
        _SEGMENT_ARRAYS.clear()
        _TEXT_STATS.clear()
        _NAME_KEYS.clear()
        _POSTINGS.clear()
        _POSTINGS_BYTES[0] = 0
