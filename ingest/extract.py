"""Per-page text extraction: decide for each page whether to trust its text or to OCR it.

Everything here runs inside a worker process and works on one page at a time, so that a
1,000-page PDF never needs more memory than its largest page; `extract_pages` reads a few pages
together (their OCR shares Tesseract's model loads) within a memory budget.
"""

from __future__ import annotations

import re
import traceback
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageSequence

from archive.errors import InputError, TooLarge, UnsupportedFile
from archive.models import WordBox
from archive.settings import Settings, defaults
from ingest import detect, images, office, poppler
from ingest.textclean import clean, detect_lang, persian_lexicon


TEXT_TYPES = {detect.TEXT, detect.HTML, detect.DOCX, detect.ODT}
IMAGE_PREFIX = "image/"


@dataclass
class PageResult:
    number: int
    text: str = ""
    method: str = ""  # "text" or "ocr"
    lang: str = ""
    confidence: float | None = None
    width: int | None = None
    height: int | None = None
    words: list[WordBox] = field(default_factory=list)
    encoding: str = ""  # the character encoding a text file was decoded from
    nuls_removed: int = 0  # NUL bytes dropped from this page's part of the file
    unread_lines: int = 0  # OCR: bands of ink that produced no text (the page is possibly incomplete)


@dataclass(frozen=True)
class _TextPage:
    text: str
    encoding: str = ""
    nuls_removed: int = 0


def count_pages(path: Path, media_type: str) -> int:
    if media_type == detect.PDF:
        return poppler.page_count(path)
    if media_type in TEXT_TYPES:
        return len(_text_pages(path, media_type))
    if media_type.startswith(IMAGE_PREFIX):
        with _open_image(path) as im:
            return getattr(im, "n_frames", 1)
    raise UnsupportedFile(f"files of type {media_type} are not supported")


def extract_page(path: Path, media_type: str, number: int, settings: Settings | None = None) -> PageResult:
    """One page's text. ``settings`` are the limits it is read within (the pipeline hands the
    archive's to each worker with the page); the defaults otherwise."""
    settings = settings or defaults()
    found = _text_or_image(path, media_type, number, settings)
    if isinstance(found, PageResult):
        return found
    return _ocr(number, found, settings)


# What a page read together with others costs the worker's memory, per pixel of its image: the
# growth of the worker's address space (RLIMIT_AS, which worker_memory_mb sets) while `ocr_images`
# read A4 letters at 300 dpi (8.7 MP) was 306 MB for one page and 630 MB for four (threads' stacks
# and malloc arenas included): 35 and 18 bytes a pixel. 40 leaves a margin.
BYTES_PER_PIXEL = 40


def batch_pixels(settings: Settings) -> int | None:
    """Pixels of the images one worker may hold and read together; None when memory is not limited.
    Half of worker_memory_mb: the rest is the worker itself, its libraries and its tools."""
    if not settings.worker_memory_mb:
        return None
    return (settings.worker_memory_mb << 20) // 2 // BYTES_PER_PIXEL


def extract_pages(pages: list[tuple[Path, str, int]], settings: Settings | None = None) -> list[PageResult | Exception]:
    """Several pages' text, ``(path, media_type, number)`` each: the result of each page, or the
    exception its extraction raised, in the order given; one page's failure is its own.

    The pages to OCR are read together with `ingest.ocr.ocr_images` (one Tesseract call per model
    and pass for all of them), as many at a time as `batch_pixels` allows; the others one by one.
    """
    settings = settings or defaults()
    results: list[PageResult | Exception | None] = [None] * len(pages)
    held: list[tuple[int, int, Image.Image]] = []  # (slot, page number, image) waiting to be read
    budget = batch_pixels(settings)
    for k, (path, media_type, number) in enumerate(pages):
        try:
            found = _text_or_image(path, media_type, number, settings)
        except MemoryError:
            raise  # perhaps the pages held with it: the batch fails, and each page is tried alone
        except Exception as exc:  # noqa: BLE001 - this page's result
            results[k] = _with_traceback(exc)
            continue
        if isinstance(found, PageResult):
            results[k] = found
            continue
        if budget is not None and held and _pixels(held) + found.width * found.height > budget:
            _ocr_together(held, settings, results)
            held = []
        held.append((k, number, found))
    if held:
        _ocr_together(held, settings, results)
    return results  # type: ignore[return-value]  # every slot is filled by now


def _pixels(held: list[tuple[int, int, Image.Image]]) -> int:
    return sum(im.width * im.height for _, _, im in held)


