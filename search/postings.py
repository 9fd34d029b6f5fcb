"""Whoosh's posting lists and field lengths of one segment, read as numpy arrays.

Whoosh hands out postings one at a time through Python method calls, which is what made scoring
every matching page slow at 100,000 pages (search.ranking). Its W3 codec stores them in blocks of
up to 128 pickled, compressed arrays; this module unpickles whole blocks and turns them into
arrays, and reads a field's length bytes in one piece. The bytes come from Whoosh's private block
and column attributes through search.engine; each read has a slow path through the public API
that gives the same arrays when those attributes are not there (another codec, another Whoosh
version), counted in engine.FAST_PATHS; tests/test_ranking.py checks both against Whoosh's own
scores and tests/test_engine.py that the slow ones are not taken.
"""

from __future__ import annotations

import bisect
import copy
import io
import itertools
import pickle
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from search import caches, engine
from search.engine import FAST_PATHS, INT_SIZE, TermNotFound, byte_to_length, unpack_int

# Field length of each length byte (Whoosh stores lengths as one logarithmic byte per page).
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def per_segment(reader, what, compute) -> np.ndarray:
    """``compute()``, an array with a value per page of the segment, kept under ``what``: a segment
    never changes once written (``what`` must name anything else it depends on, such as its
    number of deletions)."""
    return caches.segment_array((reader.segment().segment_id(), what), reader.doc_count_all(), compute)


def field_lengths(reader, field_name: str) -> np.ndarray:
    """Length in words of ``field_name`` on every page of the segment (as Whoosh's scoring sees it)."""
    def compute():
        lengths = _lengths_fast(reader, field_name)
        if lengths is None:
            FAST_PATHS.fell_back("lengths", f"the length column of {field_name!r}")
            lengths = np.array([reader.doc_field_length(d, field_name, 0) or 0
                                for d in range(reader.doc_count_all())], dtype=np.float64)
        return lengths
    return per_segment(reader, ("lengths", field_name), compute)


def _lengths_fast(reader, field_name: str) -> np.ndarray | None:
    count = reader.doc_count_all()
    raw = engine.length_bytes(reader, field_name)
    if raw is None:
        return None
    FAST_PATHS.took("lengths")
    codes = np.zeros(count, dtype=np.uint8)  # pages past the stored bytes have the default, 0
    codes[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return _LENGTH_OF_BYTE[codes]


def numeric_column(reader, field_name: str) -> np.ndarray:
    """The values of a sortable numeric field's column on every page of the segment (a DATETIME's
    as Whoosh's integer ticks), the column's default where a page has none."""
    def compute():
        column = reader.column_reader(field_name, translate=False)
        values = _column_fast(column, reader.doc_count_all(), reader.schema[field_name].column_type)
        if values is None:
            FAST_PATHS.fell_back("column", f"the column of {field_name!r}")
            return np.array(list(column))
        FAST_PATHS.took("column")
        return values
    return per_segment(reader, ("column", field_name), compute)


def _column_fast(column, count: int, column_type) -> np.ndarray | None:
    found = engine.numeric_column_bytes(column, count, column_type)
    if found is None:
        return None
    raw, typecode, default = found
    stored = len(raw) // np.dtype(typecode).itemsize
    dtype = np.dtype(typecode).newbyteorder(">")  # packed with struct's "!"
    values = np.full(count, default, dtype=dtype.newbyteorder("="))
    values[:stored] = np.frombuffer(raw, dtype=dtype)
    return values


@dataclass
class Postings:
    """A term's postings in one segment, deleted pages left out."""
    ids: np.ndarray  # page numbers, ascending
    weights: np.ndarray  # the term's frequency on each page (times the field's boost, if any)
    values: Sequence[bytes] | None = None  # each posting's encoded positions, when asked for


def term_info(reader, field_name: str, btext: bytes):
    """The term's entry in the segment's term index, None when the segment does not have the term.
    A lookup is several small file reads (Whoosh's scorer and postings reader would each look the
    term up again): look a term up once and pass the entry on."""
    try:
        return reader.term_info(field_name, btext)
    except TermNotFound:
        return None


KEPT_FROM_PAGES = 2_000  # a posting list this long or longer is kept decoded (search.caches)


def term_postings(reader, field_name: str, btext: bytes, info, values: bool = False) -> Postings:
    """The postings of a term in the segment, given its entry ``info`` from ``term_info``; with
    ``values``, also the encoded word positions (unpickled a block at a time, when first asked for).
    Without them, a word on many pages is decoded once and kept (read-only arrays)."""
    if values or info.doc_frequency() < KEPT_FROM_PAGES:
        return _term_postings(reader, field_name, btext, info, values)
    segment = reader.segment()

    def compute() -> Postings:
        found = _term_postings(reader, field_name, btext, info, False)
        found.ids.flags.writeable = False  # shared by every search that reads the word
        found.weights.flags.writeable = False
        return found
    return caches.postings((segment.segment_id(), segment.deleted_count(), field_name, btext), compute,
                           lambda p: p.ids.nbytes + p.weights.nbytes)


def _term_postings(reader, field_name: str, btext: bytes, info, values: bool) -> Postings:
    found = _inlined(info, values)
    if found is None:
        found = _blocks_fast(reader, info, reader.schema[field_name].format, values)
    if found is None:
        FAST_PATHS.fell_back("postings", f"the posting list of {field_name}:{btext!r}")
        found = _postings_slow(reader.postings(field_name, btext), values)
    else:
        FAST_PATHS.took("postings")
    deleted = _deleted(reader)
    if deleted:
        keep = np.flatnonzero(~np.isin(found.ids, np.fromiter(deleted, dtype=np.int64)))
        kept = _subset(found.values, keep) if found.values is not None else None
        found = Postings(found.ids[keep], found.weights[keep], kept)
    return found


def _deleted(reader) -> frozenset:
    if not reader.has_deletions():
        return frozenset()
    found = engine.deleted_pages(reader)
    if found is None:
        return frozenset(d for d in range(reader.doc_count_all()) if reader.is_deleted(d))
    return found


def _inlined(info, values: bool) -> Postings | None:
    """The postings of a rare term, which Whoosh keeps in the term's entry itself."""
    found = engine.inlined_postings(info)
    if found is None:
        return None
    ids, weights, stored = found
    return Postings(np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64),
                    list(stored) if values else None)


