"""Text analysis for the search index: one chain for indexing and for queries.

The chain is written in Whoosh's Tokenizer/Filter idiom:

    SanadTokenizer  finds words, numbers and codes in the ORIGINAL text (so the
                    tokens' startchar/endchar point at the stored characters),
                    folds each token's characters, and glues detached Persian
                    affixes (``می خواهم``, ``زندان ها``) to their word.
    SanadFilter     stopwords and stemming (Persian light stemmer, English
                    Porter), or neither for the ``exact`` field.

Whoosh pickles analyzers into the index, so everything here is a module-level
class holding only small plain attributes; the word lists are module globals
built once per process on first use.  Bump ``search.schema.SCHEMA_VERSION``
whenever the output of this module changes.
"""

from __future__ import annotations

import importlib.util
import os
import re
import unicodedata
from functools import lru_cache

from search import letters
from search.engine import analysis as whoosh_analysis
from search.engine import porter_stem

Filter, Token, Tokenizer = whoosh_analysis.Filter, whoosh_analysis.Token, whoosh_analysis.Tokenizer

__all__ = ["fold", "text_analyzer", "exact_analyzer", "stem_analyzer", "SanadTokenizer", "SanadFilter",
           "persian_stem", "aggressive_stem", "lexicon", "VERB_PREFIXES", "SUFFIX_WORDS"]

ZWNJ = "\u200c"

# --------------------------------------------------------------------------------------------
# Character folding
# --------------------------------------------------------------------------------------------

# The letter variants that Lucene's ArabicNormalizer + PersianNormalizer fold, and a few more
# that OCR and Urdu/Arabic keyboards produce (search.letters, the one table), and separators.
_LETTERS = {
    **letters.LETTERS,
    "٫": ".",  # Arabic decimal separator
    "٬": ",",  # Arabic thousands separator (dropped inside numbers by the tokenizer)
    "\u2010": "-", "\u2011": "-",  # typographic hyphens inside codes
}

# Marks that may sit inside a word without splitting it; they are deleted from the term.
# Harakat, Quranic marks, superscript alef, tatweel's friends, ZWJ, bidi controls, soft hyphen,
# Latin combining accents.  ZWNJ is also "inside a word" but is kept until stemming, which uses
# it as a morpheme boundary, and removed afterwards.
_IGNORABLE = (
    "\u064b-\u065f\u0670\u0610-\u061a\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u200d\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u00ad\u0300-\u036f"
)
_IGNORABLE_RE = re.compile("[" + _IGNORABLE + "]")


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    # Every Unicode decimal digit (Persian, Arabic-Indic, fullwidth, ...) -> ASCII.
    for cp in range(0x10000):
        ch = chr(cp)
        if unicodedata.category(ch) == "Nd" and not ("0" <= ch <= "9"):
            table[cp] = str(unicodedata.decimal(ch))
    # NFKC only for compatibility blocks (presentation forms, ligatures, fullwidth): applying it
    # char by char keeps each token's span in the original text exact, and leaves alone the
    # scripts where NFKC would change meaning (superscripts, circled numbers, ...).
    blocks = [(0xFB00, 0xFB07), (0xFB50, 0xFE00), (0xFE70, 0xFEFF), (0xFF01, 0xFF5F), (0x0675, 0x0679)]
    for lo, hi in blocks:
        for cp in range(lo, hi):
            ch = chr(cp)
            norm = unicodedata.normalize("NFKC", ch)
            if norm != ch:
                table[cp] = norm
    # Latin letters with accents -> base letter (café = cafe, Rouhānī = rouhani).
    for cp in range(0x00C0, 0x0250):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base and base != ch and base.isascii():
            table[cp] = base
    for src, dst in _LETTERS.items():
        table[ord(src)] = dst
    for lo_hi in re.findall(r"(.)(?:-(.))?", _IGNORABLE):
        lo, hi = lo_hi[0], lo_hi[1] or lo_hi[0]
        for cp in range(ord(lo), ord(hi) + 1):
            table[cp] = ""
    table[ord("\u0640")] = ""  # tatweel
    table[0xFEFF] = ""  # BOM / zero-width no-break space
    # Values produced by NFKC must go through the same letter/mark folding (ﻻ -> لا, ﺁ -> ا,
    # ﱞ -> marks only -> nothing) and must not contain spaces (ﷺ expands to a phrase).
    for cp, value in list(table.items()):
        if len(value) > 1 or (value and ord(value) in table and ord(value) != cp):
            table[cp] = "".join(table.get(ord(c), c) for c in value if not c.isspace())
    return table


