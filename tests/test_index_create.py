"""Two processes that find no index build one between them, not two that rename each other away."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BUILD = """
import sys
from archive.archive import Archive
from search.index import SearchIndex
archive = Archive(sys.argv[1])
for _ in range(40):
    index = SearchIndex(archive.index_dir)
    index.ensure_current(archive.catalog)
    index.rebuild(archive.catalog)
print("ok")
"""


def test_concurrent_first_builds_leave_one_sound_index(tmp_path):
    from archive.archive import Archive
    from search.index import SearchIndex

    root = tmp_path / "archive"
    Archive(root).close()
    procs = [subprocess.Popen([sys.executable, "-c", BUILD, str(root)], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip() == "ok", err
    archive = Archive(root)
    index = SearchIndex(archive.index_dir, archive.catalog)
    assert index.current and index.check(archive.catalog).ok
    archive.close()
