"""Pages OCRed in batches by `sanad ingest` (issue #13, throughput): the same pages recorded as page
by page, progress per page, and a batch that fails as a whole never fails more than its guilty page.

The failure tests run the real process pool; inside its (forked) workers a fake OCR stands in for
Tesseract, as no real page reliably kills a worker, eats its memory or hangs on demand.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PIL import Image

from archive.archive import Archive
from archive.settings import defaults
from ingest import extract, ocr
from ingest.batches import Batches, PageBatch
from ingest.executor import InlineExecutor, ProcessExecutor
from ingest.ocr import OcrResult
from ingest.pipeline import Ingestor

POISON = 41  # width of the page the fake OCR misbehaves on


def _archive(root: Path) -> Archive:
    return Archive(root)


def _pages(archive: Archive) -> dict[tuple[str, int], object]:
    return {(p.document_id, p.number): p for doc in archive.catalog.list_documents()
            for p in archive.catalog.pages(doc.id, with_words=True)}


def test_batches_group_ocr_pages_only_and_never_wait_for_more():
    def task(kind, n):
        return type("T", (), {"media_type": kind, "number": n})()

    tasks = [task("image/png", 1), task("text/plain", 2), task("application/pdf", 3), task("image/png", 4),
             task("image/png", 5)]
    items = list(Batches(iter(tasks), 3))
    assert items[0] is tasks[1]  # a text page is not held back behind a batch
    assert isinstance(items[1], PageBatch) and [t.number for t in items[1].tasks] == [1, 3, 4]
    assert items[2] is tasks[4]  # the end of the input sends what is held, here one page alone
    assert len(items) == 3
    assert list(Batches(iter(tasks), 1)) == tasks


def test_pages_held_at_the_end_of_the_input_are_shared_between_the_workers():
    def sizes(pages, size, workers):
        tasks = [type("T", (), {"media_type": "image/png", "number": n})() for n in range(pages)]
        items = list(Batches(iter(tasks), size, workers))
        assert [t for item in items for t in getattr(item, "tasks", [item])] == tasks
        return [getattr(item, "weight", 1) for item in items]

    assert sizes(4, 4, 2) == [2, 2]
    assert sizes(3, 4, 2) == [2, 1]
    assert sizes(9, 4, 2) == [4, 3, 2]
    assert sizes(48, 4, 2) == [4] * 12
    assert sizes(5, 4, 1) == [4, 1]


@pytest.fixture
def letters(tmp_path):
    from bench.pipeline import make_pages

    folder = tmp_path / "letters"
    folder.mkdir()
    files, _ = make_pages(folder, 3, False)
    (folder / "note.txt").write_text("یادداشت: a text page goes alone")
    return folder


def test_batched_ingest_records_what_page_by_page_does(tmp_path, letters, monkeypatch):
    sizes = tmp_path / "batch-sizes"
    read_together = extract.extract_pages

    def counted(pages, settings=None):  # runs in the (forked) workers
        with open(sizes, "a") as out:
            out.write(f"{len(pages)}\n")
        return read_together(pages, settings)

    monkeypatch.setattr(extract, "extract_pages", counted)
    recorded, progress = {}, {}
    for batch in (1, 3):
        archive = _archive(tmp_path / f"archive-{batch}")
        settings = defaults().with_values(ocr_batch=batch)
        seen = []
        results = Ingestor(archive, executor=ProcessExecutor(2), settings=settings, actor="test").ingest(
            [letters], on_page=lambda task, n: seen.append(n))
        assert [r.status for r in results] == ["ingested"] * 4, results
        recorded[batch] = {key: (p.status, p.method, p.text, p.words, p.confidence, p.unread_lines)
                           for key, p in _pages(archive).items()}
        progress[batch] = sorted(seen)
    # Batched, the three scans went as two items for the two workers (2 + 1 alone); not batched, none.
    assert sizes.read_text().split() == ["2"]
    assert recorded[3] == recorded[1]
    assert sum(method == "ocr" for _, method, *_ in recorded[3].values()) == 3
    assert progress[3] == progress[1] == [-1] * 4 + [1] * 4  # one step per page, batched or not


def _fake_image(width: int, height: int):
    return OcrResult(text=f"page {width}x{height}", confidence=90.0, lang="en", width=width, height=height)


def _misbehave(how: str) -> None:
    if how == "exit":
        os._exit(70)  # a native library taking its process down
    if how == "memory":
        raise MemoryError
    if how == "hang":
        time.sleep(600)


@pytest.fixture
def fake_ocr(monkeypatch):
    """OCR that misbehaves on the poison page, alone or in a batch (how: exit, memory, hang, slot)."""
    state = {"how": "exit", "batches": 0}

    def one(image, settings=None, reader=None):
        if image.width == POISON:
            _misbehave(state["how"])
            raise ValueError("no text here")
        return _fake_image(image.width, image.height)

    def many(images, settings=None, reader=None):
        if any(im.width == POISON for im in images) and state["how"] != "slot":
            _misbehave(state["how"])
        return [ValueError("no text here") if im.width == POISON else _fake_image(im.width, im.height)
                for im in images]

    monkeypatch.setattr(ocr, "ocr_image", one)
    monkeypatch.setattr(ocr, "ocr_images", many)
    return state


def _scans(folder: Path, widths: list[int]) -> list[Path]:
    folder.mkdir()
    paths = []
    for k, width in enumerate(widths):
        path = folder / f"scan-{k}.png"
        Image.new("L", (width, 60 + k), 255).save(path)
        paths.append(path)
    return paths


MESSAGES = {"exit": "the worker processing this page died", "memory": "ran out of memory",
            "hang": "took longer than 3 s", "slot": "no text here"}


@pytest.mark.parametrize("how", ["exit", "memory", "hang", "slot"])
def test_a_failing_batch_fails_only_its_guilty_page(tmp_path, fake_ocr, how):
    fake_ocr["how"] = how
    scans = _scans(tmp_path / "in", [50, POISON, 52, 53, 54, 55])
    archive = _archive(tmp_path / "archive")
    settings = defaults().with_values(ocr_batch=3)
    pages = []
    results = Ingestor(archive, executor=ProcessExecutor(2, timeout=3), settings=settings, actor="test").ingest(
        scans, on_page=lambda task, n: pages.append(task.number) if n == 1 else None)
    by_name = {Path(r.path).name: r for r in results}
    assert len(results) == 6 and len(pages) == 6  # every page reported once, the guilty one included
    assert by_name["scan-1.png"].status == "failed" and MESSAGES[how] in by_name["scan-1.png"].error
    for k in (0, 2, 3, 4, 5):
        result = by_name[f"scan-{k}.png"]
        assert result.status == "ingested", result
        page = archive.catalog.pages(result.document_id)[0]
        assert page.text == f"page {50 + k}x{60 + k}"


def test_a_bug_in_a_batch_is_still_an_internal_error(tmp_path, monkeypatch):
    """A page's exception comes back from the worker inside the batch's result, without its
    traceback object: its traceback as text still says it was raised in Sanad's own code."""
    scans = _scans(tmp_path / "in", [50, 51])
    archive = _archive(tmp_path / "archive")

    def many(images, settings=None, reader=None):
        try:
            archive.catalog.get_document(object())  # raised in Sanad's own code (a misuse: a bug)
        except Exception as exc:  # noqa: BLE001
            bug = exc
        return [bug] + [_fake_image(im.width, im.height) for im in images[1:]]

    monkeypatch.setattr(ocr, "ocr_images", many)
    # One worker, so that the two scans go as one batch.
    results = Ingestor(archive, executor=ProcessExecutor(1), settings=defaults().with_values(ocr_batch=2),
                       actor="test").ingest(scans)
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["scan-1.png"].status == "ingested"
    assert by_name["scan-0.png"].status == "failed" and "Sanad failed" in by_name["scan-0.png"].error
    assert "Traceback" in (archive.root / "sanad.log").read_text()


