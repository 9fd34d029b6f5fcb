"""Whole-pipeline throughput: `sanad ingest` of scanned letters against bare Tesseract.

    python -m bench.pipeline [--pages 16] [--pdf]

Renders synthetic Persian letters (degraded like scans), then in the same run times
  (a) `sanad ingest --jobs 2` into a fresh archive: sniff, store, rasterize (for --pdf), OCR,
      catalog, index, everything;
  (b) bare Tesseract with the model Sanad reads with: single-threaded `tesseract IMAGE - -l fas` with Sanad's two line-keeping
      flags, two at a time, on the same page images, nothing else;
  (c) the same with plain `-l fas+eng` and default settings (also single-threaded, two at a time),
and prints pages/minute and the ratios a/c (the issue's target: >= 0.90) and a/b.

    python -m bench.pipeline --pages 48 [--batch 4] [--unbatched]

`--batch` sets the ocr_batch setting of (a) (pages a worker OCRs together; its default otherwise);
`--unbatched` adds (a1), the same ingest with ocr_batch = 1 (page by page), in the same run.

    python -m bench.pipeline --ocr-batch 8 [--pages 16]

instead times the OCR stage alone, in the same run: (c) as above; (e) `ocr_image` page by page in
two worker processes; (f) `ocr_images` in two worker processes, each reading --ocr-batch pages at a
time with one Tesseract call per model and pass for the batch; and prints the ratios e/c and f/c.

    python -m bench.pipeline --cluster [--pages 8] [--canned 400]

instead starts a local `sanad scheduler` and two `sanad worker --jobs 1` and, in the same run, times
  (a) `sanad ingest --jobs 2` on the local process pool, and
  (d) `sanad ingest --cluster` on those workers (started before the clock runs, as they would be),
and prints the ratio d/a (target >= 0.90); then the coordinator's own cost: an ingest of --canned
text pages on the cluster whose workers return a ready PageResult (OCR-sized text and word boxes) at
once, so what is timed is staging, Dask's round trips and the single writer's catalog and index
work. From the pages a second it absorbs and a worker's seconds per OCRed page in (d) follows how
many workers one coordinator keeps fed.
Each baseline is timed once before and once after Sanad and the two times averaged. Besides wall
clock, the CPU seconds of all processes each run started are summed (resource.RUSAGE_CHILDREN): on a
machine shared with other work the wall-clock ratios swing (0.6-1.3 in successive runs), the CPU-time
ratios do not; on an idle machine with both cores busy the two agree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _child_cpu() -> float:
    """CPU seconds (user + system) of all finished child processes and their descendants."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Timed:
    """Wall time and CPU time of the processes started inside the block."""

    def __enter__(self):
        self.wall, self.cpu = time.monotonic(), _child_cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.monotonic() - self.wall, _child_cpu() - self.cpu


