"""The page index: one Whoosh entry per page, derived from the catalog.

Whoosh stays behind search.engine; ingest and the UI see only this module's SearchIndex.
"""

from __future__ import annotations

import fcntl

import math
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from archive import collections
from archive.catalog import Catalog
from archive.errors import IndexDamaged, IntegrityError, InternalError, QueryError, SanadError
from archive.models import Hit, Matched
from search import crosslingual, engine, feedback as feedback_words, integrity, postings, ranking, searchers, tiers
from search.amounts import amount_terms, find_amounts
from search.analysis import text_analyzer
from search.query import Scaled, parse_query
from search.engine import LockError, Q, TermNotFound
from search.schema import SCHEMA_VERSION, build_schema, weighting

LOCK_WAIT = 600  # seconds a writer waits for another writer before giving up
SNIPPET_CHARS = 240
VERSION_FILE = "SANAD_SCHEMA_VERSION"
# A page found only through a translation or transliteration ranks lower: the alternative query
# repeats the words as typed, so at weight 1 they count twice and their alternatives once. (Until
# the Scaled wrapper, Whoosh ignored the 0.5 written here and 1 is what was measured: Hamshahri MAP
# 0.8588, English queries 0.5535; with 0.5 applied, 0.8584 and 0.5198, as feedback then outweighs
# a query found only through translations.)
EXPANSION_WEIGHT = 1.0

# Pseudo-relevance feedback: the words that distinguish the best pages of a first pass from the
# archive as a whole are added, weighted, to the query, and the matching pages are ranked again.
# Feedback only re-ranks: the pages that match stay those that match the query as typed (and
# expanded). Hamshahri, full pipeline (MAP): words chosen and weighted by their share of the best
# pages alone (a relevance model, RM3) 0.8503 at 5 pages/10 words/weight 6, 0.8422 at 10 pages;
# by how much more the best pages use them than the archive does (relative entropy) 0.8588 and
# 0.8541. Weight 4 / 6 / 8 / 12 at 5 pages: 0.8526 / 0.8588 / 0.8581 / 0.8584; 5 / 10 / 15 / 20
# words: 0.8564 / 0.8588 / 0.8547 / 0.8546. Without feedback: 0.8273.
FEEDBACK_DOCS = 5  # pages of the first pass that the words are taken from
FEEDBACK_TERMS = 10  # words added
FEEDBACK_WEIGHT = 6.0  # total boost shared by the added words, in proportion to their weight
FEEDBACK_MAX_DF = 0.1  # words on more than this share of the pages carry no topic: skipped
FEEDBACK_SELECTION = "divergence"  # or "share" (RM3), kept for bench/retrieval.py --tune

