"""Ingest on a real local cluster: a `sanad scheduler` and `sanad worker` processes over TCP on
127.0.0.1, started here, with faults made on purpose (worker killed, poison page, memory hog, hung
tool, scheduler killed, wrong version, missing models) and TLS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO

pytest.importorskip("distributed")

from distributed import Client  # noqa: E402

from ingest.cluster import DaskExecutor  # noqa: E402
from ingest.pipeline import Ingestor  # noqa: E402

SETTLE = 120  # seconds a process may take to come up on a busy machine (a bound, not a measurement)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """Processes started by a test, each in its own session so that it and its children stop together."""

    def __init__(self, folder: Path):
        self.folder, self.procs = folder, []

    def start(self, *args: str, env: dict | None = None, name: str = "proc") -> subprocess.Popen:
        log = open(self.folder / f"{name}-{len(self.procs)}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", *args], cwd=REPO, stdout=log, stderr=log,
                                env=os.environ | {"PYTHONPATH": str(REPO)} | (env or {}), start_new_session=True)
        proc.log = Path(log.name)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)


def _scheduler(procs: Procs, port: int, *extra: str) -> str:
    procs.start("scheduler", "--port", str(port), "--allowed-failures", "1", *extra, name="scheduler")
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the scheduler did not start")


def _worker(procs: Procs, address: str, *extra: str, env: dict | None = None) -> subprocess.Popen:
    return procs.start("worker", address, "--jobs", "1", "--memory-limit", "600MiB", "--test-hooks", *extra,
                       env=env, name="worker")


def _wait_workers(address: str, n: int, **kwargs) -> None:
    with Client(address, timeout=SETTLE, set_as_default=False, **kwargs) as client:
        client.wait_for_workers(n, timeout=SETTLE)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One scheduler and two single-job workers for the whole module."""
    procs = Procs(tmp_path_factory.mktemp("cluster"))
    address = _scheduler(procs, _free_port())
    for _ in range(2):
        _worker(procs, address)
    _wait_workers(address, 2)
    yield address
    procs.stop_all()


