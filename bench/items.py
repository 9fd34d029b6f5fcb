"""List item numbers (`۱- ماسک …`) on synthetic letters: how many Sanad reads wrong, with the
item-number pass (ingest/items.py) and without it, the same pages in the same run.

    python -m bench.items [--kinds clean,phone,fax] [--fonts nazli,...] [--letters 2] [--first-seed 200]

The default fonts are the tuning ones and the second tuning set's (bench/ocr.py). Held-out fonts
may be given for the counts, but `--show` (each wrong number) is refused on them: looking is
tuning. An item number is wrong when the OCR line most like its printed line does not begin with
the printed number and its dash.
"""

from __future__ import annotations

import argparse
import re
from concurrent.futures import ProcessPoolExecutor

from bench.ocr import HELD_OUT_FONTS, MORE_TUNING_FONTS, TUNING_FONTS, levenshtein, normalize

_ITEM = re.compile(r"([۰-۹])- ")


def _wrong(job: tuple[int, str, str, bool]) -> list[str]:
    from ingest.letters import degrade, make_letter, render
    from ingest.ocr import OcrSettings, ocr_image

    seed, font, kind, on = job
    letter = make_letter(seed)
    page = render(letter, font)
    text = ocr_image(page if kind == "clean" else degrade(page, kind, seed), OcrSettings(item_numbers=on)).text
    lines = text.splitlines() or [""]
    out = []
    for line in letter.lines:
        if m := _ITEM.match(line):
            closest = min(lines, key=lambda ocr: levenshtein(normalize(ocr), normalize(line)))
            if not closest.startswith(m[1] + "-"):
                out.append(f"{seed:03d}-{font}-{kind}: {line[:30]!r} read {closest[:30]!r}")
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default="clean,phone,fax")
    ap.add_argument("--fonts", default=",".join(TUNING_FONTS + MORE_TUNING_FONTS))
    ap.add_argument("--letters", type=int, default=2, help="letters per font and kind")
    ap.add_argument("--first-seed", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--show", action="store_true", help="list each wrong item number")
    args = ap.parse_args(argv)
    fonts = args.fonts.split(",")
    if args.show and set(fonts) & set(HELD_OUT_FONTS):
        ap.error("--show lists what was read wrong, which is tuning: not on the held-out fonts")
    print(f"fonts {','.join(fonts)}; {args.letters} letter(s) per font and kind from seed {args.first_seed}")
    with ProcessPoolExecutor(args.workers) as pool:
        for kind in args.kinds.split(","):
            jobs = [(seed, font, kind) for font in fonts
                    for seed in range(args.first_seed, args.first_seed + args.letters)]
            wrong = {on: list(pool.map(_wrong, [(*job, on) for job in jobs])) for on in (False, True)}
            items = sum(_items(seed) for seed, _, _ in jobs)
            print(f"{kind:6s} item numbers wrong, of {items}: without the pass {sum(map(len, wrong[False])):3d}, "
                  f"with it {sum(map(len, wrong[True])):3d}; made wrong by it "
                  f"{len(set(sum(wrong[True], [])) - set(sum(wrong[False], [])))}")
            if args.show:
                print("\n".join(sum(wrong[True], [])))


def _items(seed: int) -> int:
    from ingest.letters import make_letter

    return sum(bool(_ITEM.match(line)) for line in make_letter(seed).lines)


if __name__ == "__main__":
    main()