def run_tesseract(images: list[Path], args: list[str]) -> tuple[float, float]:
    env = os.environ | {"OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> None:
        subprocess.run(["tesseract", str(path), "-", *args], env=env, capture_output=True, check=True)

    with Timed() as t, ThreadPoolExecutor(2) as pool:
        list(pool.map(one, images))
    return t.wall, t.cpu


def run_sanad(files: list[Path], archive: Path, batch: int | None = None) -> tuple[float, float, int]:
    env = os.environ | {"PYTHONPATH": str(REPO)}
    if batch is not None:
        env["SANAD_OCR_BATCH"] = str(batch)
    with Timed() as t:
        proc = subprocess.run([sys.executable, "-m", "ui.cli", "--archive", str(archive), "ingest", *map(str, files),
                               "--jobs", "2", "--json"], cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout, proc.stderr, file=sys.stderr)
        raise SystemExit("sanad ingest failed")
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    bad = [r for r in results if r["status"] != "ingested" or r.get("error")]
    if len(results) != len(files) or bad:
        raise SystemExit(f"sanad ingest did not ingest every file: {bad or results}")
    return t.wall, t.cpu, sum(r["pages"] for r in results)


def _ocr_one(path: str) -> int:
    from PIL import Image

    from ingest.ocr import ocr_image

    with Image.open(path) as im:
        return len(ocr_image(im).text)


def _ocr_batch(paths: list[str]) -> int:
    from PIL import Image

    from ingest.ocr import ocr_images

    images = []
    for p in paths:
        with Image.open(p) as im:
            images.append(im.copy())
    out = ocr_images(images)
    bad = [r for r in out if isinstance(r, Exception)]
    if bad:
        raise bad[0]
    return sum(len(r.text) for r in out)


def run_ocr_stage(images: list[Path], batch: int) -> tuple[float, float]:
    """OCR alone in two worker processes (started inside the timing, as an ingest starts them)."""
    from concurrent.futures import ProcessPoolExecutor

    paths = [str(p) for p in images]
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with Timed() as t, ProcessPoolExecutor(2) as pool:
        if batch <= 1:
            list(pool.map(_ocr_one, paths))
        else:
            list(pool.map(_ocr_batch, [paths[k:k + batch] for k in range(0, len(paths), batch)]))
    return t.wall, t.cpu


def ocr_stage_main(pages: int, batch: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        _, images = make_pages(Path(tmp), pages, False)
        plain = run_tesseract(images, PLAIN_ARGS)
        single = run_ocr_stage(images, 1)
        batched = run_ocr_stage(images, batch)
        plain = [(x + y) / 2 for x, y in zip(plain, run_tesseract(images, PLAIN_ARGS))]
    n = len(images)
    print(f"{n} pages, OCR stage only, 2 processes; load average now {os.getloadavg()[0]:.1f}")
    print(f"{'':52} {'wall clock':>18} {'CPU seconds':>12}")
    for name, (wall, cpu) in (("(c) tesseract -l fas+eng defaults, 2 at a time", plain),
                              ("(e) ocr_image, page by page", single),
                              (f"(f) ocr_images, {batch} pages a batch", batched)):
        print(f"{name:52} {n / wall * 60:7.1f} pages/min {cpu:12.1f}")
    for name, (wall, cpu) in (("e/c", single), ("f/c", batched)):
        print(f"ratio {name}: wall {plain[0] / wall:.2f}, CPU {plain[1] / cpu:.2f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=16)
    parser.add_argument("--pdf", action="store_true", help="ingest the pages as one scanned PDF (adds rasterizing)")
    parser.add_argument("--cluster", action="store_true", help="a local cluster against the local process pool")
    parser.add_argument("--canned", type=int, default=400, help="pages for the coordinator's cost (with --cluster)")
    parser.add_argument("--batch", type=int, default=None, help="the ocr_batch setting for (a)")
    parser.add_argument("--unbatched", action="store_true", help="also time (a1): the ingest with ocr_batch 1")
    parser.add_argument("--ocr-batch", type=int, default=0, help="time the OCR stage alone, batched this many pages")
    args = parser.parse_args(argv)
    if args.ocr_batch:
        return ocr_stage_main(args.pages, args.ocr_batch)
    if args.cluster:
        from bench.cluster import main as cluster_main

        return cluster_main(args, make_pages, run_sanad)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files, images = make_pages(folder, args.pages, args.pdf)
        # Baselines before and after Sanad, averaged: the machine is shared, and load that comes
        # or goes during the run then weighs on all three figures alike.
        limit = run_tesseract(images, LIMIT_ARGS)
        plain = run_tesseract(images, PLAIN_ARGS)
        sanad_wall, sanad_cpu, pages = run_sanad(files, folder / "archive", args.batch)
        single = run_sanad(files, folder / "archive-1", 1) if args.unbatched else None
        plain = [(x + y) / 2 for x, y in zip(plain, run_tesseract(images, PLAIN_ARGS))]
        limit = [(x + y) / 2 for x, y in zip(limit, run_tesseract(images, LIMIT_ARGS))]
    n = len(images)
    if pages != n:
        raise SystemExit(f"sanad ingested {pages} pages, expected {n}")
    per_min = lambda seconds: n / seconds * 60  # noqa: E731
    print(f"{n} pages ({'one scanned PDF' if args.pdf else 'PNG files'}), 2 cores; load average now "
          f"{os.getloadavg()[0]:.1f} (above ~2.5 other work shares the cores: trust the CPU-time ratios)")
    print(f"{'':52} {'wall clock':>18} {'CPU seconds':>12}")
    from archive.settings import BY_NAME

    batch = args.batch if args.batch is not None else BY_NAME["ocr_batch"].default
    rows = [(f"(a) sanad ingest --jobs 2, ocr_batch {batch}", (sanad_wall, sanad_cpu)),
            ("(b) tesseract -l fas + 2 flags, 2 at a time", limit),
            ("(c) tesseract -l fas+eng defaults, 2 at a time", plain)]
    if single:
        rows.insert(1, ("(a1) sanad ingest --jobs 2, ocr_batch 1", single[:2]))
    for name, (wall, cpu) in rows:
        print(f"{name:52} {per_min(wall):7.1f} pages/min {cpu:12.1f}")
    print(f"ratio a/c, the issue's target (>= 0.90): wall {plain[0] / sanad_wall:.2f}, CPU {plain[1] / sanad_cpu:.2f}")
    if single:
        print(f"ratio a1/c, page by page: wall {plain[0] / single[0]:.2f}, CPU {plain[1] / single[1]:.2f}")
    print(f"ratio a/b, against the model Sanad reads with: wall {limit[0] / sanad_wall:.2f}, CPU {limit[1] / sanad_cpu:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
