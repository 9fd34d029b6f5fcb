"""The ingest pipeline: store each original, plan its pages, extract them in parallel,
record them in the catalog and index them.

Every page is a work item recorded in the catalog before any work is done on it, so an
interrupted ingest picks up where it stopped and never extracts a finished page twice. On the
local pool, pages to OCR go to a worker a few at a time (ingest/batches.py, the ocr_batch
setting) and are still recorded one by one.
"""

from __future__ import annotations

import getpass
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from archive.archive import Archive
from archive.catalog import now
from archive import diskspace
from archive import settings as settings_table
from archive.errors import DiskFull, IndexDamaged, InputError, InternalError, SanadError
from archive.models import Document, Page, Receipt
from archive.settings import Settings
from ingest import detect, extract, unzip
from ingest.batches import Batches, PageBatch, run_batch
from ingest.claims import Claims
from ingest.failures import LOG_NAME, classify, stops_batch
from ingest.inputs import Entry, display_name, expand
from ingest.executor import Executor, InlineExecutor, ProcessExecutor
from search.dates import find_dates
from search.index import SearchIndex, damage_detail

COPY = "copy"  # staging status of a second copy of a file in progress; never reported


@dataclass
class FileResult:
    path: str
    status: str  # ingested | duplicate | failed | skipped
    document_id: str | None = None
    pages: int = 0
    error: str | None = None
    member_of: str | None = None  # for a file inside a ZIP: the ZIP's path, as on the ZIP's own line

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PageTask:
    document_id: str
    original: str
    media_type: str
    number: int
    # The limits its extraction works within, handed to the worker with the page (a pool worker
    # or a machine of the cluster reads no settings of its own).
    settings: Settings = field(default_factory=settings_table.defaults, compare=False)


def cluster_address(flag: str | None = None, root: Path | None = None) -> str | None:
    """The cluster an ingest runs on: the --cluster flag, else the `cluster` setting
    (ARCHIVE/sanad.toml or $SANAD_CLUSTER); None runs it on this machine."""
    return settings_table.load(root, flags={"cluster": flag}).cluster or None


def default_executor(jobs: int | None = None, cluster: str | None = None, root: Path | None = None,
                     current: Settings | None = None) -> Executor:
    current = current or settings_table.load(root, flags={"jobs": jobs, "cluster": cluster})
    if current.cluster:
        from ingest.cluster import DaskExecutor  # loads dask only when a cluster is used

        return DaskExecutor(current.cluster)
    if current.jobs == 1:
        return InlineExecutor()
    return ProcessExecutor(current.jobs or None, timeout=current.page_timeout,
                           memory_limit=current.worker_memory_mb << 20)


def run_page(task: PageTask) -> extract.PageResult:
    return extract.extract_page(Path(task.original), task.media_type, task.number, task.settings)


def run_work(item: PageTask | PageBatch):
    """What a worker does with one item: a page, or a batch of pages read together."""
    return run_batch(item) if isinstance(item, PageBatch) else run_page(item)


