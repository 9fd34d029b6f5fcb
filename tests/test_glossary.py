"""The bilingual glossary: English <-> Persian expansions for cross-language search."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.glossary import SHIPPED_PATH, WIKTIONARY_PATH, english_key, load_glossary, persian_key


@pytest.fixture(scope="module")
def g():
    return load_glossary(wiktionary_path=None)


def test_shipped_file_is_well_formed_and_large(g):
    assert not g.warnings
    assert len(g) >= 150
    for display, persian in g.entries.values():
        assert 1 <= len(persian) <= 4, display
        assert all(p.strip() == p and p for p in persian)


@pytest.mark.parametrize("english,persian", [
    ("prison", "زندان"),
    ("prisons", "زندان"),
    ("Prisoners", "زندانی"),
    ("inmates", "زندانی"),
    ("masks", "ماسک"),
    ("N95 respirators", "ماسک N95"),
    ("disinfectant", "ضدعفونی\u200cکننده"),
    ("alcohol", "الکل"),
    ("gloves", "دستکش"),
    ("medical equipment", "تجهیزات پزشکی"),
    ("ventilators", "ونتیلاتور"),
    ("hospital", "بیمارستان"),
    ("quarantine", "قرنطینه"),
    ("coronavirus", "کرونا"),
    ("COVID-19", "کرونا"),
    ("covid 19", "کرونا"),
    ("outbreak", "شیوع"),
    ("letters", "نامه"),
    ("request", "درخواست"),
    ("budget", "بودجه"),
    ("judiciary", "قوه قضاییه"),
    ("court", "دادگاه"),
    ("sentenced", "حکم"),
    ("detention", "بازداشت"),
    ("warden", "رئیس زندان"),
    ("guards", "نگهبان"),
    ("doctors", "پزشک"),
    ("nurses", "پرستار"),
    ("medicines", "دارو"),
    ("supplies", "ملزومات"),
    ("shortages", "کمبود"),
    ("deaths", "مرگ"),
    ("infection", "عفونت"),
    ("tests", "آزمایش"),
    ("testing", "آزمایش"),
    ("ministry", "وزارت"),
    ("ministry of health", "وزارت بهداشت"),
    ("Ministry of Health", "وزارت بهداشت"),
    ("health ministry", "وزارت بهداشت"),
    ("hospitalised", "بستری"),
    ("prosecutor's office", "دادسرا"),
])
def test_expand_english(g, english, persian):
    assert persian in g.expand_english(english)


@pytest.mark.parametrize("persian,english", [
    ("زندان", "prison"),
    ("زندان‌ها", "prison"),
    ("زندانها", "prison"),
    ("زندان ها", "prison"),
    ("ماسك", "mask"),  # Arabic kaf
    ("وزارت بهداشت", "ministry of health"),
    ("وزارت‌بهداشت", "ministry of health"),
    ("قوه قضائیه", "judiciary"),  # hamza spelling
    ("رييس زندان", "warden"),  # Arabic yeh, no hamza
    ("كرونا", "coronavirus"),
    ("کووید-۱۹", "covid-19"),
    ("کووید 19", "covid-19"),
    ("دستکش‌ها", "glove"),
    ("ضدعفونی کننده", "disinfectant"),
])
def test_expand_persian(g, persian, english):
    assert english in g.expand_persian(persian)


def test_sources_are_recorded(g):
    assert {e.source for e in g.expansions_english("masks")} == {"glossary"}


def test_unknown_terms_give_nothing_without_wiktionary(g):
    assert g.expand_english("zebra") == []
    assert g.expand_persian("گورخر") == []
    assert g.expand_english("") == []
    assert g.expand_persian("  ") == []


def test_english_key():
    assert english_key("Ministries of Health") == "ministry of health"
    assert english_key("N95 masks") == english_key("n95 mask")
    assert english_key("COVID-19") == "covid 19"
    assert english_key("sentenced") == english_key("sentence")
    assert english_key("AIDS") == "aids"  # not `aid`


def test_persian_key_tolerates_variants():
    assert persian_key("ماسک‌ها") == persian_key("ماسک ها") == persian_key("ماسكها")
    assert persian_key("رئیس") == persian_key("رييس")
    assert persian_key("۱۹") == persian_key("19")
    assert persian_key("کِتاب") == persian_key("کتاب")


def test_match_english_finds_longest_phrases(g):
    parts = g.match_english("N95 masks shortage in prisons, letter to the Ministry of Health")
    phrases = [p for p, _ in parts]
    assert phrases == ["N95 masks", "shortage", "prisons", "letter", "Ministry of Health"]
    assert "وزارت بهداشت" in [e.term for e in parts[-1][1]]


def test_extra_file_extends_and_overrides(tmp_path: Path):
    extra = tmp_path / "mine.tsv"
    extra.write_text(
        "# my additions\n"
        "mask\tماسک|نقاب\n"  # override
        "inmate welfare\tرفاه زندانیان\n"  # new multiword entry
        "alcohol\t\n"  # removal
        "a line without a tab\n",
        encoding="utf-8",
    )
    g = load_glossary(extra, wiktionary_path=None)
    assert g.expand_english("masks") == ["ماسک", "نقاب"]
    assert g.expand_english("inmate welfare") == ["رفاه زندانیان"]
    assert g.expand_english("alcohol") == []
    assert g.expand_persian("نقاب") == ["mask"]
    assert len(g.warnings) == 1 and "mine.tsv:5" in g.warnings[0]
    assert g.expand_english("prison") == ["زندان", "محبس"]  # shipped entries still there


def test_missing_extra_file_is_an_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_glossary(tmp_path / "nope.tsv")


def test_missing_wiktionary_is_not_an_error(tmp_path: Path):
    g = load_glossary(wiktionary_path=tmp_path / "absent.txt")
    assert g.expand_english("zebra") == []
    assert g.expand_english("mask") == ["ماسک"]


def test_wiktionary_fallback_with_a_small_file(tmp_path: Path):
    wikt = tmp_path / "en-fa.txt"
    wikt.write_text(
        "# English :: Persian\n"
        "whale {n} (large sea mammal) :: نهنگ /nahang/, وال\n"
        "mask {n} (cover for the face) :: نقاب /neqâb/\n"
        "in {prep} (contained by) :: در /dar/\n",
        encoding="utf-8",
    )
    g = load_glossary(wiktionary_path=wikt)
    whales = g.expansions_english("whales")
    assert [(e.term, e.source) for e in whales] == [("نهنگ", "wiktionary"), ("وال", "wiktionary")]
    assert [(e.term, e.source) for e in g.expansions_persian("نهنگ")] == [("whale", "wiktionary")]
    assert g.expand_english("mask") == ["ماسک"]  # the glossary wins
    assert g.expand_english("in") == []  # function words are never expanded


@pytest.mark.skipif(not WIKTIONARY_PATH.exists(), reason="shared Wiktionary dictionary not present")
def test_real_wiktionary_fallback():
    g = load_glossary()
    assert "نهنگ" in g.expand_english("whale")
    assert g.expansions_english("earthquake")[0].source == "wiktionary"


def test_shipped_path_is_in_package():
    assert SHIPPED_PATH.name == "glossary.tsv" and SHIPPED_PATH.exists()
