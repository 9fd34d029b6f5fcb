"""OpenCV, wrapped: the only module that imports cv2 (opencv-python-headless).

Thin functions from numpy uint8 arrays to numpy arrays, so the rest of ingest/ stays with PIL and
numpy and could replace OpenCV here alone. OpenCV is used where it beats hand-written numpy:
contours and polygon fitting (no numpy equivalent), the perspective warp, deskewing, and local-window
filters (box means for Sauvola's threshold, non-local means) that are 10-50 times faster in C.
"""

from __future__ import annotations

import numpy as np


def _cv2():
    import cv2  # imported on first use: nothing is loaded at import time of ingest/

    cv2.setNumThreads(1)  # one page per core, like Tesseract (OMP_THREAD_LIMIT=1)
    return cv2


def largest_quad(mask: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The largest white region of a 0/255 mask as four corners (top-left, top-right, bottom-right,
    bottom-left; float x, y), with the region's share of the mask's area; None without a region
    that a quadrilateral fits."""
    cv2 = _cv2()
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    # An outline of edges need not be closed (a sheet's edge lost in the shade, or touching the
    # photo's border), and then its contour is a thin line of almost no area: what it encloses is
    # its hull. Measured by its own area, the sheet of a photo whose edge runs off the left border
    # counted as 1% of the photo and was not flattened.
    hull = cv2.convexHull(max(contours, key=lambda c: cv2.contourArea(cv2.convexHull(c))))
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        poly = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(poly) == 4:
            return order_corners(poly.reshape(4, 2).astype(np.float64)), cv2.contourArea(poly) / mask.size
        if len(poly) < 4:
            break
    return None


def edges(gray: np.ndarray, low: float, high: float) -> np.ndarray:
    """Canny's edges (0/255), thickened by a pixel so that a broken outline still closes."""
    cv2 = _cv2()
    return cv2.dilate(cv2.Canny(gray, low, high), np.ones((3, 3), np.uint8))


def quad_mask(shape: tuple[int, int], corners: np.ndarray) -> np.ndarray:
    """A 0/255 mask of `shape` that is white inside the quadrilateral `corners`."""
    cv2 = _cv2()
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, np.round(corners).astype(np.int32), 255)
    return mask


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Four points as top-left, top-right, bottom-right, bottom-left."""
    s, d = pts.sum(axis=1), pts[:, 0] - pts[:, 1]
    return np.array([pts[np.argmin(s)], pts[np.argmax(d)], pts[np.argmax(s)], pts[np.argmin(d)]])


def warp(gray: np.ndarray, corners: np.ndarray, width: int, height: int) -> np.ndarray:
    """The quadrilateral `corners` of `gray` mapped onto a `width` x `height` rectangle."""
    cv2 = _cv2()
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    return cv2.warpPerspective(gray, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """`gray` turned `angle` degrees counter-clockwise about its centre, bicubic, on a white canvas
    enlarged to hold all of it: the canvas and placement of PIL's rotate(expand=True), which took
    four times as long (0.33 s against 0.08 s of CPU on a 300 dpi page)."""
    cv2 = _cv2()
    h, w = gray.shape
    t = np.deg2rad(angle)
    cos, sin = round(float(np.cos(t)), 15), round(float(np.sin(t)), 15)
    # Output to input about the centre, then the canvas from the corners, as PIL computes them (its
    # rounding decides the canvas's last pixel).
    a, b, d, e = cos, -sin, sin, cos
    c, f = w / 2 - a * w / 2 - b * h / 2, h / 2 - d * w / 2 - e * h / 2
    xs = [a * x + b * y + c for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    ys = [d * x + e * y + f for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    nw, nh = int(np.ceil(max(xs)) - np.floor(min(xs))), int(np.ceil(max(ys)) - np.floor(min(ys)))
    c, f = a * (w - nw) / 2 + b * (h - nh) / 2 + c, d * (w - nw) / 2 + e * (h - nh) / 2 + f
    # OpenCV samples at pixel centres on integer coordinates, PIL at half-integers.
    matrix = np.array([[a, b, c + 0.5 * (a + b) - 0.5], [d, e, f + 0.5 * (d + e) - 0.5]], dtype=np.float64)
    return cv2.warpAffine(gray, matrix, (nw, nh), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=255)


def close(mask: np.ndarray, size: int) -> np.ndarray:
    """Morphological closing with a square of `size` pixels: fills holes (the text on a sheet)."""
    cv2 = _cv2()
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)


def open_(mask: np.ndarray, size: int) -> np.ndarray:
    cv2 = _cv2()
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)


def blur(gray: np.ndarray, sigma: float) -> np.ndarray:
    return _cv2().GaussianBlur(gray, (0, 0), sigma)


def median(gray: np.ndarray, size: int = 3) -> np.ndarray:
    return _cv2().medianBlur(gray, size)


def nl_means(gray: np.ndarray, strength: float) -> np.ndarray:
    """Non-local means: averages patches that look alike, so strokes keep their edges while grain
    and JPEG blocks on the paper are smoothed away."""
    return _cv2().fastNlMeansDenoising(gray, None, h=float(strength), templateWindowSize=7, searchWindowSize=21)


def sauvola(gray: np.ndarray, window: int, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """Sauvola's threshold: a pixel is ink when darker than mean * (1 + k (std / r - 1)) of its
    window; 0/255 result. Local, so it copes with grey toner and uneven paper."""
    cv2 = _cv2()
    a = gray.astype(np.float64)
    size = (window | 1, window | 1)
    mean = cv2.boxFilter(a, -1, size, borderType=cv2.BORDER_REFLECT)
    sq = cv2.boxFilter(a * a, -1, size, borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(sq - mean * mean, 0))
    return np.where(a > mean * (1 + k * (std / r - 1)), 255, 0).astype(np.uint8)


def adaptive(gray: np.ndarray, window: int, offset: float) -> np.ndarray:
    """Gaussian-weighted adaptive mean threshold (ink: darker than the local mean by `offset`)."""
    cv2 = _cv2()
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                 window | 1, offset)


def despeckle(gray: np.ndarray, max_area: int, threshold: int = 128) -> np.ndarray:
    """Dark specks of at most `max_area` pixels (8-connected) painted white."""
    cv2 = _cv2()
    ink = (gray < threshold).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] <= max_area)
    small = small[small > 0]  # label 0 is the paper
    if not len(small):
        return gray
    lut = np.zeros(count, dtype=bool)
    lut[small] = True
    out = gray.copy()
    out[lut[labels]] = 255
    return out


def resize(gray: np.ndarray, factor: float) -> np.ndarray:
    cv2 = _cv2()
    h, w = gray.shape
    return cv2.resize(gray, (max(1, round(w * factor)), max(1, round(h * factor))),
                      interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
