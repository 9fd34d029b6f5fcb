"""A damaged search index, damaged for real: bytes overwritten, a segment cut short, a garbage
or missing table of contents, a missing segment, a file where the index folder should be.
`sanad verify` names the damage and exits 1; `sanad search` and `sanad ingest` say that the
index is damaged, rebuild it from the catalog and carry on; `sanad reindex` replaces it."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from tests.conftest import Sanad

REBUILDING = "the search index is damaged; rebuilding from the catalog"


def _overwrite(index: Path) -> str:
    """Five random 4 KB overwrites in the segment file, as issue #17 describes."""
    seg = _one(index, "*.seg")
    size = seg.stat().st_size
    rng = random.Random(17)
    with open(seg, "r+b") as f:
        for _ in range(5):
            f.seek(rng.randrange(0, size - 4096))
            f.write(rng.randbytes(4096))
    return seg.name


def _truncate(index: Path) -> str:
    seg = _one(index, "*.seg")
    os.truncate(seg, seg.stat().st_size // 2)
    return seg.name


def _garbage_toc(index: Path) -> str:
    toc = _one(index, "*.toc")
    toc.write_bytes(random.Random(3).randbytes(toc.stat().st_size))
    return toc.name


def _delete_segment(index: Path) -> str:
    seg = _one(index, "*.seg")
    seg.unlink()
    return seg.name


def _delete_toc(index: Path) -> str:
    _one(index, "*.toc").unlink()
    return "table of contents"


def _file_instead(index: Path) -> str:
    shutil.rmtree(index)
    index.write_text("not an index\n")
    return "is a file, not a folder"


DAMAGE = {"overwrite": _overwrite, "truncate": _truncate, "garbage-toc": _garbage_toc,
          "delete-segment": _delete_segment, "delete-toc": _delete_toc, "file": _file_instead}


def _one(index: Path, pattern: str) -> Path:
    (found,) = index.glob(pattern)
    return found


@pytest.fixture(scope="module")
def healthy(tmp_path_factory) -> Path:
    """An archive of 40 text files in one index segment, built once; each test damages a copy."""
    root = tmp_path_factory.mktemp("healthy")
    folder = root / "files"
    folder.mkdir()
    for i in range(40):
        (folder / f"report-{i:03d}.txt").write_text(
            f"Report {i}: the prisons authority asked for {i * 100} N95 masks and ventilators.\n"
            f"گزارش {i} درباره زندان اوین و ماسک\n" * 20)
    Sanad(root / "archive")("ingest", str(folder), "--jobs", "1")
    return root / "archive"


@pytest.fixture
def damaged_copy(healthy, archive_dir):
    shutil.copytree(healthy, archive_dir)
    return archive_dir


@pytest.mark.parametrize("kind", DAMAGE)
def test_verify_names_the_damage_then_search_rebuilds(kind, damaged_copy, sanad, healthy):
    named = DAMAGE[kind](damaged_copy / "index")
    out = sanad("verify", check=1)  # no traceback: the fixture checks stderr
    damage = [line for line in out.stdout.splitlines() if line.startswith("INDEX DAMAGED")]
    assert damage and named in "\n".join(damage), out.stdout
    assert "sanad reindex" in out.stdout
    assert "everything matches" not in out.stdout

    found = sanad("search", "ventilators", "--json")
    assert len(found.stdout.splitlines()) == 20  # all 40 pages match; the first 20 are shown
    if REBUILDING not in found.stderr:
        # Random overwrites can miss every byte this search checks (which bytes they hit depends
        # on the segment's layout, which the ingest's timestamps shift from run to run). A hit
        # on bytes that still decode, such as a length column, can then skew the scores and so
        # the order of these 40 equal pages (one CI run: 0.0765 against 0.0764). The README
        # says so; `sanad verify` names that damage (above), and a reindex mends it.
        assert kind == "overwrite", found.stderr
        sanad("reindex")
    again = sanad("search", "ventilators", "--json")
    assert REBUILDING not in again.stderr
    assert "everything matches" in sanad("verify").stdout


@pytest.mark.parametrize("kind", DAMAGE)
def test_ingest_rebuilds_a_damaged_index(kind, damaged_copy, sanad, tmp_path):
    DAMAGE[kind](damaged_copy / "index")
    new = tmp_path / "new"
    new.mkdir()
    (new / "late.txt").write_text("A late report about oxygen concentrators.\n")
    ingested = sanad("ingest", str(new), "--jobs", "1")
    if kind != "overwrite":  # overwritten bytes may decode to garbage Whoosh writes on without noticing
        assert REBUILDING in ingested.stderr
    assert "1 ingested" in ingested.stderr
    if REBUILDING in ingested.stderr:
        assert len(sanad.json("search", "concentrators")) == 1
        assert len(sanad.json("search", "ventilators", "--limit", "100")) == 40
        assert "everything matches" in sanad("verify").stdout


def test_reindex_moves_a_file_in_the_index_place_aside(damaged_copy, sanad):
    _file_instead(damaged_copy / "index")
    out = sanad("reindex")
    assert "reindexed 40 pages" in out.stdout and "moved it to" in out.stderr
    (aside,) = damaged_copy.glob("index.not-a-folder-*")
    assert aside.read_text() == "not an index\n"  # not ours to delete
    assert "everything matches" in sanad("verify").stdout


def test_an_index_given_its_catalog_recovers_in_process(damaged_copy):
    """What the web app does (ui/web.py open_index): the search itself rebuilds, after telling."""
    from archive.archive import Archive
    from archive.errors import IndexDamaged
    from search.index import SearchIndex

    _truncate(damaged_copy / "index")
    archive = Archive(damaged_copy)
    try:
        with pytest.raises(IndexDamaged) as raised:
            SearchIndex(archive.index_dir).search("ventilators")
        assert raised.value.exit_code == 12 and "sanad reindex" in str(raised.value)
        heard: list[str] = []
        index = SearchIndex(archive.index_dir, archive.catalog, notify=heard.append)
        assert index.search("ventilators").total == 40
        assert len(heard) == 1 and heard[0].startswith(REBUILDING)
        assert archive.catalog.unindexed() == []
        assert index.check(archive.catalog).ok
    finally:
        archive.close()
