"""The ingest pipeline: store each original, plan its pages, extract them in parallel,
record them in the catalog and index them.

Every page is a work item recorded in the catalog before any work is done on it, so an
interrupted ingest picks up where it stopped and never extracts a finished page twice.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from archive.archive import Archive
from archive.catalog import now
from archive.errors import InputError, SanadError
from archive.models import Document, Page, Receipt
from ingest import detect, extract, unzip
from ingest.executor import Executor, InlineExecutor, ProcessExecutor
from search.dates import find_dates
from search.index import SearchIndex

INDEX_EVERY_SECONDS = 5.0  # how stale the index may be while a batch runs (each commit costs ~0.1 s)
MAX_ZIP_DEPTH = 3


@dataclass
class FileResult:
    path: str
    status: str  # ingested | duplicate | failed
    document_id: str | None = None
    pages: int = 0
    error: str | None = None

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PageTask:
    document_id: str
    original: str
    media_type: str
    number: int


def display_name(path: Path | str) -> str:
    """A file name as text that can always be stored and printed, even with odd bytes in it."""
    return os.fsencode(path).decode("utf-8", "replace")


def expand(paths: Iterable[Path | str]) -> Iterator[tuple[Path, str | None]]:
    """Yield (file, None) for every file to ingest, (path, reason) for paths that can't be."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for folder, dirs, files in os.walk(path, onerror=None):
                # Hidden folders and files (.git, .DS_Store) are system clutter, not evidence.
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(folder) / name, None
        elif path.is_file():
            yield path, None
        elif path.exists() or path.is_symlink():
            yield path, "not a regular file (a broken link, device or socket)"
        else:
            yield path, "no such file or folder"


def cluster_address(flag: str | None = None) -> str | None:
    """The cluster an ingest runs on: the --cluster flag, else $SANAD_CLUSTER; None runs it here.
    Read at call time, in this one place, so the settings table can take it over."""
    return flag or os.environ.get("SANAD_CLUSTER") or None


def default_executor(jobs: int | None = None, cluster: str | None = None) -> Executor:
    address = cluster_address(cluster)
    if address:
        from ingest.cluster import DaskExecutor  # loads dask only when a cluster is used

        return DaskExecutor(address)
    return InlineExecutor() if jobs == 1 else ProcessExecutor(jobs)


def run_page(task: PageTask) -> extract.PageResult:
    return extract.extract_page(Path(task.original), task.media_type, task.number)


