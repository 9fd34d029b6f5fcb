"""The one place that runs Tesseract.

`ocr_image` turns a page image into text in reading order plus word boxes, choosing the language
per page and undoing rotation, skew, noise and uneven light when measurement says the page has them.
The choices and thresholds below were measured with `python -m bench.ocr` on synthetic letters
(see bench/letters.py); the figures are quoted where each choice is made.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytesseract
from PIL import Image

from archive.errors import InputError, ToolMissing
from archive.models import WordBox
from ingest import images

# OpenMP threading makes Tesseract 6-9x slower on 2 cores for identical output; callers run one
# Tesseract per core instead. pytesseract's subprocess inherits os.environ.
os.environ["OMP_THREAD_LIMIT"] = "1"

DEBIAN_PACKAGES = "tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng tesseract-ocr-script-arab"

# Invisible direction marks Tesseract wraps around Latin runs in RTL text (fas+eng, Arabic models).
BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[0-9\u06f0-\u06f9\u0660-\u0669]")
_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")


@dataclass
class OcrSettings:
    # Persian model. Clean letters, 5 fonts: fas 3.2% CER, Arabic 3.5% at twice the time,
    # fas+eng 5.1% with a lost line, Arabic+eng 6.8% with 4 lost lines (bench notes in ocr report).
    persian_lang: str = "fas"
    english_lang: str = "eng"
    psm: int = 3  # automatic layout; psm 6 collapsed on noisy pages (55% CER against 27%)
    # Without these two flags Tesseract silently drops whole Persian lines (tesseract#4582).
    keep_noisy_rows: bool = True
    dpi: int | None = None  # resolution hint; None lets the image metadata or Tesseract decide
    # Re-read words that the Persian model wrote with ASCII characters (its way of mangling Latin
    # terms such as N95 and COVID-19) with the English model.
    latin_pass: bool = True
    # Re-read number-like words with a digits-only whitelist.
    digit_pass: bool = False
    # The fas model has no ٬ and reads it as ۳ (۲٬۰۰۰ -> ۲۳۰۰۰); the Arabic script model has it.
    digit_lang: str = "Arabic"
    digit_min_conf: float = 60.0
    clean: bool = True  # median filter / background flattening / deskew / upscaling when measured useful
    # A first pass below this mean word confidence asks OSD for rotation and script. Upright Persian
    # pages score 78-90 even when degraded; English pages read as Persian ~59, upside-down ~29.
    retry_confidence: float = 70.0
    timeout: float = 120.0  # seconds per Tesseract call

    def config(self, psm: int | None = None, extra: str = "") -> str:
        parts = [f"--psm {psm or self.psm}"]
        if self.keep_noisy_rows:
            parts.append("-c textord_noise_rejrows=0 -c textord_noise_rejwords=0")
        if self.dpi:
            parts.append(f"--dpi {self.dpi}")
        if extra:
            parts.append(extra)
        return " ".join(parts)


@dataclass
class OcrResult:
    text: str
    # Boxes are in pixels of the page after EXIF orientation, rotation and deskew (width x height);
    # equal to the given image's pixels unless the page had to be turned or straightened.
    words: list[WordBox] = field(default_factory=list)
    confidence: float | None = None  # mean word confidence, 0-100
    lang: str = ""  # "fa", "en" or "mixed"
    rotation: int = 0  # degrees clockwise that were applied to make the page upright
    width: int = 0  # size of the upright image the word boxes refer to
    height: int = 0


# --- Tesseract availability ----------------------------------------------------------------------

def check_tesseract() -> None:
    """Raise ToolMissing unless a working tesseract with the Persian and English models is present."""
    version = tesseract_version()
    langs = _languages(pytesseract.pytesseract.tesseract_cmd)
    missing = [lang for lang in ("fas", "eng", "osd") if lang not in langs]
    if missing:
        raise ToolMissing(f"Tesseract {version} lacks the language data {', '.join(missing)}; "
                          f"install the Debian packages: {DEBIAN_PACKAGES}")


def tesseract_version() -> str:
    cmd = pytesseract.pytesseract.tesseract_cmd
    if shutil.which(cmd) is None:
        raise ToolMissing(f"tesseract is not installed (looked for {cmd!r}); "
                          f"install the Debian packages: {DEBIAN_PACKAGES}")
    try:
        return str(pytesseract.get_tesseract_version())
    except (pytesseract.TesseractNotFoundError, OSError) as exc:
        raise ToolMissing(f"tesseract cannot be run ({exc}); install the Debian packages: {DEBIAN_PACKAGES}") from exc


@lru_cache(maxsize=4)
def _languages(cmd: str) -> frozenset[str]:
    return frozenset(pytesseract.get_languages())


# --- page OCR ------------------------------------------------------------------------------------

def ocr_image(image: Image.Image, settings: OcrSettings | None = None) -> OcrResult:
    """OCR one page image. Raises ToolMissing without tesseract, InputError for unusable images."""
    settings = settings or OcrSettings()
    check_tesseract()
    try:
        gray = images.to_gray(images.load_upright(image))
    except OSError as exc:
        raise InputError(f"cannot read the image: {exc}") from exc
    gray = images.guard_size(gray)
    if gray.width < 8 or gray.height < 8:
        raise InputError(f"image of {gray.width}x{gray.height} pixels is too small to hold text")

    rotation = 0
    if images.sideways(gray):
        rotation, _ = _osd(gray, settings)
        gray = _turn(gray, rotation)
    page = _prepare(gray, settings)

    read = _read(page.image, settings.persian_lang, settings)
    if read.confidence is None or read.confidence < settings.retry_confidence:
        read, page, rotation = _second_opinion(read, page, gray, rotation, settings)

    if settings.latin_pass and read.lang_code != settings.english_lang:
        _reread_latin(read, page.image, settings)
    if settings.digit_pass:
        _reread_digits(read, page.image, settings)
    words = [_to_original(w, page.scale) for w in read.words]
    text = assemble(words)
    return OcrResult(text=text, words=words, confidence=_mean_conf(words), lang=detect_lang(text),
                     rotation=rotation, width=page.width, height=page.height)


@dataclass
class _Prepared:
    image: Image.Image  # what Tesseract reads
    scale: float  # its pixels per pixel of the upright, deskewed page
    width: int  # size of the upright, deskewed page: the word boxes' coordinate system
    height: int


@dataclass
class _Read:
    words: list[WordBox]
    lang_code: str

    @property
    def confidence(self) -> float | None:
        return _mean_conf(self.words)


def _prepare(gray: Image.Image, settings: OcrSettings) -> _Prepared:
    """Clean the page only where a measurement says it needs it (each step costs time on clean pages)."""
    if not settings.clean:
        return _Prepared(gray, 1.0, gray.width, gray.height)
    # Salt-and-pepper noise: fas 27% CER before a median filter (bench "noise").
    if images.impulse_noise(gray) > images.IMPULSE_NOISE_LIMIT:
        gray = images.denoise(gray)
    # Uneven light: 55% CER with lines lost until the background is flattened (bench "shading").
    if images.shading(gray) > images.SHADING_LIMIT:
        gray = images.even_out(gray)
    # Skew below ~0.3 degrees is harmless; 2 degrees costs ~2 points of CER.
    angle = images.skew_angle(gray)
    if abs(angle) >= images.MIN_SKEW:
        gray = images.deskew(gray, angle)
    width, height = gray.size  # deskewing enlarged the canvas: boxes refer to this page
    factor = images.upscale_factor(gray)
    if factor > 1.05:
        gray = gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.LANCZOS)
    else:
        factor = 1.0
    return _Prepared(gray, factor, width, height)


def _second_opinion(read: _Read, page: _Prepared, gray: Image.Image, rotation: int,
                    settings: OcrSettings) -> tuple[_Read, _Prepared, int]:
    """Low confidence: ask OSD whether the page is upside down or in Latin script, and re-read."""
    osd_rotation, script = _osd(page.image, settings)
    lang = settings.persian_lang if script == "Arabic" else settings.english_lang
    if osd_rotation:
        page = _prepare(_turn(gray, osd_rotation), settings)
        return _read(page.image, lang, settings), page, (rotation + osd_rotation) % 360
    if lang != read.lang_code:
        other = _read(page.image, lang, settings)
        if (other.confidence or 0) > (read.confidence or 0):
            read = other
    return read, page, rotation


def _turn(gray: Image.Image, clockwise: int) -> Image.Image:
    return gray.rotate(-clockwise, expand=True) if clockwise % 360 else gray


def _osd(gray: Image.Image, settings: OcrSettings) -> tuple[int, str]:
    """(degrees to turn clockwise, script name) from Tesseract's orientation and script detection."""
    try:
        out = pytesseract.image_to_osd(gray, config="--psm 0", timeout=settings.timeout)
    except pytesseract.TesseractError:  # too little text to decide: leave the page as it is
        return 0, ""
    rotate = re.search(r"Rotate: (\d+)", out)
    script = re.search(r"Script: (\w+)", out)
    return (int(rotate.group(1)) if rotate else 0), (script.group(1) if script else "")