_TABLE = _build_table()


def fold(text: str) -> str:
    """Character-level normalisation used by the index: letters, digits, marks, case, ZWNJ.

    No tokenisation, stopwords or stemming; suitable for matching names or tags outside
    Whoosh.  ``fold("كِتابها") == fold("کتاب‌ها") == "کتابها"``.
    """
    return text.translate(_TABLE).replace(ZWNJ, "").lower()


# --------------------------------------------------------------------------------------------
# Tokenisation
# --------------------------------------------------------------------------------------------

# A word: letters/digits (any script, incl. presentation forms and tatweel), possibly with
# ignorable marks and ZWNJ between them.  No trailing marks, so highlights stop at the letter.
_W = r"[^\W_]"
_I = "[" + _IGNORABLE + ZWNJ + "]"
_WORD = rf"{_W}+(?:{_I}+{_W}+)*"
# Numbers with thousands separators: 5,400,000  ۵٬۴۰۰٬۰۰۰  5'400'000, optional decimals.
_NUMBER = r"(?<![^\W_])\d{1,3}(?:[,٬'’]\d{3})+(?:[.٫]\d+)?(?![^\W_])"
# Codes, dates, e-mails, hyphenated words: words joined by - / @ . _ \ ٫ (no spaces).
_JOIN = r"[-/@._\\٫\u2010\u2011]"
_TOKEN_RE = re.compile(rf"{_NUMBER}|{_WORD}(?:{_JOIN}{_WORD})*")
_PART_RE = re.compile(_WORD)
_PERSIAN_RE = re.compile(r"[\u0621-\u06d5" + ZWNJ + r"]+")
_GAP_RE = re.compile(r"[\s" + _IGNORABLE + ZWNJ + r"]*")

# Detached affixes written with a space (common in older texts and OCR): glued to their word
# with a ZWNJ so that "می خواهم" == "می‌خواهم" == "میخواهم" and "زندان ها" == "زندان‌ها".
VERB_PREFIXES = frozenset({"می", "نمی"})
SUFFIX_WORDS = frozenset({
    "ها", "های", "هایی", "هایم", "هایت", "هایش", "هایمان", "هایتان", "هایشان",
    "تر", "ترین", "تری", "ترها",
})


class SanadTokenizer(Tokenizer):
    """Words, numbers and codes of the original text, folded, with true character offsets.

    In index mode a code such as ``COVID-19`` or ``۱۲۳۴/ص/۹۹`` is emitted whole and, at the
    same position, each of its parts (``covid``, ``19``); in query mode only the whole unit,
    so a query for the code matches the code.
    """

    def __eq__(self, other):
        return self.__class__ is other.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            text = fold(value)
            if text:
                _fill(t, text, value, 0, len(value), start_pos, start_char, keeporiginal)
                yield t
            return
        with_parts = mode != "query"
        pos = start_pos
        for start, end, text, is_unit in _merged_tokens(value):
            _fill(t, text, value, start, end, pos, start_char, keeporiginal)
            t.unit = is_unit
            yield t
            if is_unit and with_parts:
                for m in _PART_RE.finditer(value, start, end):
                    part = _fold_token(m.group())
                    if part and part != text:
                        _fill(t, part, value, m.start(), m.end(), pos, start_char, keeporiginal, True)
                        yield t
            pos += 1


