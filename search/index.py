"""The page index: one Whoosh entry per page, derived from the catalog; its life (created,
updated, rebuilt when damaged, checked) and the door to searching it.

Whoosh stays behind search.engine; ingest and the UI see only this module's SearchIndex. What a
search does is search.searching's (ranking: search.ranking, search.order, search.tiers;
feedback: search.feedback; what each hit shows: search.highlight).
"""

from __future__ import annotations

import fcntl
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from archive import collections
from archive.catalog import Catalog
from archive.errors import IndexDamaged, IntegrityError, InternalError, SanadError
from search import engine, feedback, integrity, searchers, searching
from search.amounts import amount_terms, find_amounts
from search.engine import LockError
from search.schema import SCHEMA_VERSION, build_schema, weighting
from search.searching import SearchResults

LOCK_WAIT = 600  # seconds a writer waits for another writer before giving up
VERSION_FILE = "SANAD_SCHEMA_VERSION"
# One rebuild at a time per process (the web app searches from several threads), and how many each
# index has had, so that a thread that found the damage after another rebuilt does not rebuild again.
_REBUILD_LOCK = threading.Lock()
_REBUILDS: dict[str, int] = {}


@dataclass
class IndexReport:
    missing: list[tuple[str, int]] = field(default_factory=list)  # in the catalog, not the index
    extra: list[tuple[str, int]] = field(default_factory=list)  # in the index, not the catalog
    different: list[tuple[str, int]] = field(default_factory=list)  # text differs
    stale: bool = False  # built with another analysis version
    damage: list[str] = field(default_factory=list)  # damaged files, each named (search.integrity)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different or self.stale or self.damage)


