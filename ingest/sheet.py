"""The sheet in a photo: find its four corners and map it flat onto a rectangle.

A phone photo shows the letter on a desk, turned and in perspective. Tesseract's layout analysis
takes the desk's edge for text and reads the slanted lines as pieces (a phone-photo letter lost
22-27 of its 27 lines before this step). Paper is the brightest large region of such a photo,
also under uneven light, because the light falls on desk and sheet alike: their ratio stays.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ingest import imaging

WORK_SIDE = 640  # the corners are looked for on a copy this long: ample for a paper's edge
# A region smaller than this share of the photo is not the sheet (a card, a label); one larger is
# the whole picture: a scan, or a photo already cropped to the page.
MIN_SHARE, MAX_SHARE = 0.2, 0.9
CANNY = (50, 150)  # hysteresis thresholds on the log image scaled to 0-255 (30/90 caught desk grain)
MIN_CONTRAST = 1.25  # the paper's median brightness over the surround's, below which no sheet stands out


def find_sheet(gray: Image.Image) -> np.ndarray | None:
    """Corners (top-left, top-right, bottom-right, bottom-left) of the sheet in `gray`'s pixels,
    or None when the picture is not of a sheet on a darker surround."""
    scale = min(1.0, WORK_SIDE / max(gray.size))
    small = gray.resize((max(1, round(gray.width * scale)), max(1, round(gray.height * scale))), Image.BILINEAR)
    a = imaging.blur(np.asarray(small, dtype=np.uint8), 2.0)
    # In log brightness the paper's edge is the same step everywhere on a shaded photo (the light
    # falls on desk and sheet alike). A threshold on brightness, even Otsu's on the log, took a
    # lamp-lit corner of the desk for paper (corners 200-245 px off on 2 of 12 tuning photos);
    # Canny's edges on the log found all 12 sheets within 8 px.
    logged = np.log1p(a.astype(np.float32))
    scaled = ((logged - logged.min()) / max(1e-6, float(np.ptp(logged))) * 255).astype(np.uint8)
    found = imaging.largest_quad(imaging.edges(scaled, *CANNY))
    if found is None:
        return None
    corners, share = found
    if not MIN_SHARE <= share <= MAX_SHARE or not _plausible(corners):
        return None
    # The text block of a plain scan also has a four-cornered outline: what tells a sheet is the
    # darker surround.
    inside = imaging.quad_mask(a.shape, corners) > 0
    if inside.all() or np.median(a[inside]) < MIN_CONTRAST * max(1.0, float(np.median(a[~inside]))):
        return None
    return corners / scale


def _plausible(corners: np.ndarray) -> bool:
    """Convex, with each corner's angle within 60-120 degrees: a sheet in perspective, not a sliver."""
    for k in range(4):
        p, q, r = corners[k - 1], corners[k], corners[(k + 1) % 4]
        u, v = p - q, r - q
        cos = float(np.dot(u, v) / max(1e-9, np.linalg.norm(u) * np.linalg.norm(v)))
        if abs(cos) > 0.5:
            return False
    return True


def flatten_sheet(gray: Image.Image, corners: np.ndarray) -> Image.Image:
    """The sheet mapped onto a rectangle as wide and tall as its longer edges in the photo."""
    tl, tr, br, bl = corners
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    # A few pixels in from the edge: the desk's dark rim would be read as a rule or as letters.
    inset = max(2, round(0.004 * max(width, height)))
    out = imaging.warp(np.asarray(gray, dtype=np.uint8), corners, width, height)
    return Image.fromarray(out[inset:height - inset, inset:width - inset])


def straighten(gray: Image.Image) -> Image.Image | None:
    """The flattened sheet when `gray` is a photo of one, else None (scans are left alone)."""
    corners = find_sheet(gray)
    return None if corners is None else flatten_sheet(gray, corners)
