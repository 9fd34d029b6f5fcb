"""search.ranking scores every page exactly as Whoosh's own matchers do, only on arrays.

Each query is scored both ways on an index of several segments with deleted pages: the pages that
match and their scores must agree, for every shape of query Sanad builds (words, expanded words,
phrases, operators, exclusions, prefixes, fuzzy words, filters, feedback).
"""

from __future__ import annotations

import gc
import random
import threading
from datetime import datetime, timedelta

import numpy as np
import pytest
from whoosh import collectors, scoring
from whoosh import index as whoosh_index
from whoosh import query as Q

from search import caches, postings, ranking, schema
from search.order import SCORE_TOLERANCE, top_hits
from search.clauses import Scaled
from search.query import parse_query
from search.schema import SanadBM25F, build_schema, weighting

_FA = ("زلزله بم بازسازی شهر زندان اوین قرارداد نفت وزارت بانک مرکزی ماسک بیمارستان واکسن دادگاه "
       "قاضی پرونده شاهد گزارش بودجه میلیون ریال گمرک سند نامه و در به از که").split()
_EN = "ministry oil contract payment bank transfer court prison mask vaccine report the of and".split()

QUERIES = [
    "زلزله", "زلزله بم", "زندان‌های اوین", "قرارداد نفت وزارت", "oil contract", "prison",
    '"زلزله بم"', '"و در"', '"oil contract"', '"بانک مرکزی ایران"', "زلزله AND بم", "زلزله OR prison",
    "زلزله -بم", 'بانک -"بانک مرکزی"', "NOT زلزله", "بازس*", "vacine~", "زلزله lang:fa",
    "oil tag:urgent", "بانک date:2020-01-01..2020-06-30", "source:customs", 'source:"central bank"',
    "tag:urgent", "(زلزله OR زندان) AND (بم OR اوین)", "در",
]


