"""A bilingual English <-> Persian glossary for cross-language search.

An investigator who reads only English types `masks prison ministry of health`; the glossary turns
those terms into `ماسک`, `زندان`, `وزارت بهداشت` so the Persian letters are found, and the other
way round for Persian queries.

- The shipped glossary is `search/glossary.tsv`: `english<TAB>persian1|persian2...`, `#` comments.
- An investigator's file in the same format extends it; an English term listed there replaces the
  shipped entry, and a term with nothing after the tab removes it.
- Words missing from the glossary fall back to the English Wiktionary's English -> Persian
  dictionary when it is present (read in place at run time, never copied). Every expansion records
  its source, "glossary" or "wiktionary", so the UI can show where a translation came from.
- Matching is on normalised keys: English is lowercased, hyphens/apostrophes dropped and lightly
  stemmed (plurals, -ed, -ing); Persian has ي/ك/ى/ۀ/ة/أ/إ/آ/ئ folded, diacritics and tatweel removed,
  digits made ASCII and spaces/ZWNJ ignored. Persian plural suffixes ها/های/هایی are tolerated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from search import letters

SHIPPED_PATH = Path(__file__).with_name("glossary.tsv")
# The English-Persian Wiktionary extract, used in place when it sits beside the repository (or
# wherever the `dictionary` setting points); Sanad works without it, on the shipped glossary alone.
WIKTIONARY_PATH = (Path(__file__).resolve().parents[2]
                   / "shared/corpus/dictionary/wiktionary-en-fa/src/en-fa-enwiktionary.txt")
MAX_WIKTIONARY_TERMS = 4

# Function words are never looked up in Wiktionary (`in` would bring back `درون`, `تا`, ...).
STOPWORDS = set(
    "a an and are as at be by for from has have in into is it its of on or that the this to was "
    "were with about after before between during per than via".split()
)
_NO_STEM = {"aids", "news", "series", "species", "gas", "bus", "covid", "ppe", "icu", "hiv", "irgc"}


def _stem(word: str) -> str:
    """Light inflectional stemming, applied identically to entries and queries."""
    if len(word) <= 3 or word in _NO_STEM or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]  # so that `sentence` and `sentenced` meet
    return word


def english_key(term: str) -> str:
    """`Ministries of Health` -> `ministry of health`; `N95 masks` -> `n95 mask`."""
    term = term.lower().replace("'s", "").replace("’s", "")
    words = re.findall(r"[a-z0-9]+", term.replace("-", " ").replace("_", " "))
    # British -ise spellings meet American -ize ones: hospitalised -> hospitalized
    words = [re.sub(r"is(e|ed|es|ing|ation|ations)$", r"iz\1", w) if len(w) > 5 else w for w in words]
    return " ".join(_stem(w) for w in words)


_PERSIAN_FOLD = letters.table({"ـ": None, "\u200c": None, "\u200d": None, " ": None, "-": None, "،": None,
                               **letters.DIGITS})
_HARAKAT = re.compile(r"[\u064b-\u065f\u0670]")


def persian_key(term: str) -> str:
    """`ماسک‌ها` and `ماسک ها` and `ماسكها` give one key; spaces and ZWNJ do not count."""
    return _HARAKAT.sub("", term.strip()).translate(_PERSIAN_FOLD).lower()


_PERSIAN_SUFFIXES = ("هایی", "های", "ها")


@dataclass(frozen=True)
class Expansion:
    term: str  # a term in the other language
    source: str  # "glossary" | "wiktionary"


@dataclass
class Glossary:
    # english key -> (display English term, Persian terms)
    entries: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    wiktionary_path: Path | None = None
    warnings: list[str] = field(default_factory=list)  # malformed lines, with file and line number
    _persian_index: dict[str, list[str]] | None = None
    _wiktionary: tuple[dict[str, list[str]], dict[str, list[str]]] | None = None

    def __len__(self) -> int:
        return len(self.entries)

    # --- English -> Persian

    def expansions_english(self, term: str) -> list[Expansion]:
        key = english_key(term)
        if not key:
            return []
        if key in self.entries:
            return [Expansion(t, "glossary") for t in self.entries[key][1]]
        if key in STOPWORDS:
            return []
        en_to_fa, _ = self._wiktionary_index()
        return [Expansion(t, "wiktionary") for t in en_to_fa.get(key, [])]

    def expand_english(self, term: str) -> list[str]:
        """Persian terms for an English word or phrase (`ministry of health` -> `وزارت بهداشت`, ...)."""
        return [e.term for e in self.expansions_english(term)]

    # --- Persian -> English

    def expansions_persian(self, term: str) -> list[Expansion]:
        key = persian_key(term)
        if not key:
            return []
        candidates = [key] + [key[: -len(s)] for s in _PERSIAN_SUFFIXES if key.endswith(s) and len(key) > len(s) + 1]
        index = self._build_persian_index()
        for k in candidates:
            if k in index:
                return [Expansion(t, "glossary") for t in index[k]]
        _, fa_to_en = self._wiktionary_index()
        for k in candidates:
            if k in fa_to_en:
                return [Expansion(t, "wiktionary") for t in fa_to_en[k]]
        return []

    def expand_persian(self, term: str) -> list[str]:
        """English terms for a Persian word or phrase (`زندان‌ها` -> `prison`)."""
        return [e.term for e in self.expansions_persian(term)]

    # --- queries made of several terms

    def match_english(self, text: str, max_words: int = 4) -> list[tuple[str, list[Expansion]]]:
        """Split an English query into the longest glossary phrases, left to right.

        `masks for prisons ministry of health` -> [(`masks`, ...), (`prisons`, ...),
        (`ministry of health`, ...)]. Words with no expansion at all are left out.
        """
        words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'’\-]*", text)
        result = []
        i = 0
        while i < len(words):
            for n in range(min(max_words, len(words) - i), 0, -1):
                phrase = " ".join(words[i:i + n])
                if n > 1 and english_key(phrase) not in self.entries:
                    continue
                expansions = self.expansions_english(phrase)
                if expansions:
                    result.append((phrase, expansions))
                    i += n
                    break
            else:
                i += 1
        return result

    # --- internals

    def _build_persian_index(self) -> dict[str, list[str]]:
        if self._persian_index is None:
            index: dict[str, list[str]] = {}
            for display, persian_terms in self.entries.values():
                for p in persian_terms:
                    bucket = index.setdefault(persian_key(p), [])
                    if display not in bucket:
                        bucket.append(display)
            self._persian_index = index
        return self._persian_index

    def _wiktionary_index(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        if self._wiktionary is None:
            self._wiktionary = _read_wiktionary(self.wiktionary_path) if self.wiktionary_path else ({}, {})
        return self._wiktionary


def _read_tsv(path: Path, entries: dict, warnings: list[str]) -> None:
    """Add a file's entries. Within one file, lines whose terms normalise alike (`supply`,
    `supplies`) are merged; a later file replaces the entries of earlier ones."""
    seen_here: set[str] = set()
    with open(path, encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if "\t" not in line:
                warnings.append(f"{path}:{number}: no tab between the English and Persian terms; line skipped")
                continue
            english, persian = line.split("\t", 1)
            key = english_key(english)
            if not key:
                warnings.append(f"{path}:{number}: no English term; line skipped")
                continue
            terms = [t.strip() for t in persian.split("|") if t.strip()]
            if not terms:
                entries.pop(key, None)  # an empty right side removes the entry
                continue
            if key in seen_here:
                display, old = entries[key]
                entries[key] = (display, list(dict.fromkeys(old + terms)))
            else:
                entries[key] = (english.strip(), list(dict.fromkeys(terms)))
                seen_here.add(key)


def _read_wiktionary(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """English key -> Persian terms and Persian key -> English headwords, from Wiktionary's
    `headword {pos} (sense) :: فارسی /translit/, ...` lines. Empty when the file is absent."""
    en_to_fa: dict[str, list[str]] = {}
    fa_to_en: dict[str, list[str]] = {}
    try:
        f = open(path, encoding="utf-8")
    except OSError:
        return en_to_fa, fa_to_en
    with f:
        for line in f:
            if line.startswith("#") or " :: " not in line:
                continue
            left, right = line.rstrip("\n").split(" :: ", 1)
            headword = left.split(" {", 1)[0].strip()
            key = english_key(headword)
            right = re.sub(r"/[^/]*/", "", right)  # transliterations
            right = re.sub(r"\([^)]*\)|\[[^\]]*\]", "", right)
            for persian in (p.strip() for p in right.split(",")):
                if not persian or re.search(r"[A-Za-z]", persian) or not re.search(r"[\u0600-\u06ff]", persian):
                    continue
                bucket = en_to_fa.setdefault(key, [])
                if persian not in bucket and len(bucket) < MAX_WIKTIONARY_TERMS:
                    bucket.append(persian)
                back = fa_to_en.setdefault(persian_key(persian), [])
                if headword not in back and len(back) < MAX_WIKTIONARY_TERMS:
                    back.append(headword)
    return en_to_fa, fa_to_en


def wiktionary_path(dictionary_setting: str) -> Path:
    return Path(dictionary_setting) if dictionary_setting else WIKTIONARY_PATH


def load_glossary(extra_path: Path | None = None, wiktionary_path: Path | None = WIKTIONARY_PATH) -> Glossary:
    """The shipped glossary, extended/overridden by `extra_path`, with Wiktionary as fallback.

    Pass `wiktionary_path=None` to use the glossary alone. A missing Wiktionary file is not an
    error (the fallback is simply empty); a missing `extra_path` raises FileNotFoundError.
    """
    entries: dict[str, tuple[str, list[str]]] = {}
    warnings: list[str] = []
    _read_tsv(SHIPPED_PATH, entries, warnings)
    if extra_path is not None:
        _read_tsv(Path(extra_path), entries, warnings)
    return Glossary(entries=entries, wiktionary_path=Path(wiktionary_path) if wiktionary_path else None,
                    warnings=warnings)