def _ocr_together(held: list[tuple[int, int, Image.Image]], settings: Settings,
                  results: list[PageResult | Exception | None]) -> None:
    from ingest.ocr import ocr_images

    read = ocr_images([im for _, _, im in held], _ocr_settings(settings))
    for outcome in read:
        if isinstance(outcome, MemoryError):
            raise outcome  # as above: the pages read with it may be what filled the memory
    # An exception in several slots is a shared Tesseract call that failed (a timeout, a crash):
    # which page caused it is unknown, so each of those pages is read again alone.
    shared = {id(r) for r in read if isinstance(r, Exception) and sum(x is r for x in read) > 1}
    for (k, number, image), outcome in zip(held, read, strict=True):
        if id(outcome) in shared:
            try:
                outcome = _ocr(number, image, settings)
            except Exception as exc:  # noqa: BLE001 - this page's result
                outcome = exc
        elif not isinstance(outcome, Exception):
            outcome = _page_result(number, outcome)
        results[k] = _with_traceback(outcome) if isinstance(outcome, Exception) else outcome


def _with_traceback(exc: Exception) -> Exception:
    """The exception with its traceback as text, which survives the trip from a worker process
    (an exception's own traceback does not): ingest/failures.py tells Sanad's bugs from bad files by it."""
    if getattr(exc, "worker_traceback", None) is None:
        try:
            exc.worker_traceback = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
        except AttributeError:
            pass  # an exception without attributes: it is classified as it stands
    return exc


def _text_or_image(path: Path, media_type: str, number: int, settings: Settings) -> PageResult | Image.Image:
    """The page's result when it has text to take as it is, else its image to OCR."""
    if media_type in TEXT_TYPES:
        page = _text_pages(path, media_type)[number - 1]
        text = clean(page.text)
        return PageResult(number, text, "text", detect_lang(text), encoding=page.encoding,
                          nuls_removed=page.nuls_removed)
    if media_type == detect.PDF:
        return _pdf_page(path, number, settings)
    if media_type.startswith(IMAGE_PREFIX):
        with _open_image(path, settings.max_pixels) as im:
            ImageSequence.Iterator(im)[number - 1]  # seeks the frame
            return _load_frame(im, settings.max_pixels)
    raise UnsupportedFile(f"files of type {media_type} are not supported")


# -- text-like files ---------------------------------------------------------------------

def _text_pages(path: Path, media_type: str) -> tuple[_TextPage, ...]:
    stat = path.stat()
    return _read_text_pages(str(path), media_type, stat.st_size, stat.st_mtime_ns)


# A worker is handed the pages of one file one after another: read the file once, not once a
# page (a DOCX with 300 page breaks was parsed 301 times). One file's text is all it keeps.
@lru_cache(maxsize=1)
def _read_text_pages(name: str, media_type: str, _size: int, _mtime_ns: int) -> tuple[_TextPage, ...]:
    path = Path(name)
    if media_type == detect.DOCX:
        return tuple(_TextPage(t) for t in office.docx_pages(path))
    if media_type == detect.ODT:
        return tuple(_TextPage(t) for t in office.odt_pages(path))
    decoded = detect.read_text(path)
    if media_type == detect.HTML:
        # HTML has no pages (the parser folds form feeds into spaces): one page has every NUL.
        return (_TextPage(office.html_text(decoded.text), decoded.encoding, decoded.nuls_removed),)
    # Form feeds are how plain-text exports mark page breaks.
    texts = decoded.text.split("\f")
    nuls = decoded.nuls_by_page or (0,) * len(texts)
    return tuple(_TextPage(t, decoded.encoding, n) for t, n in zip(texts, nuls, strict=True))


# -- PDFs -------------------------------------------------------------------------------

LAYER_BOX_DPI = 150  # the coordinates of a text layer's word boxes: the page image is drawn at this size


def _pdf_page(path: Path, number: int, settings: Settings) -> PageResult | Image.Image:
    """The page from its text layer, or its image when it has to be OCRed."""
    timeout = settings.poppler_timeout
    raw = poppler.page_text(path, number, timeout)
    layer = text_layer_verdict(raw)
    if layer is None:
        return _rasterize(path, number, settings)
    width_pt, height_pt = poppler.page_size(path, number, timeout)
    scale = LAYER_BOX_DPI / 72
    words = _layer_words(poppler.page_words(path, number, scale, timeout),
                         reversed_layer=layer != _unfolded(clean(raw)))
    return PageResult(number, layer, "text", detect_lang(layer), None,
                      round(width_pt * scale), round(height_pt * scale), words)


def _unfolded(text: str) -> str:
    return unicodedata.normalize("NFKC", text) if _PRESENTATION.search(text) else text


def _layer_words(words: list[WordBox], *, reversed_layer: bool) -> list[WordBox]:
    """Word boxes spelled as the page's accepted text is: presentation forms unfolded, and a
    layer stored in visual order turned back the way the text was."""
    fixed = []
    for w in words:
        text = _unfolded(w.text)
        if reversed_layer and _ARABIC_WORD.search(text):
            text = text[::-1]
        fixed.append(WordBox(text, w.left, w.top, w.width, w.height, w.conf, w.line))
    return fixed