# Scores closer than this (relative) are equal. A page's score is a sum over the query's clauses
# and Whoosh adds them in an order that depends on which terms each segment holds, so the same page
# scores a few units in the last place apart in a one-segment and a two-segment index (measured on
# Hamshahri: at most 6e-14 on scores of 3-120). Equal pages are ordered by their key.
SCORE_TOLERANCE = 1e-9
_NAME_KEYS: dict[str, tuple] = {}
_TEXT_STATS_LOCK = threading.Lock()
_TEXT_STATS: dict = {}  # word -> (pages, occurrences) in the text field, for one index version
TEXT_STATS_KEPT = 500_000
# One rebuild at a time per process (the web app searches from several threads), and how many each
# index has had, so that a thread that found the damage after another rebuilt does not rebuild again.
_REBUILD_LOCK = threading.Lock()
_REBUILDS: dict[str, int] = {}


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]  # best first, at most `limit`
    total: int  # pages that match
    documents: int  # documents that match, among the hits fetched
    expansions: list = field(default_factory=list)  # crosslingual.Expansion: what was searched as well
    estimated: bool = False  # total is estimated (a phrase of common words, see search.ranking)

    @property
    def total_text(self) -> str:
        """The number of matching pages as a user should read it."""
        return f"about {self.total:,}" if self.estimated else f"{self.total:,}"

    def by_document(self) -> list[list[Hit]]:
        """Hits grouped per document, documents in order of their best page."""
        groups: dict[str, list[Hit]] = {}
        for hit in self.hits:
            groups.setdefault(hit.document_id, []).append(hit)
        return list(groups.values())


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
        marker = self.path / VERSION_FILE
        return marker.exists() and marker.read_text().strip() == str(SCHEMA_VERSION)

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
                        **feedback_words.stored_fields(page),
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
            return self._search_unguarded(text, limit, sort, expand, feedback, readable)

    def _lend(self):
        """(index, searcher) for one search, kept between searches (search.searchers)."""
        if not self.current:
            raise IntegrityError("the search index is missing or out of date; run `sanad reindex`")
        return searchers.lend(self.path, self._open, weighting())

    def _search_unguarded(self, text, limit, sort, expand, feedback, readable) -> SearchResults:
        with self._lend() as (ix, searcher):
            query, expanded, feedback = self._query(ix, text, sort, expand, feedback)
            query = access_filter(query, readable)
            typed = parse_query(text, self.schema)
            first_tier = tiers.first_tier(text, typed) if expanded and expanded.expansions or _has_fuzzy(typed) else None
            evaluation = ranking.Evaluation(searcher)  # the ranking's work, reused for highlighting
            if readable is not None and expanded is not None:
                expanded.expansions = readable_expansions(expanded.expansions, readable, evaluation, self.schema)
            estimated = False
            extra = None
            if sort == "date":
                found, total = _newest(searcher, query, limit, evaluation)
            elif feedback:
                found, total, ranked_by = feedback_ranking(searcher, query, self.schema, limit, evaluation,
                                                           first_tier=first_tier)
                extra = ranked_by.b if isinstance(ranked_by, Q.AndMaybe) else None
            else:
                best = tiered_ranking(searcher, query, first_tier, limit, evaluation)
                found, total, estimated = best.pages, best.total, best.estimated
            kinds = self._kinds(searcher, typed, expanded, extra)
            shown = query if extra is None else Q.AndMaybe(query, extra)
            in_first = (evaluation.holding(first_tier, [d for d, _ in found]) if first_tier is not None
                        else {d for d, _ in found})
            hits = self._hits(found, shown, searcher, evaluation, kinds, in_first)
        return SearchResults(text, hits, total, len({h.document_id for h in hits}),
                             expanded.expansions if expanded else [], estimated)

    def ranked_pages(self, text: str, *, limit: int = 1000, expand: bool = True,
                     feedback: bool | None = None, readable: frozenset[str] | None = None
                     ) -> list[tuple[str, int, float]]:
        """(document id, page, score) in the order ``search`` ranks them, without snippets:
        for evaluating the ranking over deep result lists."""
        return self._recovering(lambda: self._ranked_pages(text, limit, expand, feedback, readable))

    def _ranked_pages(self, text, limit, expand, feedback, readable):
        with _reading("a search"):
            return self._ranked_pages_unguarded(text, limit, expand, feedback, readable)

    def _ranked_pages_unguarded(self, text, limit, expand, feedback, readable):
        with self._lend() as (ix, searcher):
            query, expanded, feedback = self._query(ix, text, "relevance", expand, feedback)
            query = access_filter(query, readable)
            typed = parse_query(text, self.schema)
            first_tier = tiers.first_tier(text, typed) if expanded and expanded.expansions or _has_fuzzy(typed) else None
            if feedback:
                found, _, _ = feedback_ranking(searcher, query, self.schema, limit, first_tier=first_tier)
            else:
                found = tiered_ranking(searcher, query, first_tier, limit).pages
            out = []
            for docnum, score in found:
                stored = searcher.stored_fields(docnum)
                out.append((stored["document_id"], stored["page"], score))
            return out

    def _query(self, ix, text: str, sort: str, expand: bool, feedback: bool | None):
        """The query for ``text`` with its expansions, and whether feedback applies to it."""
        query = parse_query(text, self.schema)
        if feedback is None:
            feedback = expand and sort == "relevance" and _is_plain_words(query)
        expanded = None
        if expand:
            expanded = crosslingual.expand(text, crosslingual.archive_glossary(self.path.parent), self._name_keys(ix))
            if expanded.expansions:
                query = Q.Or([query, Scaled(parse_query(expanded.alternative, self.schema, expanded.whole_words),
                                                EXPANSION_WEIGHT)])
                query = _merge_terms(query)
        return query, expanded, feedback

    def _name_keys(self, ix) -> crosslingual.NameKeys:
        """Skeleton keys of every word in the index, rebuilt when the index has changed."""
        generation = (str(self.path), ix.latest_generation())
        cached = _NAME_KEYS.get(str(self.path))
        if cached is None or cached[0] != generation:
            with ix.reader() as reader:
                words = [t.decode("utf-8", "replace") for t in reader.lexicon("exact")]
            cached = (generation, crosslingual.NameKeys(words))
            _NAME_KEYS[str(self.path)] = cached
        return cached[1]

    def _kinds(self, searcher, typed, expanded, extra) -> dict[tuple[str, str], str]:
        """(field, term) -> how the term came into the query (see search.tiers)."""
        reader = searcher.reader()
        maps = [tiers.typed_kinds(typed, reader)]
        for expansion in (expanded.expansions if expanded else []):
            kind = tiers.EXPANSION_KINDS.get(expansion.kind, "translation")
            try:  # one parse for all the alternatives of an expansion
                alt = parse_query(" OR ".join(f'"{a}"' for a in expansion.added), self.schema, expanded.whole_words)
            except QueryError:
                continue
            maps.append(tiers.kinds_of(tiers.query_terms(alt, reader), kind))
        if extra is not None:
            maps.append(tiers.kinds_of(tiers.query_terms(extra, reader), "feedback"))
        return tiers.merge_kinds(*maps)

    def _hits(self, found: list[tuple[int, float]], query, searcher, evaluation=None,
              kinds: dict | None = None, in_first: set[int] | None = None) -> list[Hit]:
        kinds = kinds or {}
        docnums = [docnum for docnum, _ in found]
        matched = matched_terms(searcher, query, docnums, evaluation)
        # feedback words are not marked: they are not what was asked for (Hit.matched has them)
        marked = {d: {p for p in m if kinds.get(p, "typed") != "feedback"} for d, m in matched.items()}
        typed_only = {d: {p for p in m if kinds.get(p, "typed") == "typed"} for d, m in matched.items()}
        pages = [(docnum, searcher.stored_fields(docnum), marked[docnum]) for docnum in docnums]
        spans_found = page_spans(searcher, [(d, stored.get("text", ""), m) for d, stored, m in pages], self.schema)
        # the typed words' ranges are read apart only for pages that hold other marked words too
        apart = [(d, stored.get("text", ""), typed_only[d]) for d, stored, m in pages if typed_only[d] != m]
        focus_of = dict(zip([d for d, _, _ in apart], page_spans(searcher, apart, self.schema)))
        focus_found = [focus_of.get(d) for d in docnums]
        hits = []
        for (docnum, score), (_, stored, terms_found), spans, focus in zip(found, pages, spans_found, focus_found):
            terms = sorted({t for _, t in terms_found})
            snippet, spans = make_snippet(stored.get("text", ""), terms, self.schema, spans=spans, focus=focus)
            hits.append(Hit(
                document_id=stored["document_id"], filename=stored.get("filename", ""),
                title=stored.get("title", ""), page=stored["page"], score=round(score, 4),
                snippet=snippet, spans=spans, lang=stored.get("lang", ""), source=stored.get("source", ""),
                tags=[t for t in stored.get("tags", "").split(",") if t], terms=terms,
                matched=_matched(matched[docnum], kinds),
                tier=tiers.TYPED if in_first is None or docnum in in_first else tiers.ALTERNATIVE,
            ))
        return hits

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


