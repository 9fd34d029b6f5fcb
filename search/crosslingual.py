"""Query expansion across languages and scripts.

An investigator who reads only English types `masks prisons`; the Persian letters say ماسک and
زندان. A Latin-script name (`Asghar Jahangir`) stands in the letters as اصغر جهانگیر; an amount
typed as `5.4 million` is written ۵٬۴۰۰٬۰۰۰. This module finds such alternatives for the plain
words of a query and writes them into an alternative query string, so that the query language
itself is untouched and the user can be shown exactly what was added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from search.amounts import amount_terms, find_amounts
from search.analysis import VERB_PREFIXES, SUFFIX_WORDS, lexicon, fold
from search.glossary import Glossary, load_glossary, wiktionary_path
from search.names import final_vowel_key, latin_to_persian_candidates, skeleton

MAX_ALTERNATIVES = 6  # per expanded word or phrase; more only dilutes the ranking
MIN_SKELETON = 3  # shorter consonant skeletons match too many unrelated words

# Parts of a query that are not plain words: phrases, groups, operators, filters, prefixes,
# fuzzy terms and exclusions. They pass through unchanged.
_SPECIAL = re.compile(r'"[^"]*"?|[()]|(?<!\S)(?:AND|OR|NOT)(?!\S)|(?<!\S)-\S+|\S+:\S*|\S+[*~]\d?(?!\S)')
_LATIN = re.compile(r"[A-Za-z]")
_PERSIAN = re.compile(r"[\u0600-\u06ff]")


@dataclass
class Expansion:
    """What one stretch of the query was widened with, for showing to the user."""

    text: str  # the words of the query that were expanded
    added: list[str]  # the alternatives searched as well
    kind: str  # glossary | wiktionary | name | fuzzy (a near spelling of a name) | amount


@dataclass
class Expanded:
    original: str
    alternative: str  # the query with alternatives written in; equals original when none
    expansions: list[Expansion] = field(default_factory=list)

    @property
    def whole_words(self) -> frozenset[str]:
        """Alternatives to look up as whole words only (names: see NameKeys.spellings)."""
        return frozenset(fold(a) for e in self.expansions if e.kind in ("name", "fuzzy") for a in e.added)


def expand(query: str, glossary: Glossary, names: NameKeys | None = None) -> Expanded:
    """Write alternatives into the plain-word stretches of ``query``."""
    pieces: list[str] = []
    expansions: list[Expansion] = []
    last = 0
    for m in _SPECIAL.finditer(query):
        pieces.append(_expand_words(query[last:m.start()], glossary, names, expansions))
        pieces.append(_expand_phrase(query, m, glossary, expansions))
        last = m.end()
    pieces.append(_expand_words(query[last:], glossary, names, expansions))
    alternative = "".join(pieces)
    return Expanded(query, alternative if expansions else query, expansions)


def _expand_phrase(query: str, m: re.Match, glossary: Glossary, out: list[Expansion]) -> str:
    """A quoted phrase of two or more words with a glossary entry, searched as well as the
    entry's phrases in the other language (`"Ministry of Health"` -> "وزارت بهداشت"), each as a
    phrase. A quoted single word, a phrase after `-` or a filter's `field:` stays as it is: the
    quotes there ask for the exact form, or exclude it."""
    quoted = m.group(0)
    inner = quoted[1:-1].strip() if len(quoted) > 1 and quoted.endswith('"') else ""
    before = query[m.start() - 1] if m.start() else " "
    if len(inner.split()) < 2 or not (before.isspace() or before == "("):
        return quoted
    if _PERSIAN.search(inner):
        found = glossary.expansions_persian(inner)
    else:
        found = glossary.expansions_english(inner)
    alternatives = [a for a in dict.fromkeys(e.term for e in found) if a != inner and '"' not in a]
    alternatives = alternatives[:MAX_ALTERNATIVES]
    if not alternatives:
        return quoted
    out.append(Expansion(inner, alternatives, "glossary" if found[0].source == "glossary" else "wiktionary"))
    return "(" + " OR ".join([quoted] + [f'"{a}"' for a in alternatives]) + ")"


def _expand_words(text: str, glossary: Glossary, names: NameKeys | None, out: list[Expansion]) -> str:
    if not text.strip():
        return text
    replacements: list[tuple[int, int, list[str]]] = []  # (start, end, alternatives)

    def add(start: int, end: int, alternatives: list[str], kind: str, *more: tuple[list[str], str]) -> None:
        """One stretch's alternatives, in groups of one kind each (a name and its near spellings)."""
        original = text[start:end]
        groups, taken = [], set()
        for group, group_kind in ((alternatives, kind), *more):
            fresh = [a for a in dict.fromkeys(group) if a and a != original and a not in taken]
            fresh = fresh[:MAX_ALTERNATIVES - len(taken)]
            taken.update(fresh)
            if fresh:
                groups.append((fresh, group_kind))
        if groups and not any(s < end and start < e for s, e, _ in replacements):
            replacements.append((start, end, [a for fresh, _ in groups for a in fresh]))
            out.extend(Expansion(original, fresh, group_kind) for fresh, group_kind in groups)

    for amount in find_amounts(text):
        add(amount.start, amount.end, amount_terms(amount.value), "amount")
    if _LATIN.search(text):
        for phrase, found in glossary.match_english(text):
            if _function_word(phrase):
                continue
            start = _find_words(text, phrase)
            if start is not None:
                kinds = {e.source for e in found}
                add(start, start + len(phrase), [e.term for e in found], "glossary" if "glossary" in kinds else "wiktionary")
    for start, end, word in _words(text):
        if _function_word(word):
            continue
        if _PERSIAN.search(word):
            found = glossary.expansions_persian(word)
            if found:
                add(start, end, [e.term for e in found],
                    "glossary" if found[0].source == "glossary" else "wiktionary")
                continue
        if names is not None:
            (spelled, name_kind), near = names.spellings(word)
            add(start, end, spelled, name_kind, near)
    if not replacements:
        return text
    result, last = [], 0
    for start, end, alternatives in sorted(replacements):
        quoted = " OR ".join(f'"{a}"' for a in alternatives)
        original = text[start:end]
        if len(original.split()) > 1:
            original = f"({original})"  # OR binds tighter than the space between words
        result += [text[last:start], f"({original} OR {quoted})"]
        last = end
    result.append(text[last:])
    return "".join(result)


