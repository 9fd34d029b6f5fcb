"""One table of Persian letter folding (search.letters) serves analysis, dates, names, the
glossary and the charset check: each folds the table's letters as the table says."""

from __future__ import annotations

from pathlib import Path

from ingest import charset
from search import analysis, dates, glossary, letters, names

REPO = Path(__file__).resolve().parents[1]


def test_every_use_folds_the_tables_letters_alike():
    for src, dst in letters.LETTERS.items():
        word = f"ب{src}ر"
        assert analysis.fold(word) == f"ب{dst}ر"
        assert glossary.persian_key(word) == f"ب{dst}ر"
        assert word.translate(names._PERSIAN_FOLD) == f"ب{dst}ر"
        if len(dst) == 1:  # dates keep offsets: only letters that fold to one letter
            assert dates.fold(word) == f"ب{dst}ر"
    assert charset._fold("كتابي\u200cها") == "کتابیها"  # what Windows-1256 writes, only


def test_no_other_module_keeps_a_table_of_its_own():
    # a letter table spells the Arabic yeh and the Persian one side by side
    pairs = ('"ي": "ی"', "'ي': 'ی'", '"\\u064a": "\\u06cc"', "يكى")
    holders = sorted(str(p.relative_to(REPO)) for top in ("search", "ingest", "archive", "ui")
                     for p in (REPO / top).rglob("*.py") if any(k in p.read_text(encoding="utf-8") for k in pairs))
    assert holders == ["search/letters.py"]
