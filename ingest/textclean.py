"""Small text fixes applied to every extracted page, whatever produced it."""

from __future__ import annotations

import re
from functools import lru_cache

# Bidi controls are invisible, break search terms apart and are added by OCR engines and
# PDF producers at will; ZWNJ (U+200C) is part of Persian spelling and is kept.
BIDI_MARKS = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                     "\u2066\u2067\u2068\u2069\ufeff"))
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Letters only: Persian and Arabic-Indic digits must not make an English page look Persian.
_ARABIC = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]")
_LATIN = re.compile("[A-Za-z]")


def strip_bidi(text: str) -> str:
    return text.translate(BIDI_MARKS)


def clean(text: str) -> str:
    text = strip_bidi(text)
    text = _CONTROL.sub("", text)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_lang(text: str) -> str:
    """'fa', 'en', 'mixed' or '' (no letters), by the share of Arabic-script and Latin letters."""
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    total = arabic + latin
    if total == 0:
        return ""
    if arabic / total >= 0.7:
        return "fa"
    if latin / total >= 0.7:
        return "en"
    return "mixed"


@lru_cache(maxsize=1)
def persian_lexicon() -> frozenset[str]:
    """hazm's Persian word list (190,000 words, 0.8 s to load: loaded on first use)."""
    from hazm.utils import words_list

    return frozenset(w[0] for w in words_list())
