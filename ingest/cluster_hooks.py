"""Faults on demand, for the cluster tests only.

Active only in a worker started with `sanad worker --test-hooks` (which sets SANAD_TEST_HOOKS=1 in
its worker processes), and only for an original whose first line is ``%SANAD-TEST <what>``; such a
file is otherwise an ordinary text file. Nothing here runs in a normal worker or a local ingest.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

MARK = b"%SANAD-TEST "


def before_page(path: Path) -> None:
    with open(path, "rb") as f:
        line = f.readline()
    if not line.startswith(MARK):
        return
    what, _, arg = line[len(MARK):].decode().strip().partition(" ")
    if what == "exit":  # a native library that takes its process down
        os._exit(70)
    elif what == "memory":  # a page that needs more memory than the worker may have
        hog = []
        while True:
            hog.append(b"\x01" * (32 << 20))  # written, so the pages are really resident
            time.sleep(0.02)
    elif what == "wait":  # holds the page until the test says go, after saying which process has it
        Path(f"{arg}.{os.getpid()}").write_text("started")
        while not Path(arg).exists():
            time.sleep(0.05)
    elif what == "hang":  # a tool that never returns, run through poppler's per-call timeout
        from ingest import poppler

        poppler._run(["sleep", "3600"], timeout=int(arg or 1))
