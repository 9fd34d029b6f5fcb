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
from ingest.textclean import detect_lang, strip_bidi

# OpenMP threading makes Tesseract 6-9x slower on 2 cores for identical output; callers run one
# Tesseract per core instead. pytesseract's subprocess inherits os.environ.
os.environ["OMP_THREAD_LIMIT"] = "1"

DEBIAN_PACKAGES = "tesseract-ocr tesseract-ocr-fas tesseract-ocr-eng tesseract-ocr-script-arab"

# Invisible direction marks Tesseract wraps around Latin runs in RTL text (fas+eng, Arabic models).
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
    # Re-read dates, letter numbers and numbers the page read broke up, inside a crop of their line,
    # and let the readings vote (see _check_numbers).
    digit_pass: bool = True
    digit_lang: str = "Arabic"  # reads the crops too when the Persian model's readings of a date disagree
    # Re-read every band of ink rows in which the layout analysis found no word, so that no printed
    # line can vanish from the text without an attempt to read it.
    gap_pass: bool = True
    clean: bool = True  # median filter / background flattening / deskew / upscaling when measured useful
    # A first pass below this mean word confidence asks OSD for rotation and script. Upright Persian
    # pages score 78-90 even when degraded; English pages read as Persian ~59, upside-down ~29.
    retry_confidence: float = 70.0
    timeout: float = 120.0  # seconds per Tesseract call

    def config(self, psm: int | None = None) -> str:
        parts = [f"--psm {psm or self.psm}"]
        if self.keep_noisy_rows:
            parts.append("-c textord_noise_rejrows=0 -c textord_noise_rejwords=0")
        if self.dpi:
            parts.append(f"--dpi {self.dpi}")
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
    return _version(pytesseract.pytesseract.tesseract_cmd)


@lru_cache(maxsize=4)
def _version(cmd: str) -> str:
    # Cached: `tesseract --version` is a process start, and ocr_image checks before every page.
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
    if settings.gap_pass:
        _read_gaps(read, page.image, settings)
    if settings.digit_pass:
        _check_numbers(read, page.image, settings)
    words = [_to_original(w, page.scale) for w in _rtl_order(read.words)]
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


def _read(gray: Image.Image, lang: str, settings: OcrSettings) -> _Read:
    data = _tsv(gray, lang, settings.config(), settings.timeout)
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


def _rtl_order(words: list[WordBox]) -> list[WordBox]:
    """Words of each Persian line in right-to-left order, Latin runs left to right inside it.

    Tesseract orders a line by its majority direction: a short line that is mostly digits
    (`تلفن: ۰۲۱-۸۸۷۷۶۶۵۵`, `شماره: ۱۲۳۴/ص/۹۹`) came out number first, and the reversed line then
    failed to match its ground truth (4 of 11 lost lines in bench.ocr). In a right-to-left line,
    numbers separated by spaces are also placed right to left (Unicode bidi rule W7 with an R
    context), only Latin words keep left-to-right order among themselves.
    """
    lines: dict[int, list[WordBox]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w)
    out: list[WordBox] = []
    for line in lines.values():
        if not any(_ARABIC_LETTER.search(w.text) for w in line):
            out.extend(line)
            continue
        ordered = sorted(line, key=lambda w: -(w.left + w.width / 2))
        run: list[WordBox] = []
        for w in ordered:
            if _LATIN_LETTER.search(w.text) and not _ARABIC_LETTER.search(w.text):
                run.append(w)
                continue
            out.extend(reversed(run))
            run = []
            out.append(w)
        out.extend(reversed(run))
    return out


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


