"""Whoosh, the engine under Sanad's index: the one module that imports it.

Everything else in Sanad reaches Whoosh through the names given here (tests/test_layers.py fails
on any other import of whoosh), so what Sanad depends on is listed in one place:

- Whoosh's public API, as namespaces (``Q`` for its queries, ``fields``, ``scoring``, ...);
- the readers of Whoosh's private on-disk formats and attributes (whoosh-reloaded 2.7.5, pinned
  in pyproject.toml): a length column's bytes, a numeric column's bytes, a posting list's bytes,
  a segment's term index, a compound file's directory, and the memory-mapped file reads.

Each private reader is a fast path with a slow one through the public API beside it (in
search.postings and search.ranking), which gives the same results only much slower. A fast
path that stops being taken (a Whoosh upgrade renamed an attribute) would go unnoticed but for
``FAST_PATHS``: every fallback is counted and warned about once, and
tests/test_engine.py fails when a search on a real index falls back anywhere.
"""

from __future__ import annotations

import mmap
import os
import warnings
from collections import Counter

import whoosh
from whoosh import analysis, columns, fields, index, matching, scoring  # noqa: F401 - the API given out
from whoosh import query as Q  # noqa: F401
from whoosh.codec import whoosh3
from whoosh.filedb.compound import CompoundStorage, SubFile
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import EmptyIndexError, LockError  # noqa: F401
from whoosh.lang.porter import stem as porter_stem  # noqa: F401
from whoosh.query.wrappers import WrappingQuery  # noqa: F401
from whoosh.reading import SegmentReader, TermNotFound  # noqa: F401
from whoosh.system import _INT_SIZE as INT_SIZE  # noqa: F401
from whoosh.system import unpack_int  # noqa: F401
from whoosh.util.numeric import byte_to_length, length_to_byte  # noqa: F401

PINNED = "2.7.5"  # the version whose private formats the fast paths read
W3_MAGIC = whoosh3.WHOOSH3_HEADER_MAGIC
W3TermInfo = whoosh3.W3TermInfo


def version() -> str:
    return whoosh.versionstring()


# -- fast paths ------------------------------------------------------------------------------

class FastPaths:
    """How often each fast reader was used (``taken``) and how often it had to fall back to
    Whoosh's public API (``missed``). A fallback is correct but slow (at 100,000 pages, seconds
    instead of milliseconds), so the first of each kind is warned about."""

    NAMES = ("lengths", "column", "postings", "scoring")

    def __init__(self):
        self.taken: Counter = Counter()
        self.missed: Counter = Counter()

    def took(self, name: str) -> None:
        self.taken[name] += 1

    def fell_back(self, name: str, why: str) -> None:
        self.missed[name] += 1
        if self.missed[name] == 1:
            warnings.warn(f"search: the fast path {name!r} fell back to Whoosh's public API ({why});"
                          f" searches are correct but slow. Is whoosh-reloaded still {PINNED}?",
                          RuntimeWarning, stacklevel=3)

    def reset(self) -> None:
        self.taken.clear()
        self.missed.clear()


FAST_PATHS = FastPaths()


# -- private readers -------------------------------------------------------------------------

def length_bytes(reader, field_name: str) -> bytes | None:
    """The segment's length column of ``field_name`` as stored, one byte per page from the first
    (b"" when the field has no lengths); None when it cannot be read that way."""
    try:
        column = reader._perdoc._cached_reader(whoosh3._lenfield(field_name), whoosh3.LENGTHS_COLUMN)
        if column is None:
            return b""
        stored = min(column._count, reader.doc_count_all())
        return column._dbfile.get(column._basepos, stored) if stored else b""
    except (AttributeError, TypeError):
        return None


def numeric_column_bytes(column, count: int, column_type):
    """(the stored bytes, their big-endian dtype, the default) of a numeric column reader, the
    bytes of at most ``count`` pages; None when it is not a plain numeric column. A segment
    where no page has a value (``column_type`` says its dtype) has no bytes."""
    if type(column) is columns.EmptyColumnReader and isinstance(column_type, columns.NumericColumn):
        try:
            return b"", column_type._typecode, column._default
        except AttributeError:
            return None
    if type(column) is not columns.NumericColumn.Reader:
        return None
    try:
        stored = min(column._count, count)
        raw = column._dbfile.get(column._basepos, stored * column._fixedlen) if stored else b""
        return raw, column._typecode, column._default
    except (AttributeError, TypeError):
        return None


