"""Query expansion across languages and scripts.

An investigator who reads only English types `masks prisons`; the Persian letters say ماسک and
زندان. A Latin-script name (`Asghar Jahangir`) stands in the letters as اصغر جهانگیر; an amount
typed as `5.4 million` is written ۵٬۴۰۰٬۰۰۰. This module finds such alternatives for the plain
words and quoted phrases of a query; search.expansion ORs them into the parsed query, and the
user is shown exactly what was added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from search.amounts import amount_terms, find_amounts
from search.analysis import VERB_PREFIXES, SUFFIX_WORDS, lexicon, fold
from search.glossary import Glossary, load_glossary, wiktionary_path
from search.names import final_vowel_key, latin_to_persian_candidates, skeleton

MAX_ALTERNATIVES = 6  # per expanded word or phrase; more only dilutes the ranking
MIN_SKELETON = 3  # shorter consonant skeletons match too many unrelated words

_LATIN = re.compile(r"[A-Za-z]")
_PERSIAN = re.compile(r"[\u0600-\u06ff]")


@dataclass
class Expansion:
    """What one stretch of the query was widened with, for showing to the user."""

    text: str  # the words of the query that were expanded
    added: list[str]  # the alternatives searched as well
    kind: str  # glossary | wiktionary | name | fuzzy (a near spelling of a name) | amount


def phrase_expansion(inner: str, glossary: Glossary) -> Expansion | None:
    """The alternatives of a quoted phrase of two or more words with a glossary entry: the
    entry's phrases in the other language (`"Ministry of Health"` -> "وزارت بهداشت"), each
    searched as a phrase. A quoted single word stays as it is: the quotes ask for that form."""
    inner = inner.strip()
    if len(inner.split()) < 2:
        return None
    if _PERSIAN.search(inner):
        found = glossary.expansions_persian(inner)
    else:
        found = glossary.expansions_english(inner)
    alternatives = [a for a in dict.fromkeys(e.term for e in found) if a != inner and '"' not in a]
    alternatives = alternatives[:MAX_ALTERNATIVES]
    if not alternatives:
        return None
    return Expansion(inner, alternatives, "glossary" if found[0].source == "glossary" else "wiktionary")


def word_expansions(text: str, glossary: Glossary,
                    names: NameKeys | None = None) -> list[tuple[int, int, list[Expansion]]]:
    """(start, end, expansions) of each stretch of ``text``, plain words typed next to each other,
    that has alternatives: an amount (`5.4 million`), an English glossary phrase, a Persian
    word's translations, a name's spellings in the other script. Stretches never overlap; one
    stretch's expansions come in groups of one kind each (a name, then its near spellings)."""
    if not text.strip():
        return []
    replacements: list[tuple[int, int, list[Expansion]]] = []

    def add(start: int, end: int, alternatives: list[str], kind: str, *more: tuple[list[str], str]) -> None:
        original = text[start:end]
        groups, taken = [], set()
        for group, group_kind in ((alternatives, kind), *more):
            fresh = [a for a in dict.fromkeys(group) if a and a != original and a not in taken]
            fresh = fresh[:MAX_ALTERNATIVES - len(taken)]
            taken.update(fresh)
            if fresh:
                groups.append(Expansion(original, fresh, group_kind))
        if groups and not any(s < end and start < e for s, e, _ in replacements):
            replacements.append((start, end, groups))

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
    return replacements


def _words(text: str):
    """(start, end, word) for each word of ``text``; a detached affix (نهنگ ها, می خواهم) stays
    inside its word's stretch, as the parser keeps it in its word's clause (search.query), so
    that the alternatives widen the word with its affix. ``word`` is the word without the affix."""
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
    در -> door, و -> and) would match pages about something else, and ها or می alone is no word
    but part of the one the analyzer glues it to (نهنگ ها)."""
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
