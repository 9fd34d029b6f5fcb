"""Image preparation before OCR: pure functions from PIL image to PIL image (or to a measurement).

Every clean-up step here is applied only when a measurement says the page needs it, because on a
clean page each of them costs time and can only lose detail.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from archive.errors import InputError, TooLarge
from archive.settings import BY_NAME
from ingest import imaging

MAX_PIXELS = BY_NAME["max_pixels"].default  # what Tesseract is given at most (the max_pixels setting)
# Larger images are downscaled to max_pixels, up to this many times it; beyond it the file is
# refused: it is either not a page or a decompression bomb.
HARD_LIMIT_FACTOR = 4


def hard_max_pixels(max_pixels: int) -> int:
    return HARD_LIMIT_FACTOR * max_pixels

# Share of isolated dark pixels above which a 3x3 median helps: clean letters and real scans 0-0.001,
# simulated scan (1% noise) 0.0037, 4% salt-and-pepper 0.016.
IMPULSE_NOISE_LIMIT = 0.002
SHADING_LIMIT = 20  # grey levels of paper brightness spread: 0 on scans, 36-39 on shaded photos
MIN_SKEW = 0.3  # degrees; Tesseract copes with less
ORIENTATION = 0x0112  # the EXIF tag


def load_upright(image: Image.Image) -> Image.Image:
    """The image as displayed: EXIF orientation applied (phones store pictures sideways)."""
    try:
        # exif_transpose copies even an image it leaves as it is (8 ms for a 300 dpi page).
        if image.getexif().get(ORIENTATION, 1) == 1:
            return image
        return ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"cannot read the image: {exc}") from exc


def to_gray(image: Image.Image) -> Image.Image:
    """8-bit grayscale; transparent parts become white paper, not black."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    # convert() copies an image that is already grayscale; nothing here changes an image in place.
    return image if image.mode == "L" else image.convert("L")