def _texts(folder: Path, **files: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in files.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        paths.append(folder / f"{name}.txt")
    return paths


def _by_name(results: list[dict]) -> dict[str, dict]:
    return {Path(r["path"]).stem: r for r in results}


def test_ingest_on_the_cluster_reads_scans_and_text(cluster, sanad, tmp_path):
    from bench.pipeline import make_pages

    scans, _ = make_pages(tmp_path, 2, as_pdf=True)
    files = [*scans, *_texts(tmp_path / "t", note="a note about the cluster\fand its second page")]
    out = sanad.json("ingest", *map(str, files), "--cluster", cluster)
    assert sorted((r["status"], r["pages"], Path(r["path"]).suffix) for r in out) == [
        ("ingested", 2, ".pdf"), ("ingested", 2, ".txt")]
    shown = sanad.json("show", next(r["document_id"] for r in out if r["path"].endswith(".pdf")))[0]
    assert all(p["method"] == "ocr" and p["text"].strip() for p in shown["page_texts"])
    # $SANAD_CLUSTER does the same as --cluster; the file is now a duplicate
    proc = subprocess.run([sys.executable, "-m", "ui.cli", "--archive", str(sanad.archive_dir), "ingest",
                           str(files[1]), "--json"], cwd=REPO, capture_output=True, text=True,
                          env=os.environ | {"PYTHONPATH": str(REPO), "SANAD_CLUSTER": cluster})
    assert proc.returncode == 0 and '"duplicate"' in proc.stdout, proc.stderr


def test_a_worker_killed_mid_page_loses_nothing_and_writes_each_page_once(cluster, archive, tmp_path):
    go = tmp_path / "go"
    files = _texts(tmp_path / "in", held=f"%SANAD-TEST wait {go}\nthe held page\fits second page",
                   **{f"plain{i}": f"plain page {i}\fand its other page" for i in range(4)})
    seen: Counter = Counter()
    results, failed = [], []

    def ingest():
        try:
            results.extend(Ingestor(archive, executor=DaskExecutor(cluster), actor="test").ingest(
                files, on_page=lambda task, n: task and seen.update([(task.document_id, task.number)])))
        except BaseException as exc:  # noqa: BLE001 - shown by the assertion below, not lost in the thread
            failed.append(exc)

    thread = threading.Thread(target=ingest)
    thread.start()
    started = _first(lambda: list(tmp_path.glob("go.*")))
    os.kill(int(started[0].suffix[1:]), signal.SIGKILL)  # the worker process holding the page, not its nanny
    go.write_text("go")
    thread.join(timeout=600)
    assert not failed, f"the ingest stopped: {failed[0]!r}"
    assert [r.status for r in results] == ["ingested"] * 5, [(r.status, r.error) for r in results]
    assert set(seen.values()) == {1} and len(seen) == 10
    pages = archive.catalog.pages(next(r.document_id for r in results if r.path.endswith("held.txt")))
    assert [p.status for p in pages] == ["done", "done"] and "the held page" in pages[0].text


def test_a_page_that_kills_every_worker_fails_alone(cluster, sanad, tmp_path):
    files = _texts(tmp_path, poison="%SANAD-TEST exit\nkills its worker", fine="an ordinary page")
    out = _by_name(sanad.json("ingest", *map(str, files), "--cluster", cluster, check=1))
    assert out["fine"]["status"] == "ingested"
    assert out["poison"]["status"] == "failed" and "every worker that read this page died" in out["poison"]["error"]
    _wait_workers(cluster, 2)  # their nannies brought both back


def test_a_worker_over_its_memory_limit_is_restarted_and_the_page_fails_alone(cluster, sanad, tmp_path):
    files = _texts(tmp_path, hog="%SANAD-TEST memory\nneeds too much", fine="an ordinary page")
    out = _by_name(sanad.json("ingest", *map(str, files), "--cluster", cluster, check=1))
    assert out["fine"]["status"] == "ingested"
    assert out["hog"]["status"] == "failed" and "out of memory" in out["hog"]["error"]
    _wait_workers(cluster, 2)


def test_a_hung_tool_is_stopped_by_its_per_call_timeout(cluster, sanad, tmp_path):
    files = _texts(tmp_path, hung="%SANAD-TEST hang 1\nnever returns", fine="an ordinary page")
    out = _by_name(sanad.json("ingest", *map(str, files), "--cluster", cluster, check=1))
    assert out["fine"]["status"] == "ingested"
    assert out["hung"]["status"] == "failed" and "gave up after 1 s" in out["hung"]["error"]


def test_workers_of_another_version_or_without_models_are_refused(cluster, sanad, tmp_path):
    procs = Procs(tmp_path)
    try:
        # Present when the ingest connects: the ingest says so, and with no other worker it stops.
        address = _scheduler(procs, _free_port())
        rogue = _worker(procs, address, "--test-version", "0.0.0")
        _wait_workers(address, 1)
        proc = sanad("ingest", *map(str, _texts(tmp_path, fine="an ordinary page")), "--cluster", address, check=19)
        assert "refused worker" in proc.stderr and "it runs Sanad 0.0.0 and the ingest runs" in proc.stderr
        assert rogue.wait(timeout=SETTLE) == 19  # it closed itself and its nanny
        assert "refused by the ingest" in rogue.log.read_text()
        # Joining a cluster an ingest has used: turned away as it joins.
        sanad("ingest", *map(str, _texts(tmp_path / "b", other="another page")), "--cluster", cluster)
        late = _worker(procs, cluster, "--test-version", "0.0.0")
        assert late.wait(timeout=SETTLE) == 19
        assert "refused by the ingest: it runs Sanad 0.0.0" in late.log.read_text()
        # Missing models: the worker does not start, and says which ones.
        empty = tmp_path / "tessdata"
        empty.mkdir()
        bare = _worker(procs, cluster, env={"TESSDATA_PREFIX": str(empty)})
        assert bare.wait(timeout=SETTLE) == 10
        assert "Tesseract models missing: fas, eng, Arabic, osd" in bare.log.read_text()
    finally:
        procs.stop_all()


def test_the_scheduler_dies_mid_batch_and_a_rerun_finishes_without_reading_a_page_twice(sanad, archive, tmp_path):
    procs = Procs(tmp_path)
    port = _free_port()
    go = tmp_path / "go"
    files = _texts(tmp_path / "in", **{f"a{i}": f"page {i}" for i in range(3)}, held=f"%SANAD-TEST wait {go}\nheld",
                   **{f"b{i}": f"page b{i}" for i in range(3)})
    try:
        scheduler = procs.start("scheduler", "--port", str(port), name="scheduler")
        address = _scheduler_up(port)
        _worker(procs, address)
        _wait_workers(address, 1)
        run = sanad.popen("ingest", *map(str, files), "--cluster", address, "--json",
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _first(lambda: list(tmp_path.glob("go.*")))
        procs.stop(scheduler, signal.SIGKILL)
        out, err = run.communicate(timeout=SETTLE)
        assert run.returncode == 18, err
        assert "lost the connection to the cluster's scheduler" in err and "Traceback" not in err
        catalog = archive.catalog
        before = {(d.id, p.number): p for d in catalog.list_documents() for p in catalog.pages(d.id)
                  if p.status == "done"}
        assert before  # pages run in submission order on the one worker: a0-a2 came before the held one
        stamps = {k: _updated_at(archive, *k) for k in before}
        go.write_text("go")
        procs.start("scheduler", "--port", str(port), name="scheduler")  # a new one; the worker rejoins it
        _scheduler_up(port)
        again = sanad.json("ingest", *map(str, files), "--cluster", address)
        assert {r["status"] for r in again} <= {"ingested", "duplicate"} and len(again) == 7
        assert all(d.status == "done" for d in catalog.list_documents())
        assert {k: _updated_at(archive, *k) for k in before} == stamps  # done pages were not read again
    finally:
        procs.stop_all()


def test_tls_cluster_and_refusal_to_listen_beyond_localhost_without_it(sanad, tmp_path):
    refused = sanad("scheduler", "--address", "0.0.0.0", "--port", str(_free_port()), check=19)
    assert "without TLS" in refused.stderr
    ca, cert, key = _certificates(tmp_path)
    tls = ["--tls-ca-file", str(ca), "--tls-cert", str(cert), "--tls-key", str(key)]
    procs = Procs(tmp_path)
    try:
        port = _free_port()
        procs.start("scheduler", "--port", str(port), *tls, name="scheduler")
        address = _scheduler_up(port)
        _worker(procs, address, *tls)
        from distributed.security import Security

        _wait_workers(f"tls://{address}", 1, security=Security(
            require_encryption=True, tls_ca_file=str(ca), tls_client_cert=str(cert), tls_client_key=str(key)))
        out = sanad.json("ingest", *map(str, _texts(tmp_path, secret="sent over TLS")), "--cluster", address, *tls)
        assert [r["status"] for r in out] == ["ingested"]
    finally:
        procs.stop_all()


# -- helpers -------------------------------------------------------------------------------------

def _first(find, bound: float = SETTLE):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("nothing happened within the bound")


def _scheduler_up(port: int) -> str:
    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    _first(up)
    return f"127.0.0.1:{port}"


def _updated_at(archive, doc_id: str, number: int) -> str:
    return archive.catalog._query("SELECT updated_at FROM pages WHERE document_id = ? AND number = ?",
                                  (doc_id, number))[0][0]


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and one certificate it signed, made with openssl as the README shows."""
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.pem", "node.key", "node.csr", "node.pem"))
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=sanad-ca",
        "-keyout", str(ca_key), "-out", str(ca))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=sanad-node", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "2", "-out", str(cert))
    return ca, cert, key


def test_addresses_and_a_local_ingest_that_never_loads_dask():
    from archive.errors import ClusterRefused
    from ingest.cluster import is_local, normalize

    assert normalize("10.0.0.5", None) == "tcp://10.0.0.5:8786"
    assert normalize("tcp://127.0.0.1:9000", None) == "tcp://127.0.0.1:9000"
    assert is_local("127.0.0.1") and is_local("localhost") and not is_local("0.0.0.0") and not is_local("10.0.0.5")
    with pytest.raises(ClusterRefused):
        normalize("tls://10.0.0.5:8786", None)
    code = ("import sys, ui.cli, ingest.pipeline; ingest.pipeline.default_executor(2);"
            " print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    env = {k: v for k, v in os.environ.items() if k != "SANAD_CLUSTER"} | {"PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