class SearchIndex:
    """The index in ``path``. Given the ``catalog`` it is derived from, a search that finds the
    index damaged rebuilds it from the catalog and searches again, after telling ``notify``
    (which may raise to refuse, as the web app does while an upload is building the index);
    without one, it raises IndexDamaged. ``notify`` also hears what a rebuild did to a path that
    was not an index folder."""

    def __init__(self, path: Path, catalog: Catalog | None = None,
                 notify: Callable[[str], None] | None = None):
        self.path = Path(path)
        self.schema = build_schema()
        self.catalog = catalog
        self.notify = notify

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def current(self) -> bool:
        """True when the index is there and was built by this analysis version, False when it is
        missing or out of date (it is then built from the catalog); IndexDamaged when it is there
        but its table of contents is gone or the path is not a folder."""
        if self.path.exists() and not self.path.is_dir():
            raise damaged(f"{self.path} is a file, not a folder")
        if not self.path.is_dir():
            return False
        if not any(self.path.glob("_MAIN_*.toc")):
            if any(self.path.glob("*.seg")):
                raise damaged(f"its table of contents (_MAIN_<n>.toc) is missing from {self.path}")
            return False
        try:
            return (self.path / VERSION_FILE).read_text().strip() == str(SCHEMA_VERSION)
        except FileNotFoundError:  # none, or another process is swapping its new index in:
            return False  # ensure_current looks again under the creation lock

    def _open(self):
        if not self.current:
            raise IntegrityError("the search index is missing or out of date; run `sanad reindex`")
        tocs = sorted(self.path.glob("_MAIN_*.toc"), key=lambda p: (len(p.name), p.name))
        with _reading(f"reading its table of contents {tocs[-1].name if tocs else ''}".rstrip()):
            return open_whoosh_index(self.path)

    @contextmanager
    def _creating(self):
        """Held while a new index is put in place: two processes (two ingests on a new archive)
        would otherwise build in the same ``.new`` folder and rename each other's away."""
        lock = self.path.with_name(self.path.name + ".lock")
        with open(lock, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _create(self) -> None:
        # Built beside the old one and swapped in, so searches keep working meanwhile.
        fresh = self.path.with_name(self.path.name + ".new")
        _remove(fresh)
        fresh.mkdir(parents=True)
        engine.index.create_in(fresh, self.schema)
        (fresh / VERSION_FILE).write_text(str(SCHEMA_VERSION))
        old = self.path.with_name(self.path.name + ".old")
        _remove(old)
        aside = None
        if self.path.exists() and not self.path.is_dir():
            # Not an index: something a user put there. Kept, beside the new index.
            aside = self.path.with_name(f"{self.path.name}.not-a-folder-{time.strftime('%Y%m%d-%H%M%S')}")
            self.path.rename(aside)
        searchers.forget(self.path)
        if self.path.exists():
            self.path.rename(old)
        fresh.rename(self.path)
        _remove(old)
        if aside is not None:  # said once the new index is in place (``notify`` may raise)
            self._say(f"{self.path} was a file, not an index folder: moved it to {aside}")

    def _say(self, message: str) -> None:
        if self.notify:
            self.notify(message)

    def _recovering(self, call):
        """``call()``; when it finds the index damaged and the catalog is known, the index is
        rebuilt and ``call()`` made once more."""
        seen = _REBUILDS.get(str(self.path), 0)
        try:
            return call()
        except IndexDamaged as exc:
            if self.catalog is None:
                raise
            self._say(f"the search index is damaged; rebuilding from the catalog ({damage_detail(exc)})")
            self._rebuild_damaged(seen)
        try:
            return call()
        except IndexDamaged as exc:  # a fresh index cannot be damaged: this is a bug
            raise InternalError(f"searching the index just rebuilt from the catalog failed ({damage_detail(exc)})") from exc

    def _rebuild_damaged(self, seen: int) -> None:
        with _REBUILD_LOCK:
            if _REBUILDS.get(str(self.path), 0) != seen:
                return  # another thread rebuilt it meanwhile
            try:
                self.rebuild(self.catalog)
            except SanadError:
                raise
            except OSError as exc:
                raise damaged(f"rebuilding it failed ({exc})") from exc
            _REBUILDS[str(self.path)] = seen + 1

    def ensure_current(self, catalog: Catalog) -> bool:
        """Start a new, empty index if there is none or it was built by another analysis
        version; every document is then marked for indexing. True when that happened."""
        if self.current:
            return False
        with self._creating():
            if self.current:  # another process made it while this one waited
                return False
            self._create()
        catalog.mark_all_unindexed()
        return True

    def rebuild(self, catalog: Catalog, progress=None) -> int:
        """Throw the index away and rebuild it from the catalog. Returns pages indexed."""
        with self._creating():
            self._create()
        catalog.mark_all_unindexed()
        ids = catalog.unindexed()
        pages = 0
        for start in range(0, len(ids), 200):
            batch = ids[start:start + 200]
            pages += self.update_documents(catalog, batch)
            catalog.mark_indexed(batch)
            if progress:
                progress(len(batch))
        return pages

    # -- writing -----------------------------------------------------------------------------

    def _writer(self):
        ix = self._open()
        deadline = time.monotonic() + LOCK_WAIT
        delay = 0.05
        while True:
            try:
                return ix.writer(limitmb=128)
            except LockError:
                # Another process is writing; users never see this, they wait a moment.
                if time.monotonic() > deadline:
                    raise IntegrityError(f"the search index stayed locked for {LOCK_WAIT} s;"
                                         " is another `sanad` process stuck?") from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def update_documents(self, catalog: Catalog, doc_ids: Iterable[str]) -> int:
        """Replace the entries of these documents with what the catalog holds now."""
        self.ensure_current(catalog)
        with _reading("updating it"):
            return self._update(catalog, doc_ids)

    def _update(self, catalog: Catalog, doc_ids: Iterable[str]) -> int:
        writer = self._writer()
        added = 0
        try:
            for doc_id in doc_ids:
                writer.delete_by_term("document_id", doc_id)
                doc = catalog.get_document(doc_id)
                if doc is None or doc.status != "done":
                    continue
                added_at = _parse_time(doc.added_at)
                in_collections = ",".join(collections.of_document(catalog, doc_id))
                for page in catalog.pages(doc_id, with_words=True):
                    if page.status != "done":
                        continue
                    writer.add_document(
                        key=f"{doc_id}:{page.number}", document_id=doc_id, page=page.number,
                        filename=doc.filename, title=doc.title, text=page.text,
                        exact=page.text + _amount_terms(page.text), stem=page.text,
                        lang=page.lang, source=doc.source, tags=",".join(doc.tags),
                        dates=" ".join(catalog.page_dates(doc_id, page.number)), added=added_at,
                        collections=in_collections,
                        **feedback.stored_fields(page),
                    )
                    added += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return added

    # -- reading -----------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 20, sort: str = "relevance", expand: bool = True,
               feedback: bool | None = None, readable: frozenset[str] | None = None) -> SearchResults:
        """Search pages. With ``expand``, words are also looked up in the other language
        (glossary), the other script (names) and other spellings of amounts; pages that match
        only through such an alternative rank below pages that match what was typed.

        ``feedback`` re-ranks with words taken from the best pages of a first pass (see
        ``FEEDBACK_*``). By default it is on for relevance-ranked queries of plain words with
        ``expand``, and off for date order, phrases and filter-only queries.

        ``readable``, when given, are the only collections whose pages may be found (team mode;
        see search.access, which always gives it): the filter wraps the whole query, so the
        pages, the count, the feedback pages and the expansions shown all come from them."""
        return self._recovering(lambda: self._search(text, limit, sort, expand, feedback, readable))

    def _search(self, text, limit, sort, expand, feedback, readable) -> SearchResults:
        with _reading("a search"):
            with self._lend() as (ix, searcher):
                return searching.run(self.path, self.schema, ix, searcher, text, limit, sort, expand,
                                     feedback, readable)

    def _lend(self):
        """(index, searcher) for one search, kept between searches (search.searchers)."""
        if not self.current:
            raise IntegrityError("the search index is missing or out of date; run `sanad reindex`")
        return searchers.lend(self.path, self._open, weighting())

    def page_marks(self, text: str, document_id: str, number: int,
                   readable: frozenset[str] | None = None) -> searching.PageMarks:
        """What a search of ``text`` marks on page ``number`` of a document, and which of its
        pages it matches (see searching.page_marks; ``readable`` as for ``search``)."""
        def call():
            with _reading("a search"), self._lend() as (ix, searcher):
                return searching.page_marks(self.path, self.schema, ix, searcher, text, document_id, number,
                                            readable)
        return self._recovering(call)

    def ranked_pages(self, text: str, *, limit: int = 1000, expand: bool = True,
                     feedback: bool | None = None, readable: frozenset[str] | None = None
                     ) -> list[tuple[str, int, float]]:
        """(document id, page, score) in the order ``search`` ranks them, without snippets:
        for evaluating the ranking over deep result lists."""
        return self._recovering(lambda: self._ranked_pages(text, limit, expand, feedback, readable))

    def _ranked_pages(self, text, limit, expand, feedback, readable):
        with _reading("a search"):
            with self._lend() as (ix, searcher):
                return searching.ranked_pages(self.path, self.schema, ix, searcher, text, limit, expand,
                                              feedback, readable)

    def entries(self) -> dict[tuple[str, int], str]:
        """Every page in the index with its text, for checking against the catalog."""
        with _reading("reading its stored pages"):
            return self._entries(self._open())[0]

    @staticmethod
    def _entries(ix) -> tuple[dict[tuple[str, int], str], int]:
        with ix.reader() as reader:
            pages, count = {}, 0
            for _, f in reader.iter_docs():
                pages[(f["document_id"], f["page"])] = f.get("text", "")
                count += 1
            return pages, count

    def check(self, catalog: Catalog) -> IndexReport:
        """The index read back whole (search.integrity) and compared with the catalog: the same
        pages, each with the same text."""
        try:
            if not self.current:
                return IndexReport(stale=True)
            ix = self._open()
        except IndexDamaged as exc:
            return IndexReport(damage=[damage_detail(exc)])
        damage = [str(d) for d in integrity.check_segments(ix)]
        try:
            with _reading("reading its stored pages"):
                indexed, count = self._entries(ix)
        except IndexDamaged as exc:  # said already when a segment could not be read
            return IndexReport(damage=damage or [damage_detail(exc)])
        if count != len(indexed):
            damage.append(f"{count - len(indexed)} page(s) are in the index more than once")
        expected = catalog.searchable_pages()
        report = IndexReport(missing=sorted(expected - indexed.keys()), extra=sorted(indexed.keys() - expected),
                             damage=damage)
        for key in sorted(expected & indexed.keys()):
            page = catalog.page(*key)
            if page is not None and page.text != indexed[key]:
                report.different.append(key)
        return report


