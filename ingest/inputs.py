"""What a `sanad ingest PATH...` call is asked to ingest: every path once, each file a regular
file, and a reason for every path that is not."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.store import special_kind

FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Entry:
    path: Path | None  # None when there is nothing to read
    name: str  # as reported: the path given, or ZIP/member for a file inside a ZIP
    problem: str | None = None  # why it is not ingested
    outcome: str = FAILED  # what a problem makes of it: failed, or skipped (not a document at all)
    member_of: str | None = None  # the reported name of the ZIP it came from


def display_name(path: Path | str) -> str:
    """A file name as text that can always be stored and printed, even with odd bytes in it."""
    return os.fsencode(path).decode("utf-8", "replace")


def expand(paths: Iterable[Path | str]) -> Iterator[Entry]:
    """One Entry per file to ingest, or per path that cannot be. A path reached twice (given
    twice, or inside a folder also given) is reported once."""
    seen: set[bytes] = set()
    for raw in paths:
        for entry in _walk(Path(raw)):
            key = os.path.normpath(os.path.abspath(os.fsencode(entry.path)))
            if key not in seen:
                seen.add(key)
                yield entry


def _walk(path: Path) -> Iterator[Entry]:
    entry = _one(path)
    if entry is not None:
        yield entry
        return
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(path, onerror=errors.append):
        for exc in errors:
            yield Entry(Path(exc.filename or folder), display_name(exc.filename or folder),
                        f"the folder cannot be read ({exc.strerror or exc})")
        errors.clear()
        # Hidden folders and files (.git, .DS_Store) are system clutter, not evidence.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield _one(Path(folder) / name) or Entry(Path(folder) / name, display_name(Path(folder) / name),
                                                         "a link to a folder; give the folder itself", SKIPPED)
    for exc in errors:
        yield Entry(Path(exc.filename or path), display_name(exc.filename or path),
                    f"the folder cannot be read ({exc.strerror or exc})")


def _one(path: Path) -> Entry | None:
    """The Entry of a single path; None for a folder (to walk). Looks with stat only: a FIFO or
    device is never opened (opening a FIFO waits for a writer forever)."""
    name = display_name(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return Entry(path, name, "a broken link: the file it points to does not exist")
        return Entry(path, name, "no such file or folder")
    except OSError as exc:
        return Entry(path, name, f"cannot be read ({exc.strerror or exc})")
    if stat.S_ISDIR(mode):
        return None
    kind = special_kind(mode)
    if kind:
        return Entry(path, name, f"{kind}, not a file: skipped without being opened", SKIPPED)
    return Entry(path, name)
