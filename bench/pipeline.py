"""Whole-pipeline throughput: `sanad ingest` of scanned letters against bare Tesseract.

    python -m bench.pipeline [--pages 16] [--pdf]

Renders synthetic Persian letters (degraded like scans), then in the same run times
  (a) `sanad ingest --jobs 2` into a fresh archive: sniff, store, rasterize (for --pdf), OCR,
      catalog, index, everything;
  (b) bare Tesseract with the model Sanad reads with: single-threaded `tesseract IMAGE - -l fas` with Sanad's two line-keeping
      flags, two at a time, on the same page images, nothing else;
  (c) the same with plain `-l fas+eng` and default settings (also single-threaded, two at a time),
and prints pages/minute and the ratios a/c (the issue's target: >= 0.90) and a/b.
Each baseline is timed once before and once after Sanad and the two times averaged.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FONTS = ["nazli", "titr", "naskh", "notosans"]  # names from bench.letters.FONT_FILES
KINDS = ["clean", "scan", "blur", "shading"]


def make_pages(folder: Path, count: int, as_pdf: bool) -> tuple[list[Path], list[Path]]:
    """Returns (files to ingest, page images for the Tesseract baselines)."""
    from bench.letters import degrade, make_letter, render

    images = []
    for i in range(count):
        page = degrade(render(make_letter(100 + i), FONTS[i % len(FONTS)]), KINDS[i % len(KINDS)], seed=i)
        path = folder / f"page-{i:03d}.png"
        page.convert("L").save(path)
        images.append(path)
    if not as_pdf:
        return images, images
    from PIL import Image

    pdf = folder / "letters.pdf"
    pages = [Image.open(p).convert("RGB") for p in images]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=300)
    return [pdf], images


LIMIT_ARGS = ["-l", "fas", "-c", "textord_noise_rejrows=0", "-c", "textord_noise_rejwords=0"]
PLAIN_ARGS = ["-l", "fas+eng"]


def run_tesseract(images: list[Path], args: list[str]) -> float:
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run(["tesseract", str(path), "-", *args], env=env, capture_output=True, check=True)

    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, images))
    return time.monotonic() - start


def run_sanad(files: list[Path], archive: Path) -> tuple[float, int]:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ui.cli", "--archive", str(archive), "ingest", *map(str, files),
                           "--jobs", "2", "--json"], cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        raise SystemExit("sanad ingest failed")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    bad = [r for r in results if r["status"] != "ingested" or r.get("error")]
    if len(results) != len(files) or bad:
        raise SystemExit(f"sanad ingest did not ingest every file: {bad or results}")
    return elapsed, sum(r["pages"] for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--pdf", action="store_true", help="ingest the pages as one scanned PDF (adds rasterizing)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, images = make_pages(folder, args.pages, args.pdf)
        # Baselines before and after Sanad, averaged: the machine is shared, and load that comes
        # or goes during the run then weighs on all three figures alike.
        limit = run_tesseract(images, LIMIT_ARGS)
        plain = run_tesseract(images, PLAIN_ARGS)
        sanad, pages = run_sanad(files, folder / "archive")
        plain = (plain + run_tesseract(images, PLAIN_ARGS)) / 2
        limit = (limit + run_tesseract(images, LIMIT_ARGS)) / 2
    n = len(images)
    if pages != n:
        raise SystemExit(f"sanad ingested {pages} pages, expected {n}")
    per_min = lambda seconds: n / seconds * 60  # noqa: E731
    print(f"{n} pages ({'one scanned PDF' if args.pdf else 'PNG files'}), 2 cores")
    print(f"{'(a) sanad ingest --jobs 2, whole pipeline':52} {per_min(sanad):7.1f} pages/min")
    print(f"{'(b) tesseract -l fas + 2 flags, 2 at a time':52} {per_min(limit):7.1f} pages/min")
    print(f"{'(c) tesseract -l fas+eng defaults, 2 at a time':52} {per_min(plain):7.1f} pages/min")
    print(f"ratio a/c, the issue's target (>= 0.90): {plain / sanad:.2f}")
    print(f"ratio a/b, against the model Sanad reads with: {limit / sanad:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