class Ingestor:
    def __init__(self, archive: Archive, *, jobs: int | None = None, executor: Executor | None = None,
                 actor: str | None = None, notify: Callable[[str], None] | None = None,
                 settings: Settings | None = None):
        self.archive = archive
        self.catalog = archive.catalog
        self.settings = settings or settings_table.load(archive.root, flags={"jobs": jobs})
        self.notify = notify or _stderr
        self.index = SearchIndex(archive.index_dir, notify=self.notify)
        self.executor = executor or default_executor(current=self.settings)
        self.actor = actor or _user()
        self.log = archive.root / LOG_NAME
        self.internal_errors = 0  # failures that are Sanad's bugs, not the files' faults
        self._claims = Claims(archive.root)
        self._open: dict[str, tuple[FileResult, int]] = {}  # document -> (result so far, pages left)
        self._copies: dict[str, list[FileResult]] = {}  # document -> more copies of it in this call
        self._settled: dict[str, FileResult] = {}  # document -> how it ended in this call
        self._deferred: list[tuple[Entry, str]] = []  # (entry, document) held by another process
        self._to_index: list[str] = []
        self._indexed_at = time.monotonic()
        self._index_failure: IndexDamaged | None = None  # the index could not be rebuilt

    def ingest(self, paths: Iterable[Path | str], *, source: str | None = None, tags: Iterable[str] = (),
               on_file: Callable[[FileResult], None] | None = None,
               on_page: Callable[[PageTask, int], None] | None = None,
               min_free_mb: float | None = None) -> list[FileResult]:
        """Ingest files and folders. Never raises for a bad file: each gets a FileResult, and
        each path given or found gets exactly one. Raises DiskFull (the batch cannot go on;
        a rerun finishes it) and, below the free-space floor, before starting."""
        results: list[FileResult] = []
        tags = sorted({t.strip() for t in tags if t.strip()})

        def emit(result: FileResult) -> None:
            results.append(result)
            if on_file:
                on_file(result)

        try:
            floor = self.settings.min_free_mb if min_free_mb is None else \
                settings_table.BY_NAME["min_free_mb"].parse(min_free_mb, "--min-free")
            diskspace.check_floor(self.archive.root, floor)
            self.archive.store.clean_tmp()
            self.catch_up_index()
            entries: Iterable[Entry] = expand(paths)
            while True:
                work = Batches(self._tasks(entries, source, tags, emit, on_page), self._batch_size(),
                               getattr(self.executor, "jobs", 1))
                while True:
                    for item, outcome in self.executor.run(run_work, work):
                        self._work_done(work, item, outcome, emit, on_page)
                    if not work.pending():
                        break  # else the pages of a batch that failed last are still to do
                if not self._deferred:
                    break
                # Another `sanad ingest` was working on these: wait until it lets go of each,
                # then look again (done by then, normally; finished here if it died).
                deferred, self._deferred = self._deferred, []
                for _entry, doc_id in deferred:
                    self._claims.wait(doc_id)
                entries = [entry for entry, _ in deferred]
            self._flush_index()
            if self._index_failure is not None:
                raise self._index_failure
        except Exception as exc:
            if diskspace.is_disk_full(exc) and not isinstance(exc, DiskFull):
                raise diskspace.disk_full(self.archive.root, exc) from exc
            raise
        finally:
            self._claims.close()
        return results

    # -- staging -------------------------------------------------------------------------

    def _tasks(self, entries, source, tags, emit, on_page, depth: int = 0) -> Iterator[PageTask]:
        """Stage each entry and yield its page work items."""
        for entry in entries:
            if entry.problem:
                emit(FileResult(entry.name, entry.outcome, error=entry.problem, member_of=entry.member_of))
                continue
            try:
                staged = self._stage(entry, source, tags, depth)
            except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
                error = self._error(exc, reading_file=False, subject=entry.name)
                emit(FileResult(entry.name, "failed", error=str(error), member_of=entry.member_of))
                continue
            if staged is None:
                continue  # another process holds it: looked at again once it is done
            result, doc = staged
            if result.status == COPY:
                # Another copy of these bytes is being processed in this call: this one's line
                # follows that one's, with its outcome.
                self._copies.setdefault(result.document_id, []).append(result)
                continue
            if doc is not None and doc.media_type == detect.ZIP and result.status != "failed":
                emit(result)
                yield from self._tasks(self._zip_members(doc, entry.name, depth), source, tags, emit,
                                       on_page, depth + 1)
                continue
            if result.status != "pending":
                emit(result)
                continue
            pending = self.catalog.pending_pages(doc.id)
            if on_page:
                on_page(None, -len(pending))  # tells the progress display how many pages to expect
            if not pending:
                self._settle(result, emit)
                continue
            self._open[doc.id] = (result, len(pending))
            original = str(self.archive.original_path(doc.id))
            for number in pending:
                yield PageTask(doc.id, original, doc.media_type, number, self.settings)

    def _zip_members(self, doc, name, depth) -> Iterator[Entry]:
        """Each file in a ZIP becomes a document of its own; the ZIP itself stays as an original.
        Members are unpacked again even when the ZIP is known, so an interrupted run completes."""
        if depth >= self.settings.max_zip_depth:
            return  # such a ZIP was recorded as failed when first seen this deep
        folder = self.archive.store.scratch(f"unzip-{doc.id[:16]}-{depth}")
        try:
            for member in unzip.unpack(self.archive.original_path(doc.id), folder):
                # Staging copies the member into the store; the unpacked copy can go at once.
                yield Entry(member.path, f"{name}/{member.name}", member.error, member_of=name)
                if member.path is not None:
                    member.path.unlink(missing_ok=True)
        except SanadError as exc:
            if isinstance(exc, DiskFull):
                raise
            # The ZIP was checked when staged and has its line: what could not be reached gets one.
            yield Entry(None, f"{name}/", f"the rest of the ZIP cannot be unpacked: {exc}", member_of=name)
        finally:
            unzip.remove(folder)

    def _stage(self, entry: Entry, source: str | None, tags: list[str],
               depth: int) -> tuple[FileResult, Document | None] | None:
        """Store the original and plan its pages. Returns a final result, status 'pending' (pages
        to do), COPY (a copy of a file in progress), or None (another process has it)."""
        stored = self.archive.store.add(entry.path)
        name, member_of = entry.name, entry.member_of
        receipt = Receipt(stored.sha256, Path(name).name, now(), self.actor, source)
        if stored.sha256 in self._open:
            self.catalog.add_receipt(receipt, tags)
            return FileResult(name, COPY, stored.sha256, member_of=member_of), None
        settled = self._settled.get(stored.sha256)
        if settled is not None and settled.status == "failed":
            # Failed a moment ago in this call: the same bytes fail the same way; no retry.
            self.catalog.add_receipt(receipt, tags)
            return FileResult(name, "failed", stored.sha256, 0, settled.error, member_of), None
        if not self._claims.claim(stored.sha256):
            self._deferred.append((Entry(stored.path, name, member_of=member_of), stored.sha256))
            return None
        try:
            result = self._stage_claimed(stored, receipt, name, member_of, source, tags, depth)
        except BaseException:
            self._claims.release(stored.sha256)
            raise
        if result[0].status != "pending":
            self._claims.release(stored.sha256)
        return result

    def _stage_claimed(self, stored, receipt, name, member_of, source, tags, depth):
        doc = self.catalog.get_document(stored.sha256)
        if doc is None:
            doc = Document(id=stored.sha256, filename=receipt.filename, media_type=detect.UNKNOWN,
                           size=stored.size, added_at=receipt.received_at, source=source or "",
                           tags=tags, status="pending")
            if not self.catalog.add_document(doc, receipt):
                doc = self.catalog.get_document(stored.sha256)  # added by a process that takes no claims
        else:
            self.catalog.add_receipt(receipt, tags)
        if doc.status == "done":
            return FileResult(name, "duplicate", doc.id, doc.page_count, member_of=member_of), doc
        # Interrupted or failed before: pick it up again (a fixed install may now read it).
        if doc.status == "failed":
            self.catalog.reset_failed(doc.id)
        try:
            if doc.media_type == detect.UNKNOWN or doc.status == "failed":
                doc.media_type = detect.sniff(stored.path)
                self.catalog.set_media_type(doc.id, doc.media_type)
            if doc.media_type == detect.ZIP:
                # A container: its files become documents of their own, it has no pages itself.
                if depth >= self.settings.max_zip_depth:
                    raise InputError(f"ZIPs nested more than {self.settings.max_zip_depth} deep are not unpacked"
                                     " (the max_zip_depth setting)")
                unzip.members(stored.path)  # a ZIP that cannot be opened fails here, on its own line
                self.catalog.set_status(doc.id, "done")
                return FileResult(name, "ingested", doc.id, 0, member_of=member_of), doc
            if not self.catalog.pages(doc.id):
                self.catalog.plan_pages(doc.id, extract.count_pages(stored.path, doc.media_type))
        except Exception as exc:  # noqa: BLE001 - one bad file never stops a batch
            error = self._error(exc, reading_file=True, subject=name)
            self.catalog.set_status(doc.id, "failed", str(error))
            self._to_index.append(doc.id)
            return FileResult(name, "failed", doc.id, 0, str(error), member_of), doc
        return FileResult(name, "pending", doc.id, member_of=member_of), doc

    # -- results ---------------------------------------------------------------------------

    def _batch_size(self) -> int:
        # A cluster's tasks carry one original each (scattered to where they run): page by page there.
        return self.settings.ocr_batch if getattr(self.executor, "batches", False) else 1

    def _work_done(self, work: Batches, item, outcome, emit, on_page) -> None:
        if not isinstance(item, PageBatch):
            self._page_done(item, outcome, emit, on_page)
        elif isinstance(outcome, list) and len(outcome) == len(item.tasks):
            for task, one in zip(item.tasks, outcome):
                self._page_done(task, one, emit, on_page)
        else:
            work.again(item)  # failed as a whole: which page was at fault is found one by one

    def _page_done(self, task: PageTask, outcome, emit, on_page) -> None:
        if task.document_id not in self._open:
            return  # its document was already given up on
        if isinstance(outcome, BaseException):
            outcome = self._error(outcome, reading_file=True, subject=f"{task.original} page {task.number}")
        try:
            self._record_page(task, outcome)
        except Exception as exc:  # noqa: BLE001 - a bookkeeping bug fails this file, not the batch
            result, _ = self._open.pop(task.document_id)
            self._settle(result, emit, self._error(exc, reading_file=False, subject=result.path))
            return
        if on_page:
            on_page(task, 1)
        result, left = self._open[task.document_id]
        if left > 1:
            self._open[task.document_id] = (result, left - 1)
        else:
            del self._open[task.document_id]
            self._settle(result, emit)
        self._maybe_flush_index()

    def _record_page(self, task: PageTask, outcome) -> None:
        page = Page(document_id=task.document_id, number=task.number)
        if isinstance(outcome, BaseException):
            page.status = "failed"
            page.error = str(outcome)
        else:
            page.status = "done"
            for key in ("text", "method", "lang", "confidence", "width", "height", "words", "encoding",
                        "nuls_removed", "unread_lines"):
                setattr(page, key, getattr(outcome, key))
        self.catalog.save_page(page)
        found = find_dates(page.text) if page.status == "done" else []
        self.catalog.save_page_dates(page.document_id, page.number,
                                     [(d.day.isoformat(), d.text, d.calendar) for d in found])

    def _settle(self, result: FileResult, emit, error: SanadError | None = None) -> None:
        """Report a document whose pages are all done (or that failed on the way), then any
        other copies of it given in this call."""
        doc_id = result.document_id
        if error is None:
            try:
                result = self._finish(result)
            except Exception as exc:  # noqa: BLE001 - a bookkeeping bug fails this file, not the batch
                error = self._error(exc, reading_file=False, subject=result.path)
        if error is not None:
            result.status, result.error = "failed", str(error)
            self.catalog.set_status(doc_id, "failed", str(error))
            self._to_index.append(doc_id)
        self._claims.release(doc_id)
        self._settled[doc_id] = result
        emit(result)
        for copy in self._copies.pop(doc_id, []):
            copy.status = "failed" if result.status == "failed" else "duplicate"
            copy.pages, copy.error = result.pages, result.error
            emit(copy)

    def _finish(self, result: FileResult) -> FileResult:
        doc = self.catalog.finish_document(result.document_id)
        self._to_index.append(doc.id)
        result.pages = doc.page_count
        result.status = "failed" if doc.status == "failed" else "ingested"
        result.error = doc.error
        return result

    def _error(self, exc: BaseException, *, reading_file: bool, subject: str) -> SanadError:
        """The error to record for a file; raises it instead when it stops the batch."""
        error = classify(exc, reading_file=reading_file, log=self.log, subject=subject)
        if stops_batch(error):
            if error is exc:
                raise error
            raise error from exc
        if isinstance(error, InternalError):
            self.internal_errors += 1
        return error

    # -- index -----------------------------------------------------------------------------

    def catch_up_index(self) -> None:
        """Index documents a previous, interrupted run finished but did not index."""
        self._to_index.extend(self.catalog.unindexed())
        self._flush_index()

    def _maybe_flush_index(self) -> None:
        if self._to_index and time.monotonic() - self._indexed_at > self.settings.index_every_seconds:
            self._flush_index()

    def _flush_index(self) -> None:
        if self._to_index and self._index_failure is None:
            ids = list(dict.fromkeys(self._to_index))
            try:
                self.index.update_documents(self.catalog, ids)
                self.catalog.mark_indexed(ids)
            except IndexDamaged as exc:
                self._recover_index(exc)
            self._to_index = []
        self._indexed_at = time.monotonic()

    def _recover_index(self, damage: IndexDamaged) -> None:
        """The index is derived from the catalog: rebuilt whole, it holds every finished page,
        these included. If it cannot be, the pages stay marked unindexed (the next run or
        `sanad reindex` adds them) and the batch goes on; ``ingest`` raises at the end."""
        self.notify(f"the search index is damaged; rebuilding from the catalog ({damage_detail(damage)})")
        try:
            self.index.rebuild(self.catalog)
        except (SanadError, OSError) as exc:
            self._index_failure = IndexDamaged(f"the search index is damaged and could not be rebuilt ({exc});"
                                               " the files were stored, but are not searchable yet")


def _stderr(message: str) -> None:
    print(f"sanad: {message}", file=sys.stderr, flush=True)

def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["FileResult", "Ingestor", "InputError", "display_name", "expand"]