def _subset(values: Sequence[bytes], keep: np.ndarray) -> Sequence[bytes]:
    if isinstance(values, _BlockValues):
        return values.subset(keep)
    return [values[i] for i in keep.tolist()]


class _BlockValues:
    """The values of a posting list read by ``_blocks_fast``, taken out of a block's pickle when
    one of them is first asked for: a phrase check needs the positions of a few pages only."""

    def __init__(self, blocks: list[tuple[bytes, bool]], counts: list[int], fixedsize: int | None):
        self._blocks = blocks  # each block's pickle, and whether it is compressed
        self._counts = counts
        self._starts = np.cumsum([0] + counts[:-1]).tolist()  # index of each block's first posting
        self._fixedsize = fixedsize
        self._opened: dict[int, Sequence[bytes]] = {}
        self._index: list[int] | None = None  # after ``subset``: the kept postings' indexes

    def subset(self, keep: np.ndarray) -> _BlockValues:
        kept = copy.copy(self)
        kept._index = [self._index[i] for i in keep.tolist()] if self._index else keep.tolist()
        return kept

    def __len__(self) -> int:
        return len(self._index) if self._index is not None else sum(self._counts)

    def __getitem__(self, i: int) -> bytes:
        if self._index is not None:
            i = self._index[i]
        block = bisect.bisect_right(self._starts, i) - 1
        values = self._opened.get(block)
        if values is None:
            values = self._opened[block] = self._open(block)
        return values[i - self._starts[block]]

    def _open(self, block: int) -> Sequence[bytes]:
        (data, compressed), count, size = self._blocks[block], self._counts[block], self._fixedsize
        if compressed:
            data = zlib.decompress(data)
        if size is None or size < 0:
            records = _ValueRecords.split(data, count)
            if records is not None:
                return records
        # de-minified as W3LeafMatcher._read_values does
        stored = pickle.loads(data)[2]
        if size is None or size < 0:
            return stored
        if size == 0:
            return (None,) * count
        return tuple(stored[j:j + size] for j in range(0, len(stored), size))


# How a block pickles its values (protocol 2): a tuple of calls codecs.encode(text, "latin1"),
# one per posting. The first spells out the callable and memoizes it; each later one starts by
# fetching it from the memo (BINGET), then the text as BINUNICODE: 4 bytes of length, UTF-8.
_ENCODE_CALL = b"c_codecs\nencode\n"
_BINPUT, _BINGET, _BINUNICODE = b"q", b"h", b"X"


class _ValueRecords:
    """A block's values, each decoded when asked for from its record in the pickle. Unpickling
    them all costs a codec lookup and several memo operations per posting, about 0.7 µs each;
    splitting the pickle at the record starts costs a few microseconds per block."""

    def __init__(self, records: list[bytes]):
        self._records = records  # each: the text's length, the text, the rest of the record

    @classmethod
    def split(cls, data: bytes, count: int) -> _ValueRecords | None:
        at = data.find(_ENCODE_CALL) + len(_ENCODE_CALL)
        memo = data[at:at + 2]  # BINPUT of the callable, then the first record's text
        if at < len(_ENCODE_CALL) or memo[:1] != _BINPUT or data[at + 2:at + 3] != _BINUNICODE:
            return None
        records = data[at + 3:].split(_BINGET + memo[1:] + _BINUNICODE)
        # the separator cannot occur inside a text (its bytes there are a position pickle's, in
        # UTF-8); if it did, there would be more records than postings
        return cls(records) if len(records) == count else None

    def __getitem__(self, j: int) -> bytes:
        record = self._records[j]
        size = int.from_bytes(record[:4], "little")
        return record[4:4 + size].decode("utf-8").encode("latin-1")