def _pages(count: int):
    rng = random.Random(3)
    for i in range(count):
        english = i % 4 == 0
        words = _EN if english else _FA
        weights = [1 / (r + 1) for r in range(len(words))]
        text = " ".join(rng.choices(words, weights, k=rng.randint(5, 120)))
        doc = f"{i // 3:064x}"
        yield {"key": f"{doc}:{i % 3 + 1}", "document_id": doc, "page": i % 3 + 1, "filename": f"f{i}.pdf",
               "title": " ".join(text.split()[:3]), "text": text, "exact": text, "stem": text,
               "lang": "en" if english else "fa", "source": rng.choice(["customs office", "central bank"]),
               "tags": rng.choice(["urgent", "audit,urgent", ""]),
               "collections": ["desk-a", "desk-b", "desk-a,shared"][i // 3 % 3],
               "dates": (datetime(2019, 6, 1) + timedelta(days=7 * i)).strftime("%Y%m%d"),
               "added": datetime(2024, 1, 1) + timedelta(minutes=i)}


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    path = tmp_path_factory.mktemp("ranking")
    index = whoosh_index.create_in(path, build_schema())
    pages = list(_pages(900))
    for start in range(0, len(pages), 300):  # three segments
        writer = index.writer()
        for page in pages[start:start + 300]:
            writer.add_document(**page)
        writer.commit(merge=False)
    writer = index.writer()
    for page in pages[5:900:37]:  # deleted pages must not come back
        writer.delete_by_term("key", page["key"])
    writer.commit(merge=False)
    return index


def _whoosh(searcher, query) -> dict[int, float]:
    collector = collectors.UnlimitedCollector()
    searcher.search_with_collector(query, collector)
    return {docnum: score for score, docnum in collector.results().top_n}


def _same(mine: tuple[np.ndarray, np.ndarray], theirs: dict[int, float]):
    docnums, scores = mine
    assert sorted(docnums.tolist()) == sorted(theirs)
    for docnum, score in zip(docnums.tolist(), scores.tolist()):
        assert score == pytest.approx(theirs[docnum], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("text", QUERIES)
def test_scores_are_whooshs(ix, text):
    query = parse_query(text, ix.schema)
    with ix.searcher(weighting=weighting()) as searcher:
        _same(ranking.all_scores(searcher, query), _whoosh(searcher, query))


@pytest.mark.parametrize("model", [scoring.BM25F(B=0.5, K1=1.5, title_B=0.0), scoring.TF_IDF(), scoring.Frequency()],
                         ids=["bm25f", "tf_idf", "frequency"])
def test_other_weightings_are_whooshs(ix, model):
    """Scores of a weighting other than Sanad's come from Whoosh's own scorer objects (BM25F's) or
    from Whoosh's matchers (any other), and are still Whoosh's."""
    for text in ("زلزله بم", '"زلزله بم"', "oil tag:urgent", "بازس*"):
        query = parse_query(text, ix.schema)
        with ix.searcher(weighting=model) as searcher:
            _same(ranking.all_scores(searcher, query), _whoosh(searcher, query))


def test_idf_from_the_looked_up_entries_is_the_weightings(ix, monkeypatch):
    """search.ranking computes the IDF from the term entries it has read; both choices of
    schema.IDF give what the weighting itself (and, for "whoosh", Whoosh) computes."""
    with ix.searcher(weighting=weighting()) as searcher:
        for field_name, word in (("text", "زلزله"), ("exact", "oil"), ("title", "بم")):
            pages = searcher.doc_frequency(field_name, word)
            for choice in ("lucene", "whoosh"):
                monkeypatch.setattr(schema, "IDF", choice)
                mine = SanadBM25F.idf_of(pages, searcher.doc_count_all())
                assert mine == weighting().idf(searcher, field_name, word)
            assert mine == scoring.BM25F().idf(searcher, field_name, word)
            _same(ranking.all_scores(searcher, parse_query(word, ix.schema)),
                  _whoosh(searcher, parse_query(word, ix.schema)))


def test_an_evaluation_says_which_pages_hold_a_word_or_phrase(ix):
    """What highlighting asks after ranking, answered from the ranking's own work."""
    with ix.searcher(weighting=weighting()) as searcher:
        evaluation = ranking.Evaluation(searcher)
        query = parse_query('"زلزله بم" oil', ix.schema)
        evaluation.rank(query, 10, SCORE_TOLERANCE)
        some = list(range(0, searcher.doc_count_all(), 7))
        for leaf in (Q.Phrase("exact", ["زلزله", "بم"]), Q.Term("exact", "oil"), *query.leaves()):
            theirs = set(_whoosh(searcher, leaf)) & set(some)
            assert evaluation.holding(leaf, some) == theirs


def test_each_term_is_looked_up_once_per_segment(ix, monkeypatch):
    """A term lookup is several file reads; Whoosh's scorer and postings reader would look a term
    up three times per segment."""
    lookups = []
    real = postings.term_info
    monkeypatch.setattr(postings, "term_info", lambda reader, field_name, btext: lookups.append(
        (reader.segment().segment_id(), field_name, btext)) or real(reader, field_name, btext))
    with ix.searcher(weighting=weighting()) as searcher:
        ranking.rank(searcher, parse_query('"زلزله بم" oil', ix.schema), 10, SCORE_TOLERANCE)
    assert lookups and len(lookups) == len(set(lookups))


def test_ranking_leaves_the_garbage_collector_alone(ix):
    """No process-wide side effects: the collector stays as the process set it while searches
    rank in other threads (it was once paused during each ranking, shared between threads)."""
    query = parse_query('"زلزله بم" oil', ix.schema)
    before = gc.get_threshold()
    seen_off = []

    def rank_many():
        with ix.searcher(weighting=weighting()) as searcher:
            for _ in range(5):
                ranking.rank(searcher, query, 10, SCORE_TOLERANCE)
                ranking.all_scores(searcher, query)

    threads = [threading.Thread(target=rank_many) for _ in range(3)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        seen_off.append(not gc.isenabled())
    for t in threads:
        t.join()
    assert gc.isenabled() and not any(seen_off) and gc.get_threshold() == before
    gc.disable()
    try:
        with ix.searcher(weighting=weighting()) as searcher:
            ranking.all_scores(searcher, query)
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_next_batch_of_phrase_candidates():
    bounds = np.array([9.0, 8.0, 7.0, 3.0, 2.0, 1.0])
    assert ranking._next_batch(bounds, np.empty(0), 0, 2, 0.0) == ranking.FIRST_BATCH
    # two matches found with scores 8 and 5: only the candidates that could beat 5 remain
    assert ranking._next_batch(bounds, np.array([8.0, 5.0]), 100, 2, 0.0) == 3
    many = np.linspace(10.0, 6.0, 500)  # all could still beat 5: no more at once than checked so far
    assert ranking._next_batch(many, np.array([8.0, 5.0]), 100, 2, 0.0) == 100
    assert ranking._next_batch(many, np.array([8.0, 5.0]), 10, 2, 0.0) == ranking.FIRST_BATCH
    assert ranking._next_batch(bounds, np.array([9.5, 9.2]), 100, 2, 0.0) == 0
    assert ranking._next_batch(bounds, np.empty(0), 100, 2, 0.0) == 300  # nothing yet: four times as far
    # one of ten found in the first 64: the rest at that rate, with a margin
    assert ranking._next_batch(bounds, np.array([1.0]), 64, 10, 0.0) == int(1.5 * 9 * 64)


def test_expanded_and_feedback_shapes(ix):
    typed = parse_query("زلزله بم", ix.schema)
    queries = [
        Q.Or([typed, Scaled(parse_query("prison oil", ix.schema), 0.5)]),
        Q.AndMaybe(typed, Q.Or([Q.Term("text", "بازسازی", boost=2.5), Q.Term("text", "شهر", boost=0.7)])),
        Q.Or([Q.Term("text", "زلزله")], boost=3.0),  # Whoosh ignores the boost of a one-part Or
        Q.And([Q.Term("text", "زلزله"), Q.Term("text", "بم")], boost=2.0),
        Q.Require(typed, Q.Term("lang", "fa")),
        Q.Or([Q.Phrase("exact", ["زلزله", "بم"], boost=1.25), Q.Phrase("text", ["زلزله", "بم"])]),
        Q.Every(),
    ]
    with ix.searcher(weighting=weighting()) as searcher:
        for query in queries:
            _same(ranking.all_scores(searcher, query), _whoosh(searcher, query))


@pytest.mark.parametrize("text", ['"زلزله بم"', '"بم زلزله"', "زلزله بم", 'بانک -"بانک مرکزی"'])
def test_top_pages_and_count(ix, text):
    query = parse_query(text, ix.schema)
    with ix.searcher(weighting=weighting()) as searcher:
        theirs = sorted(_whoosh(searcher, query).items(), key=lambda kv: -kv[1])
        found, total = top_hits(searcher, query, 10)
    assert total == len(theirs)
    assert [round(s, 9) for _, s in found] == [round(s, 9) for _, s in theirs[:10]]


def test_phrase_count_estimated_when_many_candidates(ix, monkeypatch):
    monkeypatch.setattr(ranking, "COUNT_CHECKS", 10)
    monkeypatch.setattr(ranking, "COUNT_SAMPLE", 50)
    query = parse_query('"بم زلزله"', ix.schema)  # two common words: hundreds of candidates
    with ix.searcher(weighting=weighting()) as searcher:
        exact = len(_whoosh(searcher, query))
        result = ranking.rank(searcher, query, 5, SCORE_TOLERANCE)
        again = ranking.rank(searcher, query, 5, SCORE_TOLERANCE)
    assert result.estimated and result.total == again.total  # the same estimate every time
    assert 0.5 * exact <= result.total <= 1.5 * exact
    assert len(result.pages) >= 5


@pytest.mark.filterwarnings("ignore:search. the fast path")  # forced here, and warned about
def test_slow_paths_agree(ix, monkeypatch):
    """Without Whoosh's private block and column attributes the same arrays come out."""
    query = parse_query('زلزله بم prison "بانک مرکزی"', ix.schema)
    with ix.searcher(weighting=weighting()) as searcher:
        fast = ranking.all_scores(searcher, query)
        monkeypatch.setattr(postings, "_blocks_fast", lambda *args: None)
        monkeypatch.setattr(postings, "_inlined", lambda *args: None)
        monkeypatch.setattr(postings, "_lengths_fast", lambda reader, field_name: None)
        caches.clear()
        slow = ranking.all_scores(searcher, query)
    caches.clear()
    assert fast[0].tolist() == slow[0].tolist()
    assert fast[1].tolist() == slow[1].tolist()


def test_block_values_are_whooshs(tmp_path):
    """Word positions read from whole blocks equal what Whoosh's matcher gives, posting by posting:
    positions far apart (one-, two- and four-byte numbers in the pickle), blocks of 128 postings
    and a deleted page."""
    index = whoosh_index.create_in(tmp_path, build_schema())
    writer = index.writer()
    rng = random.Random(5)
    for i in range(300):
        words = ["filler"] * rng.choice([3, 200, 70_000 if i % 50 == 0 else 900])
        for at in rng.sample(range(len(words)), min(len(words), rng.randint(1, 40))):
            words[at] = "needle"
        words[0] = words[-1] = "needle"
        text = " ".join(words)
        writer.add_document(key=f"d{i}:1", document_id=f"d{i}", page=1, text=text, exact=text)
    writer.commit()
    writer = index.writer()
    writer.delete_by_term("key", "d7:1")
    writer.commit(merge=False)
    with index.searcher() as searcher:
        reader = searcher.reader()
        for field_name, word in (("exact", b"needle"), ("text", b"needl")):  # text: stemmed
            found = postings.term_postings(reader, field_name, word, postings.term_info(reader, field_name, word),
                                           values=True)
            matcher = reader.postings(field_name, word)
            expected = []
            while matcher.is_active():
                expected.append((matcher.id(), matcher.value()))
                matcher.next()
            assert isinstance(found.values, postings._BlockValues)
            assert [(d, found.values[i]) for i, d in enumerate(found.ids.tolist())] == expected
            assert all(isinstance(v, postings._ValueRecords) for v in found.values._opened.values())


def test_filters_narrow_without_changing_scores(ix):
    with ix.searcher(weighting=weighting()) as searcher:
        docs, scores = ranking.all_scores(searcher, parse_query("زلزله", ix.schema))
        plain = dict(zip(docs.tolist(), scores.tolist()))
        for text in ("زلزله lang:fa", "زلزله date:2019-06-01..2020-06-30", "زلزله tag:urgent",
                     'زلزله source:"central bank"'):
            docs, scores = ranking.all_scores(searcher, parse_query(text, ix.schema))
            assert 0 < len(docs) <= len(plain)
            assert all(score == plain[docnum] for docnum, score in zip(docs.tolist(), scores.tolist()))


def test_a_members_collection_filter_is_whooshs_and_read_once_for_every_search(ix, monkeypatch):
    from search.searching import access_filter

    read = []
    any_term = ranking._Segment._any_term
    monkeypatch.setattr(ranking._Segment, "_any_term",
                        lambda self, field, *a, **k: read.append(field) or any_term(self, field, *a, **k))
    with ix.searcher(weighting=weighting()) as searcher:
        for readable in ({"desk-a"}, {"desk-b", "shared"}):
            for text in ("زلزله", '"زلزله بم"', "oil contract", "بازس*"):
                query = access_filter(parse_query(text, ix.schema), frozenset(readable))
                _same(ranking.all_scores(searcher, query), _whoosh(searcher, query))
    # the filter's pages were read once per segment and member, not once per search
    assert read.count("collections") == 2 * len(list(searcher.leaf_searchers()))


def test_a_common_words_postings_are_decoded_once_and_forget_deleted_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(postings, "KEPT_FROM_PAGES", 5)
    decoded = []
    read = postings._term_postings
    monkeypatch.setattr(postings, "_term_postings", lambda *a: decoded.append(a[1:3]) or read(*a))
    index = _one_segment(tmp_path, 90)
    query = parse_query("زلزله", index.schema)
    for _ in range(3):
        with index.searcher(weighting=weighting()) as searcher:
            before = ranking.all_scores(searcher, query)
            _same(before, _whoosh(searcher, query))
    # each (field, term) once for the three searches
    assert decoded and len(decoded) == len(set(decoded))
    with index.searcher(weighting=weighting()) as searcher:
        _delete(index, searcher.stored_fields(int(before[0][0]))["key"])
    with index.searcher(weighting=weighting()) as searcher:
        after = ranking.all_scores(searcher, query)
        _same(after, _whoosh(searcher, query))
    assert len(after[0]) == len(before[0]) - 1


def test_a_search_of_filters_only_lists_the_newest_first(ix):
    query = parse_query("tag:urgent", ix.schema)
    with ix.searcher(weighting=weighting()) as searcher:
        found, total = top_hits(searcher, query, 10)
        urgent = [(searcher.stored_fields(d)["added"], d) for d in range(searcher.doc_count_all())
                  if not searcher.ixreader.is_deleted(d) and "urgent" in searcher.stored_fields(d)["tags"]]
    assert total == len(urgent)
    assert [d for d, _ in found] == [d for _, d in sorted(urgent, reverse=True)[:10]]
    assert len({score for _, score in found}) == 1


def _one_segment(path, count: int):
    index = whoosh_index.create_in(path, build_schema())
    writer = index.writer()
    for page in list(_pages(count)):
        writer.add_document(**page)
    writer.commit()
    return index


def _delete(index, key: str) -> None:
    writer = index.writer()
    writer.delete_by_term("key", key)
    writer.commit(merge=False)


def test_a_kept_filter_forgets_deleted_pages(tmp_path):
    index = _one_segment(tmp_path, 60)
    query = parse_query("بانک date:2019-06-01..2020-12-31", index.schema)
    with index.searcher(weighting=weighting()) as searcher:
        before, _ = ranking.all_scores(searcher, query)
        _delete(index, searcher.stored_fields(int(before[0]))["key"])
    with index.searcher(weighting=weighting()) as searcher:
        after, _ = ranking.all_scores(searcher, query)
        assert sorted(after.tolist()) == sorted(_whoosh(searcher, query))
    assert len(after) == len(before) - 1


def test_ties_are_ordered_in_an_index_without_dates(tmp_path):
    from whoosh.fields import ID, TEXT, Schema
    index = whoosh_index.create_in(tmp_path, Schema(document_id=ID(stored=True), text=TEXT))
    writer = index.writer()
    for name in ("c", "a", "b"):
        writer.add_document(document_id=name, text="same words")
    writer.commit()
    with index.searcher(weighting=weighting()) as searcher:
        found, total = top_hits(searcher, Q.Term("text", "same"), 2)
        assert total == 3
        assert [searcher.stored_fields(d)["document_id"] for d, _ in found] == ["a", "b"]


def test_date_order_lists_the_newest_pages_with_their_scores(tmp_path):
    from search.index import VERSION_FILE, SearchIndex
    from search.schema import SCHEMA_VERSION
    path = tmp_path / "index"
    path.mkdir()
    index = whoosh_index.create_in(path, build_schema())
    (path / VERSION_FILE).write_text(str(SCHEMA_VERSION))
    writer = index.writer()
    pages = list(_pages(90))  # added a minute apart, in this order
    for page in pages:
        writer.add_document(**page)
    writer.commit()
    sx = SearchIndex(path)
    newest = sx.search("زلزله lang:fa", sort="date", limit=5, expand=False)
    relevance = {(h.document_id, h.page): h.score
                 for h in sx.search("زلزله lang:fa", limit=100, expand=False, feedback=False).hits}
    expected = [(p["document_id"], p["page"]) for p in reversed(pages) if (p["document_id"], p["page"]) in relevance]
    assert [(h.document_id, h.page) for h in newest.hits] == expected[:5]
    assert newest.total == len(relevance)
    assert all(h.score == relevance[(h.document_id, h.page)] for h in newest.hits)
