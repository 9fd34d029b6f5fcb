"""What is done to a page image before Tesseract reads it, chosen per page from what it looks like.

`prepare` measures the page (a photographed sheet on a desk? salt-and-pepper specks? film grain?
uneven light? black and white only, as faxes are? line height?) and applies only the steps the
measurements call for, in this order: flatten a photographed sheet from its four corners, remove
specks, even out the light, straighten, enlarge small text. Each step can lose detail on a page
that did not need it, so each has a measured trigger; the figures quoted are `python -m bench.ocr
--types --tuning` (tuning fonts and seeds) unless said otherwise.

Measured and not chosen (ingest/imaging.py keeps them for the next measurement), 6 tuning fonts:
Sauvola's threshold (window 41, k 0.2) on phone photos 2.6% CER against 2.0% flattened grey, on
shaded 300 dpi pages 1.8% against 1.3%; median then Sauvola on photocopies 3.5% against 1.5%
for the median alone; non-local means on photocopies 7.2%, at 3-5 times the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ingest import images, imaging, sheet

# A page whose dark pixels are nearly all black or nearly all white is bilevel: a fax or a 1-bit
# scan (mid-grey share of the non-white pixels: faxes 0.00, clean 300 dpi letters 0.17-0.25,
# 150 dpi renderings 0.4-0.5). Enlarging such a page with a smooth filter rings around every
# stroke: 150 dpi faxes read at 14-18% CER upscaled, 4-5% as they are.
BILEVEL_GREY_SHARE = 0.05
SPECK_PIXELS = 2
# Line pitch (px) from which a shaded page is binarised after flattening: shaded 300 dpi letters
# measure 79-103, phone photos' flattened sheets 45-55.
BINARIZE_MIN_PITCH = 70


@dataclass
class Prepared:
    image: Image.Image  # what Tesseract reads
    scale: float  # its pixels per pixel of `width` x `height`
    width: int  # size of the page the word boxes refer to (flattened, upright, deskewed)
    height: int
    steps: list[str] = field(default_factory=list)  # what was done, for logs and benchmarks


def grey_share(gray: Image.Image) -> float:
    """Share of mid-grey (60-199) among the non-white pixels of a central sample."""
    a = np.asarray(images._sample(gray), dtype=np.uint8)
    dark = int((a < 200).sum())
    return float(((a >= 60) & (a < 200)).sum() / dark) if dark else 1.0


def prepare(gray: Image.Image) -> Prepared:
    steps: list[str] = []
    # Phone photo of a sheet: read the sheet, not the desk, with its lines made straight.
    flat = sheet.straighten(gray)
    if flat is not None:
        gray = flat
        steps.append("sheet")
    bilevel = grey_share(gray) < BILEVEL_GREY_SHARE
    if bilevel:
        # A fax's line noise is specks of 1-2 black pixels. A median filter would also erase its
        # thin 1-bit strokes; removing only specks of at most 2 pixels took 150 dpi faxes from
        # 5.8% to 3.5% CER (6 tuning fonts; 4 pixels erased Nazli's dots: 4.4% -> 13.7%).
        gray = Image.fromarray(imaging.despeckle(np.asarray(gray, dtype=np.uint8), SPECK_PIXELS))
        steps.append("despeckle")
    # Salt-and-pepper noise: fas 27% CER before a median filter (bench "noise").
    elif images.impulse_noise(gray) > images.IMPULSE_NOISE_LIMIT:
        gray = images.denoise(gray)
        steps.append("median")
    # Uneven light: 55% CER with lines lost until the background is flattened (bench "shading").
    if images.shading(gray) > images.SHADING_LIMIT:
        flat = images.flatten(gray)
        pitch = images.line_pitch(flat)
        if pitch is not None and pitch < BINARIZE_MIN_PITCH:
            # Small text (a photographed sheet, ~145 dpi): thresholding erases dots and thin
            # strokes that the grey page keeps. Flattened only: phone photos 3.4% -> 2.1% CER.
            gray = flat
            steps.append("flatten")
        else:
            # Large text: the dark corner's sensor noise, lifted with the ink by flattening, is
            # averaged away by a blur before the threshold (shaded 300 dpi pages 1.3% binarised,
            # 4.7% flattened only, with 5 lines lost).
            gray = images.even_out(gray)
            steps.append("even-light")
    # Skew below ~0.3 degrees is harmless; 2 degrees costs ~2 points of CER.
    angle = images.skew_angle(gray)
    if abs(angle) >= images.MIN_SKEW:
        gray = images.deskew(gray, angle)
        steps.append(f"deskew {angle:.1f}")
    width, height = gray.size  # deskewing enlarged the canvas: boxes refer to this page
    factor = 1.0 if bilevel else images.upscale_factor(gray)
    if factor > 1.05:
        gray = gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.LANCZOS)
        steps.append(f"upscale {factor:.2f}")
    else:
        factor = 1.0
    return Prepared(gray, factor, width, height, steps)
