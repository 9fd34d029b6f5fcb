"""What each Tesseract call of a page buys: accuracy and CPU with one call left out at a time.

    python -m bench.calls [--seeds 2] [--fonts kufi,notosans_bold,naskh_bold,dejavu_cond] [--kinds clean,scan]

On synthetic letters (ingest/letters.py) in the fonts given (default: those held out from all
tuning), Sanad's ocr_image is run page by page with all passes, then without each re-read call:
the English re-read of Latin terms, the Arabic-model re-read of disputed numbers (its crops then
go to the Persian model again), both number re-reads, the re-read of lines the page read missed.
For each it prints the CPU seconds a page (Tesseract and Python, summed over the processes) and
CER, lost lines, Latin terms (N95, COVID-19) kept, dates, letter numbers and grouped numbers exact.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.ocr import HELD_OUT_FONTS, Page, make_pages, normalize, score

CONFIGS = {
    "all calls": {},
    "no English re-read of Latin terms": {"latin_pass": False},
    "no Arabic re-read (Persian again)": {"digit_lang": "fas"},
    "no number re-reads": {"digit_pass": False},
    "no missed-line re-read": {"gap_pass": False},
}


def _read(job: tuple[str, dict]) -> tuple[str, float]:
    from PIL import Image

    from ingest.ocr import OcrSettings, ocr_image

    path, options = job
    start = _cpu()
    with Image.open(path) as im:
        text = ocr_image(im, OcrSettings(**options)).text
    return text, _cpu() - start


def _cpu() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def latin_terms(pages: list[Page], texts: list[str]) -> float:
    wanted = found = 0
    for page, text in zip(pages, texts):
        have = normalize(text).split()
        for term in ("N95", "COVID-19"):
            n = normalize(page.letter.text).split().count(term)
            wanted += n
            found += min(n, sum(term in w for w in have))
    return found / max(1, wanted)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fonts", default=",".join(HELD_OUT_FONTS))
    ap.add_argument("--kinds", default="clean,scan")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sanad-calls-") as tmp:
        pages = make_pages(Path(tmp), args.fonts.split(","), args.kinds.split(","))
        print(f"{len(pages)} letters: fonts {args.fonts}; kinds {args.kinds}")
        with ProcessPoolExecutor(args.workers) as pool:
            for name, options in CONFIGS.items():
                out = list(pool.map(_read, [(p.path, options) for p in pages]))
                texts = [t for t, _ in out]
                s = score(pages, texts)
                print(f"{name:36s} CPU {statistics.mean(c for _, c in out):5.2f} s/page  "
                      f"CER {statistics.mean(s['cer']):6.2%}  lost {s['lost']:3d}  Latin {latin_terms(pages, texts):6.1%}  "
                      f"dates {s['date']:6.1%}  letter no. {s['ref']:6.1%}  grouped {s['grouped_strict']:6.1%}")


if __name__ == "__main__":
    main()
