"""Naming a failure: a file's own problem, a full disk, or a bug in Sanad.

A library tripping over a file's bytes is the file's problem ("malformed"). An exception raised
by Sanad's own code, or anywhere outside reading a file, is a bug: it is reported as an
InternalError and its traceback appended to the archive's log, so that it is never mistaken
for a bad file (and retried forever as one).
"""

from __future__ import annotations

import re
import traceback
from datetime import UTC, datetime
from pathlib import Path

from archive.diskspace import disk_full, is_disk_full
from archive.errors import DiskFull, InputError, InternalError, SanadError

REPO = Path(__file__).resolve().parent.parent
OWN_PACKAGES = tuple(str(REPO / name) + "/" for name in ("archive", "ingest", "search", "ui"))
LOG_NAME = "sanad.log"


def classify(exc: BaseException, *, reading_file: bool, log: Path, subject: str = "") -> SanadError:
    """The error to record for ``exc``. ``reading_file`` says whether it came from reading the
    file's content (sniffing, counting or extracting pages); only then can it be the file's
    fault. Internal errors are logged to ``log`` with their traceback."""
    if isinstance(exc, SanadError):
        return exc
    if is_disk_full(exc):
        return disk_full(log.parent, exc)
    if reading_file and not _raised_by_sanad(exc):
        return InputError(f"the file is malformed and could not be read ({type(exc).__name__}: {exc})")
    log_traceback(log, exc, subject)
    return InternalError(f"Sanad failed on this file ({type(exc).__name__}: {exc}); traceback in {log}")


def log_traceback(log: Path, exc: BaseException, subject: str = "") -> bool:
    """Append the traceback to the log; False when the log cannot be written."""
    text = "".join(traceback.format_exception(exc))
    remote = _remote_traceback(exc)
    if remote and remote not in text:
        text += str(remote)
    try:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {subject}\n{text}\n")
    except OSError:
        return False  # a log that cannot be written must not turn one failure into two
    return True


def _raised_by_sanad(exc: BaseException) -> bool:
    """True when the innermost frame of the traceback is in Sanad's own code."""
    remote = _remote_traceback(exc)
    if isinstance(remote, str):
        files = re.findall(r'File "([^"]+)"', remote)
        return bool(files) and files[-1].startswith(OWN_PACKAGES)
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename.startswith(OWN_PACKAGES)


def _remote_traceback(exc: BaseException) -> str | None:
    """A worker's traceback of ``exc`` as text: sent by concurrent.futures for an exception a
    worker raised, or kept by ingest/extract.py for one it returned as a page's result."""
    remote = getattr(exc.__cause__, "tb", None)
    return remote if isinstance(remote, str) else getattr(exc, "worker_traceback", None)


def stops_batch(error: SanadError) -> bool:
    """A full disk is no file's fault and every file after it would fail the same way."""
    return isinstance(error, DiskFull)
