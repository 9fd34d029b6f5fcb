"""Issue #17, "one bad file never stops a batch": each reproduction from the issue, through the
real `sanad` command (and the real kernel: FIFOs, sockets, signals, a full tmpfs)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import Sanad


def _lines(proc) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def _one_line_per_path(rows: list[dict]) -> None:
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)), paths


# -- 1, 2, 7: ZIP members ---------------------------------------------------------------------

def test_zip_member_named_like_a_folder_does_not_stop_the_batch(sanad, tmp_path):
    zpath = tmp_path / "c.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("a/b.txt", "x")
        z.writestr("a", "y")
        z.writestr("c.txt", "z")
    after = tmp_path / "after.txt"
    after.write_text("a file given after the ZIP")
    for run in range(2):  # every rerun too
        rows = sanad.json("ingest", str(zpath), str(after))
        _one_line_per_path(rows)
        by_path = {os.path.relpath(r["path"], tmp_path): r for r in rows}
        assert set(by_path) == {"c.zip", "c.zip/a/b.txt", "c.zip/a", "c.zip/c.txt", "after.txt"}
        assert by_path["c.zip"]["status"] == ("ingested" if run == 0 else "duplicate")
        assert by_path["c.zip"]["member_of"] is None
        members = [r for p, r in by_path.items() if p.startswith("c.zip/")]
        assert {r["member_of"] for r in members} == {str(zpath)}
        assert {r["status"] for r in members} == {"ingested" if run == 0 else "duplicate"}
        assert by_path["after.txt"]["status"] in ("ingested", "duplicate")
    sanad("verify")


def test_zip_member_names_are_made_safe_and_kept_as_written(sanad, tmp_path, archive_dir):
    zpath = tmp_path / "names.zip"
    long_name = "ن" * 150 + ".txt"  # 300 bytes of UTF-8 in one name: more than any file system takes
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr(long_name, "long name")
        z.writestr("../../escape.txt", "dot dot")
        z.writestr("/etc/absolute.txt", "absolute")
        z.writestr("nul\x00byte.txt", "nul")  # zipfile itself cuts a name at NUL
        z.writestr("bell\x07.txt", "control character")
        z.writestr("C:\\Users\\x\\win.txt", "windows")
        z.writestr("same.txt", "first same")
        with pytest.warns(UserWarning):
            z.writestr("same.txt", "second same")
        z.writestr("..", "only dots")
    rows = sanad.json("ingest", str(zpath))
    _one_line_per_path(rows)
    names = {r["path"][len(str(zpath)) + 1:]: r for r in rows[1:]}
    assert {r["status"] for r in rows} == {"ingested"}, rows
    assert set(names) == {long_name, "escape.txt", "etc/absolute.txt", "nul", "bell\ufffd.txt", "Users/x/win.txt",
                          "same.txt", "same.txt (2)", "unnamed"}
    # The receipt keeps the name as the ZIP wrote it, long as it is.
    doc = names[long_name]["document_id"]
    db = sqlite3.connect(archive_dir / "catalog.sqlite")
    assert db.execute("SELECT filename FROM receipts WHERE document_id = ?", (doc,)).fetchone()[0] == long_name
    assert not any(p.name.startswith("..") for p in archive_dir.rglob("*"))
    sanad("verify")


def test_damaged_zip_gets_one_line(sanad, tmp_path):
    zpath = tmp_path / "damaged.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.writestr("a.txt", "a" * 1000)
    data = bytearray(zpath.read_bytes())
    data[-22:-18] = b"\x00\x00\x00\x00"  # break the end-of-directory record, keep the PK header
    zpath.write_bytes(bytes(data[:len(data) // 2]) + bytes(data[-22:]))
    rows = sanad.json("ingest", str(zpath), check=1)
    assert len(rows) == 1 and rows[0]["status"] == "failed" and "ZIP" in rows[0]["error"], rows


# -- 3: identical files in one call ---------------------------------------------------------------

@pytest.mark.parametrize("jobs", [None, "1"])
def test_identical_files_in_one_call_each_get_a_line(sanad, tmp_path, jobs):
    (tmp_path / "a.txt").write_text("same\n")
    (tmp_path / "b.txt").write_text("same\n")
    (tmp_path / "c.txt").write_text("same\n")
    args = ["ingest", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), str(tmp_path / "c.txt")]
    rows = sanad.json(*args, *(["--jobs", jobs] if jobs else []))
    assert [(Path(r["path"]).name, r["status"]) for r in rows] == [
        ("a.txt", "ingested"), ("b.txt", "duplicate"), ("c.txt", "duplicate")]
    assert len({r["document_id"] for r in rows}) == 1 and all(r["pages"] == 1 for r in rows)
    shown = sanad.json("show", rows[0]["document_id"])[0]
    assert [r["filename"] for r in shown["receipts"]] == ["a.txt", "b.txt", "c.txt"]


def test_a_path_given_twice_gets_one_line(sanad, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "x.txt").write_text("x")
    rows = sanad.json("ingest", str(folder), str(folder / "x.txt"), str(folder / "x.txt"))
    assert [r["status"] for r in rows] == ["ingested"]


def test_identical_unreadable_files_fail_once_each(sanad, tmp_path):
    (tmp_path / "a.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "b.bin").write_bytes(bytes(range(256)) * 8)
    rows = sanad.json("ingest", str(tmp_path / "a.bin"), str(tmp_path / "b.bin"), check=1)
    assert [r["status"] for r in rows] == ["failed", "failed"] and rows[0]["error"] == rows[1]["error"]


# -- 4: special files ----------------------------------------------------------------------------

def test_fifo_socket_and_device_are_skipped_unopened(sanad, tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock"))
    (folder / "null").symlink_to("/dev/null")
    (folder / "broken").symlink_to(folder / "missing")
    (folder / "real.txt").write_text("a real letter")
    try:
        rows = _lines(sanad("ingest", str(folder), str(folder / "pipe"), "--json", check=1, timeout=120))
    finally:
        server.close()
    by_name = {Path(r["path"]).name: r for r in rows}
    assert len(rows) == 5, rows
    assert by_name["real.txt"]["status"] == "ingested"
    for name, kind in (("pipe", "FIFO"), ("sock", "socket"), ("null", "device")):
        assert by_name[name]["status"] == "skipped" and kind in by_name[name]["error"]
    assert by_name["broken"]["status"] == "failed" and "broken link" in by_name["broken"]["error"]
    human = sanad("ingest", str(folder / "pipe"))
    assert "1 skipped" in human.stderr  # a skipped file is no failure: exit 0


# -- 5: two runs at once -----------------------------------------------------------------------------

def test_two_concurrent_ingests_of_the_same_files(sanad, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    for i in range(400):  # enough for the second run to catch up with the first and race it
        (folder / f"n{i:03d}.txt").write_text(f"note {i}")
    with zipfile.ZipFile(folder / "bundle.zip", "w") as z:
        for i in range(10):
            z.writestr(f"z{i}.txt", f"zipped note {i}")
    # An archive in use: its search index exists. (Two runs creating the index of a new archive at
    # the same moment race inside search/index.py, which this test does not cover.)
    (tmp_path / "first.txt").write_text("the archive's first document")
    sanad("ingest", str(tmp_path / "first.txt"))
    # Output to files: a run blocked on a full pipe nobody reads keeps its claims, and the
    # other run rightly waits for it.
    logs = [(tmp_path / f"run{i}.out", tmp_path / f"run{i}.err") for i in range(2)]
    runs = []
    for out, err in logs:
        with open(out, "w") as o, open(err, "w") as e:
            runs.append(sanad.popen("ingest", str(folder), "--json", stdout=o, stderr=e))
    for proc in runs:
        proc.wait(timeout=600)
    outs = [(out.read_text(), err.read_text()) for out, err in logs]
    for proc, (out, err) in zip(runs, outs):
        assert proc.returncode == 0 and "Traceback" not in err, err
        rows = [json.loads(line) for line in out.splitlines()]
        _one_line_per_path(rows)
        assert len(rows) == 411 and {r["status"] for r in rows} <= {"ingested", "duplicate"}, rows
    both = [json.loads(line) for out, _ in outs for line in out.splitlines()]
    for path in {r["path"] for r in both}:
        statuses = sorted(r["status"] for r in both if r["path"] == path)
        assert statuses in (["duplicate", "ingested"], ["duplicate", "duplicate"]), (path, statuses)
    sanad("verify")


# -- 6: workers die with their parent -------------------------------------------------------------

def _descendants(pid: int) -> dict[int, str]:
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                try:
                    found[child] = Path(f"/proc/{child}/comm").read_text().strip()
                except OSError:
                    continue
                todo.append(child)
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def test_sigkill_of_sanad_kills_its_workers_and_tesseract(sanad, tmp_path):
    from bench.letters import make_letter, render

    folder = tmp_path / "scans"
    folder.mkdir()
    for seed in range(6):
        render(make_letter(seed)).save(folder / f"letter-{seed}.png")
    proc = sanad.popen("ingest", str(folder), "--jobs", "2", stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        seen: dict[int, str] = {}
        for _ in range(1200):  # until tesseract runs under a worker (a bounded wait, not a timing)
            seen |= _descendants(proc.pid)
            if "tesseract" in seen.values():
                break
            time.sleep(0.05)
        assert "tesseract" in seen.values(), seen
        os.kill(proc.pid, signal.SIGKILL)  # the parent alone: its pool cannot clean up
        proc.wait()
        for _ in range(300):  # workers wait on the parent's pipe for minutes unless told
            alive = [p for p in seen if not _gone(p)]
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, {p: seen[p] for p in alive}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    rerun = sanad.json("ingest", str(folder))
    assert {r["status"] for r in rerun} <= {"ingested", "duplicate"} and len(rerun) == 6


# -- 9: a full disk -----------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=5m", "tmpfs", str(mount)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_stops_the_batch_cleanly_and_a_rerun_finishes_it(tmp_path, small_disk):
    sanad = Sanad(small_disk / "archive")
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(12):
        (folder / f"report-{i:02d}.txt").write_text(f"report {i}: " + f"word{i} " * 60_000)  # 0.5 MB each
    proc = sanad("ingest", str(folder), "--json", "--min-free", "0", check=13)
    rows = _lines(proc)
    assert len(rows) < 12 and all(r["status"] == "ingested" for r in rows), rows  # nothing marked failed
    messages = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(messages) == 1 and "disk" in messages[0] and "full" in messages[0], proc.stderr
    assert "cannot be read" not in proc.stderr
    db = sqlite3.connect(small_disk / "archive" / "catalog.sqlite")
    assert db.execute("SELECT count(*) FROM documents WHERE status = 'failed'").fetchone()[0] == 0
    db.close()
    subprocess.run(["mount", "-o", "remount,size=60m", str(small_disk)], check=True)
    rows = sanad.json("ingest", str(folder), "--min-free", "0")
    assert len(rows) == 12 and {r["status"] for r in rows} <= {"ingested", "duplicate"}
    sanad("verify")


def test_ingest_refuses_to_start_below_the_free_space_floor(tmp_path, small_disk):
    sanad = Sanad(small_disk / "archive")
    (tmp_path / "a.txt").write_text("a")
    proc = sanad("ingest", str(tmp_path / "a.txt"), check=13)  # the default floor is 200 MB
    assert "--min-free" in proc.stderr and "SANAD_MIN_FREE_MB" in proc.stderr
    proc = sanad("ingest", str(tmp_path / "a.txt"), "--min-free", "10", check=13)
    assert "10 MB" in proc.stderr
    env_run = subprocess.run(sanad._cmd(["ingest", str(tmp_path / "a.txt")]), cwd=sanad._env()["PYTHONPATH"],
                             env=sanad._env() | {"SANAD_MIN_FREE_MB": "1"}, capture_output=True, text=True)
    assert env_run.returncode == 0, env_run.stderr


# -- internal errors -----------------------------------------------------------------------------------

def test_a_bug_is_an_internal_error_not_a_malformed_file(archive, tmp_path):
    from archive.errors import InternalError
    from ingest import pipeline
    from ingest.failures import classify

    try:
        archive.catalog.get_document(object())  # raised in Sanad's own code (a misuse: a bug)
    except Exception as exc:  # noqa: BLE001
        error = classify(exc, reading_file=True, log=archive.root / "sanad.log", subject="x.txt")
    assert isinstance(error, InternalError) and "malformed" not in str(error)
    assert "Traceback" in (archive.root / "sanad.log").read_text()
    try:
        json.loads("{")  # a library tripping over bad bytes
    except ValueError as exc:
        assert "malformed" in str(classify(exc, reading_file=True, log=archive.root / "sanad.log"))
    # Bookkeeping never blames the file, whatever raised.
    try:
        json.loads("{")
    except ValueError as exc:
        assert isinstance(classify(exc, reading_file=False, log=archive.root / "sanad.log"), InternalError)

    (tmp_path / "a.txt").write_text("a letter")
    ingestor = pipeline.Ingestor(archive, jobs=1)
    ingestor._record_page = lambda task, outcome: {}["bug"]  # a bug where pages are recorded
    results = ingestor.ingest([tmp_path / "a.txt"])
    assert [r.status for r in results] == ["failed"] and "Sanad failed" in results[0].error
    assert ingestor.internal_errors == 1
    assert archive.catalog.get_document(results[0].document_id).status == "failed"