class Ingestor:
    def __init__(self, archive: Archive, *, jobs: int | None = None, executor: Executor | None = None,
                 actor: str | None = None):
        self.archive = archive
        self.catalog = archive.catalog
        self.index = SearchIndex(archive.index_dir)
        self.executor = executor or default_executor(jobs)
        self.actor = actor or _user()
        self._open: dict[str, tuple[FileResult, int]] = {}  # document -> (result so far, pages left)
        self._to_index: list[str] = []
        self._indexed_at = time.monotonic()

    def ingest(self, paths: Iterable[Path | str], *, source: str | None = None, tags: Iterable[str] = (),
               on_file: Callable[[FileResult], None] | None = None,
               on_page: Callable[[PageTask, int], None] | None = None) -> list[FileResult]:
        """Ingest files and folders. Never raises for a bad file: each gets a FileResult."""
        results: list[FileResult] = []
        tags = sorted({t.strip() for t in tags if t.strip()})

        def emit(result: FileResult) -> None:
            results.append(result)
            if on_file:
                on_file(result)

        self.archive.store.clean_tmp()
        self.catch_up_index()
        entries = ((path, display_name(path), problem) for path, problem in expand(paths))
        tasks = self._tasks(entries, source, tags, emit, on_page)
        for task, outcome in self.executor.run(run_page, tasks):
            self._record_page(task, outcome)
            if on_page:
                on_page(task, 1)
            result, left = self._open[task.document_id]
            if left > 1:
                self._open[task.document_id] = (result, left - 1)
                self._maybe_flush_index()
                continue
            del self._open[task.document_id]
            emit(self._finish(result))
            self._maybe_flush_index()
        self._flush_index()
        return results

    # -- staging -------------------------------------------------------------------------

    def _tasks(self, entries, source, tags, emit, on_page, depth: int = 0) -> Iterator[PageTask]:
        """Stage each (path, display name, problem) entry and yield its page work items."""
        for path, name, problem in entries:
            if problem:
                emit(FileResult(name, "failed", error=problem))
                continue
            try:
                result, doc = self._stage(path, name, source, tags)
            except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
                emit(FileResult(name, "failed", error=describe(exc)))
                continue
            if doc is not None and doc.media_type == detect.ZIP and result.status != "failed":
                emit(result)
                yield from self._tasks(self._zip_members(doc, name, emit, depth), source, tags, emit,
                                       on_page, depth + 1)
                continue
            if result.status != "pending":
                emit(result)
                continue
            pending = self.catalog.pending_pages(doc.id)
            if on_page:
                on_page(None, -len(pending))  # tells the progress display how many pages to expect
            if not pending:
                emit(self._finish(result))
                continue
            self._open[doc.id] = (result, len(pending))
            original = str(self.archive.original_path(doc.id))
            for number in pending:
                yield PageTask(doc.id, original, doc.media_type, number)

    def _zip_members(self, doc, name, emit, depth) -> Iterator[tuple[Path, str, str | None]]:
        """Each file in a ZIP becomes a document of its own; the ZIP itself stays as an original.
        Members are unpacked again even when the ZIP is known, so an interrupted run completes."""
        if depth >= MAX_ZIP_DEPTH:
            emit(FileResult(name, "failed", doc.id, 0, f"ZIPs nested more than {MAX_ZIP_DEPTH} deep are not unpacked"))
            return
        folder = self.archive.store.scratch(f"unzip-{doc.id[:16]}-{depth}")
        try:
            for member in unzip.unpack(self.archive.original_path(doc.id), folder):
                # Staging copies the member into the store; the unpacked copy can go at once.
                yield member.path, f"{name}/{member.name}", member.error
                if member.path is not None:
                    member.path.unlink(missing_ok=True)
        except SanadError as exc:
            emit(FileResult(name, "failed", doc.id, 0, f"cannot be unpacked: {exc}"))
        finally:
            unzip.remove(folder)

    def _stage(self, path: Path, name: str, source: str | None, tags: list[str]) -> tuple[FileResult, Document | None]:
        """Store the original and plan its pages. Returns a final result, or status 'pending'."""
        stored = self.archive.store.add(path)
        receipt = Receipt(stored.sha256, Path(name).name, now(), self.actor, source)
        doc = self.catalog.get_document(stored.sha256)
        if doc is not None:
            self.catalog.add_receipt(receipt, tags)
            if doc.status == "done":
                return FileResult(name, "duplicate", doc.id, doc.page_count), doc
            # Interrupted or failed before: pick it up again (a fixed install may now read it).
            if doc.status == "failed":
                self.catalog.reset_failed(doc.id)
        else:
            doc = Document(id=stored.sha256, filename=receipt.filename, media_type=detect.UNKNOWN,
                           size=stored.size, added_at=receipt.received_at, source=source or "",
                           tags=tags, status="pending")
            self.catalog.add_document(doc, receipt)
        try:
            if doc.media_type == detect.UNKNOWN or doc.status == "failed":
                doc.media_type = detect.sniff(stored.path)
                self.catalog.set_media_type(doc.id, doc.media_type)
            if doc.media_type == detect.ZIP:
                # A container: its files become documents of their own, it has no pages itself.
                self.catalog.set_status(doc.id, "done")
                return FileResult(name, "ingested", doc.id, 0), doc
            if not self.catalog.pages(doc.id):
                self.catalog.plan_pages(doc.id, extract.count_pages(stored.path, doc.media_type))
        except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
            self.catalog.set_status(doc.id, "failed", describe(exc))
            self._to_index.append(doc.id)
            return FileResult(name, "failed", doc.id, 0, describe(exc)), doc
        return FileResult(name, "pending", doc.id), doc

    # -- results ---------------------------------------------------------------------------

    def _record_page(self, task: PageTask, outcome) -> None:
        page = Page(document_id=task.document_id, number=task.number)
        if isinstance(outcome, BaseException):
            page.status = "failed"
            page.error = describe(outcome)
        else:
            page.status = "done"
            for key in ("text", "method", "lang", "confidence", "width", "height", "words"):
                setattr(page, key, getattr(outcome, key))
        self.catalog.save_page(page)
        found = find_dates(page.text) if page.status == "done" else []
        self.catalog.save_page_dates(page.document_id, page.number,
                                     [(d.day.isoformat(), d.text, d.calendar) for d in found])

    def _finish(self, result: FileResult) -> FileResult:
        doc = self.catalog.finish_document(result.document_id)
        self._to_index.append(doc.id)
        result.pages = doc.page_count
        result.status = "failed" if doc.status == "failed" else "ingested"
        result.error = doc.error
        return result

    # -- index -----------------------------------------------------------------------------

    def catch_up_index(self) -> None:
        """Index documents a previous, interrupted run finished but did not index."""
        self._to_index.extend(self.catalog.unindexed())
        self._flush_index()

    def _maybe_flush_index(self) -> None:
        if self._to_index and time.monotonic() - self._indexed_at > INDEX_EVERY_SECONDS:
            self._flush_index()

    def _flush_index(self) -> None:
        if self._to_index:
            ids = list(dict.fromkeys(self._to_index))
            self.index.update_documents(self.catalog, ids)
            self.catalog.mark_indexed(ids)
            self._to_index = []
        self._indexed_at = time.monotonic()


def describe(exc: BaseException) -> str:
    """The message a user sees for a failure: ours are written for people; anything else is a
    library tripping over a malformed file, named as such."""
    if isinstance(exc, SanadError):
        return str(exc)
    return f"the file is malformed and could not be read ({type(exc).__name__}: {exc})"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["FileResult", "Ingestor", "InputError", "display_name", "expand"]
