"""Snippets and highlights read from the index point at the words that matched, as stored."""

from __future__ import annotations

from datetime import datetime

import pytest
from whoosh import index as whoosh_index

from search.analysis import exact_analyzer, text_analyzer
from search import searching
from search.highlight import matched_terms, page_spans
from search.index import VERSION_FILE, SearchIndex
from search.order import top_hits
from search.schema import SCHEMA_VERSION, build_schema, weighting

PAGES = [
    "گزارش زندان‌های استان تهران. زندان اوین در شمال تهران است و زندان ها پر شده اند.",
    "كتابخانه ملي: كتاب هاي تازه و کتاب‌ها در نمایشگاه کتاب عرضه شد.",
    "The N95 mask order for COVID-19 was signed; the prisons asked for 5,400,000 rials.",
    "مبلغ ۵٬۴۰۰٬۰۰۰ ریال برای ماسک N95 در زندان پرداخت شد.",
    "نامه\u200cای درباره\u200cی جلوگیری از بیماری و راه های جلو گیری از آن.",
    "متن بی ربط درباره فوتبال و تیم ملی.",
    "خبر کوتاهی از تهران و شیراز.",
]
QUERIES = ["زندان", "زندانها", "کتاب", "COVID-19", "covid", "5400000", "5,400,000", '"زندان اوین"', "در",
           "زندا*", "prisons", "جلو گیری", "تهران -اوین", "N95 ماسک"]


@pytest.fixture(scope="module")
def sx(tmp_path_factory):
    path = tmp_path_factory.mktemp("highlight") / "index"
    path.mkdir()
    ix = whoosh_index.create_in(path, build_schema())
    (path / VERSION_FILE).write_text(str(SCHEMA_VERSION))
    with ix.writer() as w:
        for n, text in enumerate(PAGES):
            doc = f"{n:064x}"
            w.add_document(key=f"{doc}:1", document_id=doc, page=1, filename=f"p{n}.txt", title="",
                           text=text, exact=text, stem=text, lang="fa", source="", tags="", dates="",
                           added=datetime(2024, 1, 1))
    return SearchIndex(path)


def _forms(text: str) -> set[str]:
    return {t.text for analyzer in (text_analyzer(), exact_analyzer()) for t in analyzer(text, mode="index")}


@pytest.mark.parametrize("query", QUERIES)
def test_every_highlight_is_a_matched_word(sx, query):
    results = sx.search(query, limit=10)
    assert results.hits, query
    marked = 0
    for hit in results.hits:
        for start, end in hit.spans:
            word = hit.snippet[start:end]
            assert word.strip() == word and word, (query, hit.snippet, start, end)
            assert _forms(word) & set(hit.terms), (query, word, hit.terms)
            marked += 1
    assert marked, query


def matching_spans(text: str, terms, schema) -> list[tuple[int, int]]:
    """The reference: ranges of ``text`` whose analysed tokens (either analyzer) are ``terms``."""
    spans = set()
    for field_name in ("text", "exact"):
        spans |= {(t.startchar, t.endchar) for t in schema[field_name].analyzer(text, chars=True, mode="index")
                  if t.text in terms}
    return sorted(spans)


def test_spans_from_the_index_are_those_of_analysis(sx):
    # Reading places from the postings finds what analysing the page finds, except where a term
    # of one field would only match the other field's analysis (never the case here).
    ix = sx._open()
    with ix.searcher(weighting=weighting()) as searcher:
        for query in QUERIES:
            q, _, _ = searching.build_query(sx.path, sx.schema, ix, query, "relevance", True, False)
            found, _ = top_hits(searcher, q, 10)
            docnums = [d for d, _ in found]
            matched = matched_terms(searcher, q, docnums)
            pages = [(d, searcher.stored_fields(d)["text"], matched[d]) for d in docnums]
            for (d, text, terms), spans in zip(pages, page_spans(searcher, pages, sx.schema)):
                assert spans == matching_spans(text, {t for _, t in terms}, sx.schema), (query, text)


def test_excluded_words_are_not_marked(sx):
    hits = sx.search("تهران -اوین", limit=10).hits
    assert hits and all("اوین" not in hit.terms for hit in hits)
