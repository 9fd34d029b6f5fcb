"""Ingest the robustness corpus and a generated set of nasty files in one `sanad ingest` call.

    python -m bench.robustness [--corpus ../shared/corpus/robustness] [--keep DIR] [--jobs N]

The generated files are the ones issue #17 found stopping, hanging or confusing a batch: a ZIP
member named like a folder, a 300-byte member name, '..' and absolute member names, duplicate
names, identical files, a FIFO, a socket, a device, an empty file, a broken link, a ZIP in a
ZIP, a truncated ZIP, odd bytes in a name, a path given twice. Prints the outcome of every file
grouped by reason, the wall time and the peak RSS of the largest process (sanad, a worker or a
tesseract), then runs `sanad verify`. Exits 1 on a traceback, a hang, a path with no line or
two, a failure without a reason, or a verify that does not pass.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "robustness"

# How a failure message maps to the reason shown in the table, first match wins.
REASONS = [
    ("Sanad failed", "INTERNAL ERROR (a bug in Sanad)"),
    ("password", "encrypted / password-protected"),
    ("encrypted", "encrypted / password-protected"),
    ("too large", "too large"),
    ("limit", "too large"),
    ("bomb", "too large"),
    ("more pixels", "too large"),
    ("took longer", "timed out"),
    ("gave up after", "timed out"),
    ("died", "crashed a worker"),
    ("not supported", "unsupported type"),
    ("not valid UTF-8", "unsupported type"),
    ("not a known document", "unsupported type"),
    ("empty", "empty"),
    ("broken link", "broken link"),
    ("nested more than", "ZIP nested too deep"),
    ("too small", "image too small to hold text"),
    ("malformed", "corrupt"),
    ("damaged", "corrupt"),
    ("cannot be", "corrupt"),
    ("no pages", "corrupt"),
]


def reason(error: str | None) -> str:
    text = (error or "").lower()
    for needle, label in REASONS:
        if needle.lower() in text:
            return label
    return "other: " + (error or "no reason given")[:60]


def corpus_files(corpus: Path) -> list[Path]:
    """The files `sanad ingest` finds in the corpus: hidden ones skipped, as it does."""
    out = []
    for folder, dirs, files in os.walk(corpus):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        out += [Path(folder) / f for f in files if not f.startswith(".")]
    return out


def make_nasty(folder: Path) -> list[Path]:
    """The files issue #17 found stopping, hanging or confusing a batch; returns the paths to
    give `sanad ingest` besides the folder itself (a path given twice must get one line)."""
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "folder-named-member.zip", "w") as z:
        z.writestr("a/b.txt", "x")
        z.writestr("a", "y")  # a member named like the folder of the one before
        z.writestr("c.txt", "z")
    with zipfile.ZipFile(folder / "odd-member-names.zip", "w") as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, on purpose here
        z.writestr("ن" * 150 + ".txt", "a 300-byte member name")
        z.writestr("../../escape.txt", "dot dot")
        z.writestr("/etc/absolute.txt", "absolute")
        z.writestr("bell\x07.txt", "a control character")
        z.writestr("same.txt", "first")
        z.writestr("same.txt", "second")
        z.writestr("..", "only dots")
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("inner.txt", "inside a ZIP inside a ZIP")
    with zipfile.ZipFile(folder / "nested.zip", "w") as z:
        z.writestr("inner.zip", inner.getvalue())
        z.writestr("note.txt", "beside the inner ZIP")
    (folder / "truncated.zip").write_bytes((folder / "nested.zip").read_bytes()[:60])
    (folder / "a.txt").write_text("the same bytes twice\n")
    (folder / "b-copy-of-a.txt").write_text("the same bytes twice\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / ("n" * 251 + ".txt")).write_text("the longest name a file system takes")
    with open(os.fsencode(folder) + b"/odd-\xff\xfe-bytes.txt", "wb") as f:
        f.write(b"odd bytes in the name")
    os.mkfifo(folder / "a-fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "a-socket"))
    sock.close()  # the socket file stays
    (folder / "dev-null").symlink_to("/dev/null")
    (folder / "broken-link").symlink_to(folder / "no-such-target")
    return [folder / "a.txt"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", type=Path, help="archive folder to use and keep (default: a temporary one)")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds before the run counts as hung")
    args = parser.parse_args(argv)
    inputs = [args.corpus] if args.corpus.is_dir() else []
    if not inputs:
        print(f"corpus not found: {args.corpus}; running the generated files only", file=sys.stderr)
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        nasty = Path(tmp) / "nasty"
        extra = make_nasty(nasty)
        inputs += [nasty, *extra]
        expected = {display(p) for root in inputs[:-len(extra)] for p in corpus_files(root)}
        archive = args.keep or Path(tmp) / "archive"
        cmd = [sys.executable, "-m", "ui.cli", "--archive", str(archive)]
        env = os.environ | {"PYTHONPATH": str(REPO)}
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        start = time.monotonic()
        try:
            proc = subprocess.run([*cmd, "ingest", *map(str, inputs), "--json", *jobs], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired as exc:
            print(f"sanad ingest HUNG: no exit after {args.timeout:.0f} s", file=sys.stderr)
            proc = subprocess.CompletedProcess(exc.cmd, -1, exc.stdout or "", exc.stderr or "")
            problems.append("hung")
        elapsed = time.monotonic() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        verify = subprocess.run([*cmd, "verify"], cwd=REPO, env=env, capture_output=True, text=True)
        listed = subprocess.run([*cmd, "list", "--json"], cwd=REPO, env=env, capture_output=True, text=True)
        docs = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
        statuses = Counter(r["status"] for r in rows)
        reasons = Counter(reason(r["error"]) for r in rows if r["status"] == "failed")
        skipped = Counter((r["error"] or "").split(",")[0] for r in rows if r["status"] == "skipped")
        pages = sum(r["pages"] for r in rows if r["status"] == "ingested")
        paths = Counter(r["path"] for r in rows)
        twice = sorted(p for p, n in paths.items() if n > 1)
        missing = sorted(expected - {r["path"] for r in rows if not r.get("member_of")})
        orphans = [r["path"] for r in rows if r.get("member_of") and r["member_of"] not in paths]
        unexplained = [r for r in rows if r["status"] in ("failed", "skipped") and not r["error"]]
        print(f"inputs: {', '.join(map(str, inputs))}")
        print(f"files expected: {len(expected)} (hidden ones skipped), plus a line per file inside a ZIP")
        print(f"sanad ingest: exit {proc.returncode}, {len(rows)} lines"
              f" ({sum(1 for r in rows if r.get('member_of'))} for files inside ZIPs), {pages} pages,"
              f" {elapsed:.0f} s wall ({pages / max(elapsed, 1e-9) * 60:.1f} pages/min),"
              f" peak RSS of one process {peak_mb:.0f} MB")
        print(f"traceback in stderr: {'YES' if 'Traceback' in proc.stderr else 'no'}")
        print()
        print(f"{'outcome':48} {'files':>6}")
        for status in ("ingested", "duplicate"):
            print(f"{status:48} {statuses[status]:6}")
        for label, n in reasons.most_common():
            print(f"{'failed: ' + label:48} {n:6}")
        for label, n in skipped.most_common():
            print(f"{'skipped: ' + label[:39]:48} {n:6}")
        print(f"\nfailures without a reason: {len(unexplained)}")
        print(f"paths with more than one line: {len(twice)}; expected paths with no line: {len(missing)};"
              f" member lines without their ZIP's line: {len(orphans)}")
        print(f"documents in the catalog: {len(docs)} ({sum(d['status'] == 'failed' for d in docs)} marked failed, kept)")
        last = verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else verify.stderr.strip()
        print(f"sanad verify: exit {verify.returncode}; {last}")
        print("\nfailed and skipped files:")
        for r in sorted((r for r in rows if r["status"] in ("failed", "skipped")), key=lambda r: reason(r["error"])):
            label = reason(r["error"]) if r["status"] == "failed" else "skipped"
            print(f"  {label:32} {short(r['path'], inputs)[:70]}: {(r['error'] or '')[:120]}")
        if "Traceback" in proc.stderr:
            problems.append("a traceback")
        if proc.returncode not in (0, 1):
            problems.append(f"sanad ingest exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        if statuses["failed"] and proc.returncode != 1:
            problems.append("files failed but the exit status is not 1")
        if unexplained or twice or missing or orphans:
            problems.append(f"{len(unexplained)} unexplained, {len(twice)} reported twice ({twice[:3]}),"
                            f" {len(missing)} without a line ({missing[:3]}), {len(orphans)} orphaned member lines")
        if verify.returncode != 0:
            problems.append(f"sanad verify exited {verify.returncode}")
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def display(path: Path) -> str:
    return os.fsencode(path).decode("utf-8", "replace")


def short(path: str, inputs: list[Path]) -> str:
    for root in inputs:
        if path.startswith(str(root) + "/"):
            return f"{root.name}/{path[len(str(root)) + 1:]}"
    return path


if __name__ == "__main__":
    sys.exit(main())
