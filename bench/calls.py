"""What each Tesseract call of a page buys: accuracy and CPU with one call left out at a time.

    python -m bench.calls [--tuning] [--letters 1] [--fonts ...] [--kinds clean,photocopy,phone,fax]

On synthetic letters (ingest/letters.py) of issue #13's types, in the fonts held out from all
tuning (seeds from 50,000), or with --tuning in the tuning fonts (seeds from 0: choose by these),
Sanad's ocr_image is run page by page with its default passes, then with the number crops that
are off by default (Persian and Arabic models; Persian alone), and without each other re-read
call in turn: the English re-read of Latin terms, the figures model's crops, the re-read of
lines the page read missed, the re-read of lines it read at low confidence; and without the glyph separator pass (no call, Python only). For
each it prints the CPU seconds a page, Tesseract's and Python's (summed over the processes), and
CER, lost lines, Latin terms (N95, COVID-19) as words, dates, letter numbers and grouped amounts
exact.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.ocr import EVAL_SEED, HELD_OUT_FONTS, TUNING_FONTS, make_pages, score
from ingest.letters import LETTER_TYPES

CONFIGS = {
    "default calls": {},
    "no English re-read of Latin terms": {"latin_pass": False},
    "with number crops (Persian, Arabic)": {"digit_pass": True},
    "with number crops (Persian only)": {"digit_pass": True, "digit_lang": "fas"},
    "no figures-model crops": {"figures_pass": False},
    "no missed-line re-read": {"gap_pass": False},
    "no weak-line re-read": {"weak_line_pass": False},
    "no glyph separators (no call)": {"separator_pass": False},
}


def _read(job: tuple[str, dict]) -> tuple[str, float, float]:
    from PIL import Image

    from ingest.ocr import OcrSettings, ocr_image

    path, options = job
    own, tesseract = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    with Image.open(path) as im:
        text = ocr_image(im, OcrSettings(**options)).text
    return text, _cpu(resource.RUSAGE_SELF) - own, _cpu(resource.RUSAGE_CHILDREN) - tesseract


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tuning", action="store_true", help="the tuning fonts and seeds (to choose by)")
    ap.add_argument("--fonts", default=None, help="comma-separated (default: held out, or tuning with --tuning)")
    ap.add_argument("--kinds", default=",".join(["clean", *LETTER_TYPES]))
    ap.add_argument("--letters", type=int, default=1, help="letters per font and kind")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    fonts = args.fonts.split(",") if args.fonts else TUNING_FONTS if args.tuning else HELD_OUT_FONTS
    held = all(f in HELD_OUT_FONTS for f in fonts)
    with tempfile.TemporaryDirectory(prefix="sanad-calls-") as tmp:
        pages = make_pages(Path(tmp), fonts, args.kinds.split(","), 0 if args.tuning else EVAL_SEED, args.letters)
        print(f"{len(pages)} letters: fonts {','.join(fonts)} ({'held out' if held else 'NOT all held out'}); "
              f"kinds {args.kinds}; seeds from {0 if args.tuning else EVAL_SEED}")
        with ProcessPoolExecutor(args.workers) as pool:
            for name, options in CONFIGS.items():
                out = list(pool.map(_read, [(p.path, options) for p in pages]))
                texts = [t for t, _, _ in out]
                s = score(pages, texts)
                print(f"{name:36s} CPU {statistics.mean(a + b for _, a, b in out):5.2f} s/page "
                      f"(Tesseract {statistics.mean(b for _, _, b in out):4.2f})  "
                      f"CER {statistics.mean(s['cer']):6.2%}  lost {s['lost']:3d}  Latin {s['latin']:6.1%}  "
                      f"dates {s['date']:6.1%}  letter no. {s['ref']:6.1%}  grouped {s['grouped_strict']:6.1%}")


if __name__ == "__main__":
    main()