_DATE = re.compile(r"[0-9\u06f0-\u06f9\u0660-\u0669]+(?:/[0-9\u06f0-\u06f9\u0660-\u0669]+)+")
_TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_TO_ASCII = str.maketrans({**{c: str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")},
                           **{c: str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}})


def valid_date(text: str) -> bool:
    """y/m/d with a Jalali (1300-1499) or Gregorian (1900-2099) year, or d/m/y the other way round."""
    parts = text.translate(_TO_ASCII).split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    if len(parts[0]) != 4 and len(parts[2]) == 4:
        parts = parts[::-1]
    y, m, d = (int(p) for p in parts)
    if len(parts[0]) != 4 or not (1300 <= y <= 1499 or 1900 <= y <= 2099):
        return False
    return 1 <= m <= 12 and 1 <= d <= 31 and len(parts[1]) <= 2 and len(parts[2]) <= 2


def _check_numbers(read: _Read, page: Image.Image, settings: OcrSettings) -> None:
    """Dates, letter numbers and numbers the page read broke up are read again, and readings vote.

    In the page read, digits of dates come out wrong in ways no validity check catches (۱۴۰۰ as
    ۱۳۰۰, day ۲۰ as ۳۰), while the same line cropped and read alone (psm 7) usually comes out
    right: bench.ocr --quick found all five such errors on pages in Persian-digit fonts put right
    by the majority of the readings below, and none made wrong.
    1. Each number is read once more with the Persian model inside a crop of its line, as it is
       and enlarged 1.5 times (one Tesseract call for all: the crops are stacked on one strip).
    2. Where those readings leave a date or letter number unsettled, the Arabic model reads its
       crops and those of the broken numbers (one more call; settled dates are left out).
    3. A date takes the valid date read most often (a tie keeps the page's own reading). A letter
       number the page read garbled, typically in visual order with the letter lost, is taken from
       a reading that has the digits/letter/digits shape. A number the page read as low-confidence
       pieces (a phone number as ۰ ۳۷-۷ ٩۷0۵ ۷) takes the reading two line readings agree on.
    """
    _join_references(read)
    groups = [[i] for i, w in enumerate(read.words) if _slashed_number(w.text)]
    groups += _broken_numbers(read.words)
    if not groups:
        return
    crops: list[list[Image.Image]] = []
    for group in groups:
        crop = page.crop(_union(_neighbourhood(read.words, group), 20, page))
        crops.append([crop, crop.resize((round(crop.width * 1.5), round(crop.height * 1.5)), Image.LANCZOS)])
    readings = _read_lines(crops, settings.persian_lang, settings)
    again = _unsettled(read.words, groups, readings)
    if again:
        for k, found in zip(again, _read_lines([crops[k] for k in again], settings.digit_lang, settings)):
            readings[k] += found
    drop: set[int] = set()
    for group, found in zip(groups, readings):
        text = _resolve(read.words, group, found)
        if text is None:
            continue
        ws = [read.words[i] for i in group]
        left, top, right, bottom = _union(ws, 0, page)
        read.words[group[0]] = WordBox(text, left, top, right - left, bottom - top,
                                       min(w.conf for w in ws), ws[0].line)
        drop.update(group[1:])
    read.words = [w for i, w in enumerate(read.words) if i not in drop]


def _unsettled(words: list[WordBox], groups: list[list[int]], readings: list[list[str]]) -> list[int]:
    """The groups the Arabic model reads: none if the Persian readings settled every date and letter
    number; otherwise those not settled and the broken numbers. A date the Persian readings
    confirmed would keep its reading whatever the Arabic model says (three readings to its two):
    leaving it out of the strip saves over a quarter of that call's recognition, for the same CER,
    dates and letter numbers on bench.ocr --quick.
    """
    if all(_settled(words, g, r) for g, r in zip(groups, readings)):
        return []
    return [k for k, g in enumerate(groups) if not _settled(words, g, readings[k]) or not _is_date(words, g)]


def _read_lines(crops: list[list[Image.Image]], lang: str, settings: OcrSettings) -> list[list[str]]:
    """One reading per crop (the text of its words), grouped as given, all in one Tesseract call."""
    pieces = iter(_read_strip([c for group in crops for c in group], lang, settings))
    return [[" ".join(t for t, _ in next(pieces)) for _ in group] for group in crops]


def _is_date(words: list[WordBox], group: list[int]) -> bool:
    """A group of one slashed word (a date or a letter number), not a run of a broken number."""
    return len(group) == 1 and "/" in words[group[0]].text


def _settled(words: list[WordBox], group: list[int], readings: list[str]) -> bool:
    # Broken numbers never call for the Arabic model on their own: they are on most scanned pages,
    # and the extra call there cost more than 10% of the page's OCR time.
    return not _is_date(words, group) or _date_settled(words[group[0]].text, readings)


def _resolve(words: list[WordBox], group: list[int], readings: list[str]) -> str | None:
    """The text that replaces the group's words, or None to keep them."""
    if _is_date(words, group):
        return _vote(words[group[0]].text, readings)
    return _agreed_number(words, group, readings)


_NUMBER_PIECE = re.compile(r"[\d\-٬,.]*\d[\d\-٬,.]*")  # a word of digits and separators
_NUMBER = re.compile(r"\d(?:[\d\-٬,.]*\d)?")  # a number inside a reading


def _broken_numbers(words: list[WordBox]) -> list[list[int]]:
    """Runs of adjacent words on a line made of digits and separators only (no slash: dates are
    checked on their own) that look broken: more than one piece, or one read with low confidence."""
    lines: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        lines.setdefault(w.line, []).append(i)
    runs: list[list[int]] = []
    for members in lines.values():
        run: list[int] = []
        for i in [*sorted(members, key=lambda i: words[i].left), None]:
            if i is not None and _NUMBER_PIECE.fullmatch(words[i].text):
                run.append(i)
                continue
            digits = sum(len(_DIGIT.findall(words[j].text)) for j in run)
            if digits >= 4 and (len(run) > 1 or words[run[0]].conf < 50):
                runs.append(run)
            run = []
    return runs


def _agreed_number(words: list[WordBox], group: list[int], readings: list[str]) -> str | None:
    """A number that two line readings read alike and that holds about the digits of the pieces
    (in any order: the pieces may be in visual order)."""
    pieces = sorted("".join(_DIGIT.findall(" ".join(words[i].text for i in group))).translate(_TO_ASCII))
    counts: dict[str, int] = {}
    forms: dict[str, str] = {}
    for reading in readings:
        for number in set(_NUMBER.findall(reading)):
            digits = sorted("".join(_DIGIT.findall(number)).translate(_TO_ASCII))
            if len(digits) >= 4 and _edits("".join(digits), "".join(pieces)) <= max(2, len(pieces) // 3):
                key = number.translate(_TO_ASCII)
                counts[key] = counts.get(key, 0) + 1
                forms.setdefault(key, number)
    agreed = [key for key, n in counts.items() if n >= 2]
    if not agreed:
        return None
    return forms[max(agreed, key=lambda key: (counts[key], len(key)))]


def _neighbourhood(words: list[WordBox], group: list[int], each_side: int = 2) -> list[WordBox]:
    """The group's words with up to `each_side` words either side on their line, by position.

    A number read alone comes out as garbage (fas and Arabic read a clean cropped ۱۳۹۸/۱۱/۱۴ as
    'ب 2(' at psm 7, 8 and 13) but right inside a few words of its line; the whole of a long body
    line cost 0.25 s of Tesseract per page for nothing more.
    """
    line = sorted((w for w in words if w.line == words[group[0]].line), key=lambda w: w.left)
    at = [k for k, w in enumerate(line) if any(w is words[i] for i in group)]
    return line[max(0, min(at) - each_side): max(at) + each_side + 1]


def _slashed_number(text: str) -> bool:
    """A slashed number without letters: a date, or a letter number that lost its letter."""
    token = text.rstrip(".،,")
    return "/" in token and not _ARABIC_LETTER.search(token) and 4 <= len(_DIGIT.findall(token)) <= 10


def _candidates(old: str, reading: str) -> list[str]:
    """The dates (in ASCII digits) in one line reading that could be the printed date read as `old`."""
    dates = (t.translate(_TO_ASCII) for t in _DATE.findall(reading))
    return [t for t in dates if valid_date(t) and _edits(t, old) <= 2]


def _date_settled(old: str, readings: list[str]) -> bool:
    """No further reading needed: a valid date that every reading able to read it confirms, or a
    letter number that a reading has put right. (A garbled reading abstains: half the pages had
    one, and each sent the lines to the slower Arabic model for nothing.)"""
    token = old.rstrip(".،,").translate(_TO_ASCII)
    if not valid_date(token):
        return _reference_from(readings, token) is not None
    found = [date for reading in readings for date in _candidates(token, reading)]
    return bool(found) and all(date == token for date in found)


def _vote(old: str, readings: list[str]) -> str | None:
    """The valid date most readings agree on (the page's own reading counts once and wins ties)."""
    token = old.rstrip(".،,")
    ascii_token = token.translate(_TO_ASCII)
    votes: dict[str, int] = {ascii_token: 1} if valid_date(ascii_token) else {}
    for reading in readings:
        found = _candidates(ascii_token, reading)
        if found:
            best = min(found, key=lambda t: _edits(t, ascii_token))
            votes[best] = votes.get(best, 0) + 1
    if not votes:
        return _reference_from(readings, token)
    best = max(votes, key=lambda t: (votes[t], t == ascii_token))
    if best == ascii_token:
        return None
    # Written in the digits the page used: Persian digits unless the word had only ASCII ones.
    return (best.translate(_TO_PERSIAN) if token != ascii_token else best) + old[len(token):]


def _reference_from(readings: list[str], old: str) -> str | None:
    """A letter number rebuilt from a line reading with the digits/letter/digits shape.

    The letter and the order come from the reading; the digits come from the page read where each
    group is within two edits of a group there (the Persian model's digits beat the Arabic model's,
    which adds strokes: ۸۲۳۲۳۶/ص/۹۸ for ۸۳۳۶/ص/۹۸, read on the page as ۹۸/2/۸۳۳۶).
    """
    groups = re.findall(r"\d+", old.translate(_TO_ASCII))
    for reading in readings:
        m = _REFERENCE.search(reading.translate(_TO_ASCII))
        if not m:
            continue
        rebuilt = []
        for part in (m.group(1), m.group(3)):
            near = [g for g in groups if _edits(g, part) <= 2]
            rebuilt.append(min(near, key=lambda g: _edits(g, part)) if near else None)
        if None not in rebuilt and rebuilt[0] != rebuilt[1]:
            ref = f"{rebuilt[0]}/{m.group(2)}/{rebuilt[1]}"
            return ref.translate(_TO_PERSIAN)
    return None


def _read_strip(crops: list[Image.Image], lang: str, settings: OcrSettings, *,
                right_aligned: bool = True) -> list[list[tuple[str, float]]]:
    """Read many crops with one Tesseract call: stacked on a white strip, one per line.

    Returns the (text, confidence) of the words read on each crop, in Tesseract's order. Line
    crops are right-aligned, as Persian lines are; word crops are put at the left.
    """
    pad = 12
    gap = max(c.height for c in crops)
    width = max(c.width for c in crops) + 2 * pad
    strip = Image.new("L", (width, sum(c.height + gap for c in crops) + gap), 255)
    spans, y = [], gap
    for c in crops:
        strip.paste(c, (width - pad - c.width if right_aligned else pad, y))
        spans.append((y - gap / 2, y + c.height + gap / 2))
        y += c.height + gap
    data = _tsv(strip, lang, settings.config(6), settings.timeout)
    found: list[list[tuple[str, float]]] = [[] for _ in crops]
    for i, raw in enumerate(data["text"]):
        text = clean_text(raw).strip()
        if data["level"][i] != 5 or not text:
            continue
        centre = data["top"][i] + data["height"][i] / 2
        k = next((k for k, (top, bottom) in enumerate(spans) if top <= centre <= bottom), None)
        if k is not None:
            found[k].append((text, float(data["conf"][i])))
    return found


def _join_references(read: _Read) -> None:
    """Rejoin a letter number split at a slash (`۳۱۵ /ص/۹۹` -> `۳۱۵/ص/۹۹`), one word box for both."""
    out: list[WordBox] = []
    for w in read.words:
        prev = out[-1] if out else None
        if prev is not None and prev.line == w.line and ("/" in (prev.text[-1], w.text[0])):
            joined = prev.text + w.text
            if _REFERENCE.fullmatch(joined.translate(_TO_ASCII)):
                left, top = min(prev.left, w.left), min(prev.top, w.top)
                right = max(prev.left + prev.width, w.left + w.width)
                bottom = max(prev.top + prev.height, w.top + w.height)
                out[-1] = WordBox(joined, left, top, right - left, bottom - top, min(prev.conf, w.conf), w.line)
                continue
        out.append(w)
    read.words = out


_REFERENCE = re.compile(r"(\d+)\s*/\s*([\u0621-\u064a\u067e\u0686\u0698\u06a9\u06af\u06cc]{1,3})\s*/?\s*(\d+)")


def _edits(a: str, b: str) -> int:
    return edit_distance(a.translate(_TO_ASCII), b.translate(_TO_ASCII))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance; the strings compared here are short (words and lines)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _union(words: list[WordBox], pad: int, page: Image.Image) -> tuple[int, int, int, int]:
    return (max(0, min(w.left for w in words) - pad), max(0, min(w.top for w in words) - pad),
            min(page.width, max(w.left + w.width for w in words) + pad),
            min(page.height, max(w.top + w.height for w in words) + pad))


def _read_gaps(read: _Read, page: Image.Image, settings: OcrSettings) -> None:
    """Ink bands that no word box touches are cropped and read as single lines (psm 7).

    Whatever the band yields is added as a line of its own, at its place in reading order, even at
    low confidence: a poorly read line is visible to an investigator, a dropped one is not.
    """
    bands = images.text_bands(page)
    if not bands:
        return
    missing = []
    for top, bottom in bands:
        covered = any(min(bottom, w.top + w.height) - max(top, w.top) > 0.25 * (bottom - top)
                      for w in read.words)
        if not covered:
            missing.append((top, bottom))
    if not missing:
        return
    next_line = max((w.line for w in read.words), default=-1) + 1
    added: list[WordBox] = []
    for top, bottom in missing:
        pad = max(8, (bottom - top) // 2)
        box = (0, max(0, top - pad), page.width, min(page.height, bottom + pad))
        data = _tsv(page.crop(box), read.lang_code, settings.config(7), settings.timeout)
        for w in _words(data):
            added.append(WordBox(w.text, w.left, w.top + box[1], w.width, w.height, w.conf, next_line))
        next_line += 1
    if not added:
        return
    # Renumber lines in reading order: each line keeps its place by its topmost word.
    words = read.words + added
    tops: dict[int, int] = {}
    for w in words:
        tops[w.line] = min(tops.get(w.line, w.top), w.top)
    old_order = sorted(tops, key=lambda ln: (ln >= next_line - len(missing), ln))
    # Keep Tesseract's order of its own lines and slot each new line before the first line below it.
    order: list[int] = [ln for ln in old_order if ln < next_line - len(missing)]
    for ln in sorted((ln for ln in tops if ln >= next_line - len(missing)), key=tops.get):
        at = next((k for k, o in enumerate(order) if tops[o] > tops[ln]), len(order))
        order.insert(at, ln)
    rank = {ln: k for k, ln in enumerate(order)}
    words = [WordBox(w.text, w.left, w.top, w.width, w.height, w.conf, rank[w.line]) for w in words]
    read.words = sorted(words, key=lambda w: w.line)  # stable: word order inside a line is kept


def _read_crops(page: Image.Image, boxes: list[WordBox], lang: str,
                settings: OcrSettings) -> list[tuple[str, float]]:
    """Each word box read again, all with one Tesseract call: (text, confidence) per box, or
    ("", -1) where the box came out split or empty (not comparable to the word)."""
    if not boxes:
        return []
    pad = 12
    crops = [page.crop((max(0, b.left - pad), max(0, b.top - pad),
                        min(page.width, b.left + b.width + pad), min(page.height, b.top + b.height + pad)))
             for b in boxes]
    return [pieces[0] if len(pieces) == 1 else ("", -1.0)
            for pieces in _read_strip(crops, lang, settings, right_aligned=False)]


# --- text ----------------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """NFC, direction marks removed (they break search and copy-paste); ZWNJ is kept."""
    return strip_bidi(unicodedata.normalize("NFC", text))


def assemble(words: list[WordBox]) -> str:
    """Words joined into lines in Tesseract's reading order, one output line per text line."""
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


def _mean_conf(words: list[WordBox]) -> float | None:
    confs = [w.conf for w in words if w.conf >= 0]
    return round(sum(confs) / len(confs), 2) if confs else None


def _to_original(w: WordBox, scale: float) -> WordBox:
    if scale == 1.0:
        return w
    return WordBox(w.text, round(w.left / scale), round(w.top / scale), round(w.width / scale),
                   round(w.height / scale), w.conf, w.line)