def access_filter(query, readable: frozenset[str] | None):
    """``query`` narrowed to the pages of the ``readable`` collections (None: no narrowing). A
    Require around the whole query: it weighs nothing, so scores are those of the same pages
    unfiltered, and nothing a user types sits outside it."""
    if readable is None:
        return query
    if not readable:
        return Q.NullQuery
    keep = [Q.Term("collections", name) for name in sorted(readable)]
    return Q.Require(query, keep[0] if len(keep) == 1 else Q.Or(keep))


def readable_expansions(expansions: list, readable: frozenset[str], evaluation, schema) -> list:
    """The expansions worth showing a member: a transliterated name comes from the words of the
    whole index, and "also searched: X -> Y" must not tell that Y is on a page they cannot read."""
    out = []
    for expansion in expansions:
        if expansion.kind != "name":
            out.append(expansion)
            continue
        added = []
        for word in expansion.added:
            try:
                probe = access_filter(parse_query(word, schema), readable)
            except Exception:  # noqa: BLE001 - an alternative that does not parse is not shown
                continue
            if evaluation.rank(probe, 1, SCORE_TOLERANCE).total:
                added.append(word)
        if added:
            out.append(crosslingual.Expansion(expansion.text, added, expansion.kind))
    return out


def open_whoosh_index(path: Path):
    """The Whoosh index in ``path``, its files read as search.engine.open_storage says."""
    return engine.open_index(path)


def top_hits(searcher, query, limit: int) -> tuple[list[tuple[int, float]], int]:
    """(docnum, score) of the ``limit`` best pages for ``query``, best first, and how many match
    (see ``ranked`` for whether that number is counted or estimated)."""
    ranked_ = ranked(searcher, query, limit)
    return ranked_.pages, ranked_.total


