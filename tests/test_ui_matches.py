"""How the workbench shows the search's marks (ui.matches, ui.web): kinds, each phrase once,
readable audit rows, dates once, the letter-date timeline. No browser: tests/test_ui_browser.py
has the same cases on screen."""

from __future__ import annotations

from archive.models import Hit, Matched
from ui import listing, matches, web


def test_a_snippet_is_marked_by_the_searchs_kinds_and_the_hit_lists_each_phrase_once():
    text = "با سلام و احترام مدیرکل تجهیزات پزشکی وزارت بهداشت، درمان و آموزش پزشکی و کارکنان زندان"
    words = ("وزارت", "بهداشت", "درمان", "و", "اموزش", "پزشکی")
    at = [(text.index(w), text.index(w) + len(w)) for w in ("وزارت", "بهداشت", "درمان", "آموزش")]
    hit = Hit("d", "f.png", "", 1, 1.0, text, spans=at, span_kinds=["translation"] * 4, tier=1,
              matched=tuple(Matched(t, "translation") for t in words),
              phrases=(Matched(" ".join(words), "translation"),))
    html = web.snippet_html(hit)
    assert html.count('<mark class="sanad-m-alt" data-kind="translation">') == 4
    why = web.matched_html(hit)
    assert "Found only through alternatives" in why and " ".join(words) in why
    assert ">و</span>" not in why  # listed as the phrase, not word by word
    assert matches.grouped([Matched("ماسک", "typed"), *hit.matched], hit.phrases) == [
        (" ".join(words), "translation"), ("ماسک", "typed")]
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