def _fill(t, text, value, start, end, pos, start_char, keeporiginal, part=False):
    # Whoosh reuses one Token object: every attribute a filter reads must be reset here.
    t.text = text
    t.boost = 1.0
    t.stopped = False
    t.unit = False
    t.part = part
    if keeporiginal:
        t.original = value[start:end]
    if t.positions:
        t.pos = pos
    if t.chars:
        t.startchar = start_char + start
        t.endchar = start_char + end


def _fold_token(raw: str) -> str:
    # Like fold(), but keeps ZWNJ for the stemmer (it marks morpheme boundaries).
    return raw.translate(_TABLE).lower().strip(ZWNJ)


def _raw_tokens(value: str):
    """(start, end, folded text, is_unit) for each regex match; is_unit = code/number."""
    for m in _TOKEN_RE.finditer(value):
        raw = m.group()
        text = _fold_token(raw)
        if not text:
            continue  # only tatweel / marks
        is_unit = False
        if raw[0].isdigit() and _NUMBER_ONLY.fullmatch(raw):
            text = text.replace(",", "").replace("'", "").replace("’", "")
        elif _JOIN_ANY.search(raw):
            is_unit = True
        yield m.start(), m.end(), text, is_unit


_NUMBER_ONLY = re.compile(_NUMBER)
_JOIN_ANY = re.compile(_JOIN)


def _merged_tokens(value: str):
    """Glue detached Persian prefixes/suffixes to their word across whitespace."""
    pending = None  # the previous token, held back in case the next one attaches to it
    for tok in _raw_tokens(value):
        if pending is not None:
            p_start, p_end, p_text, p_unit = pending
            start, end, text, unit = tok
            # cheap set lookups first: this runs for every token
            if (p_text in VERB_PREFIXES or text in SUFFIX_WORDS) and not p_unit and not unit \
                    and _GAP_RE.fullmatch(value, p_end, start) \
                    and _PERSIAN_RE.fullmatch(p_text) and _PERSIAN_RE.fullmatch(text):
                pending = (p_start, end, p_text + ZWNJ + text, False)
                continue
            yield pending
        pending = tok
    if pending is not None:
        yield pending


# --------------------------------------------------------------------------------------------
# Stopwords and stemming
# --------------------------------------------------------------------------------------------

def _hazm_data(name: str) -> list[str]:
    # Read hazm's data files directly: importing hazm itself costs ~1 s and pulls in nltk.
    spec = importlib.util.find_spec("hazm")
    if spec is None or not spec.submodule_search_locations:
        return []
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", name)
    try:
        with open(path, encoding="utf-8") as f:
            return [line.rstrip("\n") for line in f if line.strip()]
    except OSError:
        return []


_ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be been but by can could did do does for from had has have he her his i "
    "if in into is it its may me my no not of on or our she should so such than that the their "
    "them then there these they this to us was we were what when which who will with would you "
    "your yet".split()
)

# Words that end like an inflection but are not inflected: place and person names, and common
# words the light stemmer would otherwise damage.  Compared after folding.
_PROTECTED_WORDS = """
ایران تهران علی مهدی حسین حسن تقی نقی رضا موسی عیسی مصطفی مرتضی مجتبی هادی مهران کرمان اصفهان
زنجان گرگان همدان سمنان لرستان خوزستان کردستان سیستان بلوچستان گیلان مازندران آذربایجان خراسان
افغانستان پاکستان عربستان ترکمنستان تاجیکستان ارمنستان انگلستان هندوستان لبنان یونان ژاپن عمان
آبادان کاشان شمیران رفسنجان جهان زمان انسان زندان خیابان میدان باران جوان نشان سازمان ساختمان
درمان قهرمان آسمان ایمان پایان امکان مکان دوران بحران جریان میزان ارزان گران آسان فراوان
استان دبستان بیمارستان دبیرستان داستان تابستان زمستان گلستان دختر دفتر کشور بهتر بیشتر کمتر
دکتر متر لیتر فیلتر کامپیوتر تئاتر چتر شتر اختر بستر کبوتر زندگی بازی کشتی ماهی آزادی شادی
حالی خالی عالی ولی وحشی سعدی سعی نی نام پیام انجام اسلام سلام آرام کلام تمام مقام نظام احترام
تلاش معاش فراش نقاش خشخاش کاش ذات حیات نجات برات ساعات اوقات
""".split()