def guard_size(image: Image.Image, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Downscale an image above `max_pixels`; refuse one above `hard_max_pixels(max_pixels)`."""
    pixels = image.width * image.height
    hard_limit = hard_max_pixels(max_pixels)
    if pixels > hard_limit:
        raise TooLarge(f"image of {image.width}x{image.height} pixels ({pixels / 1e6:.0f} MP) is above "
                       f"the limit of {hard_limit / 1e6:.0f} MP; scan it at a lower resolution")
    if pixels > max_pixels:
        scale = (max_pixels / pixels) ** 0.5
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image = image.resize(size, Image.LANCZOS)
    return image


def upscale_factor(gray: Image.Image, target_line_px: float = 60.0) -> float:
    """How much to enlarge a low-resolution page so text lines reach ~target_line_px pixels.

    Tesseract's models were trained on text about 30-40 px high; at 150 dpi or in small photos the
    Persian dots and the zero (a single dot) fall below what it resolves.
    """
    # Measured on a half-size copy: the same pitch to a pixel, a quarter of the time (0.08 s -> 0.02 s).
    half = min(gray.size) >= 1200
    pitch = line_pitch(gray.reduce(2) if half else gray)
    if pitch is not None and half:
        pitch *= 2
    if pitch is None or pitch >= target_line_px:
        return 1.0
    return min(4.0, target_line_px / pitch)


def line_pitch(gray: Image.Image) -> float | None:
    """Median distance in pixels between text-line centres, from the horizontal ink profile."""
    a = np.asarray(gray, dtype=np.uint8)
    ink = (a < otsu_threshold(a)).sum(axis=1)
    rows = ink > max(1, 0.02 * ink.max())
    starts = np.flatnonzero(rows[1:] & ~rows[:-1]) + 1
    ends = np.flatnonzero(~rows[1:] & rows[:-1]) + 1
    if rows[0]:
        starts = np.r_[0, starts]
    if len(starts) < 3:
        return None
    ends = ends[: len(starts)]
    centres = (starts[: len(ends)] + ends) / 2
    return float(np.median(np.diff(centres))) if len(centres) >= 3 else None


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D mask, end exclusive."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]


def ink_columns(page: Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    """For each column of the page inside `box` (left, top, right, bottom), whether it holds ink:
    two dark pixels at least, as a speck of noise is none."""
    return (np.asarray(page.crop(box).convert("L")) < 128).sum(axis=0) > 1


def otsu_threshold(a: np.ndarray) -> int:
    hist = np.bincount(a.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    w1 = total - w0
    mean_all = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * w0 / total - m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0
    # A black-and-white page (a fax, or one already binarised) scores the same for every level
    # between its two: the first of them, 0, left no pixel darker than the threshold (text_bands
    # found no line and line_pitch no pitch). The middle of the best levels splits it.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-9))
    return int((best[0] + best[-1] + 1) // 2)


def impulse_noise(gray: Image.Image) -> float:
    """Share of pixels that are isolated dark dots on paper: salt-and-pepper noise.

    Counting pixels a 3x3 median would flip also counted the 1-2 px strokes of small real scans
    (whose text a median erases); a pepper dot differs in having no dark neighbour at all.
    """
    a = np.asarray(_sample(gray), dtype=np.uint8)
    dark = np.pad(a < otsu_threshold(a), 1)
    h, w = a.shape
    neighbours = sum(dark[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w].astype(np.uint8)
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    return float((dark[1:-1, 1:-1] & (neighbours == 0)).mean())


def background(gray: Image.Image) -> Image.Image:
    """The paper without the text: a max filter wider than strokes, on a reduced copy for speed."""
    return _reduced_paper(gray).resize(gray.size, Image.BILINEAR)


def _reduced_paper(gray: Image.Image) -> Image.Image:
    return gray.reduce(8).filter(ImageFilter.MaxFilter(7)).filter(ImageFilter.GaussianBlur(4))


def shading(gray: Image.Image) -> float:
    """Spread of the paper's brightness across the page, in grey levels (uneven light in photos).

    Measured on the reduced paper: enlarging it first (as `background` does) gave the same spread
    on all of bench.ocr --quick's and bench.pipeline's pages, with 64 times the pixels to sort.
    """
    paper = np.asarray(_reduced_paper(_sample(gray)), dtype=np.float32)
    return float(np.percentile(paper, 98) - np.percentile(paper, 2))


def flatten(gray: Image.Image) -> Image.Image:
    """Divide by the background so the paper becomes uniformly white and ink keeps its contrast."""
    a = np.asarray(gray, dtype=np.float32)
    paper = np.maximum(np.asarray(background(gray), dtype=np.float32), 1)
    return Image.fromarray(np.clip(a / paper * 255, 0, 255).astype(np.uint8))


def even_out(gray: Image.Image) -> Image.Image:
    """Uneven light: flatten the paper, then binarise. Flattening alone lifts the sensor noise of the
    dark corner along with the ink (16% CER and lost lines on one shaded letter); a slight blur before
    Otsu's threshold averages it away (2.9% mean over 5 shaded letters, no lost line).

    Computed as `blur(gray) * 255 > t * paper` (blurring commutes with dividing by the slowly varying
    paper), with Otsu's t taken on a quarter sample of the flattened page: the same black and white
    page as dividing, blurring and thresholding the full page in floating point, in half the time
    (0.68 s -> 0.3 s on an A4 page at 300 dpi).
    """
    blurred = np.asarray(gray.filter(ImageFilter.GaussianBlur(1)), dtype=np.uint8)
    paper = np.maximum(np.asarray(background(gray), dtype=np.uint8), 1)
    sample = np.clip(blurred[::2, ::2] / paper[::2, ::2].astype(np.float32) * 255, 0, 255).astype(np.uint8)
    t = otsu_threshold(sample)
    light = blurred.astype(np.uint16) * 255 > paper.astype(np.uint16) * t
    return Image.fromarray(np.where(light, 255, 0).astype(np.uint8))


def denoise(gray: Image.Image) -> Image.Image:
    """3x3 median: the same pixels as Pillow's MedianFilter(3) (edges replicated), in far less time.

    Each column of three is sorted once; the median of a 3x3 window is then the median of (largest
    of the three column minima, median of the column medians, smallest of the column maxima).
    """
    a = np.pad(np.asarray(gray, dtype=np.uint8), 1, mode="edge")
    top, centre, bottom = a[:-2], a[1:-1], a[2:]
    low, high = np.minimum(top, centre), np.maximum(top, centre)
    mins, maxs = np.minimum(low, bottom), np.maximum(high, bottom)
    meds = np.maximum(low, np.minimum(high, bottom))
    left, mid, right = slice(0, -2), slice(1, -1), slice(2, None)
    lo = np.maximum(np.maximum(mins[:, left], mins[:, mid]), mins[:, right])
    hi = np.minimum(np.minimum(maxs[:, left], maxs[:, mid]), maxs[:, right])
    med = _median3(meds[:, left], meds[:, mid], meds[:, right])
    return Image.fromarray(_median3(lo, med, hi))


def _median3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def binarize(gray: Image.Image) -> Image.Image:
    a = np.asarray(gray, dtype=np.uint8)
    return Image.fromarray(np.where(a > otsu_threshold(a), 255, 0).astype(np.uint8))


def skew_angle(gray: Image.Image, limit: float = 3.0) -> float:
    """Small rotation of the text lines in degrees (counter-clockwise positive), by projection profile.

    Horizontal lines give the row-sum profile the sharpest peaks, so the angle whose rotation
    maximises the profile's variance undoes the skew. Done on a reduced, binarised copy, and by
    turning the coordinates of its ink pixels rather than the picture: the same angles as rotating
    the copy 24 times to within 0.1 degree, in a quarter of the time.
    """
    small = gray.reduce(max(1, round(min(gray.size) / 700)))
    a = np.asarray(small, dtype=np.uint8)
    rows, cols = np.nonzero(a < otsu_threshold(a))
    height, width = a.shape
    x = (cols - (width - 1) / 2).astype(np.float32)
    y = (rows - (height - 1) / 2).astype(np.float32)

    def score(angle: float) -> float:
        # Row of each ink pixel once the copy is turned by `angle` counter-clockwise about its
        # centre, shifted by a page height so that rows pushed above the top stay non-negative.
        t = np.deg2rad(angle)
        row = (y * np.float32(np.cos(t)) - x * np.float32(np.sin(t)) + np.float32(height * 1.5)).astype(np.int64)
        profile = np.bincount(row, minlength=3 * height)[height: 2 * height]
        return float(profile.astype(np.float64).var())

    coarse = np.arange(-limit, limit + 1e-9, 0.5)
    best = max(coarse, key=score)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.1)
    angle = -float(max(fine, key=score))
    # At the edge of the search the profile found no real optimum (e.g. a small page of few lines).
    return angle if abs(angle) < limit else 0.0


def deskew(gray: Image.Image, angle: float) -> Image.Image:
    # Bicubic: with bilinear, bench.ocr --quick lost 2 of 64 dates and 1 of 32 letter numbers on
    # rotated/scanned pages. OpenCV's bicubic took a quarter of PIL's time, on the same canvas.
    return Image.fromarray(imaging.rotate(np.asarray(gray, dtype=np.uint8), -angle))


def sideways(gray: Image.Image) -> bool:
    """True when text lines run vertically (page turned by 90 or 270 degrees).

    Lines of text make the row profile of an upright page far more uneven than its column profile.
    The paper is flattened first: the dark corner of a shaded photo otherwise counts as ink, and
    made two upright shaded letters look sideways (column/row ratio 1.7 and 2.7), each costing an
    orientation check of 2-4 s. Flattened, bench.ocr's and bench.pipeline's 48 pages measure at
    most 0.8 upright and at least 1.26 turned by 90 degrees.
    """
    small = flatten(gray.reduce(max(1, round(min(gray.size) / 500))))
    a = np.asarray(small, dtype=np.uint8)
    ink = (a < otsu_threshold(a)).astype(np.float32)
    rows = ink.sum(axis=1) / max(1, ink.shape[1])
    cols = ink.sum(axis=0) / max(1, ink.shape[0])
    return float(cols.std()) > 1.1 * float(rows.std())


def _sample(gray: Image.Image, side: int = 1200) -> Image.Image:
    """A central crop for cheap page-wide measurements (noise statistics are local)."""
    w, h = gray.size
    if w <= side and h <= side:
        return gray
    left, top = max(0, (w - side) // 2), max(0, (h - side) // 2)
    return gray.crop((left, top, left + min(side, w), top + min(side, h)))


def text_bands(gray: Image.Image, reduce: int = 2) -> list[tuple[int, int]]:
    """Row ranges (top, bottom) in pixels of `gray` where ink forms a text line.

    Rows holding ink are grouped; bands closer than a third of the median band height are merged
    (the dots above and below Persian letters), and bands too small or too faint to be a line of
    text (specks of noise, a stray rule) are dropped. Computed on a reduced copy for speed.
    """
    small = gray.reduce(reduce) if reduce > 1 else gray
    a = np.asarray(small, dtype=np.uint8)
    ink = (a < otsu_threshold(a)).sum(axis=1)
    if ink.max() == 0:
        return []
    rows = ink > max(2, 0.01 * a.shape[1])
    bands = [[s, e] for s, e in runs(rows)]
    if not bands:
        return []
    heights = sorted(e - s for s, e in bands)
    typical = heights[len(heights) // 2]
    merged = [bands[0]]
    for s, e in bands[1:]:
        if s - merged[-1][1] < max(2, typical / 3):
            merged[-1][1] = e
        else:
            merged.append([s, e])
    heights = sorted(e - s for s, e in merged)
    typical = heights[len(heights) // 2]
    out = []
    for s, e in merged:
        if e - s >= 0.4 * typical and ink[s:e].sum() >= 0.2 * typical * typical:
            out.append((s * reduce, e * reduce))
    return out
