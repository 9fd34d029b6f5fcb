"""Image preparation (ingest/images.py): pure functions, no Tesseract needed."""

from __future__ import annotations

from PIL import Image

from ingest import images
from ingest.letters import degrade, make_letter, render


def test_large_image_downscaled():
    big = Image.new("L", (8000, 6000), 255)  # 48 MP: above the OCR limit, below the refusal limit
    out = images.guard_size(big)
    assert out.width * out.height <= images.MAX_PIXELS


def test_fast_median_equals_pillow():
    import numpy as np
    from PIL import ImageFilter

    page = degrade(render(make_letter(5), "titr"), "noise", seed=5).crop((0, 0, 901, 677))
    for im in (page, Image.new("L", (8, 9), 0), Image.fromarray(np.random.default_rng(1).integers(0, 256, (31, 17), dtype=np.uint8))):
        assert images.denoise(im).tobytes() == im.filter(ImageFilter.MedianFilter(3)).tobytes()


def test_even_out_matches_divide_blur_threshold():
    import numpy as np
    from PIL import ImageFilter

    gray = degrade(render(make_letter(6), "nazli"), "shading", seed=6).convert("L")
    reference = np.asarray(images.binarize(images.flatten(gray).filter(ImageFilter.GaussianBlur(1))))
    ours = np.asarray(images.even_out(gray))
    assert set(np.unique(ours)) <= {0, 255}
    assert (reference != ours).mean() < 0.001


def test_skew_angle_from_rotated_page():
    page = render(make_letter(4), "nazli").reduce(2)
    assert abs(images.skew_angle(page)) < 0.3
    for angle in (1.5, -2.0):
        turned = page.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
        assert abs(images.skew_angle(turned) - angle) <= 0.2