# hazm's stopword list mixes function words with frequent content words. Removing a content word
# makes it unsearchable (a query for رشد جمعیت loses "growth"); keeping a frequent word costs
# little under BM25, whose IDF already gives it a small weight. These are kept as terms: nouns,
# adjectives and the verbal nouns of compound verbs (بهره برداری, راه اندازی, جلوگیری).
_CONTENT_WORDS = """
رشد روش راه خطر بزرگ کوچک تغییر سهم متر اجرا تهیه نشست پخش خوب خوبی عالی جدید جدی بخش بخشی
جمع جمعی افراد افرادی فرد فردی شخصی نیاز حل مناسب مهم لازم کامل کافی عدم شروع تبدیل تعیین دسته
نوع نوعی ساله سالهای دهه زاده بیان خاص ویژه مشخص متفاوت نحوه سازی برداری گذاری ریزی بندی گیری
اوری کننده کنندگان شمار تعداد طول حداقل نیمه جاری امر امکان اخیر اخرین اولین نخستین ابتدا روند
پیدا علت سبب باعث خطر دار دارای مواجه دچار ترتیب خاطرنشان لحاظ علیه شامل حد
""".split()


class _Lexicon:
    """hazm's word list and stopwords, folded once per process on first use."""

    def __init__(self):
        self.known: set[str] = set()   # attested words (frequency > 0)
        for line in _hazm_data("words.dat"):
            word, _, rest = line.partition("\t")
            freq = rest.split("\t", 1)[0]
            if freq.isdigit() and int(freq) > 0:
                self.known.add(fold(word))
        self.protected = {fold(w) for w in _PROTECTED_WORDS}
        persian_stops = {fold(w.replace("_", " ")) for w in _hazm_data("stopwords.dat")}
        persian_stops -= {fold(w) for w in _CONTENT_WORDS}
        # Multi-word entries ("آمده است") can never equal one token: keep single words only.
        self.stopwords = frozenset(w for w in persian_stops if " " not in w) | _ENGLISH_STOPWORDS


_LEX: _Lexicon | None = None


def lexicon() -> _Lexicon:
    """The stopwords and the lemma lists of the stemmer, loaded once (about 1.4 s)."""
    global _LEX
    if _LEX is None:
        _LEX = _Lexicon()
    return _LEX


# Persian suffixes, longest first.  "Safe" ones are stripped whenever a stem of 2+ letters
# remains; "risky" ones (which also end many uninflected words: ایران, دختر, پیام, علی) only when
# the word itself is not an attested word but the stem is.
_PLURAL_SUFFIXES = ("هایمان", "هایتان", "هایشان", "هایم", "هایت", "هایش", "هایی", "های", "ها")
_SAFE_SUFFIXES = _PLURAL_SUFFIXES + ("ترین",)
_RISKY_SUFFIXES = ("شان", "تان", "مان", "یان", "گان", "ان", "ات", "تر", "ام", "اش", "ی")
# Suffixes that the writer separated with ZWNJ: the boundary is explicit, so always strip.
_ZWNJ_SUFFIXES = frozenset(_SAFE_SUFFIXES + ("شان", "تان", "مان", "ام", "ات", "اش", "ای", "ی", "ایم", "اید", "اند", "تر", "تری", "ترها"))


