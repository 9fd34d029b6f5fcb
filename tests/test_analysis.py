"""The analysis chain: spelling variants meet, offsets stay true, numbers and codes survive."""

from __future__ import annotations

import pickle

import pytest
from whoosh import index
from whoosh import query as Q

from search.analysis import aggressive_stem, exact_analyzer, fold, persian_stem, stem_analyzer, text_analyzer
from search.schema import SCHEMA_VERSION, build_schema, weighting

TEXT = text_analyzer()
EXACT = exact_analyzer()


def terms(analyzer, text, **kw):
    return [t.text for t in analyzer(text, **kw)]


@pytest.fixture
def make_index(tmp_path):
    """An index of the given page texts; returns it (doc ids are the list positions)."""

    def make(pages):
        ix = index.create_in(str(tmp_path), build_schema())
        with ix.writer() as w:
            for n, text in enumerate(pages):
                w.add_document(key=f"d{n}:1", document_id=f"d{n}", page=1, text=text, exact=text,
                               lang="fa", title="")
        return ix

    return make


def search_ids(ix, field, term):
    with ix.searcher(weighting=weighting()) as s:
        return {hit["document_id"] for hit in s.search(Q.Term(field, term), limit=None)}


# --- spelling variants -------------------------------------------------------------------------

PRISON_FORMS = ["زندانها", "زندان ها", "زندان\u200cها", "زندان\u200cهای", "زندانهاي"]


@pytest.mark.parametrize("form", PRISON_FORMS)
def test_plural_forms_stem_to_the_noun(form):
    assert terms(TEXT, form) == ["زندان"]


def test_plural_forms_find_the_same_pages(make_index):
    ix = make_index([f"متهم در {form} ماند" for form in PRISON_FORMS] + ["زندان اوین", "خانه"])
    assert search_ids(ix, "text", terms(TEXT, "زندان")[0]) == {f"d{n}" for n in range(6)}


def test_verb_prefix_forms_meet():
    forms = ["می\u200cخواهم", "میخواهم", "می خواهم", "مي خواهم"]
    assert len({tuple(terms(TEXT, f)) for f in forms}) == 1
    assert len({tuple(terms(EXACT, f)) for f in forms}) == 1


@pytest.mark.parametrize("variant", ["كتاب", "کتاب", "كِتاب", "کتـــاب", "ﻛﺘﺎﺏ", "\u200fکتاب\u200e"])
def test_arabic_letters_marks_tatweel_presentation_forms(variant):
    assert terms(EXACT, variant) == ["کتاب"]


@pytest.mark.parametrize("src,dst", [
    ("ي", "ی"), ("ى", "ی"), ("ے", "ی"), ("ك", "ک"), ("ة", "ه"), ("ۀ", "ه"), ("ہ", "ه"),
    ("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ٱ", "ا"), ("ؤ", "و"), ("ئ", "ی"), ("ﻻ", "لا"),
    ("۱۲۳", "123"), ("١٢٣", "123"), ("Ｎ９５", "n95"), ("ABC", "abc"),
])
def test_fold(src, dst):
    assert fold(src) == dst


def test_variant_spellings_find_the_same_page(make_index):
    ix = make_index(["مسئول كارخانهٔ ايران", "مسئول کارخانه ایران", "خانه"])
    for query in ("کارخانه", "كارخانة", "ایران"):
        term = terms(TEXT, query)[0]
        assert search_ids(ix, "text", term) == {"d0", "d1"}, query


# --- numbers, dates, codes (hazm's spacing traps) ------------------------------------------------

@pytest.mark.parametrize("number", ["۵٬۴۰۰٬۰۰۰", "5,400,000", "5400000", "۵۴۰۰۰۰۰", "5'400'000"])
def test_thousands_separators_ignored(number):
    assert terms(TEXT, number) == ["5400000"]


def test_decimal_separator():
    assert terms(TEXT, "۳٫۵", mode="query") == terms(TEXT, "3.5", mode="query") == ["3.5"]


@pytest.mark.parametrize("code,term", [
    ("N95", "n95"), ("COVID-19", "covid-19"), ("02091-C-71", "02091-c-71"), ("۱۲۳۴/ص/۹۹", "1234/ص/99"),
    ("1399/01/05", "1399/01/05"), ("۱۳۹۹/۰۱/۰۵", "1399/01/05"), ("info@example.com", "info@example.com"),
])
def test_codes_are_single_units(code, term):
    assert terms(TEXT, f"شماره {code} است", mode="query") == ["شماره", term]
    assert term in terms(TEXT, f"شماره {code} است")  # index mode: the unit ...
    assert term in terms(EXACT, code)


