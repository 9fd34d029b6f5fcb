"""The one module that runs Tesseract (through pytesseract) and builds its command lines.

Modelled on OCRmyPDF's `_exec/tesseract.py`: a version and language probe that says which Debian
package to install, one function per kind of output, and a time limit on every call.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import pytesseract
from PIL import Image

from archive.errors import InputError, TimedOut, ToolMissing

DEBIAN_PACKAGES = "tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng tesseract-ocr-script-arab"
# The Debian package that ships each model Sanad reads with (the Arabic-script model is
# installed as `Arabic`, not `script/Arabic`).
LANGUAGE_PACKAGES = {"fas": "tesseract-ocr-fas", "eng": "tesseract-ocr-eng", "osd": "tesseract-ocr-osd",
                     "Arabic": "tesseract-ocr-script-arab"}
REQUIRED_LANGUAGES = ("fas", "eng", "osd")


def check(langs: tuple[str, ...] = REQUIRED_LANGUAGES) -> str:
    """The Tesseract version; ToolMissing, naming the package to install, without it or a model."""
    found = version()
    missing = [lang for lang in langs if lang not in languages()]
    if missing:
        packages = " ".join(LANGUAGE_PACKAGES.get(lang, f"tesseract-ocr-{lang}") for lang in missing)
        raise ToolMissing(f"Tesseract {found} lacks the language data {', '.join(missing)}; "
                          f"install it with: apt-get install {packages}")
    return found


def version() -> str:
    return _version(pytesseract.pytesseract.tesseract_cmd)


def languages() -> frozenset[str]:
    return _languages(pytesseract.pytesseract.tesseract_cmd)


@lru_cache(maxsize=4)
def _version(cmd: str) -> str:
    # Cached per command: `tesseract --version` is a process start, and every page checks.
    if shutil.which(cmd) is None:
        raise ToolMissing(f"tesseract is not installed (looked for {cmd!r}); "
                          f"install it with: apt-get install {DEBIAN_PACKAGES}")
    try:
        return str(pytesseract.get_tesseract_version())
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise ToolMissing(f"tesseract cannot be run ({exc}); install it with: apt-get install {DEBIAN_PACKAGES}") from exc


@lru_cache(maxsize=4)
def _languages(cmd: str) -> frozenset[str]:
    return frozenset(pytesseract.get_languages())


def config(psm: int, *, keep_noisy_rows: bool = True, dpi: int | None = None) -> str:
    """The option string of one call."""
    parts = [f"--psm {psm}"]
    if keep_noisy_rows:
        # Without these two flags Tesseract silently drops whole Persian lines (tesseract#4582).
        parts.append("-c textord_noise_rejrows=0 -c textord_noise_rejwords=0")
    if dpi:
        parts.append(f"--dpi {dpi}")
    return " ".join(parts)


def data(image: Image.Image, lang: str, psm: int, *, keep_noisy_rows: bool = True, dpi: int | None = None,
         timeout: float = 120.0) -> dict:
    """Tesseract's TSV output (word, line and block rows) as pytesseract's dict of columns."""
    options = config(psm, keep_noisy_rows=keep_noisy_rows, dpi=dpi)
    return _run(pytesseract.image_to_data, image, lang=lang, config=options, timeout=timeout,
                output_type=pytesseract.Output.DICT)


def orientation(image: Image.Image, timeout: float = 120.0) -> tuple[int, str]:
    """(degrees to turn clockwise, script name) from orientation and script detection; (0, "")
    when the page holds too little text to decide."""
    try:
        out = _run(pytesseract.image_to_osd, image, config="--psm 0", timeout=timeout)
    except InputError as exc:
        if isinstance(exc, TimedOut):
            raise
        return 0, ""
    rotate = re.search(r"Rotate: (\d+)", out)
    script = re.search(r"Script: (\w+)", out)
    return (int(rotate.group(1)) if rotate else 0), (script.group(1) if script else "")


def _run(call, image: Image.Image, *, timeout: float, **kwargs):
    # pytesseract passes os.environ to the process and has no env parameter. OpenMP threading
    # makes Tesseract 6-9x slower on 2 cores for identical output, so unless the caller chose a
    # value, one thread per process: set here, at the call, not when a module is imported.
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    # An uncompressed PGM file is several times faster to write than the PNG pytesseract would make.
    with tempfile.TemporaryDirectory(prefix="sanad-ocr-") as tmp:
        path = Path(tmp) / "page.pgm"
        image.save(path)
        return _call(call, str(path), timeout=timeout, **kwargs)


def _call(call, path: str, *, timeout: float, **kwargs):
    try:
        return call(path, timeout=timeout, **kwargs)
    except pytesseract.TesseractNotFoundError as exc:
        raise ToolMissing(f"tesseract cannot be run; install it with: apt-get install {DEBIAN_PACKAGES}") from exc
    except pytesseract.TesseractError as exc:
        raise InputError(f"tesseract could not read the image: {exc.message}") from exc
    except RuntimeError as exc:
        # pytesseract's timeout. TesseractError is a RuntimeError too, hence the order: the old
        # wrapper caught it here and reported a failed read as a timeout.
        raise TimedOut(f"OCR did not finish within {timeout:.0f} s: {exc}") from exc


def data_many(images: list[Image.Image], lang: str, psm: int, *, keep_noisy_rows: bool = True,
              dpi: int | None = None, timeout: float = 120.0) -> list[dict]:
    """`data` for many images with one Tesseract process: the model is loaded once.

    Tesseract reads a text file that lists image paths as one input of many pages; its TSV rows
    carry the page number, by which they are handed back per image. Loading a model costs a
    process 0.16 s of CPU (eng) or 0.20 s (Arabic) against 0.03 s (fas), on pages that take about
    1 s to read: a re-read per page and model paid it again every time.
    """
    if len(images) == 1:
        return [data(images[0], lang, psm, keep_noisy_rows=keep_noisy_rows, dpi=dpi, timeout=timeout)]
    options = config(psm, keep_noisy_rows=keep_noisy_rows, dpi=dpi)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    with tempfile.TemporaryDirectory(prefix="sanad-ocr-") as tmp:
        paths = []
        for k, image in enumerate(images):
            path = Path(tmp) / f"{k:05d}.pgm"
            image.save(path)
            paths.append(str(path))
        listing = Path(tmp) / "pages.txt"
        listing.write_text("\n".join(paths) + "\n", encoding="utf-8")
        out = _call(pytesseract.image_to_data, str(listing), lang=lang, config=options,
                    timeout=timeout * len(images), output_type=pytesseract.Output.DICT)
    per_page: list[dict] = [{key: [] for key in out} for _ in images]
    for i, page in enumerate(out["page_num"]):
        if 1 <= int(page) <= len(images):
            for key, column in out.items():
                per_page[int(page) - 1][key].append(column[i])
    return per_page


def model_lines(images: list[Image.Image], model: Path, psm: int = 13, *,
                timeout: float = 120.0) -> list[list[tuple[str, float]]]:
    """Each image read as one text line with a model Sanad ships, all in one Tesseract call (a
    list file of image paths: the model is loaded once): the (text, confidence) of its words.

    Stacking the crops on one strip instead (psm 6) lost the first glyph of many numbers to the
    layout analysis (۱۳۹۹/۱۰/۲۸ read as 399/10/28), which a raw line read (psm 13) keeps.
    """
    if not model.is_file():
        raise ToolMissing(f"the model {model} is missing; rebuild it with: python -m ingest.figures_train")
    if not images:
        return []
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    options = f"--tessdata-dir {shlex.quote(str(model.parent))} --psm {psm}"
    with tempfile.TemporaryDirectory(prefix="sanad-ocr-") as tmp:
        paths = []
        for k, image in enumerate(images):
            paths.append(Path(tmp) / f"{k:05d}.pgm")
            image.save(paths[-1])
        listing = Path(tmp) / "images.txt"
        listing.write_text("".join(f"{p}\n" for p in paths), encoding="utf-8")
        out = _call(pytesseract.image_to_data, str(listing), lang=model.stem, config=options,
                    timeout=timeout, output_type=pytesseract.Output.DICT)
    found: list[list[tuple[str, float]]] = [[] for _ in images]
    for i, text in enumerate(out["text"]):
        page = int(out["page_num"][i]) - 1
        if out["level"][i] == 5 and text.strip() and 0 <= page < len(found):
            found[page].append((text.strip(), float(out["conf"][i])))
    return found
