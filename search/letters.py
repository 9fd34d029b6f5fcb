"""The one table of Persian letter folding.

Arabic keyboards, Urdu and Arabic text, old encodings (Windows-1256 has no Persian yeh or keheh)
and OCR write the same Persian letter in several ways: ي ى ئ for ی, ك for ک, ة ۀ for ه, أ إ آ
for ا. Everything in Sanad that compares Persian words folds them with this table, each use
adding only what is its own:

- search.analysis (the index and queries): the table whole, plus digits, marks and separators;
- search.dates: the letters that fold to one letter, so offsets in the folded text stay those of
  the original, plus digits;
- search.names: the table, with ZWNJ as a word break;
- search.glossary: the table, with spaces, ZWNJ and tatweel dropped from its keys;
- ingest.charset: of the table, the letters Windows-1256 writes for the Persian ones (its word
  list is of Persian spellings, which full folding would no longer find).

We fold towards the Persian letters, not the Arabic ones, so that folded text is still readable
Persian.
"""

from __future__ import annotations

LETTERS = {
    "ي": "ی", "ى": "ی", "ے": "ی", "ۍ": "ی", "ێ": "ی", "ې": "ی", "ۑ": "ی", "ئ": "ی", "ٸ": "ی",
    "ك": "ک", "ڪ": "ک", "ػ": "ک", "ؼ": "ک",
    "ة": "ه", "ۀ": "ه", "ہ": "ه", "ۂ": "ه", "ە": "ه", "ھ": "ه", "ۃ": "ه",
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا", "ٵ": "ا",
    "ؤ": "و", "ٶ": "و",
    "ء": "",  # a bare hamza is written or left out freely (اجزاء / اجزا)
}
# Persian (U+06F0-9) and Arabic-Indic (U+0660-9) digits as ASCII digits.
DIGITS = {**{chr(0x06F0 + i): str(i) for i in range(10)}, **{chr(0x0660 + i): str(i) for i in range(10)}}


def table(extra: dict[str, str | None] | None = None, *, same_length: bool = False,
          only: tuple[str, ...] | None = None) -> dict[int, str | None]:
    """A ``str.translate`` table of LETTERS (``only`` these of them; with ``same_length``, only
    those that fold to one letter) and then ``extra``."""
    mapping: dict[str, str | None] = {src: dst for src, dst in LETTERS.items()
                                      if (only is None or src in only) and (not same_length or len(dst) == 1)}
    mapping.update(extra or {})
    return str.maketrans(mapping)
