"""How a page image is read: `ocr_image` turns it into text in reading order plus word boxes.

It chooses the language per page, undoes rotation, skew, noise and uneven light when measurement
says the page has them, then runs the passes over word boxes in order: page read -> Latin terms
re-read -> lost lines re-read -> (numbers checked, off by default) -> numbers re-read by the
figures model -> thousands separators restored -> reading order. Tesseract itself is run only by
ingest/tesseract.py, through the `Reader` of ingest/reading.py. The choices and thresholds below
were measured with `python -m bench.ocr` on synthetic letters (see ingest/letters.py); the
figures are quoted where each choice is made.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PIL import Image

from archive.errors import InputError
from archive.models import WordBox
from archive.settings import BY_NAME
from ingest import coverage, figures, images, items, numbers, passes, prepare, separators, tesseract
from ingest.reading import Reader, SharedReader, TesseractReader, clean_text, mean_conf
from ingest.textclean import detect_lang

__all__ = ["OcrResult", "OcrSettings", "assemble", "check_tesseract", "clean_text", "ocr_image", "ocr_images"]


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
    # Re-read a line the page read at low confidence on its own, and keep the more confident
    # reading (see ingest/passes.py, WEAK_LINE).
    weak_line_pass: bool = True
    # Re-read dates, letter numbers and numbers the page read broke up, inside a crop of their line,
    # with the Persian and Arabic models, and let the readings vote (see ingest/numbers.py). Off:
    # since the figures model reads them, on the 144 tuning letters of `bench.ocr --types --tuning
    # --letters 6` it bought 1 date of 72 on phone photos and cost 2 letter numbers and 0.29 s of
    # CPU a page, 17% of the OCR (`python -m bench.calls --tuning --letters 2`).
    digit_pass: bool = False
    digit_lang: str = "Arabic"  # reads the crops too when the Persian model's readings of a date disagree
    # Read numbers and codes again with Sanad's figures model, which knows ٬ and letter numbers
    # (see ingest/figures.py).
    figures_pass: bool = True
    # Put back the thousands separators ٬ of amounts, which the Persian model cannot write (see
    # ingest/separators.py), from the shapes of the printed glyphs.
    separator_pass: bool = True
    # Put the numbers of a list's items (۱- ۲- ۳-) in sequence where most were read in one (see
    # ingest/items.py).
    item_numbers: bool = True
    # Re-read every band of ink rows in which the layout analysis found no word, so that no printed
    # line can vanish from the text without an attempt to read it.
    gap_pass: bool = True
    clean: bool = True  # median filter / background flattening / deskew / upscaling when measured useful
    # A first pass below this mean word confidence asks OSD for rotation and script. Upright Persian
    # pages score 78-90 even when degraded; English pages read as Persian ~59, upside-down ~29.
    retry_confidence: float = 70.0
    timeout: float = BY_NAME["tesseract_timeout"].default  # seconds per Tesseract call
    max_pixels: int = BY_NAME["max_pixels"].default  # larger pages are read at a lower resolution

    def reader(self) -> Reader:
        return TesseractReader(keep_noisy_rows=self.keep_noisy_rows, dpi=self.dpi, timeout=self.timeout)


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
    # Bands of ink in which no word was read, even by the gap pass: the page is possibly incomplete.
    unread_lines: int = 0


# --- page OCR ------------------------------------------------------------------------------------

def check_tesseract() -> None:
    """Raise ToolMissing unless a working tesseract with the Persian and English models is present."""
    tesseract.check()


def ocr_image(image: Image.Image, settings: OcrSettings | None = None, reader: Reader | None = None) -> OcrResult:
    """OCR one page image. Raises ToolMissing without tesseract, InputError for unusable images,
    TimedOut when a Tesseract call overruns `settings.timeout`. A `reader` replaces Tesseract
    (tests pass a fake one; the tesseract check is then skipped)."""
    settings = settings or OcrSettings()
    if reader is None:
        check_tesseract()
        reader = settings.reader()
    try:
        gray = images.to_gray(images.load_upright(image))
    except OSError as exc:
        raise InputError(f"cannot read the image: {exc}") from exc
    gray = images.guard_size(gray, settings.max_pixels)
    if gray.width < 8 or gray.height < 8:
        raise InputError(f"image of {gray.width}x{gray.height} pixels is too small to hold text")

    rotation = 0
    if images.sideways(gray):
        rotation, _ = reader.orientation(gray)
        gray = _turn(gray, rotation)
    page = _prepare(gray, settings)

    read = _read(reader, page.image, settings.persian_lang, settings)
    if read.confidence is None or read.confidence < settings.retry_confidence:
        read, page, rotation = _second_opinion(reader, read, page, gray, rotation, settings)

    # Side blocks cut off their neighbours' lines first: the number checks crop a number's line
    # neighbours, which across a column gap would be the words of the other block.
    words = passes.layout(read.words, page.image)
    if settings.weak_line_pass:
        words = passes.reread_weak_lines(words, page.image, reader, read.lang_code)
    if settings.latin_pass and read.lang_code != settings.english_lang:
        words = passes.reread_latin(words, page.image, reader, settings.english_lang)
    if settings.gap_pass:
        words = passes.read_gaps(words, page.image, reader, read.lang_code)
    if settings.digit_pass:
        words = numbers.check_numbers(words, page.image, reader, settings.persian_lang, settings.digit_lang)
    if settings.figures_pass:
        words = figures.read_figures(words, page.image, reader)
    if settings.separator_pass:
        words = separators.restore_separators(words, page.image)
    unread = coverage.unread_lines(words, page.image)
    words = [_to_original(w, page.scale) for w in passes.rtl_order(passes.layout(words, page.image))]
    if settings.item_numbers:
        words = items.in_sequence(words)
    text = assemble(words)
    return OcrResult(text=text, words=words, confidence=mean_conf(words), lang=detect_lang(text),
                     rotation=rotation, width=page.width, height=page.height, unread_lines=unread)


def ocr_images(images: list[Image.Image], settings: OcrSettings | None = None,
               reader: Reader | None = None) -> list[OcrResult | Exception]:
    """`ocr_image` of several pages at once, in threads that share their Tesseract calls: each
    pass makes one call per model for all the pages (see SharedReader). The result of each page,
    or the exception its reading raised, in the order given. A call that fails or times out fails
    every page it was reading."""
    settings = settings or OcrSettings()
    if reader is None:
        check_tesseract()
        reader = settings.reader()
    if len(images) < 2:
        return [_outcome(lambda: ocr_image(im, settings, reader)) for im in images]
    shared = SharedReader(reader, len(images))
    results: list[OcrResult | Exception] = [RuntimeError("not read")] * len(images)

    def one(k: int) -> None:
        try:
            results[k] = _outcome(lambda: ocr_image(images[k], settings, shared))
        finally:
            shared.done()

    threads = [threading.Thread(target=one, args=(k,), name=f"sanad-ocr-{k}") for k in range(len(images))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _outcome(read) -> OcrResult | Exception:
    try:
        return read()
    except Exception as exc:  # noqa: BLE001 - handed back as that page's result
        return exc


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
        return mean_conf(self.words)


def _prepare(gray: Image.Image, settings: OcrSettings) -> _Prepared:
    """Clean the page only where a measurement says it needs it (each step costs time on clean pages)."""
    if not settings.clean:
        return _Prepared(gray, 1.0, gray.width, gray.height)
    # Which steps a page needs (sheet, specks, light, skew, size) is measured in ingest/prepare.py.
    done = prepare.prepare(gray)
    return _Prepared(done.image, done.scale, done.width, done.height)


def _second_opinion(reader: Reader, read: _Read, page: _Prepared, gray: Image.Image, rotation: int,
                    settings: OcrSettings) -> tuple[_Read, _Prepared, int]:
    """Low confidence: ask OSD whether the page is upside down or in Latin script, and re-read."""
    osd_rotation, script = reader.orientation(page.image)
    lang = settings.persian_lang if script == "Arabic" else settings.english_lang
    if osd_rotation:
        page = _prepare(_turn(gray, osd_rotation), settings)
        return _read(reader, page.image, lang, settings), page, (rotation + osd_rotation) % 360
    if lang != read.lang_code:
        other = _read(reader, page.image, lang, settings)
        if (other.confidence or 0) > (read.confidence or 0):
            read = other
    return read, page, rotation


def _read(reader: Reader, gray: Image.Image, lang: str, settings: OcrSettings) -> _Read:
    return _Read(reader.words(gray, lang, settings.psm), lang)


def _turn(gray: Image.Image, clockwise: int) -> Image.Image:
    return gray.rotate(-clockwise, expand=True) if clockwise % 360 else gray


# --- text ----------------------------------------------------------------------------------------

def assemble(words: list[WordBox]) -> str:
    """Words joined into lines in Tesseract's reading order, one output line per text line."""
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return "\n".join(" ".join(ws) for _, ws in sorted(lines.items()))


def _to_original(w: WordBox, scale: float) -> WordBox:
    if scale == 1.0:
        return w
    return WordBox(w.text, round(w.left / scale), round(w.top / scale), round(w.width / scale),
                   round(w.height / scale), w.conf, w.line)
