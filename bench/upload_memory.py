"""What uploads through the web workbench cost the server: its memory, and the archive's disk.

    python -m bench.upload_memory [--runs 7] [--files 2] [--mb 150] [--keep DIR]

Each run starts the real server (`sanad ui`) on a new archive, uploads the files with Chromium
through the Upload page, presses "Add to the archive" and waits for the batch to finish. It
records the Streamlit server's resident memory (VmRSS): its baseline (settled, before the
upload), its peak (sampled every 50 ms while the files arrive and are saved) and where it
settles afterwards; and, once settled, what the UploadedFileManager still holds and where the
resident memory lies (blocks larger than the largest arena heap are live objects of the size
of an upload; the rest is the heap and glibc's arenas). A run "falls back" when it settles
within a fifth of the uploaded size above its baseline. Then how many bytes the inbox and the
originals hold, and how many of those bytes are on disk once (hard links count once). The
files are random bytes: ingest keeps each as an original and marks it failed (not a document
format), which is quick.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
MB = 1 << 20
ARENA_HEAP = 64 * MB  # glibc's largest per-thread arena heap on 64-bit; larger anonymous maps are single blocks


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def memory_map(pid: int) -> dict[str, float]:
    """Resident MB by kind: single large anonymous blocks (live objects of an upload's size: glibc
    maps such blocks on their own and unmaps them when freed), the main heap and the other
    anonymous maps (glibc's thread arenas, small maps), and files (code, the index)."""
    out = {"large blocks": 0.0, "heap and arenas": 0.0, "files": 0.0}
    size = kind = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            start, end = (int(x, 16) for x in head[0].split("-"))
            size, path = end - start, head[5] if len(head) > 5 else ""
            if path.startswith("/"):
                kind = "files"
            elif path in ("", "[heap]"):
                kind = "large blocks" if path == "" and size > ARENA_HEAP else "heap and arenas"
            else:
                kind = None  # [stack], [vdso], ...
        elif head[0] == "Rss:" and kind is not None:
            out[kind] += int(head[1]) / 1024
    return out


def streamlit_pid(parent: int, timeout: float = 30) -> int:
    """`sanad ui` runs Streamlit as its child: that child is the server whose memory counts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.2)
    raise SystemExit("the Streamlit server did not start")


def disk(root: Path) -> dict:
    """Bytes by folder, and bytes on disk once (an inode linked from both counts once)."""
    seen, out = set(), {"inbox": 0, "originals": 0, "unique": 0}
    for folder in ("inbox", "originals"):
        for p in (root / folder).rglob("*"):
            if p.is_file() and not p.name.endswith((".json", ".jsonl", ".err")):
                st = p.stat()
                out[folder] += st.st_size
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    out["unique"] += st.st_size
    return out


def held_by_streamlit(base: str) -> int:
    """Bytes of uploads Streamlit's UploadedFileManager holds (its metrics)."""
    with urllib.request.urlopen(base + "/_stcore/metrics?families=cache_memory_bytes", timeout=10) as r:
        lines = r.read().decode().splitlines()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines if "UploadedFileManager" in line)


def settled_rss(pid: int, seconds: float = 10) -> float:
    """The lowest RSS of the last two seconds of a few: freed memory goes back gradually."""
    samples = []
    for _ in range(int(seconds / 0.5)):
        samples.append(rss_mb(pid))
        time.sleep(0.5)
    return min(samples[-4:])


class Peak:
    """The highest RSS of ``pid`` seen while it runs, sampled every 50 ms."""

    def __init__(self, pid: int):
        self.pid, self.mb, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.mb = max(self.mb, rss_mb(self.pid))
            except OSError:
                return

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.mb


def batch_finished(root: Path) -> bool:
    batches = list(root.glob("inbox/*/batch.json"))
    if not batches:
        return False
    for manifest in batches:
        log = manifest.parent / "ingest.jsonl"
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        if not log.exists() or len(log.read_text(encoding="utf-8").splitlines()) < len(files):
            return False
    return True


