"""Whoosh's posting lists and field lengths of one segment, read as numpy arrays.

Whoosh hands out postings one at a time through Python method calls, which is what made scoring
every matching page slow at 100,000 pages (search.ranking). Its W3 codec stores them in blocks of
up to 128 pickled, compressed arrays; this module unpickles whole blocks and turns them into
arrays, and reads a field's length bytes in one piece. That needs Whoosh's private block and
column attributes, so it is all here, each with a slow path through the public API that gives the
same arrays when those attributes are not there (another codec, another Whoosh version);
tests/test_ranking.py checks both against Whoosh's own scores.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec import whoosh3
from whoosh.matching import FilterMatcher
from whoosh.util.numeric import byte_to_length

# Field length of each length byte (Whoosh stores lengths as one logarithmic byte per page).
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_LENGTHS_CACHE: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_LENGTHS_LOCK = threading.Lock()
_LENGTHS_CACHED = 64  # (segment, field) pairs; a segment's lengths never change once written


def field_lengths(reader, field_name: str) -> np.ndarray:
    """Length in words of ``field_name`` on every page of the segment (as Whoosh's scoring sees it)."""
    key = (reader.segment().segment_id(), field_name)
    with _LENGTHS_LOCK:  # the web app searches from several threads
        cached = _LENGTHS_CACHE.get(key)
        if cached is not None and len(cached) == reader.doc_count_all():
            _LENGTHS_CACHE.move_to_end(key)
            return cached
    lengths = _lengths_fast(reader, field_name)
    if lengths is None:
        lengths = np.array([reader.doc_field_length(d, field_name, 0) or 0
                            for d in range(reader.doc_count_all())], dtype=np.float64)
    with _LENGTHS_LOCK:
        _LENGTHS_CACHE[key] = lengths
        while len(_LENGTHS_CACHE) > _LENGTHS_CACHED:
            _LENGTHS_CACHE.popitem(last=False)
    return lengths


def _lengths_fast(reader, field_name: str) -> np.ndarray | None:
    count = reader.doc_count_all()
    try:
        column = reader._perdoc._cached_reader(whoosh3._lenfield(field_name), whoosh3.LENGTHS_COLUMN)
        if column is None:
            return np.zeros(count, dtype=np.float64)
        stored = min(column._count, count)
        raw = column._dbfile.get(column._basepos, stored) if stored else b""
    except (AttributeError, TypeError):
        return None
    codes = np.zeros(count, dtype=np.uint8)  # pages past the stored bytes have the default, 0
    codes[:stored] = np.frombuffer(raw, dtype=np.uint8)
    return _LENGTH_OF_BYTE[codes]


@dataclass
class Postings:
    """A term's postings in one segment, deleted pages left out."""
    ids: np.ndarray  # page numbers, ascending
    weights: np.ndarray  # the term's frequency on each page (times the field's boost, if any)
    values: list[bytes] | None = None  # each posting's encoded positions, when asked for

    def positions(self, format_, i: int) -> list[int]:
        return format_.decode_as("positions", self.values[i])


def term_postings(reader, field_name: str, btext: bytes, values: bool = False) -> Postings:
    """The postings of a term in the segment; with ``values``, also the encoded word positions
    (Whoosh unpickles them with the rest of each block, so they cost little more)."""
    if (field_name, btext) not in reader:
        return Postings(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), [] if values else None)
    matcher = reader.postings(field_name, btext)
    deleted = None
    if isinstance(matcher, FilterMatcher) and getattr(matcher, "_exclude", False):
        deleted, matcher = matcher._ids, matcher.child
    found = _blocks_fast(matcher, values)
    if found is None:
        found = _postings_slow(matcher, values)
    if deleted:
        keep = ~np.isin(found.ids, np.fromiter(deleted, dtype=np.int64))
        kept = [v for v, k in zip(found.values, keep.tolist()) if k] if found.values is not None else None
        found = Postings(found.ids[keep], found.weights[keep], kept)
    return found


def _blocks_fast(matcher, values: bool) -> Postings | None:
    if type(matcher) is not whoosh3.W3LeafMatcher:
        return None
    id_parts, weight_parts, value_list = [], [], []
    try:
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            ids, weights = matcher._data[0], matcher._data[1]
            count = matcher._blocklength
            # ids are stored as deltas from the block's start at 0 unless they fit in bytes
            ids = np.asarray(ids, dtype=np.int64)
            id_parts.append(ids if matcher._byteids else np.cumsum(ids))
            if weights is None:
                weight_parts.append(np.ones(count, dtype=np.float64))
            elif isinstance(weights, float):
                weight_parts.append(np.full(count, weights, dtype=np.float64))
            else:
                weight_parts.append(np.asarray(weights, dtype=np.float64))
            if values:
                matcher._read_values()
                value_list.extend(matcher._values)
            matcher._next_block()
    except AttributeError:
        return None
    if not id_parts:
        return Postings(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64), value_list if values else None)
    return Postings(np.concatenate(id_parts), np.concatenate(weight_parts), value_list if values else None)


def _postings_slow(matcher, values: bool) -> Postings:
    ids, weights, value_list = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        if values:
            value_list.append(matcher.value())
        matcher.next()
    return Postings(np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64),
                    value_list if values else None)