@lru_cache(maxsize=200_000)
def persian_stem(word: str) -> str:
    """Light Persian stemmer on a folded word (ZWNJ may mark morpheme boundaries)."""
    lex = lexicon()
    if ZWNJ in word:
        parts = word.split(ZWNJ)
        while len(parts) > 1 and parts[-1] in _ZWNJ_SUFFIXES:
            parts.pop()
        if len(parts) < word.count(ZWNJ) + 1:
            return "".join(parts)
        word = "".join(parts)
    if word in lex.protected or len(word) < 4:
        return word
    for suffix in _SAFE_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)]
    # Adjectives in -ی are the commonest derivation in news text (سینمایی, ایرانی, باستانی);
    # strip when what is left is a known word, even if the adjective is a known word itself.
    if word.endswith("یی") and len(word) >= 5:
        return word[:-2]
    if word.endswith("ی") and len(word) >= 4 and word[:-1] in lex.known:
        return word[:-1]
    if word in lex.known:
        return word
    for suffix in _RISKY_SUFFIXES:
        if word.endswith(suffix):
            stem = word[: -len(suffix)]
            if suffix == "گان":
                stem += "ه"  # نمایندگان -> نماینده
            if len(stem) >= 2 and stem in lex.known:
                return stem
    return word


# The second, aggressive level: Lucene's PersianStemmer suffixes plus the plural/possessive ones,
# stripped without looking at a word list (ایران -> ایر, ادبیات -> ادب, المللی -> الملل). It joins
# variants the careful stemmer keeps apart and over-stems names, so its field has a low weight.
_AGGRESSIVE_SUFFIXES = ("های", "ات", "ان", "ترین", "تر", "یی", "ی", "ها")


@lru_cache(maxsize=200_000)
def aggressive_stem(word: str) -> str:
    """Suffix stripping without a lexicon, each suffix tried once in order; 2+ letters remain."""
    word = persian_stem(word) if ZWNJ in word else word
    word = word.replace(ZWNJ, "")
    for suffix in _AGGRESSIVE_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


_LATIN_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=300_000)
def _stem_term(text: str, aggressive: bool = False) -> str:
    """Stem a folded term by its script; digits, codes and mixed-script terms stay as they are."""
    if _LATIN_WORD.fullmatch(text):
        return porter_stem(text)
    if _PERSIAN_RE.fullmatch(text):
        if aggressive:
            return aggressive_stem(text)
        return persian_stem(text).replace(ZWNJ, "")
    return text.replace(ZWNJ, "")


class SanadFilter(Filter):
    """Stopwords and stemming after SanadTokenizer.

    ``stem=False, stop=False`` is the exact chain: only ZWNJ is removed.
    Positions are renumbered over removed stopwords so that a phrase query (whose stopwords
    are removed the same way) still matches.
    """

    def __init__(self, stem: bool = True, stop: bool = True, aggressive: bool = False):
        self.stem = stem
        self.stop = stop
        self.aggressive = aggressive

    def __eq__(self, other):
        return self.__class__ is other.__class__ and self.__dict__ == other.__dict__

    def __call__(self, tokens):
        stops = lexicon().stopwords if self.stop else frozenset()
        aggressive = getattr(self, "aggressive", False)
        removed = 0
        for t in tokens:
            text = t.text
            if text in stops or (self.stop and len(text) == 1 and "a" <= text <= "z"):
                if t.removestops:
                    # a code's parts share the code's position: dropping one frees nothing
                    if t.positions and not getattr(t, "part", False):
                        removed += 1
                    continue
                t.stopped = True
            elif self.stem and not getattr(t, "unit", False):
                text = _stem_term(text, aggressive)
            elif ZWNJ in text:
                text = text.replace(ZWNJ, "")
            t.text = text
            if t.positions:
                t.pos -= removed
            yield t


def text_analyzer():
    """Folded, stopwords removed, stemmed: the main ``text`` and ``title`` fields."""
    return SanadTokenizer() | SanadFilter(stem=True, stop=True)


def stem_analyzer():
    """Like ``text_analyzer`` with the aggressive stemmer: the low-weight ``stem`` field."""
    return SanadTokenizer() | SanadFilter(stem=True, stop=True, aggressive=True)


def exact_analyzer():
    """Folded only: no stemming, stopwords KEPT.

    Kept because this chain serves names, file names and exact phrases, where a stopword is
    part of what the user typed ("بنیاد شهید و امور ایثارگران"), and because a query made only
    of stopwords should still find something rather than nothing.
    """
    return SanadTokenizer() | SanadFilter(stem=False, stop=False)