def one_run(work: Path, paths: list[Path], browser) -> dict:
    """Start a server on a new archive in ``work``, upload ``paths``, return the figures."""
    root = work / "archive"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(work / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "--archive", str(root), "ui", "--port", str(port)],
                            cwd=REPO, env=os.environ | {"PYTHONPATH": str(REPO)}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    figures: dict = {}
    try:
        server = streamlit_pid(proc.pid)
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        context = browser.new_context()
        page = context.new_page()
        page.goto(base + "/upload")
        page.get_by_role("button", name="Add to the archive").wait_for(timeout=60_000)
        figures["baseline"] = settled_rss(server, 4)
        peak = Peak(server)
        sent = []  # the uploader PUTs each file to /_stcore/upload_file/...; count the answers
        page.on("requestfinished",
                lambda r: sent.append(r.url) if r.method == "PUT" and "/upload_file/" in r.url else None)
        page.locator('input[type="file"]').set_input_files([str(p) for p in paths])
        deadline = time.monotonic() + 600
        while len(sent) < len(paths) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        figures["files sent"] = rss_mb(server)
        started = time.monotonic()
        page.get_by_role("button", name="Add to the archive").click()
        page.get_by_text("processing has started").wait_for(timeout=600_000)
        figures["submit s"] = time.monotonic() - started
        figures["peak"] = peak.stop()
        deadline = time.monotonic() + 600
        while not batch_finished(root) and time.monotonic() < deadline:
            time.sleep(1)
        figures["after"] = settled_rss(server)
        figures["held"] = held_by_streamlit(base) / MB
        figures["map"] = memory_map(server)
        page.goto(base + "/")  # another page: the Upload page's state is gone
        page.get_by_text("Search", exact=True).first.wait_for(timeout=60_000)
        figures["after, other page"] = settled_rss(server, 6)
        context.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    figures["disk"] = disk(root)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="servers started, one upload each (default 7)")
    parser.add_argument("--files", type=int, default=2)
    parser.add_argument("--mb", type=int, default=150)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it (default: a temporary one)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    work = args.keep or Path(tempfile.mkdtemp(prefix="sanad-upload-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    uploads = work / "uploads"
    uploads.mkdir(exist_ok=True)
    paths = []
    for i in range(args.files):
        path = uploads / f"upload-{i}.bin"
        with open(path, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(MB))
        paths.append(path)

    uploaded = args.files * args.mb
    print(f"{args.runs} runs, each a new server and archive: {args.files} uploads of {args.mb} MB "
          f"through the Upload page (load: {os.getloadavg()[0]:.1f})")
    print("  run  baseline     peak    after  after/baseline  above baseline  falls back  held  "
          "large blocks  heap+arenas  other page  submit")
    results = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for run in range(1, args.runs + 1):
                run_dir = work / f"run-{run}"
                shutil.rmtree(run_dir, ignore_errors=True)
                run_dir.mkdir()
                f = one_run(run_dir, paths, browser)
                above = f["after"] - f["baseline"]
                f["falls back"] = above <= uploaded / 5
                results.append(f)
                back = "yes" if f["falls back"] else "NO"
                print(f"  {run:3}  {f['baseline']:6.0f} MB {f['peak']:5.0f} MB {f['after']:5.0f} MB"
                      f"  {f['after'] / f['baseline']:13.2f}x  {above:+11.0f} MB  {back:>10}"
                      f"  {f['held']:3.0f} MB {f['map']['large blocks']:9.0f} MB {f['map']['heap and arenas']:9.0f} MB"
                      f"  {f['after, other page']:7.0f} MB  {f['submit s']:4.1f} s", flush=True)
                d = f["disk"]
                if run == 1:
                    print(f"       disk: inbox {d['inbox'] / MB:.0f} MB, originals {d['originals'] / MB:.0f} MB, "
                          f"on disk once {d['unique'] / MB:.0f} MB (uploaded {uploaded} MB)")
                if not args.keep:
                    shutil.rmtree(run_dir, ignore_errors=True)
            browser.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if results:
        back = sum(f["falls back"] for f in results)
        ratios = sorted(f["after"] / f["baseline"] for f in results)
        peaks = sorted(f["peak"] / f["baseline"] for f in results)
        print(f"  falls back to within {uploaded / 5:.0f} MB of its baseline: {back}/{len(results)} runs; "
              f"after/baseline {ratios[0]:.2f}-{ratios[-1]:.2f}x (median {ratios[len(ratios) // 2]:.2f}x); "
              f"peak/baseline median {peaks[len(peaks) // 2]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