@contextmanager
def _reading(what: str):
    """Any failure of Whoosh's while reading the index is damage: its files decode to something
    Whoosh did not write (a struct, pickle or zlib error, a short read, garbage offsets)."""
    try:
        yield
    except (SanadError, LockError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - what a damaged file raises cannot be listed
        raise damaged(f"{what} failed ({integrity.describe(exc)})") from exc


def damaged(detail: str) -> IndexDamaged:
    """IndexDamaged saying what is damaged; ``detail`` is kept for messages that already say
    that the index is damaged."""
    exc = IndexDamaged(f"the search index is damaged: {detail}")
    exc.detail = detail
    return exc


def damage_detail(exc: IndexDamaged) -> str:
    return getattr(exc, "detail", exc.args[0] if exc.args else str(exc))


def _remove(path: Path) -> None:
    """Remove a folder the index was built in, or a file left where one is."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)


def open_whoosh_index(path: Path):
    """The Whoosh index in ``path``, its files read as search.engine.open_storage says."""
    return engine.open_index(path)


def _amount_terms(text: str) -> str:
    """Every amount on the page in one canonical spelling (`5.4 million` -> 5400000), added to
    the unstored exact field so any spelling of an amount finds the others."""
    terms = {t for amount in find_amounts(text) for t in amount_terms(amount.value)}
    return ("\n" + " ".join(sorted(terms))) if terms else ""


def _parse_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        return datetime(1970, 1, 1)
