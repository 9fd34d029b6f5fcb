"""Pages handed to a worker together, so that their OCR shares Tesseract's model loads.

Loading a model costs a Tesseract process 0.15-0.20 s of CPU, and a page is read with several
(Persian, then the English re-read, the figures model, and the Persian and Arabic-script number
crops where `digit_pass` is on). `ingest.ocr.ocr_images`
reads a few pages with one call per model and pass; `Batches` groups the ingest's page work items
for it. Only pages that may need OCR are grouped (images, PDF pages); a text page goes alone.

A batch never changes what is recorded: its result is one outcome per page, each recorded as a
page of its own. A batch that fails as a whole (its worker died, ran out of memory or overran its
time) says nothing about which page was at fault, so its pages are handed out again one by one,
and only the guilty one fails, exactly as it would have without batches.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest import detect, extract


@dataclass(frozen=True)
class PageBatch:
    tasks: tuple  # of ingest.pipeline.PageTask, all with the same settings

    @property
    def weight(self) -> int:
        """Pages in it: the executor gives it that many pages' time."""
        return len(self.tasks)


def may_ocr(media_type: str) -> bool:
    return media_type == detect.PDF or media_type.startswith(extract.IMAGE_PREFIX)


def run_batch(batch: PageBatch) -> list:
    """Runs in a worker: the outcome of each page (a PageResult or the exception it raised), in order."""
    first = batch.tasks[0]
    return extract.extract_pages([(Path(t.original), t.media_type, t.number) for t in batch.tasks], first.settings)


class Batches:
    """The executor's items: page tasks, those that may need OCR grouped ``size`` at a time.

    A batch goes out when it is full or when the tasks run out (the end of the input): it is never
    held open waiting for pages. To find out whether the input ends soon, ``workers`` batches' worth
    of tasks (and one more) are staged ahead (staging is quick: storing an original, counting its pages).
    Pages held when the input ends are shared out evenly between the workers: four scans on two
    workers go as two batches of two, not as one batch of four beside an idle worker. The pages
    of a batch that failed as a whole (`again`) come next, one by one, before any new task.
    Pulled lazily, like the tasks it groups.
    """

    def __init__(self, tasks: Iterator[Any], size: int, workers: int = 1):
        self._tasks = iter(tasks)
        self._size = size
        self._ahead = size * max(1, workers)
        self._workers = max(1, workers)
        self._again: deque = deque()
        self._held: list = []
        self._ended = False
        self._last_size = size  # batch size once the input has ended

    def __iter__(self) -> Batches:
        return self

    def __next__(self):
        if self._again:
            return self._again.popleft()
        while not self._ended and len(self._held) <= self._ahead:
            task = next(self._tasks, None)
            if task is None:
                self._ended = True
                self._last_size = max(1, -(-len(self._held) // self._workers))
            elif self._size <= 1 or not may_ocr(task.media_type):
                return task
            else:
                self._held.append(task)
        if not self._held:
            raise StopIteration
        return self._batch(self._last_size if self._ended else self._size)

    def again(self, batch: PageBatch) -> None:
        """Hand the pages of a batch that failed as a whole out again, one at a time."""
        self._again.extend(batch.tasks)

    def pending(self) -> bool:
        return bool(self._again)

    def _batch(self, size: int):
        held, self._held = self._held[:size], self._held[size:]
        return held[0] if len(held) == 1 else PageBatch(tuple(held))
