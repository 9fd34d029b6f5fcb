"""Across calendars, digits, scripts and languages (issue: dates, amounts, names, English queries)."""

from __future__ import annotations

import pytest

from archive.archive import Archive
from ingest.pipeline import Ingestor
from search.index import SearchIndex

LETTER = """سازمان زندان‌ها و اقدامات تأمینی و تربیتی کشور
شماره: ۱۲۳۴/ص/۹۹
تاریخ: ۱۳۹۹/۰۱/۰۵
جناب آقای اصغر جهانگیر
موضوع: درخواست ماسک N95 و مواد ضدعفونی‌کننده
با سلام، احتراماً خواهشمند است نسبت به تأمین ماسک و دستکش برای زندانیان اقدام فرمایید.
برآورد هزینه: ۵٬۴۰۰٬۰۰۰ ریال
"""

REPORT = """Health supplies for prisons
On 24 March 2020 the prisons authority, headed by Asghar Jahangir, asked the Ministry of Health
for protective equipment. The estimated cost was 5.4 million rials.
"""

OTHER = """یک نامه دیگر درباره بودجه ورزشی
تاریخ: ۱۴۰۰/۰۷/۱۲
مبلغ ۹۹۰ هزار ریال برای خرید توپ.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("docs")
    (folder / "letter-fa.txt").write_text(LETTER, encoding="utf-8")
    (folder / "report-en.txt").write_text(REPORT, encoding="utf-8")
    (folder / "other-fa.txt").write_text(OTHER, encoding="utf-8")
    archive = Archive(tmp_path_factory.mktemp("archive"))
    results = Ingestor(archive, jobs=1).ingest([folder])
    assert {r.status for r in results} == {"ingested"}
    yield SearchIndex(archive.index_dir)
    archive.close()


def _files(index, query, **kw):
    return {h.filename for h in index.search(query, **kw).hits}


def test_dates_are_found_in_both_calendars(index):
    both = {"letter-fa.txt", "report-en.txt"}
    assert _files(index, "date:2020-03-20..2020-03-28") == both
    assert _files(index, "date:1399/01/01..1399/01/10") == both
    assert _files(index, "date:1399-01-05") == both  # = 2020-03-24, the report's day
    assert _files(index, "date:2020-03-24") == both
    assert _files(index, "date:2020-03-25") == set()


def test_amounts_in_any_spelling(index):
    both = {"letter-fa.txt", "report-en.txt"}
    for spelling in ("5,400,000", "۵٬۴۰۰٬۰۰۰", "5400000", "5.4 million", "۵/۴ میلیون"):
        assert _files(index, spelling) >= both, spelling


def test_names_across_scripts(index):
    latin = index.search("Asghar Jahangir")
    assert {h.filename for h in latin.hits} >= {"letter-fa.txt", "report-en.txt"}
    # What was typed ranks above what was transliterated.
    assert latin.hits[0].filename == "report-en.txt"
    assert any(e.kind == "name" for e in latin.expansions)
    persian = index.search("اصغر جهانگیر")
    assert {h.filename for h in persian.hits} >= {"letter-fa.txt", "report-en.txt"}
    assert persian.hits[0].filename == "letter-fa.txt"


def test_english_query_finds_persian_letter_and_can_be_turned_off(index):
    found = index.search("masks prisons")
    assert "letter-fa.txt" in {h.filename for h in found.hits}
    assert [(e.text, e.kind) for e in found.expansions][:2] == [("masks", "glossary"), ("prisons", "glossary")]
    assert "letter-fa.txt" not in _files(index, "masks prisons", expand=False)
    assert "report-en.txt" in _files(index, "زندان")


def test_dates_are_stored_with_the_text_as_written(index):
    archive = Archive(index.path.parent)
    letter = next(d for d in archive.catalog.list_documents() if d.filename == "letter-fa.txt")
    found = archive.catalog.dates_found(letter.id)
    assert found == [{"page": 1, "day": "2020-03-24", "text": "۱۳۹۹/۰۱/۰۵", "calendar": "jalali"}]


def test_function_words_are_not_expanded_and_affixes_stay_with_their_word(tmp_path):
    from search.crosslingual import archive_glossary
    from search.expansion import expand
    from search.query import parse

    glossary = archive_glossary(tmp_path)
    found = expand(parse("آمار مبتلایان به ایدز در ایران"), glossary)
    expanded = {e.text for e in found.expansions}
    assert "ایدز" in expanded and not expanded & {"به", "در"}  # not "quince", "door"
    assert not {"quince", "door"} & {a.text for a in found.alternatives}
    whales = parse("مرگ نهنگ ها")
    widened = expand(whales, glossary)
    assert "نهنگ ها" in {e.text for e in widened.expansions}
    # the analyzer still glues ها to نهنگ: the typed clause of "نهنگ ها" is OR-ed with its
    # alternatives as a whole
    (whale,) = [leaf.clause for leaf in whales.leaves if leaf.text == "نهنگ ها"]
    terms = {(t.fieldname, t.text) for t in widened.query.leaves()}
    assert {(t.fieldname, t.text) for t in whale.leaves()} <= terms and ("exact", "نهنگها") in terms
    assert "for" not in {e.text for e in expand(parse("masks for prisons"), glossary).expansions}


def test_a_search_parses_the_typed_text_once(index, monkeypatch):
    """Expansion widens the parsed tree: nothing parses the typed text, or a query text written
    from it, a second time (tiers, term kinds, highlighting and the shown expansions included)."""
    import search.query as query

    parsed: list[str] = []
    lex = query._lex

    def counting(text):
        parsed.append(text)
        return lex(text)

    monkeypatch.setattr(query, "_lex", counting)  # every parse, whatever its entry point, lexes
    for text in ("Asghar Jahangir", "masks prisons", '"Ministry of Health"', "5.4 million", "ماسک~"):
        parsed.clear()
        results = index.search(text)
        assert results.expansions or text == "ماسک~"
        assert parsed == [text], parsed
        for run in (lambda: index.search(text, readable=frozenset({"nobody"})),
                    lambda: index.ranked_pages(text, limit=10),
                    lambda: index.page_marks(text, results.hits[0].document_id, 1)):
            parsed.clear()
            run()
            assert parsed == [text], parsed


def test_expansion_widens_the_parsed_leaves_only(tmp_path):
    """What expansion widens: plain words and quoted phrases, one stretch of words at a time;
    nothing under NOT or -, no filter, prefix or fuzzy word."""
    from search.crosslingual import archive_glossary
    from search.expansion import expand
    from search.query import parse

    glossary = archive_glossary(tmp_path)

    def widened(text):
        return [(e.text, e.kind) for e in expand(parse(text), glossary).expansions]

    assert widened("NOT masks prisons") == widened("-masks prisons") == [("prisons", "glossary")]
    assert widened("masks* prisons~ tag:masks") == []
    assert widened('"Ministry of Health"')[0] == ("Ministry of Health", "glossary")
    assert widened('"masks"') == []  # a quoted word asks for that form
    amount = parse("5.4 million prisons")
    found = expand(amount, glossary)
    assert ("5.4 million", "amount") in [(e.text, e.kind) for e in found.expansions]
    # each alternative's clause carries its kind, and is searched
    searched = {(t.fieldname, t.text) for t in found.query.leaves()}
    for alternative in found.alternatives:
        assert alternative.kind in ("translation", "amount")
        assert {(t.fieldname, t.text) for t in alternative.query.leaves()} <= searched
    # the typed words of the amount are OR-ed with its spellings as one group, beside prisons
    assert all(leaf.clause is None or {(t.fieldname, t.text) for t in leaf.clause.leaves()} <= searched
               for leaf in amount.leaves)