def _rasterize(path: Path, number: int, settings: Settings) -> Image.Image:
    """The page at the raster_dpi setting, or lower when that would exceed max_pixels (what
    OCR is given at most: rendering more only to scale it down again is wasted)."""
    dpi, limit = settings.raster_dpi, settings.max_pixels
    width_pt, height_pt = poppler.page_size(path, number, settings.poppler_timeout)
    pixels = (width_pt / 72 * dpi) * (height_pt / 72 * dpi)
    if pixels > limit:
        dpi = max(20, int(dpi * (limit / pixels) ** 0.5))
        if (width_pt / 72 * dpi) * (height_pt / 72 * dpi) > limit:
            raise TooLarge(f"page {number} is too large to render ({width_pt:.0f} x {height_pt:.0f} pt)")
    # Grey, because OCR reads grey: a third of the bytes for pdftoppm to write and Pillow to read.
    return poppler.render(path, number, dpi, grayscale=True, timeout=settings.poppler_timeout)


_REPLACEMENT = re.compile("[\ufffd\ue000-\uf8ff]")
_PRESENTATION = re.compile("[\ufb50-\ufdff\ufe70-\ufefc]")
_ARABIC_WORD = re.compile("[\u0600-\u06ff\u200c]{2,}")


def text_layer_verdict(raw: str) -> str | None:
    """The page's text layer made usable, or None when the page must be OCRed instead.

    PDF text layers of Persian documents are often broken: no Unicode map (glyph ids or
    private-use characters come out), presentation-form glyphs, or lines stored in visual
    (reversed) order. Such text looks fine to a program and is unsearchable for a person.
    """
    text = clean(raw)
    letters = sum(ch.isalnum() for ch in text)
    if letters < 3:
        return None
    if "(cid:" in text or len(_REPLACEMENT.findall(text)) > 0.05 * letters:
        return None
    if _PRESENTATION.search(text):
        # NFKC maps presentation forms (including lam-alef ligatures) to ordinary letters.
        text = unicodedata.normalize("NFKC", text)
    words = _ARABIC_WORD.findall(text)
    if len(words) >= 5:
        known = _lexicon_share(words)
        reversed_known = _lexicon_share([w[::-1] for w in words])
        if reversed_known > known + 0.2:
            text = "\n".join(_reverse_arabic_runs(line) for line in text.splitlines())
        elif known < 0.3 and reversed_known < 0.3:
            return None  # Arabic letters, but not Persian words: a broken font map
    return text


def _lexicon_share(words: list[str]) -> float:
    lexicon = persian_lexicon()
    words = [w.replace("\u200c", "") for w in words]
    return sum(w in lexicon for w in words) / len(words)


def _reverse_arabic_runs(line: str) -> str:
    """Undo visual order: reverse the line, then put Latin/digit runs back the right way round."""
    flipped = line[::-1]
    return re.sub(r"[A-Za-z0-9][A-Za-z0-9.,:/\-]*[A-Za-z0-9]|[A-Za-z0-9]", lambda m: m.group(0)[::-1], flipped)


# -- images -----------------------------------------------------------------------------

def _open_image(path: Path, max_pixels: int = images.MAX_PIXELS) -> Image.Image:
    _register_heif()
    # Pillow's bomb check is one process-wide number: set where images are opened, not at import.
    Image.MAX_IMAGE_PIXELS = 2 * images.hard_max_pixels(max_pixels)
    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        raise TooLarge("the image has more pixels than Sanad will decode (a decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"a damaged or unsupported image ({exc})") from None


def _load_frame(im: Image.Image, max_pixels: int) -> Image.Image:
    """The frame decoded. Up to 4x max_pixels is decoded (OCR then reads it scaled down to
    max_pixels); beyond that it is no page but a bomb."""
    limit = images.hard_max_pixels(max_pixels)
    if im.width * im.height > limit:
        raise TooLarge(f"the image is {im.width} x {im.height} pixels; the limit is {limit:,} pixels"
                       " (4 times the max_pixels setting)")
    try:
        im.load()
        return im.copy()
    except Image.DecompressionBombError:
        raise TooLarge("the image has more pixels than Sanad will decode") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(f"the image data is damaged ({exc})") from None


@lru_cache(maxsize=1)
def _register_heif() -> None:
    try:
        from pillow_heif import register_heif_opener

        register_heif_opener()
    except ImportError:  # HEIC support is optional
        pass


def _ocr_settings(settings: Settings):
    from ingest.ocr import OcrSettings

    return OcrSettings(timeout=settings.tesseract_timeout, max_pixels=settings.max_pixels)


def _ocr(number: int, image: Image.Image, settings: Settings) -> PageResult:
    from ingest.ocr import ocr_image

    return _page_result(number, ocr_image(image, _ocr_settings(settings)))


def _page_result(number: int, result) -> PageResult:
    return PageResult(number, result.text, "ocr", result.lang,
                      result.confidence, result.width, result.height, result.words,
                      unread_lines=result.unread_lines)