def ranked(searcher, query, limit: int, evaluation: ranking.Evaluation | None = None) -> ranking.Ranking:
    """The ``limit`` best pages for ``query``; the ranking does not depend on how the index is
    split into segments.

    Whoosh's pruning of hopeless pages is not safe: its preloaded union (chosen per segment, for
    segments of at most 5,000 pages) reports the largest of its clauses' maximum scores instead of
    their sum, and its block skipping bounds a page by the blocks its clauses are in now, not the
    ones they will reach. With that pruning a two-segment Hamshahri index lost the true top 10 of
    all 25 queries (the top page scored 78 instead of 124), and the feedback built on it moved MAP
    by up to 2.5%. So every matching page is scored (search.ranking, on arrays), and pages whose
    scores are equal within ``SCORE_TOLERANCE`` are put newest document first, then in the order
    of document id and page, not of their internal number, which follows the layout.
    ``evaluation``, when given, is the search's (see ranking.Evaluation)."""
    if limit < 1:
        return ranking.Ranking([], 0)
    result = (evaluation or ranking.Evaluation(searcher)).rank(query, limit, SCORE_TOLERANCE)
    result.pages = _stable_order(searcher, result.pages, limit)
    return result


def all_scores(searcher, query, evaluation: ranking.Evaluation | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(docnums, scores) of every page that matches ``query``, in docnum order."""
    return (evaluation or ranking.Evaluation(searcher)).all_scores(query)


def _same_score(a: float, b: float) -> bool:
    return abs(a - b) <= SCORE_TOLERANCE * max(abs(a), abs(b), 1.0)


def _stable_order(searcher, found: list[tuple[int, float]], limit: int) -> list[tuple[int, float]]:
    """The first ``limit`` of ``found`` (in falling score order), pages of equal scores put newest
    document first, then by document id and page: an order of the archive, not of the index's
    layout."""
    ordered, run = [], []
    for page in found:
        if run and not _same_score(run[-1][1], page[1]):
            ordered += _tie_order(searcher, run, limit - len(ordered))
            run = []
        run.append(page)
    return (ordered + _tie_order(searcher, run, limit - len(ordered)))[:limit]


def _tie_order(searcher, run: list[tuple[int, float]], need: int) -> list[tuple[int, float]]:
    if need < 1 or len(run) < 2:
        return run[:max(need, 0)]
    added = _added_ticks(searcher)[[docnum for docnum, _ in run]]
    if len(run) > need:
        # A query of filters only ties every page it matches (50,000 at 100,000 pages): only the
        # pages as new as the need-th newest can be shown, and only theirs are read.
        newest = added >= np.partition(added, len(added) - need)[len(added) - need]
        run = [page for page, keep in zip(run, newest.tolist()) if keep]
        added = added[newest]
    keyed = sorted(zip(added.tolist(), run), key=lambda item: (-item[0], _page_key(searcher, item[1][0])))
    return [page for _, page in keyed]


def _newest(searcher, query, limit: int, evaluation=None) -> tuple[list[tuple[int, float]], int]:
    """The ``limit`` matching pages of the most recently added documents, with their scores (the
    best scored first among pages added together), and how many pages match."""
    docnums, scores = all_scores(searcher, query, evaluation)
    order = np.lexsort((scores, _added_ticks(searcher)[docnums]))[::-1][:limit]
    return list(zip(docnums[order].tolist(), scores[order].tolist())), len(docnums)


def _added_ticks(searcher) -> np.ndarray:
    """When each page's document was added (Whoosh's ticks), indexed by the searcher's page numbers
    (all alike in an index without the field, such as the benchmark's baselines)."""
    if "added" not in searcher.schema:
        return np.zeros(searcher.doc_count_all(), dtype=np.uint64)
    return np.concatenate([postings.numeric_column(sub.reader(), "added") for sub, _ in searcher.leaf_searchers()])


def _page_key(searcher, docnum: int) -> tuple:
    fields = searcher.stored_fields(docnum)
    return fields.get("document_id", ""), fields.get("page", 0), fields.get("key", "")


def _ranked(searcher, docnums: np.ndarray, scores: np.ndarray, limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best pages in the order of ``top_hits``. Only the pages shown (and those tied
    with the last of them) are put in order: a query matches thousands of pages and many of them
    tie, each tie costing a read of stored fields."""
    return _stable_order(searcher, ranking.top(docnums, scores, limit, SCORE_TOLERANCE), limit)


def _merge_terms(query):
    """A query that only adds up terms (Ors of terms, scaled or not) as one Or holding each term
    once with its weights summed: the same scores, computed once. An expanded query repeats every
    typed word, five fields each; merged, a Hamshahri search took p50 313 ms instead of 427 (same
    MAP to the last digit). Any other query is returned as it is."""
    weights: dict[tuple[str, str], float] = {}

    def add(q, factor: float) -> bool:
        if type(q) is Q.Term:
            key = (q.fieldname, q.text)
            weights[key] = weights.get(key, 0.0) + q.boost * factor
            return True
        if type(q) is Scaled:
            return add(q.child, factor * q.factor)
        if type(q) is Q.Or and len(q.subqueries) > 1 and not q.minmatch and q.scale is None:
            return all(add(sub, factor * q.boost) for sub in q.subqueries)
        return False

    if not add(query, 1.0):
        return query
    return Q.Or([Q.Term(field_name, text, boost=weight) for (field_name, text), weight in weights.items()])


def _is_plain_words(query) -> bool:
    """True when the query ranks by words (a stemmed-word lookup) and holds no phrase."""
    words = False
    for leaf in query.leaves():
        if isinstance(leaf, Q.Phrase):
            return False
        if isinstance(leaf, Q.Term) and leaf.fieldname == "text":
            words = True
    return words


def feedback_query(searcher, query, schema, *, docs: int | None = None, terms: int | None = None,
                   weight: float | None = None):
    """``query`` re-weighted with pseudo-relevance feedback.

    Each of the best ``docs`` pages of a first pass lends its words their share of the page's
    words times the page's share of the first-pass score, which gives P(word | best pages). A word
    is worth P(word | best pages) * log(P(word | best pages) / P(word | archive)): its part of the
    relative entropy between the best pages and the archive, so a word that every page uses is
    worth little however often the best pages use it. The ``terms`` words worth most (leaving out
    those on more than FEEDBACK_MAX_DF of the pages) are added on the stemmed field, boosted in
    proportion to their worth with ``weight`` in all. They are optional (AndMaybe): they change
    the order of the pages that match, never which pages match. ``feedback_ranking`` ranks by
    this query without scoring ``query`` twice."""
    first, _ = top_hits(searcher, query, FEEDBACK_DOCS if docs is None else docs)
    extra = _feedback_terms(searcher, first, schema, terms, weight)
    return query if extra is None else Q.AndMaybe(query, extra)


def feedback_ranking(searcher, query, schema, limit: int, evaluation: ranking.Evaluation | None = None,
                     first_tier=None):
    """What ``top_hits`` gives for ``feedback_query(query)``, and that query: the first pass
    scores every matching page once, and the feedback words' scores are added to those. With
    ``first_tier`` (see search.tiers), the pages it matches come first in both passes."""
    evaluation = evaluation or ranking.Evaluation(searcher)
    docnums, scores = all_scores(searcher, query, evaluation)
    page_tiers = None
    if first_tier is not None:
        # only which pages it matches counts: evaluated unscored
        typed_pages = all_scores(searcher, Q.ConstantScoreQuery(first_tier, 1.0), evaluation)[0]
        page_tiers = tiers.tier_of(docnums, typed_pages)
    extra = _feedback_terms(searcher, _tiered(searcher, docnums, scores, page_tiers, FEEDBACK_DOCS), schema)
    if extra is None:
        return _tiered(searcher, docnums, scores, page_tiers, limit), len(docnums), query
    bonus_docs, bonus = all_scores(searcher, extra, evaluation)
    final = scores.copy()
    # docnums come in docnum order from all_scores, so each bonus page is found by bisection
    where = np.searchsorted(docnums, bonus_docs)
    inside = where < len(docnums)
    hit = inside.copy()
    hit[inside] = docnums[where[inside]] == bonus_docs[inside]
    final[where[hit]] += bonus[hit]
    return _tiered(searcher, docnums, final, page_tiers, limit), len(docnums), Q.AndMaybe(query, extra)


def _tiered(searcher, docnums: np.ndarray, scores: np.ndarray, page_tiers, limit: int) -> list[tuple[int, float]]:
    """``_ranked`` within each tier, the first tier's pages first (search.tiers)."""
    out: list[tuple[int, float]] = []
    for tier_docnums, tier_scores in tiers.by_tier(docnums, scores, page_tiers):
        if len(out) >= limit:
            break
        out += _ranked(searcher, tier_docnums, tier_scores, limit - len(out))
    return out


def tiered_ranking(searcher, query, first_tier, limit: int,
                   evaluation: ranking.Evaluation | None = None) -> ranking.Ranking:
    """``ranked`` with the pages that ``first_tier`` matches first (search.tiers); each tier is
    ranked by ``query``'s scores, so within a tier the order is the untiered one."""
    if first_tier is None:
        return ranked(searcher, query, limit, evaluation)
    evaluation = evaluation or ranking.Evaluation(searcher)
    first = ranked(searcher, Q.Require(query, first_tier), limit, evaluation)
    # the second tier is ranked even when the first fills the page, for its number of pages
    rest = ranked(searcher, Q.AndNot(query, first_tier), max(limit - len(first.pages), 1), evaluation)
    pages = (first.pages + rest.pages)[:limit]
    return ranking.Ranking(pages, first.total + rest.total, first.estimated or rest.estimated)


def _has_fuzzy(query) -> bool:
    return any(isinstance(leaf, Q.FuzzyTerm) for leaf in query.leaves())


def _matched(found: set[tuple[str, str]], kinds: dict[tuple[str, str], str]) -> tuple[Matched, ...]:
    """What a hit holds of the query, one entry per word and kind: a word spelled as in the
    exact field stands for its stem in the text field, which is listed only on its own."""
    exact, stems = set(), set()
    for field_name, term in found:
        kind = kinds.get((field_name, term), "typed")
        (exact if field_name in ("exact", "filename") else stems).add((term, kind))
    covered = {(_stem_of(term), kind) for term, kind in exact}
    out = exact | {pair for pair in stems if pair not in covered and pair not in exact}
    return tuple(Matched(term, kind) for term, kind in
                 sorted(out, key=lambda pair: (tiers.PRIORITY.index(pair[1]), pair[0])))


def _stem_of(term: str) -> str | None:
    return next((t.text for t in _STEMMER(term, mode="query")), None)


def _feedback_terms(searcher, first: list[tuple[int, float]], schema, terms: int | None = None,
                    weight: float | None = None):
    """The added words of ``feedback_query`` as an Or of boosted terms, or None."""
    terms = FEEDBACK_TERMS if terms is None else terms
    weight = FEEDBACK_WEIGHT if weight is None else weight
    if not first or terms <= 0 or weight <= 0:
        return None
    # an OCR page lends only the words read with confidence (search.feedback)
    pages = [(_feedback_text(searcher.stored_fields(docnum)), score) for docnum, score in first]
    chosen = _feedback_words(searcher, _relevance_model(pages, schema["text"].analyzer), terms)
    if not chosen:
        return None
    scale = weight / sum(worth for _, worth in chosen)
    return Q.Or([Q.Term("text", word, boost=worth * scale) for word, worth in chosen])


def _feedback_text(stored: dict) -> str:
    sure = stored.get("sure")
    return stored.get("text", "") if sure is None else sure


def _relevance_model(pages: list[tuple[str, float]], analyzer) -> dict[str, float]:
    """P(word | best pages): each page's word shares weighted by the page's share of the score."""
    total_score = sum(score for _, score in pages)
    model: dict[str, float] = {}
    if not total_score:
        return model
    for text, score in pages:
        counts: dict[str, int] = {}
        for token in analyzer(text, mode="index"):
            if not getattr(token, "part", False):
                counts[token.text] = counts.get(token.text, 0) + 1
        length = sum(counts.values())
        if not length:
            continue
        share = score / total_score / length
        for word, count in counts.items():
            model[word] = model.get(word, 0.0) + share * count
    return model


def _feedback_words(searcher, model: dict[str, float], terms: int) -> list[tuple[str, float]]:
    """The ``terms`` words worth most to feedback, with their worth (see feedback_query).

    Words are taken in falling order of P(word | best pages). A word's worth is at most
    p * log(p * archive words) (it occurs at least once), which falls with p, so once that bound is
    below the worth of the ``terms``-th best word so far no later word can enter, and the term
    lookups (one per segment each) stop: at 100,000 pages they took 0.5 s a query."""
    max_df = FEEDBACK_MAX_DF * searcher.doc_count()
    archive_words = searcher.field_length("text") or 1
    reader = searcher.reader()
    version = _index_version(reader)
    share = FEEDBACK_SELECTION == "share"
    worth: dict[str, float] = {}
    kth = -math.inf
    for word, p in sorted(model.items(), key=lambda kv: (-kv[1], kv[0])):
        bound = p if share else p * math.log(p * archive_words)
        if len(worth) >= terms and bound * (1 + 1e-8) < kth:
            break
        if not feedback_words.usable(word):
            continue
        df, cf = _text_stats(reader, version, word)
        if not feedback_words.MIN_PAGES <= df <= max_df:
            continue
        value = p if share else p * math.log(p * archive_words / max(cf, 1))
        if value > 0:
            # Rounded so that the last-place differences of scores (see SCORE_TOLERANCE) cannot
            # reorder two words of equal worth; ties go to the word that sorts first.
            worth[word] = float(f"{value:.9g}")
            if len(worth) >= terms:
                kth = sorted(worth.values(), reverse=True)[terms - 1]
    return sorted(worth.items(), key=lambda kv: (-kv[1], kv[0]))[:terms]


def _index_version(reader) -> tuple:
    """What identifies the index's contents: its segments and their live pages."""
    return tuple((r.segment().segment_id(), r.doc_count()) for r, _ in reader.leaf_readers())


def _text_stats(reader, key: tuple, word: str) -> tuple[int, float]:
    """(pages, occurrences) of a word in the text field. Kept while the index version ``key``
    stays the same: a lookup costs a read per segment (0.5 s a search for the ~650 words of the
    best pages at 100,000 pages), and the best pages of one search after another share most words."""
    with _TEXT_STATS_LOCK:  # the web app searches from several threads
        if _TEXT_STATS.get("key") != key:
            _TEXT_STATS.clear()
            _TEXT_STATS["key"] = key
        stats = _TEXT_STATS.get(word)
    if stats is None:
        # each segment's entry looked up once (Whoosh's own term_info looks it up twice)
        btext = word.encode("utf-8")
        entries = [postings.term_info(leaf, "text", btext) for leaf, _ in reader.leaf_readers()]
        stats = (sum(e.doc_frequency() for e in entries if e is not None),
                 sum(e.weight() for e in entries if e is not None))
        with _TEXT_STATS_LOCK:
            if _TEXT_STATS.get("key") == key and len(_TEXT_STATS) < TEXT_STATS_KEPT:
                _TEXT_STATS[word] = stats
    return stats


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


def matching_spans(text: str, terms: Iterable[str], schema) -> list[tuple[int, int]]:
    """Character ranges of ``text`` whose analysed tokens are among ``terms``."""
    wanted = set(terms)
    if not wanted or not text:
        return []
    spans = set()
    for field_name in ("text", "exact"):
        spans |= _analysed_spans(text, wanted, schema[field_name].analyzer)
    return sorted(spans)


HIGHLIGHT_FIELDS = ("text", "exact", "title")  # fields whose matched words are marked


def matched_terms(searcher, query, docnums: list[int],
                  evaluation: ranking.Evaluation | None = None) -> dict[int, set[tuple[str, str]]]:
    """For each page, the (field, term) pairs of ``query`` in HIGHLIGHT_FIELDS that it holds;
    a phrase's words only where the phrase is, and excluded parts (NOT, -word) not at all. Read
    for the shown pages only: Whoosh's own record of matched terms is kept for every matching
    page as it is scored. A word or phrase is looked up in the search's ``evaluation``, which
    has its pages from ranking (a phrase is checked on the shown pages only); the words of a
    prefix or fuzzy word, one by one in the index."""
    evaluation = evaluation or ranking.Evaluation(searcher)
    reader = searcher.reader()
    out: dict[int, set[tuple[str, str]]] = {docnum: set() for docnum in docnums}
    expanded = set()
    for leaf in tiers.positive_leaves(query):
        found = {(field_name, term.decode("utf-8") if isinstance(term, bytes) else term)
                 for field_name, term in leaf.expanded_terms(reader, phrases=True)
                 if field_name in HIGHLIGHT_FIELDS}
        if not found:
            continue
        if type(leaf) is Q.Term or isinstance(leaf, Q.Phrase):
            for docnum in evaluation.holding(leaf, docnums):
                out[docnum] |= found
        else:
            expanded |= found
    for sub, offset, local in _by_segment(searcher, docnums):
        for field_name, term in expanded:
            for docnum, _ in _postings(sub.reader(), field_name, term, local):
                out[docnum + offset].add((field_name, term))
    return out


def _by_segment(searcher, docnums):
    """(segment searcher, its first docnum, the sorted docnums in it made local) per segment."""
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.reader().doc_count_all()
        local = sorted(d - offset for d in docnums if offset <= d < end)
        if local:
            yield sub, offset, local


def _matching(matcher, docnums: list[int]):
    """The docnums (sorted) that `matcher` holds, left standing on each as it is yielded."""
    for docnum in docnums:
        if not matcher.is_active():
            return
        matcher.skip_to(docnum)
        if matcher.is_active() and matcher.id() == docnum:
            yield docnum


def _postings(reader, field_name: str, term: str, docnums: list[int]):
    """(docnum, postings matcher standing on it) for each of ``docnums`` (sorted) that holds
    ``term``: one pass over the term's postings for all the pages."""
    try:
        matcher = reader.postings(field_name, term)
    except TermNotFound:
        return
    for docnum in _matching(matcher, docnums):
        yield docnum, matcher


def page_spans(searcher, pages: list[tuple[int, str, set[tuple[str, str]]]], schema) -> list[list[tuple[int, int]]]:
    """For each (docnum, stored text, matched (field, term) pairs) page of a search, the character
    ranges of its matched words, read from the index instead of found by analysing the text.

    The text field's postings record where each word stands in the stored text, so the ranges of
    a stemmed term are read, once per term for all the pages (Hamshahri, 20 hits: analysing each
    hit's text with two analyzers took ~280 ms of a search). An exact-field term is placed through
    its stem: of the stem's ranges, those whose characters are the term exactly. Only a stopword
    (it has no stem) sends a page through the exact analyzer. Unlike ``matching_spans``, a term of
    one field is never matched against another field's analysis (the stopword سراسر is no longer
    marked for the word سراسری), so what is marked is where the page matched."""
    plans = [_span_lookups(matched) for _, _, matched in pages]
    stems: dict[str, set[int]] = {}
    for (docnum, _, _), (lookups, _) in zip(pages, plans):
        for stem, _ in lookups:
            stems.setdefault(stem, set()).add(docnum)
    chars = {}  # (docnum, stem) -> ranges
    for stem, docnums in stems.items():
        for sub, offset, local in _by_segment(searcher, docnums):
            for docnum, matcher in _postings(sub.reader(), "text", stem, local):
                chars[(docnum + offset, stem)] = [(start, end) for _, start, end in matcher.value_as("characters")]
    exact = schema["exact"].analyzer
    out = []
    for (docnum, text, _), (lookups, unplaced) in zip(pages, plans):
        spans: set[tuple[int, int]] = set()
        for stem, exact_term in lookups:
            for start, end in chars.get((docnum, stem), ()):
                if exact_term is None or any(t.text == exact_term for t in exact(text[start:end], mode="index")):
                    spans.add((start, end))
        if unplaced:
            spans |= _analysed_spans(text, unplaced, exact)
        out.append(sorted(spans))
    return out


def _span_lookups(matched: set[tuple[str, str]]) -> tuple[list[tuple[str, str | None]], set[str]]:
    """(text-field term to read, exact term its ranges must spell or None) for each matched term,
    and the exact terms that have no stem (stopwords)."""
    lookups, unplaced = [], set()
    for field_name, term in sorted(matched):
        if field_name != "exact":
            lookups.append((term, None))
            continue
        stem = next((t.text for t in _STEMMER(term, mode="query")), None)
        if stem is None:
            unplaced.add(term)
        else:
            lookups.append((stem, term))
    return lookups, unplaced


_STEMMER = text_analyzer()


def _analysed_spans(text: str, wanted: set[str], analyzer) -> set[tuple[int, int]]:
    return {(t.startchar, t.endchar) for t in analyzer(text, chars=True, mode="index") if t.text in wanted}


def make_snippet(text: str, terms: Iterable[str], schema, width: int = SNIPPET_CHARS,
                 spans: list[tuple[int, int]] | None = None,
                 focus: list[tuple[int, int]] | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The stretch of ``text`` with the most matches, and the matches' ranges within it.
    ``spans`` are the matches' ranges in ``text`` when already known (see ``page_spans``);
    ``focus``, when it holds any, the ranges the stretch is chosen by (the words as typed: a
    snippet about a translation of one word hides the word the user typed)."""
    if spans is None:
        spans = matching_spans(text, terms, schema)
    if not spans:
        snippet = _collapse(text[:width])
        return snippet, []
    best_start, _ = _densest(focus or spans, width)
    begin = max(0, best_start - width // 4)
    # Start at a word boundary so the snippet does not open with half a word.
    while begin > 0 and not text[begin - 1].isspace() and best_start - begin < width // 2:
        begin -= 1
    end = min(len(text), begin + width)
    while end < len(text) and not text[end].isspace() and end - begin < width + 30:
        end += 1
    raw = text[begin:end]
    inner = [(s - begin, e - begin) for s, e in spans if s >= begin and e <= end]
    return _collapse_with_spans(raw, inner, prefix="… " if begin > 0 else "", suffix=" …" if end < len(text) else "")


def _densest(spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The start of the span that opens the ``width`` characters holding most whole spans, and
    how many it holds. Spans are sorted; a long page has hundreds, so only the spans that start
    inside each window are looked at."""
    best_start, best_count = spans[0][0], 0
    j = 0
    for i, (start, _) in enumerate(spans):
        limit = start + width
        j = max(j, i)
        while j < len(spans) and spans[j][0] < limit:
            j += 1
        count = sum(1 for _, end in spans[i:j] if end <= limit)
        if count > best_count:
            best_start, best_count = start, count
    return best_start, best_count


_SPACE = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _collapse_with_spans(raw: str, spans: list[tuple[int, int]], prefix: str, suffix: str):
    """Fold runs of white space to one space while keeping the spans pointing at the same words."""
    out, mapping = [], []
    previous_space = True
    for ch in raw:
        if ch.isspace():
            if not previous_space:
                out.append(" ")
            previous_space = True
        else:
            out.append(ch)
            previous_space = False
        mapping.append(len(out))
    text = "".join(out).rstrip()
    shift = len(prefix)
    moved = [(shift + (mapping[s - 1] if s else 0), shift + mapping[e - 1]) for s, e in spans]
    return prefix + text + suffix, moved
