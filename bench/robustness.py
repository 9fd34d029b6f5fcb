"""Ingest the whole robustness corpus in one `sanad ingest` call and tabulate the outcomes.

    python -m bench.robustness [--corpus ../shared/corpus/robustness] [--keep DIR]

Prints the outcome of every file grouped by reason, the exit codes of `sanad ingest` and
`sanad verify`, and the wall time. Every failure must carry a reason; none may be lost.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "robustness"

# How a failure message maps to the reason shown in the table, first match wins.
REASONS = [
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


def count_files(corpus: Path) -> int:
    return sum(1 for p in corpus.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(corpus).parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--keep", type=Path, help="archive folder to use and keep (default: a temporary one)")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        archive = args.keep or Path(tmp) / "archive"
        cmd = [sys.executable, "-m", "ui.cli", "--archive", str(archive)]
        env = os.environ | {"PYTHONPATH": str(REPO)}
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        start = time.monotonic()
        proc = subprocess.run([*cmd, "ingest", str(args.corpus), "--json", *jobs], cwd=REPO, env=env,
                              capture_output=True, text=True)
        elapsed = time.monotonic() - start
        rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        verify = subprocess.run([*cmd, "verify"], cwd=REPO, env=env, capture_output=True, text=True)
        listed = subprocess.run([*cmd, "list", "--json"], cwd=REPO, env=env, capture_output=True, text=True)
    docs = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    statuses = Counter(r["status"] for r in rows)
    reasons = Counter(reason(r["error"]) for r in rows if r["status"] == "failed")
    pages = sum(r["pages"] for r in rows if r["status"] == "ingested")
    files_on_disk = count_files(args.corpus)
    print(f"corpus: {args.corpus} ({files_on_disk} files, hidden ones skipped)")
    print(f"sanad ingest: exit {proc.returncode}, {len(rows)} results, {pages} pages, {elapsed:.0f} s"
          f" ({pages / elapsed * 60:.1f} pages/min)")
    print(f"traceback in stderr: {'YES' if 'Traceback' in proc.stderr else 'no'}")
    print()
    print(f"{'outcome':40} {'files':>6}")
    for status in ("ingested", "duplicate"):
        print(f"{status:40} {statuses[status]:6}")
    for label, n in reasons.most_common():
        print(f"{'failed: ' + label:40} {n:6}")
    unexplained = [r for r in rows if r["status"] == "failed" and not r["error"]]
    print(f"\nfailures without a reason: {len(unexplained)}")
    print(f"documents in the catalog: {len(docs)} ({sum(d['status'] == 'failed' for d in docs)} marked failed, kept)")
    print(f"sanad verify: exit {verify.returncode}; {verify.stdout.strip().splitlines()[-1] if verify.stdout.strip() else ''}")
    print("\nfailed files:")
    for r in sorted((r for r in rows if r["status"] == "failed"), key=lambda r: reason(r["error"])):
        print(f"  {reason(r['error']):32} {os.path.relpath(r['path'], args.corpus)[:70]}: {r['error'][:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
