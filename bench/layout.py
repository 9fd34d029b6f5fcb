"""Layout and word order on letters with side blocks (ingest/letter_blocks.py), Sanad against plain Tesseract.

    python -m bench.layout [--seeds 4] [--fonts kufi,notosans_bold,naskh_bold,dejavu_cond] [--kinds clean,scan]
                           [--show]

Prints, per engine and kind, on the fonts given (default: the fonts held out from all tuning):
CER, lines lost, lines glued (an output line holding two printed lines, as a side block glued to
the line beside it), lines with words out of order (bench.ocr.words_out_of_order), letter
numbers exact. --show prints each page's wrong lines.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.ocr import (HELD_OUT_FONTS, _has_reference, cer, glued_lines, lost_lines, plain_tesseract, sanad,
                       words_out_of_order)
from ingest.letter_blocks import make_block_letter, render_blocks
from ingest.letters import degrade


def _sanad_text(path: str) -> str:
    return sanad(path)[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--fonts", default=",".join(HELD_OUT_FONTS))
    ap.add_argument("--kinds", default="clean,scan")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args(argv)
    fonts, kinds = args.fonts.split(","), args.kinds.split(",")
    with tempfile.TemporaryDirectory(prefix="sanad-layout-") as tmp:
        pages = []
        for seed in range(args.seeds):
            letter, placed = make_block_letter(seed)
            for font in fonts:
                page = render_blocks(placed, font)
                for kind in kinds:
                    path = Path(tmp) / f"{seed}-{font}-{kind}.png"
                    degrade(page, kind, seed).save(path)
                    pages.append((str(path), letter, font, kind))
        paths = [p[0] for p in pages]
        print(f"{len(pages)} block letters: seeds 0-{args.seeds - 1}; fonts {','.join(fonts)}; kinds {','.join(kinds)}")
        with ProcessPoolExecutor(args.workers) as pool:
            runs = {"tesseract -l fas+eng": list(pool.map(plain_tesseract, paths)),
                    "Sanad ocr_image": list(pool.map(_sanad_text, paths))}
    for name, texts in runs.items():
        for kind in kinds:
            idx = [i for i, p in enumerate(pages) if p[3] == kind]
            lost = [lost_lines(pages[i][1].text, texts[i]) for i in idx]
            glued = [glued_lines(pages[i][1].text, texts[i]) for i in idx]
            order = [words_out_of_order(pages[i][1].text, texts[i]) for i in idx]
            refs = sum(_has_reference(pages[i][1].reference, texts[i]) for i in idx)
            lines = sum(len(pages[i][1].lines) for i in idx)
            print(f"{name:22s} {kind:8s} CER {statistics.mean(cer(pages[i][1].text, texts[i]) for i in idx):6.2%}  "
                  f"lost {sum(map(len, lost)):3d}  glued {sum(map(len, glued)):3d}  out of order "
                  f"{sum(map(len, order)):3d} (of {lines} lines)  letter no. {refs}/{len(idx)}")
            if args.show:
                for i, lo, gl, od in zip(idx, lost, glued, order):
                    for label, found in (("lost", lo), ("glued", gl), ("order", od)):
                        for line in found:
                            print(f"    {Path(pages[i][0]).name} {label}: {line}")


if __name__ == "__main__":
    main()
