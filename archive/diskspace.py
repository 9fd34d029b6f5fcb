"""Free space on the archive's disk: recognising "disk full" in its many disguises, and the floor
below which `sanad ingest` will not start."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

from archive.errors import DiskFull

MIN_FREE_ENV = "SANAD_MIN_FREE_MB"  # the min_free_mb setting's variable, named in messages

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def is_disk_full(exc: BaseException) -> bool:
    """True for an out-of-space error from the OS or SQLite, or one that was caused by one
    (libraries often wrap the OSError)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DiskFull):
            return True
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.Error) and (
                getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
                or "database or disk is full" in str(exc)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full(where: Path | str, exc: BaseException | None = None) -> DiskFull:
    detail = f" ({exc})" if exc is not None and not isinstance(exc, DiskFull) else ""
    return DiskFull(f"the disk that holds {where} is full{detail}")


def check_floor(root: Path, floor_mb: float) -> None:
    """Refuse to start a batch on a disk that is already (nearly) full: a batch that runs out
    of space midway has to stop anyway, and SQLite and the index work best with room left."""
    if floor_mb <= 0:
        return
    free = shutil.disk_usage(root).free
    if free < floor_mb * (1 << 20):
        raise DiskFull(f"only {free / (1 << 20):.0f} MB free on the disk that holds {root}; `sanad ingest`"
                       f" needs at least {floor_mb:g} MB (set with --min-free MB or ${MIN_FREE_ENV})")
