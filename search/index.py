"""The page index: one Whoosh entry per page, derived from the catalog.

Whoosh stays behind this module: nothing else in Sanad imports it, so the engine can be
replaced without touching ingest or the UI.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from whoosh import collectors
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.index import LockError

from archive.catalog import Catalog
from archive.errors import IntegrityError
from archive.models import Hit
from search import crosslingual
from search.amounts import amount_terms, find_amounts
from search.query import parse_query
from search.schema import SCHEMA_VERSION, build_schema, weighting

LOCK_WAIT = 600  # seconds a writer waits for another writer before giving up
SNIPPET_CHARS = 240
VERSION_FILE = "SANAD_SCHEMA_VERSION"
EXPANSION_WEIGHT = 0.5  # a page found only through a translation or transliteration ranks lower

# Pseudo-relevance feedback (RM3-style): the words that weigh most in the best pages of a first
# pass are added, weighted, to the query, and the matching pages are ranked again. Feedback only
# re-ranks: the pages that match stay exactly those that match the query as typed (and expanded).
FEEDBACK_DOCS = 10  # pages of the first pass that the words are taken from
FEEDBACK_TERMS = 20  # words added
FEEDBACK_WEIGHT = 4.0  # total boost shared by the added words, in proportion to their weight
FEEDBACK_MAX_DF = 0.1  # words on more than this share of the pages carry no topic: skipped

# Scores closer than this (relative) are equal. A page's score is a sum over the query's clauses
# and Whoosh adds them in an order that depends on which terms each segment holds, so the same page
# scores a few units in the last place apart in a one-segment and a two-segment index (measured on
# Hamshahri: at most 3e-14 on scores of 3-120). Equal pages are ordered by their key.
SCORE_TOLERANCE = 1e-9
_NAME_KEYS: dict[str, tuple] = {}


@dataclass
class SearchResults:
    query: str
    hits: list[Hit]  # best first, at most `limit`
    total: int  # pages that match
    documents: int  # documents that match, among the hits fetched
    expansions: list = field(default_factory=list)  # crosslingual.Expansion: what was searched as well

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

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.different or self.stale)


class SearchIndex:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.schema = build_schema()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def current(self) -> bool:
        marker = self.path / VERSION_FILE
        return (whoosh_index.exists_in(self.path) and marker.exists()
                and marker.read_text().strip() == str(SCHEMA_VERSION))

    def _open(self):
        if not self.current:
            raise IntegrityError("the search index is missing or out of date; run `sanad reindex`")
        return whoosh_index.open_dir(self.path)

    def _create(self) -> None:
        # Built beside the old one and swapped in, so searches keep working meanwhile.
        fresh = self.path.with_name(self.path.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        whoosh_index.create_in(fresh, self.schema)
        (fresh / VERSION_FILE).write_text(str(SCHEMA_VERSION))
        old = self.path.with_name(self.path.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.path.exists():
            self.path.rename(old)
        fresh.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)

    def ensure_current(self, catalog: Catalog) -> bool:
        """Start a new, empty index if there is none or it was built by another analysis
        version; every document is then marked for indexing. True when that happened."""
        if self.current:
            return False
        self._create()
        catalog.mark_all_unindexed()
        return True

    def rebuild(self, catalog: Catalog, progress=None) -> int:
        """Throw the index away and rebuild it from the catalog. Returns pages indexed."""
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
        writer = self._writer()
        added = 0
        try:
            for doc_id in doc_ids:
                writer.delete_by_term("document_id", doc_id)
                doc = catalog.get_document(doc_id)
                if doc is None or doc.status != "done":
                    continue
                added_at = _parse_time(doc.added_at)
                for page in catalog.pages(doc_id):
                    if page.status != "done":
                        continue
                    writer.add_document(
                        key=f"{doc_id}:{page.number}", document_id=doc_id, page=page.number,
                        filename=doc.filename, title=doc.title, text=page.text,
                        exact=page.text + _amount_terms(page.text), stem=page.text,
                        lang=page.lang, source=doc.source, tags=",".join(doc.tags),
                        dates=" ".join(catalog.page_dates(doc_id, page.number)), added=added_at,
                    )
                    added += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return added

    # -- reading -----------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 20, sort: str = "relevance", expand: bool = True,
               feedback: bool | None = None) -> SearchResults:
        """Search pages. With ``expand``, words are also looked up in the other language
        (glossary), the other script (names) and other spellings of amounts; pages that match
        only through such an alternative rank below pages that match what was typed.

        ``feedback`` re-ranks with words taken from the best pages of a first pass (see
        ``FEEDBACK_*``). By default it is on for relevance-ranked queries of plain words with
        ``expand``, and off for date order, phrases and filter-only queries."""
        ix = self._open()
        query, expanded, feedback = self._query(ix, text, sort, expand, feedback)
        with ix.searcher(weighting=weighting()) as searcher:
            if feedback:
                query = feedback_query(searcher, query, self.schema)
            if sort == "date":
                results = searcher.search(query, limit=limit, terms=True, sortedby="added", reverse=True)
                found, total = list(results), len(results)
            else:
                found, total = top_hits(searcher, query, limit, terms=True)
            hits = [self._hit(r, query) for r in found]
        return SearchResults(text, hits, total, len({h.document_id for h in hits}),
                             expanded.expansions if expanded else [])

    def ranked_pages(self, text: str, *, limit: int = 1000, expand: bool = True,
                     feedback: bool | None = None) -> list[tuple[str, int, float]]:
        """(document id, page, score) in the order ``search`` ranks them, without snippets:
        for evaluating the ranking over deep result lists."""
        ix = self._open()
        query, _, feedback = self._query(ix, text, "relevance", expand, feedback)
        with ix.searcher(weighting=weighting()) as searcher:
            if feedback:
                query = feedback_query(searcher, query, self.schema)
            found, _ = top_hits(searcher, query, limit)
            return [(r["document_id"], r["page"], r.score) for r in found]

    def _query(self, ix, text: str, sort: str, expand: bool, feedback: bool | None):
        """The query for ``text`` with its expansions, and whether feedback applies to it."""
        query = parse_query(text, self.schema)
        if feedback is None:
            feedback = expand and sort == "relevance" and _is_plain_words(query)
        expanded = None
        if expand:
            expanded = crosslingual.expand(text, crosslingual.archive_glossary(self.path.parent), self._name_keys(ix))
            if expanded.expansions:
                query = Q.Or([query, Q.Or([parse_query(expanded.alternative, self.schema)], boost=EXPANSION_WEIGHT)])
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

    def _hit(self, result, query) -> Hit:
        stored = result.fields()
        terms = sorted({t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
                        for field_name, t in (result.matched_terms() or [])
                        if field_name in ("text", "exact", "title")})
        snippet, spans = make_snippet(stored.get("text", ""), terms, self.schema)
        return Hit(
            document_id=stored["document_id"], filename=stored.get("filename", ""),
            title=stored.get("title", ""), page=stored["page"], score=round(result.score, 4),
            snippet=snippet, spans=spans, lang=stored.get("lang", ""), source=stored.get("source", ""),
            tags=[t for t in stored.get("tags", "").split(",") if t], terms=terms,
        )

    def entries(self) -> dict[tuple[str, int], str]:
        """Every page in the index with its text, for checking against the catalog."""
        ix = self._open()
        with ix.reader() as reader:
            return {(f["document_id"], f["page"]): f.get("text", "")
                    for _, f in reader.iter_docs()}

    def check(self, catalog: Catalog) -> IndexReport:
        if not self.current:
            return IndexReport(stale=True)
        indexed = self.entries()
        expected = catalog.searchable_pages()
        report = IndexReport(missing=sorted(expected - indexed.keys()), extra=sorted(indexed.keys() - expected))
        for key in sorted(expected & indexed.keys()):
            page = catalog.page(*key)
            if page is not None and page.text != indexed[key]:
                report.different.append(key)
        return report


def top_hits(searcher, query, limit: int, *, terms: bool = False) -> tuple[list, int]:
    """The ``limit`` best pages for ``query`` (Whoosh hits, best first) and how many pages match.

    The ranking does not depend on how the index is split into segments. Whoosh's pruning of
    hopeless pages is not safe: its preloaded union (chosen per segment, for segments of at most
    5,000 pages) reports the largest of its clauses' maximum scores instead of their sum, and
    its block skipping bounds a page by the blocks its clauses are in now, not the ones they
    will reach. With that pruning a two-segment Hamshahri index lost the true top 10 of all 25
    queries (the top page scored 78 instead of 124), and the feedback built on it moved MAP by
    up to 2.5%. So every matching page is scored, which in pure Python is also faster than the
    pruning's bookkeeping (Hamshahri, top 20 with matched terms: p50 154 ms against 212 ms,
    feedback queries 305 ms against 438 ms), and pages whose scores are equal within
    ``SCORE_TOLERANCE`` are put in the order of their key, not of their internal number, which
    follows the layout."""
    if limit < 1:
        return [], 0
    want = limit + 1  # one more than asked, to see whether the last place is shared
    while True:
        collector = collectors.TopCollector(want, usequality=False, replace=0)
        wrapped = collectors.TermsCollector(collector) if terms else collector
        searcher.search_with_collector(query, wrapped)
        results = wrapped.results()
        found = list(results)
        if len(found) < want or not _tied(found[limit - 1:]):
            break
        want *= 4  # the page in last place is tied with pages beyond it: look further
    return _stable_order(found)[:limit], len(results)


def _same_score(a: float, b: float) -> bool:
    return abs(a - b) <= SCORE_TOLERANCE * max(abs(a), abs(b), 1.0)


def _tied(hits: list) -> bool:
    """True when hits in falling score order are linked by equal neighbours from first to last."""
    return all(_same_score(x.score, y.score) for x, y in zip(hits, hits[1:]))


def _stable_order(found: list) -> list:
    """Hits in falling score order, runs of equal scores ordered by the page's key."""
    ordered, run = [], []
    for hit in found:
        if run and not _same_score(run[-1].score, hit.score):
            ordered += _by_key(run)
            run = []
        run.append(hit)
    return ordered + _by_key(run)


