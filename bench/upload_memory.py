"""What uploads through the web workbench cost the server: its memory, and the archive's disk.

    python -m bench.upload_memory [--files 2] [--mb 150] [--keep DIR]

Starts the real server (`sanad ui`) on a new archive, uploads the files with Chromium through
the Upload page, and prints the Streamlit server's resident memory (VmRSS) before the upload,
once the browser has sent the files, right after "Add to the archive", and once the batch has
finished and the server has settled; then how many bytes the inbox and the originals hold, and
how many of those bytes are on disk once (hard links count once). The files are random bytes:
ingest keeps each as an original and marks it failed (not a document format), which is quick.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    """Bytes of uploads Streamlit's UploadedFileManager holds (its metrics, refreshed every 5 s)."""
    with urllib.request.urlopen(base + "/_stcore/metrics?families=cache_memory_bytes", timeout=10) as r:
        lines = r.read().decode().splitlines()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines if "UploadedFileManager" in line)


def settled_rss(pid: int, seconds: float = 10) -> float:
    """The lowest RSS over a few seconds: freed memory goes back to the system gradually."""
    samples = []
    for _ in range(int(seconds / 0.5)):
        samples.append(rss_mb(pid))
        time.sleep(0.5)
    return min(samples[-4:])


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2)
    parser.add_argument("--mb", type=int, default=150)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it (default: a temporary one)")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    work = args.keep or Path(tempfile.mkdtemp(prefix="sanad-upload-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    root, uploads = work / "archive", work / "uploads"
    uploads.mkdir(exist_ok=True)
    paths = []
    for i in range(args.files):
        path = uploads / f"upload-{i}.bin"
        with open(path, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1 << 20))
        paths.append(path)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log = open(work / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "--archive", str(root), "ui", "--port", str(port)],
                            cwd=REPO, env=os.environ | {"PYTHONPATH": str(REPO)}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    figures = {}
    try:
        server = streamlit_pid(proc.pid)
        for _ in range(120):
            try:
                urllib.request.urlopen(base + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(base + "/upload")
            page.get_by_role("button", name="Add to the archive").wait_for(timeout=60_000)
            figures["before"] = settled_rss(server, 4)
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
            figures["after submit"] = rss_mb(server)
            figures["submit took s"] = time.monotonic() - started
            deadline = time.monotonic() + 600
            while not batch_finished(root) and time.monotonic() < deadline:
                time.sleep(1)
            figures["settled"] = settled_rss(server)
            figures["held"] = held_by_streamlit(base)
            page.goto(base + "/")  # another page: the Upload page's state is gone
            page.get_by_text("Search", exact=True).first.wait_for(timeout=60_000)
            figures["settled, other page"] = settled_rss(server)
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()

    print(f"{args.files} uploads of {args.mb} MB through {base}/upload")
    for name in ("before", "files sent", "after submit", "settled", "settled, other page"):
        print(f"  server RSS {name:20} {figures[name]:7.0f} MB")
    print(f"  held by Streamlit's UploadedFileManager once settled: {figures['held'] / (1 << 20):.0f} MB")
    print(f"  submit to 'processing has started': {figures['submit took s']:.1f} s")
    d = disk(root)
    mb = 1 << 20
    print(f"  inbox {d['inbox'] / mb:.0f} MB, originals {d['originals'] / mb:.0f} MB, "
          f"on disk once {d['unique'] / mb:.0f} MB (uploaded {args.files * args.mb} MB)")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
