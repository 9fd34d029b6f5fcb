"""How Sanad reads a Whoosh index's files: Whoosh's plain file reads, with reads at a given place
answered from a memory map.

Whoosh has two ways to read a segment. Through its memory map, every file of a compound segment
is copied whole into memory each time a searcher opens (its BufferFile wraps the map in a
BytesIO): 0.83 s and 2 GB per search at 100,000 pages. Through plain reads, each ``get`` (read
``length`` bytes at ``position``) is a seek and a read through three layers of Python file
objects; a term lookup takes four or five of them, about 37 microseconds, and a search looks up
hundreds of terms in each segment. Here files are read as Whoosh reads them without the map, but
``get`` slices a map of the file that is shared, never copied: a lookup takes a few microseconds.
"""

from __future__ import annotations

import mmap
import os

from whoosh.filedb.compound import SubFile
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


def open_storage(path) -> FileStorage:
    """The index folder ``path``, for Whoosh's ``open_index``."""
    return MappedStorage(str(path), supports_mmap=False)


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