def test_codes_also_indexed_by_their_parts(make_index):
    ix = make_index(["ماسک N95 و آزمایش COVID-19 در تاریخ ۱۳۹۹/۰۱/۰۵", "هیچ"])
    for term in ("covid-19", "covid", "1399/01/05", "1399", "n95"):
        assert search_ids(ix, "text", term) == {"d0"}, term


def test_parts_share_the_units_position():
    toks = [(t.text, t.pos) for t in TEXT("الف COVID-19 ب", positions=True)]
    assert ("covid-19", 1) in toks and ("covid", 1) in toks and ("19", 1) in toks


# --- stemming ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["ایران", "تهران", "علی", "اصفهان", "سازمان", "دختر", "زندگی", "پیام"])
def test_names_and_lookalikes_not_over_stemmed(name):
    assert terms(TEXT, name) == [name]


@pytest.mark.parametrize("word,stem", [
    ("کتابها", "کتاب"), ("کتاب\u200cهایشان", "کتاب"), ("بزرگترین", "بزرگ"), ("درختان", "درخت"),
    ("ایرانی", "ایران"), ("نامه\u200cای", "نامه"), ("نمایندگان", "نماینده"),
])
def test_persian_inflections_stemmed(word, stem):
    assert terms(TEXT, word) == [stem]


def test_english_lowercase_stopwords_stem():
    assert terms(TEXT, "The Reports of the Ministries") == ["report", "ministri"]
    assert terms(EXACT, "The Reports") == ["the", "reports"]


def test_persian_stopwords_removed_after_folding():
    # hazm lists "این" and "است" with Persian letters; the text uses Arabic-keyboard variants
    assert terms(TEXT, "اين كتاب است") == ["کتاب"]


def test_content_words_from_hazms_stopword_list_stay_searchable():
    # hazm lists رشد (growth) and روش (method) among its stopwords
    assert terms(TEXT, "ميزان رشد جمعيت") == ["میزان", "رشد", "جمعیت"]
    assert terms(TEXT, "روش جديد") == ["روش", "جدید"]


@pytest.mark.parametrize("word, root", [
    ("ادبیات", "ادب"), ("المللی", "الملل"), ("کتاب‌های", "کتاب"), ("خسارات", "خسار"), ("ایران", "ایر"),
])
def test_aggressive_stem_field(word, root):
    assert aggressive_stem(fold(word)) == root or terms(stem_analyzer(), word) == [root]
    assert terms(stem_analyzer(), word) == [root]


def test_aggressive_field_keeps_codes_and_latin():
    assert terms(stem_analyzer(), "N95 ۱۲۳۴/ص/۹۹ reports", mode="query") == ["n95", "1234/ص/99", "report"]


def test_stemmer_is_idempotent_on_short_words():
    assert persian_stem("ها") == "ها"


# --- offsets ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "سلام ﻻﻣﭗ و ﻛﺘﺎﺏ",                   # presentation forms (NFKC expands ﻻ to two letters)
    "کِتابِ مُهِم دَر تِهران",                 # harakat
    "کتـــــاب و قلــم",                    # tatweel
    "\u200fN95\u200e و \u202bCOVID-19\u202c",  # bidi marks around Latin runs
    "زندان\u200cها و می خواهم ۵٬۴۰۰٬۰۰۰",
])
def test_offsets_point_at_original_characters(text):
    for tok in TEXT(text, chars=True, positions=True):
        original = text[tok.startchar:tok.endchar]
        assert original and not original[0].isspace() and not original[-1].isspace()
        # folding the original span (and stemming) must give back the term
        assert terms(TEXT, original, mode="query")[0] == tok.text or tok.text in terms(TEXT, original)
        assert original[0] not in "\u200e\u200f\u202b\u202c"


def test_highlight_lands_on_original_word():
    text = "گزارش ﻛﺘﺎﺑﻬﺎ رسید"
    tok = next(t for t in TEXT(text, chars=True) if t.text == "کتاب")
    assert text[tok.startchar:tok.endchar] == "ﻛﺘﺎﺑﻬﺎ"


# --- robustness -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", " ", "\n\n", "ـــ", "\u200c", "\u064e\u064f", "...", "\x00"])
def test_empty_and_junk_input(text, make_index):
    assert terms(TEXT, text) == [] and terms(EXACT, text) == []


def test_empty_page_indexes(make_index):
    ix = make_index(["", "متن"])
    assert ix.doc_count() == 2


def test_schema_pickles_with_analyzers():
    schema = pickle.loads(pickle.dumps(build_schema()))
    assert terms(schema["text"].analyzer, "زندانها") == ["زندان"]
    assert isinstance(SCHEMA_VERSION, int)
