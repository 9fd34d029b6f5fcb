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

# A Persian letter with an English word in a web address: it is not a page about "health".
STRAY = """دانشگاه علوم پزشکی تهران
نشانی: www.health-tums.ac.ir
موضوع: گزارش وزارت بهداشت درباره بیمارستان‌های استان
با سلام، گزارش وزارت بهداشت درباره وضعیت بیمارستان‌های استان تهران به پیوست ارسال می‌گردد.
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
    (folder / "letter-stray.txt").write_text(STRAY, encoding="utf-8")
    archive = Archive(tmp_path_factory.mktemp("archive"))
    results = Ingestor(archive, jobs=1).ingest([folder])
    assert {r.status for r in results} == {"ingested"}
    yield SearchIndex(archive.index_dir)
    archive.close()


def _kinds(hit) -> set[str]:
    return {m.kind for m in hit.matched}


def _assert_tiers_hold(hits):
    """Every hit of tier 0 (holding the words as typed) comes before every other hit; a hit
    holding no word as typed is never in tier 0."""
    tiers = [h.tier for h in hits]
    assert tiers == sorted(tiers), [(h.filename, h.tier, h.score) for h in hits]
    for hit in hits:
        if "typed" not in _kinds(hit):
            assert hit.tier == ALTERNATIVE, (hit.filename, hit.matched)


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
    english = {h.filename for h in results.hits if h.lang == "en"}  # the reports on gloves
    assert len(english) > 1 and {h.filename for h in results.hits[:len(english)]} == english
    assert {h.tier for h in results.hits[:len(english)]} == {TYPED}
    # the Persian letters are still found, through دستکش لاتکس and دستکش یکبار مصرف, below
    persian = [h for h in results.hits if h.lang == "fa"]
    assert persian and {h.tier for h in persian} == {ALTERNATIVE}
    _assert_tiers_hold(results.hits)


def test_unquoted_ministry_of_health_puts_pages_with_the_words_first(index):
    results = index.search("Ministry of Health", limit=50)
    typed = [h for h in results.hits if h.tier == TYPED]
    assert len(typed) == 8 and all(h.filename.startswith("report-") for h in typed)
    assert results.hits[:8] == typed
    assert len(results.hits) > 8  # وزارت بهداشت, through the glossary, below
    stray = next(h for h in results.hits if h.filename == "letter-stray.txt")
    assert stray.tier == ALTERNATIVE and "typed" in _kinds(stray)  # holds `health`, but in an address
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


# -- feedback that cannot feed on noise ---------------------------------------------------------

def _ocr_page(catalog, doc_id: str, lines: list[list[tuple[str, float]]]) -> None:
    """An OCR page as the pipeline stores one: its text and Tesseract's word boxes."""
    from archive.models import Document, Page, Receipt, WordBox

    catalog.add_document(Document(doc_id, f"{doc_id[:6]}.png", "image/png", 1, "2026-01-01T00:00:00"),
                         Receipt(doc_id, f"{doc_id[:6]}.png", "2026-01-01T00:00:00", "test"))
    catalog.plan_pages(doc_id, 1)
    words = [WordBox(text, 40 * k, 30 * n, 35, 25, conf, n) for n, line in enumerate(lines)
             for k, (text, conf) in enumerate(line)]
    catalog.save_page(Page(doc_id, 1, "\n".join(" ".join(t for t, _ in line) for line in lines), "ocr",
                           "fa", 80.0, 1000, 1000, words, "done"))
    catalog.finish_document(doc_id)


def _noisy_archive(root, letters, misread_conf: float) -> SearchIndex:
    """Letters plus three short OCR pages about masks on which Tesseract read زنگاری (a misreading
    repeated from page to page) with confidence ``misread_conf``."""
    archive = Archive(root)
    Ingestor(archive, jobs=1).ingest([letters])
    for n in range(3):
        _ocr_page(archive.catalog, f"{n:x}" * 64, [
            [("درخواست", 92.0), ("ماسک", 95.0), ("برای", 90.0), ("بیمارستان", 91.0)],
            [("زنگاری", misread_conf), ("ماسک", 93.0), ("بیمارستان", 90.0)],
        ])
    index = SearchIndex(archive.index_dir)
    index.update_documents(archive.catalog, sorted(archive.catalog.unindexed()))
    archive.close()
    return index


def test_feedback_words_come_from_confident_ocr_words_only(tmp_path):
    letters = tmp_path / "letters"
    letters.mkdir()
    for seed in range(1, 31):
        (letters / f"letter-{seed:02}.txt").write_text(make_letter(seed).text, encoding="utf-8")

    def feedback(index):
        hits = index.search("ماسک", limit=50).hits
        assert any(h.filename.endswith(".png") for h in hits[:5])  # the OCR pages feed feedback
        return {m.term for h in hits for m in h.matched if m.kind == "feedback"}

    # read with confidence, the repeated word is a feedback word like any other ...
    assert "زنگار" in feedback(_noisy_archive(tmp_path / "sure", letters, 90.0))
    # ... read below MIN_CONF, it is not, though it stands on the same pages
    unsure = feedback(_noisy_archive(tmp_path / "unsure", letters, 20.0))
    assert "زنگار" not in unsure and "بیمارستان" in unsure  # (زنگار: the stem of زنگاری)


def test_feedback_words_are_words_not_fragments():
    from search import feedback

    for fragment in ("۸۷۶اس", "01710-19", "n95", "ر", "1399"):
        assert not feedback.usable(fragment), fragment
    for word in ("رده", "بم", "بیمارستان", "gloves"):
        assert feedback.usable(word), word