def _words(text: str):
    """(start, end, word) for each word of ``text``; a detached affix (نهنگ ها, می خواهم) stays
    inside its word's stretch, so that an alternative written around the word keeps the affix
    with it and the analyzer still glues the two. ``word`` is the word without the affix."""
    spans = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", text)]
    i = 0
    while i < len(spans):
        start, end, word = spans[i]
        if fold(word) in VERB_PREFIXES and i + 1 < len(spans):
            i += 1
            end, word = spans[i][1], word + "\u200c" + spans[i][2]
        while i + 1 < len(spans) and fold(spans[i + 1][2]) in SUFFIX_WORDS:
            i += 1
            end = spans[i][1]
        yield start, end, word
        i += 1


def _function_word(word: str) -> bool:
    """Stopwords and detached affixes are not expanded: their glossary senses (به -> quince,
    در -> door, و -> and) would match pages about something else, and writing an alternative
    around ها or می would cut it from the word the analyzer glues it to (نهنگ ها)."""
    folded = fold(word)
    return folded in lexicon().stopwords or folded in SUFFIX_WORDS or folded in VERB_PREFIXES


def _find_words(text: str, phrase: str) -> int | None:
    pattern = r"\s+".join(re.escape(w) for w in phrase.split())
    m = re.search(pattern, text)
    return m.start() if m else None


class NameKeys:
    """Words of the archive in each script, keyed by consonant skeleton, so that a name typed in
    one script finds its spelling in the other (`Jahangir` <-> جهانگیر: both `jhngr`)."""

    def __init__(self, words: Iterable[str]):
        self.latin: dict[str, list[str]] = {}
        self.persian: dict[str, list[str]] = {}
        for word in words:
            if _LATIN.search(word):
                table = self.latin
            elif _PERSIAN.search(word):
                table = self.persian
            else:
                continue
            key = skeleton(word).replace(" ", "")
            if len(key) >= MIN_SKELETON:
                table.setdefault(key, []).append(word)

    def other_script(self, word: str) -> list[str]:
        """The archive's words in the other script that spell ``word`` as a whole word, the
        transliterations first, then near spellings (see ``spellings``)."""
        (names, _), (near, _) = self.spellings(word)
        return (names + near)[:MAX_ALTERNATIVES]

    def spellings(self, word: str) -> tuple[tuple[list[str], str], tuple[list[str], str]]:
        """((transliterations, "name"), (near spellings, "fuzzy")) of ``word`` among the archive's
        words in the other script. A word of the same consonant skeleton counts only when it ends
        in the same vowel (a whole word: Jahangir is جهانگیر, not جهانگیری, a different family
        name). Of a Latin word, the spellings that finglish and the spelling rules give first are
        its transliterations; any other word of the same key (another vowel written, ص for س, ح
        for ه) is a near spelling, and ranks as a fuzzy match does. A Persian word's Latin
        spellings all count as transliterations."""
        key = skeleton(word).replace(" ", "")
        if len(key) < MIN_SKELETON:
            return ([], "name"), ([], "fuzzy")
        latin = bool(_LATIN.search(word))
        table = self.persian if latin else self.latin
        ending = final_vowel_key(word)
        whole = sorted((w for w in table.get(key, []) if final_vowel_key(w) == ending), key=lambda w: (len(w), w))
        if not latin:
            return (whole[:MAX_ALTERNATIVES], "name"), ([], "fuzzy")
        spelled = {fold(c) for c in latin_to_persian_candidates(word, limit=4)}
        names = [w for w in whole if fold(w) in spelled]
        near = [w for w in whole if fold(w) not in spelled]
        return (names[:MAX_ALTERNATIVES], "name"), (near[:MAX_ALTERNATIVES], "fuzzy")


@lru_cache(maxsize=4)
def _glossary(extra: str | None, _mtime: float, dictionary: str) -> Glossary:
    return load_glossary(Path(extra) if extra else None, wiktionary_path(dictionary))


def archive_glossary(root: Path) -> Glossary:
    """The shipped glossary plus the archive's own `glossary.tsv`, which the investigator may
    edit at any time: loaded once per process and again whenever the file changes."""
    from archive.settings import load

    dictionary = load(root).dictionary
    extra = Path(root) / "glossary.tsv"
    if extra.exists():
        return _glossary(str(extra), extra.stat().st_mtime, dictionary)
    return _glossary(None, 0.0, dictionary)
