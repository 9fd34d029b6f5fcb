"""A fake `Reader` (ingest/reading.py) for testing the page passes without Tesseract."""

from __future__ import annotations

import numpy as np
from PIL import Image

from archive.models import WordBox


class FakeReader:
    """Answers each call with canned text per band of ink rows in the image, top to bottom.

    `script` maps (lang, psm) to one text per band; every call with that key gets the same
    answer. A band's words are laid out right to left across the band, each band its own line.
    `calls` records (lang, psm, image size) of every call, in order.
    """

    def __init__(self, script: dict[tuple[str, int], list[str]], orientation: tuple[int, str] = (0, ""),
                 conf: float = 90.0):
        self.script = script
        self._orientation = orientation
        self.conf = conf
        self.calls: list[tuple[str, int, tuple[int, int]]] = []

    def words(self, image: Image.Image, lang: str, psm: int) -> list[WordBox]:
        self.calls.append((lang, psm, image.size))
        texts = self.script.get((lang, psm), [])
        out: list[WordBox] = []
        for line, ((top, bottom), text) in enumerate(zip(ink_bands(image), texts)):
            parts = text.split()
            step = image.width // max(1, len(parts))
            for k, part in enumerate(parts):
                left = image.width - (k + 1) * step
                out.append(WordBox(part, left, top, step - 2, bottom - top, self.conf, line))
        return out

    def orientation(self, image: Image.Image) -> tuple[int, str]:
        self.calls.append(("osd", 0, image.size))
        return self._orientation


def ink_bands(image: Image.Image) -> list[tuple[int, int]]:
    """(top, bottom) of each run of rows holding a dark pixel."""
    rows = (np.asarray(image.convert("L")) < 128).any(axis=1)
    edges = np.flatnonzero(np.diff(np.r_[0, rows.astype(np.int8), 0]))
    return [(int(s), int(e)) for s, e in zip(edges[::2], edges[1::2])]
