"""What the page passes read with: a reader (image -> word boxes) and helpers to read many crops.

The passes in ingest/passes.py and ingest/numbers.py only see a `Reader`, so they can be tested
with a fake one; `TesseractReader` is the real one.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image

from archive.models import WordBox
from ingest import tesseract
from ingest.textclean import strip_bidi


class Reader(Protocol):
    def words(self, image: Image.Image, lang: str, psm: int) -> list[WordBox]:
        """The words read on `image` in reading order; `line` numbers the text lines from 0."""
        ...

    def orientation(self, image: Image.Image) -> tuple[int, str]:
        """(degrees to turn clockwise, script name), or (0, "") when unsure."""
        ...


@dataclass
class TesseractReader:
    keep_noisy_rows: bool = True
    dpi: int | None = None
    timeout: float = 120.0

    def words(self, image: Image.Image, lang: str, psm: int) -> list[WordBox]:
        return words_from_data(tesseract.data(image, lang, psm, keep_noisy_rows=self.keep_noisy_rows,
                                              dpi=self.dpi, timeout=self.timeout))

    def orientation(self, image: Image.Image) -> tuple[int, str]:
        return tesseract.orientation(image, timeout=self.timeout)

    def lines(self, images: list[Image.Image], model: Path) -> list[list[tuple[str, float]]]:
        """Each image read as one line with a model Sanad ships (see ingest/figures.py)."""
        return tesseract.model_lines(images, model, timeout=self.timeout)

    def words_many(self, images: list[Image.Image], lang: str, psm: int) -> list[list[WordBox]]:
        """`words` of each image, with one Tesseract process for all (the model loaded once)."""
        return [words_from_data(d) for d in tesseract.data_many(images, lang, psm, keep_noisy_rows=self.keep_noisy_rows,
                                                                 dpi=self.dpi, timeout=self.timeout)]


class SharedReader:
    """A reader shared by the threads that read several pages at once: their calls with one model
    and page segmentation mode are held until every thread is waiting on a call (or done), then
    made as one Tesseract call (`words_many`, or `lines` for the figures model's crops), so that
    a model is loaded once per pass for all those pages rather than once per page. The passes do
    not change: each sees a `Reader`.
    """

    def __init__(self, inner, threads: int):
        self.inner = inner
        if hasattr(inner, "lines"):  # (a fake reader without line reads has the figures pass skipped)
            self.lines = self._lines
        self._running = threads
        self._queue: list[tuple[tuple, Image.Image, list]] = []  # (what call, image, its slot)
        self._waiting = 0  # threads waiting on a call
        self._lock = threading.Condition()

    def words(self, image: Image.Image, lang: str, psm: int) -> list[WordBox]:
        return self.words_many([image], lang, psm)[0]

    def words_many(self, images: list[Image.Image], lang: str, psm: int) -> list[list[WordBox]]:
        return self._shared(("words", lang, psm), images)

    def _lines(self, images: list[Image.Image], model: Path) -> list[list[tuple[str, float]]]:
        # The figures model's crops of all the pages in one call, as the page reads are.
        return self._shared(("lines", model), images)

    def _shared(self, key: tuple, images: list[Image.Image]) -> list:
        if not images:
            return []  # (a thread that waits on no image would hold the others back)
        slots: list[list] = [[] for _ in images]
        with self._lock:
            self._queue.extend((key, image, slot) for image, slot in zip(images, slots))
            self._waiting += 1
            self._release_if_all_wait()
            while not all(slots):
                self._lock.wait()
        for slot in slots:
            if isinstance(slot[0], BaseException):
                raise slot[0]
        return [slot[0] for slot in slots]

    def orientation(self, image: Image.Image) -> tuple[int, str]:
        return self.inner.orientation(image)

    def done(self) -> None:
        """The calling thread makes no more calls."""
        with self._lock:
            self._running -= 1
            self._release_if_all_wait()

    def _release_if_all_wait(self) -> None:
        # Called with the lock held. The reads run in the thread that came last, the others waiting.
        if not self._queue or self._waiting < self._running:
            return
        queue, self._queue, self._waiting = self._queue, [], 0
        groups: dict[tuple, list] = {}
        for key, image, slot in queue:
            groups.setdefault(key, []).append((image, slot))
        for key, members in groups.items():
            images = [image for image, _ in members]
            try:
                found = self.inner.lines(images, key[1]) if key[0] == "lines" else read_each(self.inner, images, *key[1:])
            except Exception as exc:  # noqa: BLE001 - every page of the failed call sees it
                found = [exc] * len(members)
            for (_, slot), result in zip(members, found):
                slot.append(result)
        self._lock.notify_all()


def words_from_data(data: dict) -> list[WordBox]:
    """Word boxes from Tesseract's TSV columns, in its reading order (right to left in Persian lines)."""
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


def clean_text(text: str) -> str:
    """NFC, direction marks removed (they break search and copy-paste); ZWNJ is kept."""
    return strip_bidi(unicodedata.normalize("NFC", text))


def median_height(words: list[WordBox]) -> int:
    """The words' median box height, the page's text height; 0 for no words."""
    heights = sorted(w.height for w in words)
    return heights[len(heights) // 2] if heights else 0


def mean_conf(words: list[WordBox]) -> float | None:
    confs = [w.conf for w in words if w.conf >= 0]
    return round(sum(confs) / len(confs), 2) if confs else None


def read_each(reader: Reader, images: list[Image.Image], lang: str, psm: int) -> list[list[WordBox]]:
    """Each image read on its own, all with one Tesseract call when the reader can do that."""
    many = getattr(reader, "words_many", None)
    if many is not None and len(images) > 1:
        return many(images, lang, psm)
    return [reader.words(image, lang, psm) for image in images]


def read_strip(reader: Reader, crops: list[Image.Image], lang: str, *,
               right_aligned: bool = True) -> list[list[tuple[str, float]]]:
    """Read many crops with one Tesseract call: stacked on a white strip, one per line.

    Returns the (text, confidence) of the words read on each crop, in Tesseract's order. Line
    crops are right-aligned, as Persian lines are; word crops are put at the left. No crops, no call.
    """
    if not crops:
        return []
    pad = 12
    gap = max(c.height for c in crops)
    width = max(c.width for c in crops) + 2 * pad
    strip = Image.new("L", (width, sum(c.height + gap for c in crops) + gap), 255)
    spans, y = [], gap
    for c in crops:
        strip.paste(c, (width - pad - c.width if right_aligned else pad, y))
        spans.append((y - gap / 2, y + c.height + gap / 2))
        y += c.height + gap
    found: list[list[tuple[str, float]]] = [[] for _ in crops]
    for w in reader.words(strip, lang, 6):
        centre = w.top + w.height / 2
        k = next((k for k, (top, bottom) in enumerate(spans) if top <= centre <= bottom), None)
        if k is not None:
            found[k].append((w.text, w.conf))
    return found


def union(words: list[WordBox], pad: int, page: Image.Image) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) around `words`, padded, inside the page."""
    return (max(0, min(w.left for w in words) - pad), max(0, min(w.top for w in words) - pad),
            min(page.width, max(w.left + w.width for w in words) + pad),
            min(page.height, max(w.top + w.height for w in words) + pad))