# Where a block's values start in its pickle: the first value's callable (codecs.encode, or bytes()
# when empty), preceded by the MARK of the tuple holding them.
_VALUES_OPENERS = (_ENCODE_CALL, b"c__builtin__\nbytes\n")
_MARK, _TUPLE2_STOP = b"(", b"\x86."


# Enough of a block's pickle for its ids and weights: up to 3 bytes an id (a difference from the
# last, under 65,536), 9 a weight, and the pickle's framing.
_HEAD_BYTES_PER_POSTING = 12
_HEAD_BYTES_FRAMING = 64


def _ids_and_weights(data: bytes, compressed: bool, count: int):
    """The ids and weights of a block's pickled (ids, weights, values). The values, word positions,
    are most of a block: only the head of the pickle, before them, is decompressed and unpickled
    when it has the expected shape (the result is checked), else the whole."""
    if not compressed:
        return _head_ids_and_weights(data, count) or pickle.loads(data)[:2]
    stream = zlib.decompressobj()
    head = stream.decompress(data, count * _HEAD_BYTES_PER_POSTING + _HEAD_BYTES_FRAMING)
    found = _head_ids_and_weights(head, count)
    if found is not None:
        return found
    whole = head + stream.decompress(stream.unconsumed_tail) + stream.flush()
    return _head_ids_and_weights(whole, count) or pickle.loads(whole)[:2]


def _head_ids_and_weights(data: bytes, count: int) -> tuple | None:
    cut = min((k for k in (data.find(m) for m in _VALUES_OPENERS) if k > 0), default=-1)
    if cut < 0:
        return None
    if data[cut - 1:cut] == _MARK:
        cut -= 1
    try:
        ids, weights = pickle.loads(data[:cut] + _TUPLE2_STOP)
    except Exception:  # not the expected shape after all
        return None
    if len(ids) == count and (weights is None or isinstance(weights, float) or len(weights) == count):
        return ids, weights
    return None


def _blocks_fast(reader, info, format_, values: bool) -> Postings | None:
    """The posting list read in one piece and split into its blocks here (W3 format: a magic
    tag, then per block a signed length, negative for the last, a pickled header and the
    compressed pickle of its ids, weights and values)."""
    raw = engine.posting_list_bytes(reader, info)
    if raw is None:
        return None
    fixedsize = format_.fixed_value_size()
    stream = io.BytesIO(raw)
    all_ids, all_weights, blocks, counts = [], [], [], []
    pos, last = 4, False
    while not last:
        if pos + INT_SIZE > len(raw):
            return None
        size = unpack_int(raw[pos:pos + INT_SIZE])[0]
        last, size = size < 0, abs(size)
        end = pos + INT_SIZE + size
        stream.seek(pos + INT_SIZE)
        count, _, _, compression, _, _ = pickle.load(stream)
        data = raw[stream.tell():end]
        ids, weights = _ids_and_weights(data, bool(compression), count)
        if len(ids) != count:
            return None
        all_ids.append(ids)
        if weights is None or isinstance(weights, float):  # all 1.0, or all the same
            weights = itertools.repeat(1.0 if weights is None else weights, count)
        elif len(weights) != count:
            return None
        all_weights.append(weights)
        blocks.append((data, bool(compression)))
        counts.append(count)
        pos = end
    if pos != len(raw):
        return None
    total = sum(counts)
    ids = np.fromiter(itertools.chain.from_iterable(all_ids), dtype=np.int64, count=total)
    # stored as differences, each block's counted from 0
    sums = np.cumsum(ids)
    before = np.concatenate(([0], sums[np.cumsum(counts)[:-1] - 1]))
    ids = sums - np.repeat(before, counts)
    weights = np.fromiter(itertools.chain.from_iterable(all_weights), dtype=np.float64, count=total)
    return Postings(ids, weights,
                    _BlockValues(blocks, counts, fixedsize) if values else None)


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


def every_posting(reader, field_name: str, btext: bytes, info) -> Postings:
    """All of a term's postings in the segment, deleted pages included, with their encoded values
    (for checking the index: search.integrity)."""
    found = _inlined(info, True)
    if found is None:
        found = _blocks_fast(reader, info, reader.schema[field_name].format, True)
    if found is None:
        found = _postings_slow(engine.raw_matcher(reader, field_name, btext), True)
    return found
