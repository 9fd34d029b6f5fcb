"""One highlighter (search.highlight): a phrase marks only its occurrences, each mark says how its
word came into the query, feedback words are not marked, and the document page gets the marks of
one page without ranking the archive again."""

from __future__ import annotations

from datetime import datetime

import pytest

from archive.models import WordBox
from search import engine
from search.highlight import Found, Mark, marks, word_boxes
from search.index import VERSION_FILE, SearchIndex
from search.schema import SCHEMA_VERSION, build_schema

PAGES = [
    "گزارش وزارت بهداشت درباره ماسک. وزارت نفت پاسخ داد و بهداشت شهر خوب است.",
    "نامه زندان اوین به وزارت بهداشت درباره ماسک و دستکش.",
    "The prison report: masks and gloves for Evin prison.",
    "وزارت نفت و شرکت ملی نفت قرارداد تازه بستند.",
    "بهداشت عمومی و ماسک در مدرسه.",
    "با سلام و احترام مدیرکل تجهیزات پزشکی وزارت بهداشت، درمان و آموزش پزشکی و کارکنان زندان",
    "masks were short; the health ministry sent masks. Ministry of Health said so",
    "۲- تعداد ۱۰۰٬۰۰۰ عدد ماسک N95 رسید",
]


@pytest.fixture(scope="module")
def sx(tmp_path_factory):
    path = tmp_path_factory.mktemp("marks") / "index"
    path.mkdir()
    ix = engine.index.create_in(path, build_schema())
    (path / VERSION_FILE).write_text(str(SCHEMA_VERSION))
    with ix.writer() as w:
        for n, text in enumerate(PAGES):
            doc = f"{n:064x}"
            w.add_document(key=f"{doc}:1", document_id=doc, page=1, filename=f"p{n}.txt", title="",
                           text=text, exact=text, stem=text, lang="en" if text.isascii() else "fa",
                           source="", tags="", dates="", added=datetime(2024, 1, 1, 0, n))
    return SearchIndex(path)


def _marked(hit) -> list[str]:
    return [hit.snippet[s:e] for s, e in hit.spans]


def test_a_phrase_marks_only_where_its_words_stand_together(sx):
    hits = sx.search('"وزارت بهداشت"', limit=5).hits
    first = next(h for h in hits if h.document_id == f"{0:064x}")
    # the page also holds وزارت (نفت) and بهداشت (شهر) apart: those are not marked
    assert _marked(first) == ["وزارت", "بهداشت"], first.snippet
    marked = sx.page_marks('"وزارت بهداشت"', f"{0:064x}", 1)
    assert [PAGES[0][m.start:m.end] for m in marked.marks] == ["وزارت", "بهداشت"]
    assert {m.kind for m in marked.marks} == {"typed"}


def test_a_mark_says_how_its_word_came_in(sx):
    hits = sx.search("prison", limit=5).hits
    english = next(h for h in hits if h.lang == "en")
    assert set(english.span_kinds) == {"typed"} and len(english.span_kinds) == len(english.spans)
    persian = next(h for h in hits if h.document_id == f"{1:064x}")
    assert "translation" in persian.span_kinds and "typed" not in persian.span_kinds


def test_feedback_words_are_not_marked_unless_asked():
    found = Found(words={("text", "mask"), ("text", "glove")})
    ranges = {("text", "mask"): [(0, 4)], ("text", "glove"): [(5, 10)]}
    kinds = {("text", "mask"): "typed", ("text", "glove"): "feedback"}
    assert marks("mask glove", found, ranges, kinds) == [Mark(0, 4, "typed")]
    assert marks("mask glove", found, ranges, kinds, feedback=True) == [Mark(0, 4, "typed"), Mark(5, 10, "feedback")]


def test_a_place_under_two_kinds_keeps_the_first():
    found = Found(words={("text", "a"), ("exact", "a")})
    ranges = {("text", "a"): [(0, 1)], ("exact", "a"): [(0, 1)]}
    assert marks("a", found, ranges, {("text", "a"): "translation", ("exact", "a"): "typed"}) == [Mark(0, 1, "typed")]


def test_page_marks_name_the_matching_pages_without_a_search(sx, monkeypatch):
    monkeypatch.setattr(SearchIndex, "search", lambda *a, **k: pytest.fail("the archive was searched"))
    marked = sx.page_marks("ماسک", f"{1:064x}", 1)
    assert marked.pages == (1,) and [PAGES[1][m.start:m.end] for m in marked.marks] == ["ماسک"]
    assert sx.page_marks("ماسک", f"{3:064x}", 1).pages == ()  # no ماسک on that page


def test_word_boxes_carry_their_kind():
    text = "Evin prison gloves"
    words = [WordBox("Evin", 0, 0, 10, 10, 90.0, 1), WordBox("prison", 12, 0, 10, 10, 90.0, 1),
             WordBox("gloves", 24, 0, 10, 10, 90.0, 1)]
    boxes = word_boxes(text, words, [Mark(5, 11, "typed"), Mark(12, 18, "translation")])
    assert [(b.text, b.kind) for b in boxes] == [("prison", "typed"), ("gloves", "translation")]


def test_a_word_box_is_not_found_inside_a_longer_word():
    text = "office of health"
    words = [WordBox("office", 0, 0, 10, 10, 90.0, 1), WordBox("of", 12, 0, 10, 10, 90.0, 1),
             WordBox("health", 24, 0, 10, 10, 90.0, 1)]
    boxes = word_boxes(text, words, [Mark(7, 9, "typed")])
    assert [(b.text, b.left) for b in boxes] == [("of", 12)]


def test_a_translated_phrase_marks_only_where_it_stands_and_never_its_stopwords(sx):
    doc = f"{5:064x}"
    marked = sx.page_marks('"Ministry of Health"', doc, 1)
    text = PAGES[5]
    # the first پزشکی (before the phrase) and every «و» stay unmarked
    assert [(text[m.start:m.end], m.kind) for m in marked.marks] == [
        (w, "translation") for w in ("وزارت", "بهداشت", "درمان", "آموزش", "پزشکی")]
    words = [WordBox(w, 10 * i, 0, 8, 8, 90.0, 1) for i, w in enumerate(text.split())]
    assert [b.text for b in marked.boxes(text, words)] == ["وزارت", "بهداشت،", "درمان", "آموزش", "پزشکی"]
    assert marked.tier == 1 and marked.phrases and all(p.kind == "translation" for p in marked.phrases)
    hit = next(h for h in sx.search('"Ministry of Health"', limit=10).hits if h.document_id == doc)
    assert hit.phrases == marked.phrases


def test_a_typed_phrase_marks_its_occurrences_only(sx):
    marked = sx.page_marks('"Ministry of Health"', f"{6:064x}", 1)
    assert [PAGES[6][m.start:m.end] for m in marked.marks] == ["Ministry", "of", "Health"]
    assert marked.tier == 0 and [p.kind for p in marked.phrases] == ["typed"]


def test_a_translated_phrase_that_shares_a_typed_word_is_a_translation(sx):
    marked = sx.page_marks('"N95 masks"', f"{7:064x}", 1)
    assert [(PAGES[7][m.start:m.end], m.kind) for m in marked.marks] == [("ماسک", "translation"),
                                                                        ("N95", "translation")]
    assert [p.kind for p in marked.phrases] == ["translation"] and marked.tier == 1
