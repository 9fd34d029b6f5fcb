"""Search an investigator can trust (issue #14): tiers, whole-word names, why each hit matched,
quoted phrases across languages. A real archive of real text pages: synthetic prison letters and
English reports (bench.letters) plus the pages of the cases a new user met."""

from __future__ import annotations

import pytest

from archive.archive import Archive
from archive.models import MATCH_KINDS
from ingest.pipeline import Ingestor
from bench.letters import make_english_report, make_letter
from search.index import SearchIndex
from search.tiers import ALTERNATIVE, TYPED

# A different person: سعید جهانگیری is not Asghar Jahangir.
JAHANGIRI = """اداره کل زندان‌های استان تهران
جناب آقای سعید جهانگیری
معاون بهداشت و درمان
موضوع: گزارش بازدید از بند نسوان
با سلام، گزارش بازدید جهانگیری از بند نسوان به پیوست ارسال می‌گردد. جهانگیری جهانگیری
"""

JAHANGIR_FA = """سازمان زندان‌ها و اقدامات تأمینی و تربیتی کشور
جناب آقای اصغر جهانگیر
موضوع: درخواست دستکش لاتکس
با سلام، خواهشمند است نسبت به تأمین دستکش لاتکس برای زندانیان اقدام فرمایید.
"""

JAHANGIR_EN = """Prisons authority letter
On 24 March 2020 the prisons authority, headed by Asghar Jahangir, asked for latex gloves.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs")
    for seed in range(1, 31):
        (folder / f"letter-{seed:02}.txt").write_text(make_letter(seed).text, encoding="utf-8")
    for seed in range(1, 9):
        (folder / f"report-{seed:02}.txt").write_text("\n".join(make_english_report(seed).lines), encoding="utf-8")
    (folder / "other-person-fa.txt").write_text(JAHANGIRI, encoding="utf-8")
    (folder / "asghar-fa.txt").write_text(JAHANGIR_FA, encoding="utf-8")
    (folder / "asghar-en.txt").write_text(JAHANGIR_EN, encoding="utf-8")
    archive = Archive(tmp_path_factory.mktemp("archive"))
    results = Ingestor(archive, jobs=1).ingest([folder])
    assert {r.status for r in results} == {"ingested"}
    yield SearchIndex(archive.index_dir)
    archive.close()


def _kinds(hit) -> set[str]:
    return {m.kind for m in hit.matched}


def _assert_tiers_hold(hits):
    """Every hit holding a word as typed comes before every hit holding only alternatives."""
    tiers = [h.tier for h in hits]
    assert tiers == sorted(tiers), [(h.filename, h.tier, h.score) for h in hits]
    for hit in hits:
        assert ("typed" in _kinds(hit)) == (hit.tier == TYPED), (hit.filename, hit.matched)


def test_a_name_matches_whole_words_and_the_typed_page_comes_first(index):
    results = index.search("Jahangir")
    files = [h.filename for h in results.hits]
    assert files[0] == "asghar-en.txt"  # the English report naming Asghar Jahangir
    assert "asghar-fa.txt" in files  # اصغر جهانگیر, the same name in Persian
    assert "other-person-fa.txt" not in files  # جهانگیری is another family name
    persian = next(h for h in results.hits if h.filename == "asghar-fa.txt")
    assert persian.tier == ALTERNATIVE and ("جهانگیر", "name") in {(m.term, m.kind) for m in persian.matched}
    _assert_tiers_hold(results.hits)


def test_english_words_as_typed_rank_above_their_translation_and_feedback(index):
    results = index.search("latex gloves", limit=50)
    assert results.hits[0].filename == "asghar-en.txt"  # holds exactly these words
    english = {h.filename for h in results.hits if h.lang == "en"}
    assert {h.filename for h in results.hits[:len(english)]} == english
    assert any(h.tier == ALTERNATIVE for h in results.hits)  # the Persian letters are still found
    _assert_tiers_hold(results.hits)


def test_unquoted_ministry_of_health_puts_pages_with_the_words_first(index):
    results = index.search("Ministry of Health", limit=50)
    typed = [h for h in results.hits if h.tier == TYPED]
    assert len(typed) == 8 and all(h.filename.startswith("report-") for h in typed)
    assert results.hits[:8] == typed
    assert len(results.hits) > 8  # وزارت بهداشت, through the glossary, below
    _assert_tiers_hold(results.hits)


def test_quoted_phrase_is_searched_in_the_other_language_in_the_lower_tier(index):
    english = index.search('"Ministry of Health"', limit=50)
    assert [e.added[0] for e in english.expansions] == ["وزارت بهداشت"]
    assert {h.tier for h in english.hits[:8]} == {TYPED}
    assert {h.filename for h in english.hits[:8]} == {f"report-{s:02}.txt" for s in range(1, 9)}
    persian_pages = [h for h in english.hits if h.tier == ALTERNATIVE]
    assert persian_pages and all(h.filename.startswith("letter-") for h in persian_pages)
    assert all("translation" in _kinds(h) for h in persian_pages)
    persian = index.search('"وزارت بهداشت"', limit=50)
    assert any(h.filename.startswith("report-") and h.tier == ALTERNATIVE for h in persian.hits)
    _assert_tiers_hold(english.hits)
    _assert_tiers_hold(persian.hits)
    # without expansion a quoted phrase is what it always was
    assert {h.tier for h in index.search('"Ministry of Health"', expand=False, limit=50).hits} == {TYPED}


def test_every_hit_says_why_it_matched_and_snippets_show_typed_words(index):
    results = index.search("ماسک", limit=50)
    assert results.hits
    for hit in results.hits:
        assert hit.matched and {m.kind for m in hit.matched} <= set(MATCH_KINDS)
        feedback = {m.term for m in hit.matched if m.kind == "feedback"}
        marked = {hit.snippet[s:e] for s, e in hit.spans}
        assert not feedback & set(hit.terms)  # feedback words are not highlighted
        if hit.tier == TYPED:
            assert "ماسک" in hit.snippet and "ماسک" in marked
    assert any(m.kind == "feedback" for h in results.hits for m in h.matched)  # but they are reported


def test_fuzzy_variants_rank_below_the_word_itself(index):
    results = index.search("جهانگیر~", limit=20)
    files = [h.filename for h in results.hits]
    assert files.index("asghar-fa.txt") < files.index("other-person-fa.txt")
    fuzzy = next(h for h in results.hits if h.filename == "other-person-fa.txt")
    assert fuzzy.tier == ALTERNATIVE and _kinds(fuzzy) == {"fuzzy"}
    _assert_tiers_hold(results.hits)


def test_feedback_never_decides_which_pages_match(index):
    for query in ("ماسک", "latex gloves", "Jahangir", "دستکش زندان"):
        with_feedback = index.search(query, limit=1000, feedback=True)
        without = index.search(query, limit=1000, feedback=False)
        assert with_feedback.total == without.total
        assert {(h.document_id, h.page) for h in with_feedback.hits} == {(h.document_id, h.page) for h in without.hits}
