"""What the workbench marks and how (ui.matches, ui.web): kinds, phrases, stopwords, feedback,
readable audit rows, dates once, the letter-date timeline. No browser: tests/test_ui_browser.py
has the same cases on screen."""

from __future__ import annotations

from archive.models import Hit, Matched, WordBox
from ui import listing, matches, web


def _boxes(text: str) -> list[WordBox]:
    return [WordBox(w, 10 * i, 0, 8, 8, 90.0, 1) for i, w in enumerate(text.split())]


def _marked(text: str, found) -> list[tuple[str, str]]:
    return [(text[s:e], k) for s, e, k in found]


class _Expansion:  # the two fields ui.matches reads of a crosslingual.Expansion
    def __init__(self, text, added, kind="glossary"):
        self.text, self.added, self.kind = text, added, kind


MINISTRY = [Matched(t, "translation") for t in ("وزارت", "بهداشت", "درمان", "و", "اموزش", "پزشکی")]
LETTER = "با سلام و احترام مدیرکل تجهیزات پزشکی وزارت بهداشت، درمان و آموزش پزشکی و کارکنان زندان"


def test_a_translated_phrase_marks_only_where_it_stands_and_never_its_stopwords():
    want = matches.wanted(MINISTRY, "Ministry of Health",
                          [_Expansion("Ministry of Health", ["وزارت بهداشت، درمان و آموزش پزشکی"])])
    found = _marked(LETTER, matches.text_marks(LETTER, want))
    # the first پزشکی (before the phrase) and every «و» stay unmarked
    assert found == [(w, "translation") for w in ("وزارت", "بهداشت", "درمان", "آموزش", "پزشکی")]
    boxes = matches.box_marks(_boxes(LETTER), want)
    assert [b.text for b, _ in boxes] == ["وزارت", "بهداشت،", "درمان", "آموزش", "پزشکی"]
    assert "و" not in {b.text for b, _ in boxes}


def test_a_typed_phrase_outlines_its_occurrences_only():
    text = "masks were short; the health ministry sent masks. Ministry of Health said so"
    want = matches.wanted([Matched(t, "typed") for t in ("ministry", "of", "health")], '"Ministry of Health"')
    assert _marked(text, matches.text_marks(text, want)) == [("Ministry", "typed"), ("of", "typed"),
                                                            ("Health", "typed")]


def test_typed_and_expanded_words_have_their_kinds_and_feedback_only_on_request():
    text = "ماسک و دستکش برای زندان رسید"
    want = matches.wanted([Matched("ماسک", "typed"), Matched("زندان", "translation"),
                           Matched("دستکش", "feedback"), Matched("و", "translation")], "ماسک prison",
                          [_Expansion("prison", ["زندان"])])
    assert _marked(text, matches.text_marks(text, want)) == [("ماسک", "typed"), ("زندان", "translation")]
    assert ("دستکش", "feedback") in _marked(text, matches.text_marks(text, want, feedback=True))
    kinds = [k for _, k in matches.box_marks(_boxes(text), want)]
    assert kinds == ["typed", "translation"]


def test_a_snippet_is_marked_by_kind_and_the_hit_lists_why_it_matched():
    hit = Hit("d", "f.png", "", 1, 1.0, LETTER, tier=1, matched=tuple(MINISTRY))
    want = matches.wanted(hit.matched, "Ministry of Health",
                          [_Expansion("Ministry of Health", ["وزارت بهداشت، درمان و آموزش پزشکی"])])
    html = web.snippet_html(hit, want)
    assert html.count('<mark class="sanad-m-alt" data-kind="translation">') == 5
    why = web.matched_html(hit, want)
    assert "Found only through alternatives" in why and "وزارت بهداشت، درمان و آموزش پزشکی" in why
    assert '>و</span>' not in why  # listed as the phrase, not word by word
    legend = web.legend_html({"typed", "translation"})
    assert 'data-testid="legend"' in legend and "sanad-k-typed" in legend and "sanad-k-alt" in legend


def test_audit_rows_are_readable():
    entry = {"at": "2026-12-01T16:03:13+00:00", "actor": "ada", "action": "edit", "document_id": "ab" * 32,
             "detail": {"title": {"old": "", "new": "Letter"}, "tags": {"old": [], "new": ["a", "b"]},
                        "sha256": "ab" * 32}}
    row = listing.audit_row(entry, {"ab" * 32: "letter.png"})
    assert row == {"when": "2026-12-01 16:03:13 UTC", "who": "ada", "action": "edit", "document": "letter.png",
                   "detail": "title: (empty) → Letter · tags: (empty) → a, b"}
    assert "{" not in listing.detail_text({"what": "search results", "format": "csv", "query": "x", "results": 4})


def test_each_date_is_listed_once_with_its_spellings_and_pages():
    found = [{"page": 1, "day": "2020-03-24", "text": "۱۳۹۹/۰۱/۰۵", "calendar": "jalali"},
             {"page": 1, "day": "2020-03-24", "text": "۱۳۹۹/۰۱/۰۵", "calendar": "jalali"},
             {"page": 2, "day": "2020-03-24", "text": "24 March 2020", "calendar": "gregorian"},
             {"page": 2, "day": "2020-04-01", "text": "1 April 2020", "calendar": "gregorian"}]
    listed = listing.dates_listed(found)
    assert [d["day"] for d in listed] == ["2020-03-24", "2020-04-01"]
    assert listed[0]["written"] == ["۱۳۹۹/۰۱/۰۵", "24 March 2020"] and listed[0]["pages"] == [1, 2]


def test_the_timeline_counts_letter_dates_by_month_with_the_empty_months_between():
    chart, unit = listing.timeline(["2019-11-17", "2019-11-26", "2020-01-28"])
    assert unit == "month" and list(chart.index) == ["2019-11", "2019-12", "2020-01"]
    assert list(chart["documents"]) == [2, 0, 1]
    assert listing.timeline(["1990-05-01", "2020-01-01"])[1] == "year"


def test_each_document_has_the_first_date_written_on_it(archive):
    from archive.models import Document, Receipt

    for doc_id in ("a" * 64, "b" * 64):
        archive.catalog.add_document(Document(doc_id, f"{doc_id[0]}.txt", "text/plain", 1, "2026-01-01T00:00:00+00:00"),
                                     Receipt(doc_id, f"{doc_id[0]}.txt", "2026-01-01T00:00:00+00:00", "test"))
    archive.catalog.save_page_dates("a" * 64, 2, [("2020-05-01", "1 May 2020", "gregorian")])
    archive.catalog.save_page_dates("a" * 64, 1, [("2020-03-24", "۱۳۹۹/۰۱/۰۵", "jalali"),
                                                  ("2019-01-01", "1 January 2019", "gregorian")])
    assert archive.catalog.document_days() == {"a" * 64: "2020-03-24"}
    assert archive.catalog.document_date("a" * 64) == "2020-03-24"
