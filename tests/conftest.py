"""Shared fixtures: a fresh archive, a way to run the real `sanad` command, the shared corpus."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
# The files that took longest in a --durations run (1-4 minutes each, 2 cores, one of them busy
# elsewhere), longest first. `make test` hands whole files to one worker per core in collection
# order; collected alphabetically, the browser tests came last and ran on one worker while the
# other had nothing left.
SLOW_FILES = ("test_ui_browser.py", "test_team_browser.py", "test_cluster.py", "test_index_damage.py",
              "test_hardening_batch.py", "test_cli.py", "test_team_oidc.py", "test_team.py", "test_encodings.py")


def pytest_collection_modifyitems(items):
    rank = {name: k for k, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file keeps its order


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive"


@pytest.fixture
def archive(archive_dir):
    from archive.archive import Archive

    a = Archive(archive_dir)
    yield a
    a.close()


def corpus(*parts: str) -> Path:
    """A path in the shared corpus; the test is skipped when the corpus is not beside the repo."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not available: {path}")
    return path


class Sanad:
    """Runs the real command line in a subprocess, as a user would."""

    def __init__(self, archive_dir: Path):
        self.archive_dir = archive_dir

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(self._cmd(args), cwd=REPO, env=self._env(), **kwargs)

    def __call__(self, *args: str, check: int | None = 0, timeout: float = 600) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._cmd(args), cwd=REPO, env=self._env(), capture_output=True,
                              text=True, timeout=timeout)
        if check is not None:
            assert proc.returncode == check, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    def json(self, *args: str, check: int | None = 0) -> list[dict]:
        proc = self(*args, "--json", check=check)
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    def _cmd(self, args) -> list[str]:
        return [sys.executable, "-m", "ui.cli", "--archive", str(self.archive_dir), *args]

    @staticmethod
    def _env() -> dict:
        return os.environ | {"PYTHONPATH": str(REPO)}


@pytest.fixture
def sanad(archive_dir) -> Sanad:
    return Sanad(archive_dir)


def make_text_pdf(path: Path, pages: list[str]) -> Path:
    """Write a small PDF with a real text layer (Helvetica, ASCII), one string per page."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_id = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        lines = safe.split("\n")
        stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_ids[i] + 1} 0 R"
                       f" /Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode())
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def wait_until(predicate, timeout: float, what: str, step: float = 0.5):
    """The predicate's first true value, tried every ``step`` seconds for ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@contextmanager
def served(cmd: list[str], log_path: Path, ready_url: str, what: str, timeout: float = 60, env: dict | None = None):
    """A server process started by a test, in its own session, its output in ``log_path``: yields
    once ``ready_url`` answers 200, and stops it and everything it started afterwards (SIGTERM,
    then SIGKILL after 10 s)."""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def answers():
        assert proc.poll() is None, f"{what} ended:\n{log_path.read_text()}"
        try:
            with urllib.request.urlopen(ready_url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    try:
        wait_until(answers, timeout, what)
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
        log.close()


def two_collections(sanad: Sanad, top: Path) -> dict[str, str]:
    """Team-mode tests' archive: a.pdf in collection A, b.pdf in B; the two documents' ids by name."""
    a = make_text_pdf(top / "a.pdf", ["walrus harbour report from the north desk"])
    b = make_text_pdf(top / "b.pdf", ["walrus memo about zanzibarite contracts"])
    sanad("collections", "create", "A")
    sanad("collections", "create", "B")
    sanad("ingest", "--collection", "A", "--source", "north desk", "--tag", "alpha", str(a))
    sanad("ingest", "--collection", "B", "--source", "secret desk", "--tag", "bravo", str(b))
    return {d["filename"]: d["document_id"] for d in sanad.json("list")}


def from_threads(search, queries: list[str], clients: int = 8) -> list[tuple[str, object]]:
    """(query, search(query)) from ``clients`` threads at once, each running every query from
    another start; an exception in any thread fails the test."""
    got: list[tuple[str, object]] = []
    errors: list[BaseException] = []

    def client(shift: int) -> None:
        try:
            for q in queries[shift:] + queries[:shift]:
                got.append((q, search(q)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(got) == clients * len(queries)
    return got