def _read(gray: Image.Image, lang: str, settings: OcrSettings, psm: int | None = None,
          extra: str = "") -> _Read:
    data = _tsv(gray, lang, settings.config(psm, extra), settings.timeout)
    return _Read(_words(data), lang)


def _tsv(gray: Image.Image, lang: str, config: str, timeout: float) -> dict:
    # An uncompressed PGM file is several times faster to write than the PNG pytesseract would make.
    with tempfile.TemporaryDirectory(prefix="sanad-ocr-") as tmp:
        path = Path(tmp) / "page.pgm"
        gray.save(path)
        try:
            return pytesseract.image_to_data(str(path), lang=lang, config=config, timeout=timeout,
                                             output_type=pytesseract.Output.DICT)
        except pytesseract.TesseractNotFoundError as exc:
            raise ToolMissing(f"tesseract cannot be run; install the Debian packages: {DEBIAN_PACKAGES}") from exc
        except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
            raise InputError(f"OCR did not finish within {timeout:.0f} s: {exc}") from exc
        except pytesseract.TesseractError as exc:
            raise InputError(f"tesseract could not read the image: {exc.message}") from exc


def _words(data: dict) -> list[WordBox]:
    """Word boxes in Tesseract's reading order (right to left within Persian lines)."""
    words, line_ids = [], {}
    for i, raw in enumerate(data["text"]):
        text = clean_text(raw).strip()
        if data["level"][i] != 5 or not text:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        line = line_ids.setdefault(key, len(line_ids))
        words.append(WordBox(text, int(data["left"][i]), int(data["top"][i]), int(data["width"][i]),
                             int(data["height"][i]), float(data["conf"][i]), line))
    return words