def posting_list_bytes(reader, info) -> bytes | None:
    """A term's posting list in the W3 format, read in one piece; None for another codec."""
    if type(info) is not W3TermInfo:
        return None
    try:
        start, length = info.extent()
        if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in unpack's tuple
            (length,) = length
        raw = reader._terms._postfile.get(start, length)
    except AttributeError:
        return None
    return raw if raw[:4] == W3_MAGIC else None


def inlined_postings(info):
    """(ids, weights, values) of a term whose postings its entry holds; None otherwise."""
    try:
        return info.inlined_postings() if info.is_inlined() else None
    except AttributeError:
        return None


def deleted_pages(reader) -> frozenset | None:
    """The segment's deleted page numbers; None when the reader does not keep them as a set."""
    try:
        return reader.deleted_docs_set
    except AttributeError:
        return None


def raw_matcher(reader, field_name: str, btext: bytes):
    """The segment's own postings matcher, which does not leave deleted pages out."""
    try:
        return reader._terms.matcher(field_name, btext, reader.schema[field_name].format)
    except AttributeError:
        return reader.postings(field_name, btext)


def field_terms(reader, field_name: str):
    """(term bytes, entry) of every term of the field, as the term index lists them (the reader's
    own listing converts its prefix, which fails for numeric fields)."""
    for (name, btext), info in reader._terms.items_from(field_name, b""):
        if name != field_name:
            return
        yield btext, info


def hashed_term_info(reader, field_name: str, btext: bytes):
    """The term's entry found through the term index's hash table."""
    return reader._terms.term_info(field_name, btext)


def segments(ix) -> list:
    return ix._segments()


def segment_reader(storage, schema, segment):
    return SegmentReader(storage, schema, segment)


def compound_parts(reader) -> tuple[int, dict] | None:
    """(where the directory starts, {part: {"offset", "length"}}) of a compound segment's file."""
    storage = reader.storage()
    if not isinstance(storage, CompoundStorage):
        return None
    return storage._diroffset, getattr(storage, "_dir", {})


def segment_field_total(segment, field_name: str):
    """The number of words of the field that the table of contents records for the segment."""
    return getattr(segment, "_fieldlengths", {}).get(field_name)


# -- file reads --------------------------------------------------------------------------------
# Whoosh has two ways to read a segment. Through its memory map, every file of a compound segment
# is copied whole into memory each time a searcher opens (its BufferFile wraps the map in a
# BytesIO): 0.83 s and 2 GB per search at 100,000 pages. Through plain reads, each ``get`` (read
# ``length`` bytes at ``position``) is a seek and a read through three layers of Python file
# objects; a term lookup takes four or five of them, about 37 microseconds, and a search looks up
# hundreds of terms in each segment. Here files are read as Whoosh reads them without the map, but
# ``get`` slices a map of the file that is shared, never copied: a lookup takes a few microseconds.

def open_storage(path) -> FileStorage:
    """The index folder ``path``, for Whoosh's ``open_index``."""
    return MappedStorage(str(path), supports_mmap=False)


def open_index(path):
    """The Whoosh index in ``path``, its files read through ``open_storage``."""
    return open_storage(path).open_index()


class MappedStorage(FileStorage):
    """A folder of index files opened as ``MappedFile``s."""

    def open_file(self, name, **kwargs):
        handle = open(self._fpath(name), "rb")
        return MappedFile(handle, name=name, view=_view(handle), **kwargs)


class MappedFile(StructFile):
    """A StructFile whose ``get`` slices a map of the file (``view``) instead of seeking and
    reading; its parts (a compound segment's files) are MappedFiles on slices of the same map."""

    def __init__(self, fileobj, name=None, onclose=None, view: memoryview | None = None):
        super().__init__(fileobj, name=name, onclose=onclose)
        self._view = view

    def get(self, position, length):
        if self._view is None:
            return super().get(position, length)
        return self._view[position:position + length].tobytes()

    def subset(self, offset, length, name=None):
        view = self._view[offset:offset + length] if self._view is not None else None
        return MappedFile(SubFile(self.file, offset, length), name=name or self._name, view=view)


def _view(handle) -> memoryview | None:
    try:
        if os.fstat(handle.fileno()).st_size == 0:  # nothing to map (a lock file)
            return None
        return memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    except (OSError, ValueError, AttributeError):
        return None
