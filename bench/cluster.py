"""`python -m bench.pipeline --cluster`: a local cluster against the local process pool, and the
coordinator's cost per page (see bench/pipeline.py's docstring)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
CANNED_TEXT = ("این یک نامهٔ اداری است که در تاریخ ۱۴۰۲/۰۵/۱۲ به شمارهٔ ۲۳۴۵ ثبت شده است و " * 30)[:2400]


def canned_page(task):
    """Runs on a worker: an OCRed page's worth of result (about 2,400 characters, 300 word boxes),
    returned at once, so the coordinator is the only thing working."""
    from archive.models import WordBox
    from ingest.extract import PageResult

    words = [WordBox(w, 10 * i % 2000, 40 * (i // 20), 60, 30, 91.0, i // 20)
             for i, w in enumerate(CANNED_TEXT.split()[:300])]
    return PageResult(task.number, CANNED_TEXT, "ocr", "fa", 91.0, 2480, 3508, words)


class Canned:
    """An executor that hands the cluster ``canned_page`` instead of the pipeline's function."""

    def __init__(self, inner):
        self.inner = inner

    def run(self, fn, items):
        return self.inner.run(canned_page, items)


def _cpu(procs) -> float:
    total = 0.0
    for proc in procs:
        for p in [proc, *proc.children(recursive=True)]:
            try:
                t = p.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
    return total


def _start_cluster(folder: Path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"PYTHONPATH": str(REPO)}
    log = open(folder / "cluster.log", "w")
    cmd = [sys.executable, "-m", "ui.cli"]
    procs = [subprocess.Popen([*cmd, "scheduler", "--port", str(port)], env=env, stderr=log, start_new_session=True)]
    address = f"127.0.0.1:{port}"
    time.sleep(1)
    procs += [subprocess.Popen([*cmd, "worker", address, "--jobs", "1"], env=env, stderr=log, start_new_session=True)
              for _ in range(2)]
    from distributed import Client

    with Client(address, timeout=120, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=120)
        # Long-running workers are warm: their first page does not pay for imports and the lexicon.
        client.run(_warm)
    return address, procs


def _warm() -> None:
    import ingest.ocr  # noqa: F401
    import ingest.pipeline  # noqa: F401
    from ingest import extract

    extract._lexicon()


def main(args, make_pages, run_sanad) -> int:
    from archive.archive import Archive
    from ingest.cluster import DaskExecutor
    from ingest.pipeline import Ingestor

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, images = make_pages(folder, args.pages, args.pdf)
        address, procs = _start_cluster(folder)
        workers = [psutil.Process(p.pid) for p in procs[1:]]
        try:
            local_wall, local_cpu, pages = run_sanad(files, folder / "local")
            cpu0, t0 = _cpu(workers), time.monotonic()
            env = os.environ | {"PYTHONPATH": str(REPO)}
            proc = subprocess.run([sys.executable, "-m", "ui.cli", "--archive", str(folder / "on-cluster"), "ingest",
                                   *map(str, files), "--cluster", address, "--json"],
                                  cwd=REPO, env=env, capture_output=True, text=True)
            cluster_wall, cluster_cpu = time.monotonic() - t0, _cpu(workers) - cpu0
            results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
            if proc.returncode or sum(r["pages"] for r in results) != pages:
                raise SystemExit(f"the cluster ingest failed: {proc.stderr}")
            # The coordinator alone: text files of 20 pages each, every page answered at once.
            canned = folder / "canned"
            canned.mkdir()
            per_file = 20
            for i in range(max(1, args.canned // per_file)):
                (canned / f"doc-{i:04d}.txt").write_text("\f".join(f"document {i} page {n}" for n in range(per_file)))
            archive = Archive(folder / "coordinator")
            t0 = time.monotonic()
            # 64 pages in flight, as for 32 workers: what is timed is the writer, not two workers' round trips.
            done = Ingestor(archive, executor=Canned(DaskExecutor(address, window=64)), actor="bench").ingest([canned])
            coord_wall = time.monotonic() - t0
            coord_pages = sum(r.pages for r in done)
            archive.close()
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)
    per_min = lambda seconds: pages / seconds * 60  # noqa: E731
    print(f"{pages} pages ({'one scanned PDF' if args.pdf else 'PNG files'}), 2 cores shared with other work; "
          f"load average now {os.getloadavg()[0]:.1f}")
    print(f"{'':52} {'wall clock':>18} {'CPU seconds':>12}")
    print(f"{'(a) sanad ingest --jobs 2, local process pool':52} {per_min(local_wall):7.1f} pages/min {local_cpu:12.1f}")
    print(f"{'(d) sanad ingest --cluster, scheduler + 2 workers':52} {per_min(cluster_wall):7.1f} pages/min"
          f" {cluster_cpu:12.1f}  (workers' CPU)")
    print(f"ratio d/a, the target (>= 0.90): wall {local_wall / cluster_wall:.2f}, CPU {local_cpu / cluster_cpu:.2f}")
    absorbed = coord_pages / coord_wall
    per_page = cluster_wall * 2 / pages  # seconds one worker process spends on one OCRed page
    print(f"coordinator (64 pages in flight): {coord_pages} ready pages in {coord_wall:.1f} s = {absorbed:.0f} pages/s absorbed"
          " (staging, Dask round trips, catalog, index)")
    print(f"a worker process takes {per_page:.1f} s a page here, so one coordinator keeps about"
          f" {absorbed * per_page:.0f} single-job workers fed (goal >= 50)")
    return 0
