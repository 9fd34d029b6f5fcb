"""Which documents this process is ingesting, so that a second `sanad ingest` of the same files
at the same time (two terminals, two web uploads) waits for the first instead of racing it.

A claim is a POSIX record lock on one byte of ``ROOT/ingest.lock``, at an offset taken from the
document's SHA-256. The kernel drops a process's locks when it dies, SIGKILL included, so a
claim never outlives its process and there is nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = "ingest.lock"


def _offset(doc_id: str) -> int:
    return int(doc_id[:15], 16)  # 60 bits: distinct documents never share a byte in practice


class Claims:
    def __init__(self, root: Path):
        self._path = Path(root) / LOCK_NAME
        self._fd: int | None = None
        self._held: set[str] = set()

    def _file(self) -> int:
        if self._fd is None:
            # Opened once and kept: closing any descriptor of the file would drop every claim.
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        return self._fd

    def claim(self, doc_id: str) -> bool:
        """Claim a document; False when another process holds it."""
        if doc_id in self._held:
            return True
        try:
            fcntl.lockf(self._file(), fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _offset(doc_id))
        except (BlockingIOError, PermissionError):
            return False
        self._held.add(doc_id)
        return True

    def wait(self, doc_id: str) -> None:
        """Block until no other process holds the document (it finished, or it died)."""
        if doc_id in self._held:
            return
        fcntl.lockf(self._file(), fcntl.LOCK_EX, 1, _offset(doc_id))
        fcntl.lockf(self._file(), fcntl.LOCK_UN, 1, _offset(doc_id))

    def release(self, doc_id: str) -> None:
        if doc_id in self._held:
            self._held.discard(doc_id)
            fcntl.lockf(self._file(), fcntl.LOCK_UN, 1, _offset(doc_id))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # drops every claim still held
            self._fd = None
            self._held.clear()
