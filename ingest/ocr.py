"""How a page image is read: `ocr_image` turns it into text in reading order plus word boxes.

It chooses the language per page, undoes rotation, skew, noise and uneven light when measurement
says the page has them, then runs the passes over word boxes in order: page read -> Latin terms
re-read -> lost lines re-read -> numbers checked -> numbers re-read by the figures model ->
thousands separators restored -> reading
order. Tesseract itself is run only by ingest/tesseract.py, through the `Reader` of
ingest/reading.py. The choices and thresholds below
were measured with `python -m bench.ocr` on synthetic letters (see ingest/letters.py); the
figures are quoted where each choice is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from archive.errors import InputError
from archive.models import WordBox
from archive.settings import BY_NAME
from ingest import figures, images, numbers, passes, separators, tesseract
from ingest.reading import Reader, TesseractReader, clean_text, mean_conf
from ingest.textclean import detect_lang

__all__ = ["OcrResult", "OcrSettings", "assemble", "check_tesseract", "clean_text", "ocr_image"]


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
    # Read numbers and codes again with Sanad's figures model, which knows ٬ and letter numbers
    # (see ingest/figures.py).
    figures_pass: bool = True
    # Put back the thousands separators ٬ of amounts, which the Persian model cannot write (see
    # ingest/separators.py), from the shapes of the printed glyphs.
    separator_pass: bool = True
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

    words = read.words
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
    words = [_to_original(w, page.scale) for w in passes.rtl_order(words)]
    text = assemble(words)
    return OcrResult(text=text, words=words, confidence=mean_conf(words), lang=detect_lang(text),
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
        return mean_conf(self.words)


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