def test_an_interrupted_batched_ingest_reads_no_finished_page_again(tmp_path, fake_ocr, monkeypatch):
    fake_ocr["how"] = "none"
    scans = _scans(tmp_path / "in", [50, 51, 52, 53, 54, 55])
    archive = _archive(tmp_path / "archive")
    settings = defaults().with_values(ocr_batch=2)
    done = []

    def stop_after_two(task, n):
        if n == 1:
            done.append(task.document_id)
            if len(done) == 2:
                raise KeyboardInterrupt  # as Ctrl-C (or a kill) between two pages

    with pytest.raises(KeyboardInterrupt):
        Ingestor(archive, executor=ProcessExecutor(2), settings=settings, actor="test").ingest(
            scans, on_page=stop_after_two)
    read = tmp_path / "read"
    read_together = extract.extract_pages

    def counted(pages, settings=None):
        with open(read, "a") as out:
            out.writelines(f"{path}\n" for path, _, _ in pages)
        return read_together(pages, settings)

    monkeypatch.setattr(extract, "extract_pages", counted)
    monkeypatch.setattr(extract, "extract_page", lambda path, *a: counted([(path, *a[:2])], *a[2:])[0])
    results = Ingestor(archive, executor=ProcessExecutor(2), settings=settings, actor="test").ingest(scans)
    assert {r.status for r in results} <= {"ingested", "duplicate"} and len(results) == 6
    again = set(read.read_text().split())
    assert again and not again & {str(archive.original_path(d)) for d in done}
    assert len(again) == 6 - 2
