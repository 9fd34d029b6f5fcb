"""Rebuilds ingest/models/figures.traineddata, the small Tesseract model that reads numbers and codes.

    python -m ingest.figures_train [--lines 600] [--iterations 120000] [--out ingest/models]
    python -m ingest.figures_train --check MODEL [MODEL ...]   # share of fresh lines read exactly

Why a model of its own: Debian's `fas` model has no ٬ (nor ، ٫) in its unicharset, so it writes
the separator of ۵٬۴۰۰٬۰۰۰ as the digit it looks most like, or drops it, and read alone in a crop
it turns a number into garbage (fas and Arabic, psm 7 and 8). The `fas` model is an integer model
and cannot be fine-tuned, so this one is trained from scratch on number lines only.

The model reads pixels left to right and writes a label alphabet of its own (see LABELS): ASCII
digits for Persian, Arabic-Indic and Latin digits alike, `,` for any thousands separator, and
upper-case Latin letters for the letters of letter numbers (ص -> S). Its labels are in visual
order, so the model knows nothing of bidi; ingest/figure_readings.py turns a reading back into
logical order and the page's own digits.

Lines are drawn by the letter renderer (ingest/letters.py) in TRAINING_FONTS only: the tuning
fonts and other free Arabic-script fonts from Debian packages (32 faces and weights), never a font
that bench.ocr evaluates on (HELD_OUT_FONTS there: Noto Kufi Arabic, Noto Sans/Naskh Arabic Bold,
DejaVu Sans Condensed; no weight of Noto Kufi and no Condensed face is used). 3 in 10 of the
Persian-digit lines draw ۴ ۶ ۷ in their Urdu shapes, as some faces do in Persian text. Everything
is seeded: the same command writes the same lines and the same model.

Needs: tesseract, lstmtraining, combine_lang_model (Debian's tesseract-ocr), and the font
packages in FONT_PACKAGES. Took 45 minutes on the shared 2-core machine (lines 3, training 42).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ingest import tesseract
from ingest.letters import FONT_FILES, Fonts

MODEL_NAME = "figures"
MODEL_DIR = Path(__file__).resolve().parent / "models"
FONT_PACKAGES = ("fonts-farsiweb fonts-noto-core fonts-dejavu-core fonts-dejavu-extra fonts-freefarsi "
                 "fonts-sil-scheherazade fonts-sil-lateef fonts-sil-harmattan fonts-lemonada fonts-hosny-amiri")
TRAINING_FONTS = [
    FONT_FILES["nazli"], FONT_FILES["nazlib"], FONT_FILES["titr"], FONT_FILES["homa"],
    FONT_FILES["naskh"], FONT_FILES["notosans"], FONT_FILES["dejavu"],
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/freefarsi/FreeFarsi.ttf",
    "/usr/share/fonts/truetype/freefarsi/FreeFarsi-Bold.ttf",
    "/usr/share/fonts/truetype/scheherazade/Scheherazade-Regular.ttf",
    "/usr/share/fonts/truetype/scheherazade/Scheherazade-Bold.ttf",
    "/usr/share/fonts/opentype/lateef/Lateef-Regular.ttf",
    "/usr/share/fonts/opentype/lateef/Lateef-Bold.ttf",
    "/usr/share/fonts/truetype/harmattan/Harmattan-Regular.ttf",
    "/usr/share/fonts/truetype/harmattan/Harmattan-Bold.ttf",
    "/usr/share/fonts/opentype/lemonada/Lemonada-Regular.otf",
    "/usr/share/fonts/opentype/lemonada/Lemonada-Bold.otf",
    # More faces and weights: the model read faces it had not seen worse than those it had.
    "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf",
    "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Bold.ttf",
    "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Slanted.ttf",
    "/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-BoldSlanted.ttf",
    "/usr/share/fonts/opentype/lateef/Lateef-Light.ttf",
    "/usr/share/fonts/opentype/lateef/Lateef-SemiBold.ttf",
    "/usr/share/fonts/opentype/lateef/Lateef-ExtraBold.ttf",
    "/usr/share/fonts/opentype/lemonada/Lemonada-Light.otf",
    "/usr/share/fonts/opentype/lemonada/Lemonada-SemiBold.otf",
    "/usr/share/fonts/truetype/freefarsi/FreeFarsi-Italic.ttf",
    "/usr/share/fonts/truetype/freefarsi/FreeFarsi-BoldItalic.ttf",
    "/usr/share/fonts/truetype/freefarsi/FreeFarsi-Mono.ttf",
]
# Printed character -> label. Every digit script shares the ten digit labels.
LETTERS = {"ص": "S", "ق": "Q", "م": "M", "د": "D", "ب": "B", "ت": "T", "ک": "K"}
LABELS = {**{c: str(i % 10) for i, c in enumerate("0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")},
          "٬": ",", "،": ",", ",": ",", "/": "/", "-": "-", "٫": ".", ".": ".", **LETTERS}
NET_SPEC = "[1,36,0,1 Ct3,3,16 Mp3,3 Lfys48 Lbx96 O1c1]"  # a deeper stack (Lfx96 Lrx96 Lfx128) learnt 5x slower

_PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC = "٠١٢٣٤٥٦٧٨٩"
# Digits to ASCII and back, so that `tokens` can cut printed text; separators stay as printed.
_TO_ASCII = str.maketrans(_PERSIAN + _ARABIC, "0123456789" * 2)
_BACK = {"fa": str.maketrans("0123456789", _PERSIAN), "ar": str.maketrans("0123456789", _ARABIC)}


# --- lines ---------------------------------------------------------------------------------------

def number_line(rng: random.Random) -> tuple[str, str]:
    """(text as printed, in logical order, script of its digits) of one random number or code."""
    script = rng.choices(["fa", "ar", "latin"], [0.8, 0.08, 0.12])[0]
    kind = rng.choices(["amount", "plain", "reference", "date", "code", "phone", "item", "decimal"],
                       [0.36, 0.14, 0.18, 0.1, 0.08, 0.06, 0.04, 0.04])[0]
    if script == "latin" and kind == "reference":
        kind = "amount"
    if kind == "amount":
        value = rng.choice([rng.randint(1, 99) * 100, rng.randint(1, 999) * 1000, rng.randint(1, 99) * 100_000,
                            rng.randint(1000, 999_999_999), rng.randint(1, 9) * 1_000_000])
        value = max(value, 1000)
        sep = "," if script == "latin" else rng.choices(["٬", "،", ","], [0.85, 0.1, 0.05])[0]
        text = f"{value:,}".replace(",", sep)
    elif kind == "plain":
        text = str(rng.choice([rng.randint(0, 99), rng.randint(100, 9999), rng.randint(1, 9) * 10 ** rng.randint(2, 6),
                               rng.randint(10_000, 9_999_999)]))
    elif kind == "reference":
        number, year = str(rng.randint(1, 99999)), rng.choice([f"{rng.randint(0, 99):02d}", str(rng.randint(1390, 1404))])
        letter = rng.choices(list(LETTERS), [0.5] + [0.5 / (len(LETTERS) - 1)] * (len(LETTERS) - 1))[0]
        text = rng.choice([f"{number}/{letter}/{year}", f"{number}/{letter}/{year}", f"{letter}/{number}/{year}",
                           f"{number}/{year}/{letter}", f"{number}/{letter}"])
    elif kind == "date":
        y = rng.choice([rng.randint(1390, 1404), rng.randint(2015, 2026)])
        m, d = rng.randint(1, 12), rng.randint(1, 31)
        text = rng.choice([f"{y}/{m:02d}/{d:02d}", f"{y}/{m}/{d}", f"{y % 100:02d}/{m}/{d}"])
    elif kind == "code":
        text = f"{rng.randint(1, 99)}/{rng.randint(100, 99999)}"
    elif kind == "phone":
        text = f"{rng.randint(11, 87):03d}-{rng.randint(2000000, 89999999)}"
    elif kind == "item":
        text = f"{rng.randint(1, 19)}-"
    else:
        text = f"{rng.randint(0, 99)}{'٫' if script != 'latin' else '.'}{rng.randint(1, 99)}"
    digits = {"fa": _PERSIAN, "ar": _ARABIC, "latin": "0123456789"}[script]
    return text.translate(str.maketrans("0123456789", digits)), script


def visual_label(text: str, rtl: bool = True) -> str:
    """The label of a printed number or code, in the left-to-right order of its glyphs.

    As bidi lays it out in a right-to-left line: a run of digits, with the separators between
    digits (, . / - and ٬ ،), reads left to right, and the runs and other characters follow one
    another right to left (۱۲۳۴/ص/۹۹ is seen as ۹۹/ص/۱۲۳۴, ۱- as -۱). A Latin line is as typed.
    """
    label = "".join(LABELS[c] for c in text)
    return "".join(reversed(tokens(label))) if rtl else label


def tokens(label: str) -> list[str]:
    """A label cut into digit runs (with separators between digits) and single other characters.
    Reversing their order turns a logical label into a visual one and back."""
    return re.findall(r"\d+(?:[,./\-٬،٫]\d+)*|.", label)


def render_line(text: str, script: str, font: str, rng: random.Random) -> Image.Image:
    """One number drawn as in a letter (the pieces and fonts of ingest/letters.py's renderer), in
    visual order, cropped with a margin like a word box re-read from a page, and damaged at random
    like scans, faxes and phone photos."""
    px = rng.randint(34, 66)
    # Some faces draw ۴ ۶ ۷ in their Urdu shapes even in Persian text (Noto Naskh Arabic has no
    # Persian forms), and the model read an Urdu ۴ as ۲ or ۳. Most faces here have both shapes, and
    # the Urdu ones are drawn when the text is tagged Urdu.
    language = "ur" if script == "fa" and rng.random() < 0.3 else "fa"
    fonts = Fonts(font, px)
    page = Image.new("L", (px * (len(text) + 4), px * 3), 255)
    draw = ImageDraw.Draw(page)
    if script == "latin":
        draw.text((px, 2 * px), text, font=fonts.latin, fill=0, anchor="ls")
    else:
        x = px
        for token in reversed(tokens(text.translate(_TO_ASCII))):
            token = token.translate(_BACK[script])
            for piece, f in fonts.pieces(token):
                rtl = any(c in LETTERS for c in piece)
                draw.text((x, 2 * px), piece, font=f, fill=0, anchor="ls", language=language,
                          direction="rtl" if rtl else None)
                x += draw.textlength(piece, font=f, direction="rtl" if rtl else None)
    box = page.point(lambda v: 255 - v).getbbox()
    if box is None:
        raise ValueError(f"nothing drawn for {text!r}")
    left, top, right, bottom = box
    pad = [rng.randint(2, max(3, px // 3)) for _ in range(4)]
    img = page.crop((max(0, left - pad[0]), max(0, top - pad[1]), right + pad[2], bottom + pad[3]))
    return _damage(img, rng)


def _damage(img: Image.Image, rng: random.Random) -> Image.Image:
    if rng.random() < 0.25:  # a fax or a small photo: half the resolution
        img = img.resize((max(1, img.width // 2), max(1, img.height // 2)), Image.LANCZOS)
    if rng.random() < 0.35:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.4)))
    if rng.random() < 0.2:
        img = img.rotate(rng.uniform(-2, 2), resample=Image.BICUBIC, expand=True, fillcolor=255)
    a = np.asarray(img, dtype=np.float32)
    if rng.random() < 0.3:  # grey paper, grey ink
        a = 30 + a * rng.uniform(0.6, 0.85)
    if rng.random() < 0.3:
        a = a + np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(3, 12), a.shape)
    if rng.random() < 0.1:  # a fax's hard threshold
        a = np.where(a < rng.uniform(110, 170), 0, 255)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=rng.randint(30, 85))
        img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    return img


def write_lines(outdir: Path, fonts: list[str], per_font: int, seed: int) -> list[Path]:
    """Multi-page TIFFs (one line a page) with line boxes for Tesseract's lstm.train; one per font,
    two fonts at a time (each font has its own seed, so the lines do not depend on the order)."""
    outdir.mkdir(parents=True, exist_ok=True)
    jobs = [(outdir, font, per_font, seed, k) for k, font in enumerate(fonts)]
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        return list(pool.map(_font_lines, *zip(*jobs)))


def seeded_lines(font: str, count: int, seed: int, k: int):
    """`count` (image, label) pairs of lines drawn in `font`, the k-th font of a run seeded `seed`."""
    rng, drawn, shown = random.Random(seed * 1000 + k), 0, Fonts(font, 40)
    while drawn < count:
        text, script = number_line(rng)
        if any(shown.font_for(c) is shown.latin for c in text if not c.isascii()):
            continue  # the font lacks a glyph (KacstOne has no ٬): no label for a Latin stand-in
        yield render_line(text, script, font, rng), visual_label(text)
        drawn += 1


def _font_lines(outdir: Path, font: str, per_font: int, seed: int, k: int) -> Path:
    images, boxes = [], []
    for img, label in seeded_lines(font, per_font, seed, k):
        page = len(images)
        # One box per character spanning the line, then a tab: Tesseract's line-box format.
        boxes += [f"{c} 0 0 {img.width} {img.height} {page}" for c in label]
        boxes.append(f"\t {img.width} {img.height} {img.width + 1} {img.height + 1} {page}")
        images.append(img)
    stem = outdir / f"lines-{seed}-{k:02d}"
    images[0].save(f"{stem}.tif", save_all=True, append_images=images[1:], compression="tiff_deflate",
                   dpi=(300, 300))
    Path(f"{stem}.box").write_text("\n".join(boxes) + "\n", encoding="utf-8")
    _run("tesseract", f"{stem}.tif", str(stem), "--psm", "13", "lstm.train")
    return Path(f"{stem}.lstmf")


# --- training ------------------------------------------------------------------------------------

def _run(*cmd: str, log: Path | None = None) -> None:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with open(log or os.devnull, "w") as out:
        done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT if log else subprocess.PIPE,
                              text=True, check=False)
    if done.returncode != 0:
        tail = log.read_text()[-3000:] if log else done.stderr[-3000:]
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({done.returncode}):\n{tail}")


def build(work: Path, out: Path, per_font: int, eval_per_font: int, iterations: int, seed: int) -> Path:
    for tool in ("tesseract", "lstmtraining", "combine_lang_model"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found; install it with: apt-get install tesseract-ocr")
    missing = [f for f in TRAINING_FONTS if not Path(f).exists()]
    if missing:
        raise SystemExit(f"fonts missing ({', '.join(missing)}); install: apt-get install {FONT_PACKAGES}")
    train = write_lines(work / "train", TRAINING_FONTS, per_font, seed)
    evals = write_lines(work / "eval", TRAINING_FONTS, eval_per_font, seed + 1)
    (work / "train.list").write_text("\n".join(map(str, train)) + "\n")
    (work / "eval.list").write_text("\n".join(map(str, evals)) + "\n")
    alphabet = sorted(set(LABELS.values()))
    (work / "alphabet.txt").write_text(" ".join(alphabet) + "\n", encoding="utf-8")
    _run("unicharset_extractor", "--output_unicharset", str(work / "unicharset"), "--norm_mode", "1",
         str(work / "alphabet.txt"))
    (work / "lang" / MODEL_NAME).mkdir(parents=True, exist_ok=True)  # it does not make its folder
    # combine_lang_model insists on a table of Han radicals; one line stands in for langdata's.
    (work / "radical-stroke.txt").write_text("3400\t1.3\n")
    _run("combine_lang_model", "--input_unicharset", str(work / "unicharset"), "--script_dir", str(work),
         "--output_dir", str(work / "lang"), "--lang", MODEL_NAME, "--pass_through_recoder")
    starter = work / "lang" / MODEL_NAME / f"{MODEL_NAME}.traineddata"
    checkpoints = work / "ckpt"
    checkpoints.mkdir(exist_ok=True)
    _run("lstmtraining", "--traineddata", str(starter), "--net_spec", NET_SPEC, "--model_output",
         str(checkpoints / MODEL_NAME), "--learning_rate", "0.002", "--train_listfile", str(work / "train.list"),
         "--eval_listfile", str(work / "eval.list"), "--max_iterations", str(iterations),
         "--target_error_rate", "0.002", "--debug_interval", "0", log=work / "training.log")
    out.mkdir(parents=True, exist_ok=True)
    model = out / f"{MODEL_NAME}.traineddata"
    _run("lstmtraining", "--stop_training", "--continue_from", str(checkpoints / f"{MODEL_NAME}_checkpoint"),
         "--traineddata", str(starter), "--model_output", str(model))
    return model


def check(models: list[Path], fonts: list[str], per_font: int, seed: int = 777) -> dict[Path, dict[str, float]]:
    """Share of fresh lines (a seed training never used) that each model reads exactly, per font.

    The lines are drawn like training lines, in training faces: this says how well a model learnt
    them, not how it reads unseen faces (bench.ocr's held-out letters say that)."""
    lines = [(font, image, label) for k, font in enumerate(fonts)
             for image, label in seeded_lines(font, per_font, seed, k)]
    out = {}
    for model in models:
        read = tesseract.model_lines([image for _, image, _ in lines], model)
        exact: dict[str, list[bool]] = {}
        for (font, _, label), words in zip(lines, read):
            exact.setdefault(font, []).append("".join(text for text, _ in words) == label)
        out[model] = {font: sum(hits) / len(hits) for font, hits in exact.items()}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=None, help="lines per font (600 to train, 15 to --check)")
    ap.add_argument("--eval-lines", type=int, default=30, help="evaluation lines per font (training fonts)")
    ap.add_argument("--iterations", type=int, default=120000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=MODEL_DIR)
    ap.add_argument("--work", type=Path, default=None, help="keep the lines and checkpoints here")
    ap.add_argument("--check", type=Path, nargs="+", metavar="MODEL",
                    help="instead of training, print the share of fresh lines each model reads exactly")
    args = ap.parse_args(argv)
    if args.check:
        fonts = [f for f in TRAINING_FONTS if Path(f).exists()]
        per_font = args.lines or 15
        for model, by_font in check(args.check, fonts, per_font).items():
            mean = sum(by_font.values()) / len(by_font)
            worst = ", ".join(f"{Path(f).stem} {v:.0%}" for f, v in sorted(by_font.items(), key=lambda kv: kv[1])[:5])
            print(f"{model}: {mean:.1%} of {per_font * len(fonts)} lines exact ({len(fonts)} fonts); worst: {worst}")
        return
    per_font = args.lines or 600
    if args.work:
        model = build(args.work, args.out, per_font, args.eval_lines, args.iterations, args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="sanad-figures-") as tmp:
            model = build(Path(tmp), args.out, per_font, args.eval_lines, args.iterations, args.seed)
    print(f"wrote {model}")


if __name__ == "__main__":
    main()