def _by_key(run: list) -> list:
    return sorted(run, key=_hit_key) if len(run) > 1 else run


def _hit_key(hit) -> tuple:
    fields = hit.fields()
    return fields.get("document_id", ""), fields.get("page", 0), fields.get("key", "")


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
    """``query`` re-weighted with pseudo-relevance feedback (a relevance model, RM3-style).

    Each of the best ``docs`` pages of a first pass votes for its words with their share of the
    page's words times the page's share of the first-pass score; the ``terms`` words with most
    votes (leaving out very common ones) are added on the stemmed field, boosted in proportion to
    their votes with ``weight`` in all. The added words are optional (AndMaybe): they change the
    order of the pages that match, never which pages match."""
    docs = FEEDBACK_DOCS if docs is None else docs
    terms = FEEDBACK_TERMS if terms is None else terms
    weight = FEEDBACK_WEIGHT if weight is None else weight
    if docs <= 0 or terms <= 0 or weight <= 0:
        return query
    first, _ = top_hits(searcher, query, docs)
    total_score = sum(hit.score for hit in first)
    if not total_score:
        return query
    analyzer = schema["text"].analyzer
    votes: dict[str, float] = {}
    for hit in first:
        counts: dict[str, int] = {}
        for token in analyzer(hit.get("text", ""), mode="index"):
            if not getattr(token, "part", False):
                counts[token.text] = counts.get(token.text, 0) + 1
        length = sum(counts.values())
        if not length:
            continue
        share = hit.score / total_score / length
        for word, count in counts.items():
            votes[word] = votes.get(word, 0.0) + share * count
    # Rounded so that the last-place differences of scores (see SCORE_TOLERANCE) cannot reorder
    # two words with the same vote; ties go to the word that sorts first.
    votes = {word: float(f"{vote:.9g}") for word, vote in votes.items()}
    max_df = FEEDBACK_MAX_DF * searcher.doc_count()
    chosen = []
    for word, vote in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(word) < 2 or word.isdigit():
            continue
        if 0 < searcher.doc_frequency("text", word) <= max_df:
            chosen.append((word, vote))
            if len(chosen) == terms:
                break
    if not chosen:
        return query
    scale = weight / sum(vote for _, vote in chosen)
    extra = Q.Or([Q.Term("text", word, boost=vote * scale) for word, vote in chosen])
    return Q.AndMaybe(query, extra)


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
        analyzer = schema[field_name].analyzer
        for token in analyzer(text, chars=True, mode="index"):
            if token.text in wanted:
                spans.add((token.startchar, token.endchar))
    return sorted(spans)


def make_snippet(text: str, terms: Iterable[str], schema, width: int = SNIPPET_CHARS) -> tuple[str, list[tuple[int, int]]]:
    """The stretch of ``text`` with the most matches, and the matches' ranges within it."""
    spans = matching_spans(text, terms, schema)
    if not spans:
        snippet = _collapse(text[:width])
        return snippet, []
    best_start, best_count = spans[0][0], 0
    for i, (start, _) in enumerate(spans):
        count = sum(1 for s, e in spans[i:] if e <= start + width)
        if count > best_count:
            best_start, best_count = start, count
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