# --- second passes over single words ------------------------------------------------------------

def _reread_latin(read: _Read, page: Image.Image, settings: OcrSettings) -> None:
    """The Persian model has no Latin letters and writes N95 as '۱95', COVID-19 as '0۷10-19'.

    Words it wrote with ASCII characters are re-read with the English model; the English reading
    replaces the word only if it contains a Latin letter (a real Latin term, not a number).
    """
    suspects = [i for i, w in enumerate(read.words) if _ASCII_ALNUM.search(w.text)]
    readings = _read_crops(page, [read.words[i] for i in suspects], settings.english_lang, settings)
    for i, (text, conf) in zip(suspects, readings):
        if _LATIN_LETTER.search(text) and conf >= 50:
            w = read.words[i]
            read.words[i] = WordBox(text, w.left, w.top, w.width, w.height, conf, w.line)


def _reread_digits(read: _Read, page: Image.Image, settings: OcrSettings) -> None:
    """Number-like words re-read with a whitelist of Persian digits and separators."""
    suspects = [i for i, w in enumerate(read.words)
                if _DIGIT.search(w.text) and not _LATIN_LETTER.search(w.text)]
    extra = "-c tessedit_char_whitelist=۰۱۲۳۴۵۶۷۸۹/٬-:."
    readings = _read_crops(page, [read.words[i] for i in suspects], settings.digit_lang, settings, extra)
    for i, (text, conf) in zip(suspects, readings):
        w = read.words[i]
        if text and _DIGIT.search(text) and conf >= settings.digit_min_conf:
            read.words[i] = WordBox(text, w.left, w.top, w.width, w.height, conf, w.line)


def _read_crops(page: Image.Image, boxes: list[WordBox], lang: str, settings: OcrSettings,
                extra: str = "") -> list[tuple[str, float]]:
    """Read many word crops with one Tesseract call: stack them, one per line, on a white strip."""
    if not boxes:
        return []
    pad = 12
    crops = [page.crop((max(0, b.left - pad), max(0, b.top - pad),
                        min(page.width, b.left + b.width + pad), min(page.height, b.top + b.height + pad)))
             for b in boxes]
    gap = max(c.height for c in crops)
    width = max(c.width for c in crops) + 2 * pad
    strip = Image.new("L", (width, sum(c.height + gap for c in crops) + gap), 255)
    tops, y = [], gap
    for c in crops:
        strip.paste(c, (pad, y))
        tops.append((y, y + c.height))
        y += c.height + gap
    data = _tsv(strip, lang, settings.config(6, extra), settings.timeout)
    found: list[list[tuple[int, str, float]]] = [[] for _ in crops]
    for i, raw in enumerate(data["text"]):
        text = clean_text(raw).strip()
        if data["level"][i] != 5 or not text:
            continue
        centre = data["top"][i] + data["height"][i] / 2
        for k, (top, bottom) in enumerate(tops):
            if top - gap / 2 <= centre <= bottom + gap / 2:
                found[k].append((data["left"][i], text, float(data["conf"][i])))
                break
    out = []
    for pieces in found:
        if len(pieces) != 1:  # split or empty: the re-read is not comparable to the word
            out.append(("", -1.0))
        else:
            out.append((pieces[0][1], pieces[0][2]))
    return out


# --- text ----------------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """NFC, direction marks removed (they break search and copy-paste); ZWNJ is kept."""
    return unicodedata.normalize("NFC", text).translate(BIDI_MARKS)


def assemble(words: list[WordBox]) -> str:
    """Words joined into lines in Tesseract's reading order, one output line per text line."""
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


def detect_lang(text: str) -> str:
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if arabic + latin == 0:
        return ""
    if latin <= 0.1 * (arabic + latin):
        return "fa"
    if arabic <= 0.1 * (arabic + latin):
        return "en"
    return "mixed"


def _mean_conf(words: list[WordBox]) -> float | None:
    confs = [w.conf for w in words if w.conf >= 0]
    return round(sum(confs) / len(confs), 2) if confs else None


def _to_original(w: WordBox, scale: float) -> WordBox:
    if scale == 1.0:
        return w
    return WordBox(w.text, round(w.left / scale), round(w.top / scale), round(w.width / scale),
                   round(w.height / scale), w.conf, w.line)
