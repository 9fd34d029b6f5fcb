"""Match personal names across scripts: `Asghar Jahangir` <-> `اصغر جهانگیر`.

Three tools:
- `latin_to_persian_candidates`: Persian spellings of a Latin name, from finglish plus a few rules
  (Iranian names have several spellings per sound: s -> س/ص/ث, z -> ز/ذ/ض/ظ, t -> ت/ط, h -> ه/ح,
  gh -> غ/ق).
- `skeleton`: a consonant key computed the same way for both scripts. Short vowels are not written
  in Persian, so vowels are dropped on the Latin side, and the letters that are usually vowels in
  Persian (ا, و, ی inside a word, silent final ه, ع) are dropped on the Persian side. Letters that
  share a sound share a class. Both `اصغر جهانگیر` and `Asghar Jahangir` give `sqr jhngr`.
- `match_names`: ranks known names (either script) for a query with difflib on skeletons, plus the
  similarity of the query's Persian candidates to Persian names.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import itertools
import re
import unicodedata
from functools import lru_cache
from typing import Iterable

from search import letters

# Persian letter -> consonant class ("" = treated as a vowel carrier and dropped).
_PERSIAN_CLASS = {
    "ا": "", "آ": "", "أ": "", "إ": "", "ء": "", "ئ": "y", "ؤ": "v", "ع": "",
    "ب": "b", "پ": "p", "ت": "t", "ط": "t", "ث": "s", "س": "s", "ص": "s",
    "ج": "j", "چ": "c", "ح": "h", "ه": "h", "خ": "x", "د": "d",
    "ذ": "z", "ز": "z", "ض": "z", "ظ": "z", "ژ": "Z", "ر": "r", "ش": "S",
    "غ": "q", "ق": "q", "ف": "f", "ک": "k", "گ": "g", "ل": "l", "م": "m", "ن": "n",
    "و": "v", "ی": "y",
}
_PERSIAN_FOLD = letters.table({"\u200c": " "})
# Latin digraphs first, then single letters. Vowels map to "".
_LATIN_DIGRAPHS = {"kh": "x", "gh": "q", "sh": "S", "ch": "c", "zh": "Z", "ph": "f"}
_LATIN_CLASS = {
    "a": "", "e": "", "i": "", "o": "", "u": "",
    "b": "b", "c": "k", "d": "d", "f": "f", "g": "g", "h": "h", "j": "j", "k": "k", "l": "l",
    "m": "m", "n": "n", "p": "p", "q": "q", "r": "r", "s": "s", "t": "t", "v": "v", "w": "v",
    "x": "x", "y": "y", "z": "z",
}
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")


def is_persian(text: str) -> bool:
    return bool(_ARABIC_SCRIPT.search(text))


def _collapse(key: str) -> str:
    return "".join(ch for ch, _ in itertools.groupby(key))


def _persian_word_key(word: str) -> str:
    out = []
    last = len(word) - 1
    for i, ch in enumerate(word):
        cls = _PERSIAN_CLASS.get(ch)
        if cls is None:
            continue  # harakat, tatweel, punctuation
        if ch in "وی" and i > 0:
            cls = ""  # inside a word these are mostly the vowels u/o/i
        if ch == "ه" and i == last and i > 0 and not word.endswith("لله"):
            cls = ""  # silent final -e (فاطمه Fatemeh), but keep the h of -allah
        out.append(cls)
    return _collapse("".join(out))


def _latin_word_key(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower())
    word = "".join(ch for ch in word if "a" <= ch <= "z")
    if word.endswith("eh") and len(word) > 3:
        word = word[:-1]  # final -eh is the silent ه of فاطمه (Fatemeh); -ah keeps its h (Shah)
    out = []
    i = 0
    while i < len(word):
        pair = word[i:i + 2]
        if pair in _LATIN_DIGRAPHS:
            cls, i = _LATIN_DIGRAPHS[pair], i + 2
        else:
            cls, i = _LATIN_CLASS.get(word[i], ""), i + 1
        if cls in ("v", "y") and out:
            cls = ""  # Persian writes these as و / ی, which are vowels inside a word
        out.append(cls)
    return _collapse("".join(out))


@lru_cache(maxsize=65536)
def skeleton(name: str) -> str:
    """Consonant key, comparable across scripts: `اصغر جهانگیر` and `Asghar Jahangir` -> `sqr jhngr`."""
    name = name.translate(_PERSIAN_FOLD)
    words = re.findall(r"[\w']+", name)
    keys = []
    for word in words:
        key = _persian_word_key(word) if is_persian(word) else _latin_word_key(word)
        if key:
            keys.append(key)
    return " ".join(keys)


# --- Latin -> Persian spellings ---------------------------------------------------------------

# Persian letters for each Latin sound, most common first. Short vowels a/e/o are unwritten
# inside a word.
_RULES_START = {"a": ["ا", "آ", "ع"], "aa": ["آ"], "e": ["ا", "ع"], "o": ["ا", "ع"], "i": ["ای"],
                "u": ["او"], "ou": ["او"], "oo": ["او"]}
_RULES = {
    "kh": ["خ"], "gh": ["ق", "غ"], "sh": ["ش"], "ch": ["چ"], "zh": ["ژ"], "ph": ["ف"],
    "ou": ["و"], "oo": ["و"], "ee": ["ی"], "ei": ["ی"], "ey": ["ی"], "aa": ["ا"], "'": ["ع"],
    "a": ["ا", ""], "e": ["", "ه"], "o": ["", "و"], "i": ["ی"], "u": ["و"], "y": ["ی"],
    "b": ["ب"], "p": ["پ"], "t": ["ت", "ط"], "s": ["س", "ص", "ث"], "j": ["ج"], "h": ["ه", "ح"],
    "d": ["د"], "z": ["ز", "ذ", "ض", "ظ"], "r": ["ر"], "f": ["ف"], "k": ["ک"], "g": ["گ"],
    "l": ["ل"], "m": ["م"], "n": ["ن"], "v": ["و"], "w": ["و"], "q": ["ق"], "c": ["ک"], "x": ["خ"],
}
_RULES_END = {"eh": ["ه"], "e": ["ه"], "a": ["ا", "ه"], "i": ["ی"], "ee": ["ی"], "o": ["و"], "ou": ["و"],
              "u": ["و"], "ah": ["ه"]}


def _rule_spellings(word: str, limit: int = 6) -> list[str]:
    """Persian spellings of one Latin word by the rules above, most likely first."""
    word = unicodedata.normalize("NFKD", word.lower())
    word = "".join(ch for ch in word if "a" <= ch <= "z" or ch == "'")
    # split into sound units
    units, i = [], 0
    while i < len(word):
        for size in (2, 1):
            piece = word[i:i + size]
            if len(piece) == size and (piece in _RULES or (i == 0 and piece in _RULES_START)):
                if size == 2 and piece[0] == piece[1] and piece not in _RULES:
                    continue
                units.append(piece)
                i += size
                break
        else:
            i += 1
        if units and len(units) > 1 and units[-1] == units[-2] and units[-1] not in "aeiou":
            units.pop()  # doubled consonant (Mohammad -> محمد)
    options = []
    for n, unit in enumerate(units):
        if n == 0 and unit in _RULES_START:
            options.append(_RULES_START[unit])
        elif n == len(units) - 1 and n > 0 and unit in _RULES_END:
            options.append(_RULES_END[unit])
        else:
            options.append(_RULES.get(unit, [""]))
    spellings = []
    for combo in itertools.islice(itertools.product(*options), 200):
        s = "".join(combo)
        if s and s not in spellings:
            spellings.append(s)
        if len(spellings) >= limit:
            break
    return spellings


@lru_cache(maxsize=1)
def _finglish():
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # finglish prints while loading
            from finglish import f2p_word
    except Exception:  # pragma: no cover - finglish missing or broken
        return None
    return f2p_word


@lru_cache(maxsize=4096)
def _word_spellings(word: str) -> list[str]:
    """Up to four Persian spellings of one Latin word: finglish's first, then the rules'."""
    f2p_word = _finglish()
    options = []
    if f2p_word is not None:
        options += [w for w, _ in f2p_word(word.strip("'").lower(), cutoff=3)]
    options += _rule_spellings(word)
    seen = []
    for o in options:
        o = o.translate(_PERSIAN_FOLD)
        if is_persian(o) and o not in seen:
            seen.append(o)
    return seen[:4] or [word]


def latin_to_persian_candidates(name: str, limit: int = 8) -> list[str]:
    """Likely Persian spellings of a Latin-script name, best first (finglish first, then rules)."""
    words = re.findall(r"[A-Za-z\u00c0-\u024f']+", name)
    if not words:
        return []
    per_word = [_word_spellings(word) for word in words]
    # combine word options, favouring the first option of every word
    combos = sorted(itertools.product(*(range(len(o)) for o in per_word)), key=lambda c: (sum(c), c))
    return [" ".join(per_word[w][i] for w, i in enumerate(c)) for c in combos[:limit]]


_PERSIAN_FINAL_VOWEL = {"ی": "i", "ه": "e", "ا": "a", "و": "o"}


def final_vowel_key(name: str) -> str:
    """Skeleton plus each word's final vowel: tells `Zarif` from `Zarifi`, `Zahra` from `Zohreh`."""
    keys = []
    for word in re.findall(r"[\w']+", name.translate(_PERSIAN_FOLD)):
        key = skeleton(word)
        if is_persian(word):
            vowel = _PERSIAN_FINAL_VOWEL.get(word[-1], "") if len(word) > 1 else ""
            if word.endswith("لله") or word.endswith("اه"):
                vowel = ""
        else:
            w = word.lower().rstrip("'")
            w = w[:-1] if w.endswith("eh") else w
            vowel = {"y": "i", "u": "o"}.get(w[-1:], w[-1:]) if w[-1:] in "aeiouy" else ""
        keys.append(key + vowel)
    return " ".join(keys)


def _fold_persian(text: str) -> str:
    text = text.translate(_PERSIAN_FOLD).replace("آ", "ا")
    return " ".join(text.split())


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a and b else 0.0


class _SkeletonScorer:
    """Similarity of one query skeleton to many name skeletons (difflib caches the query side)."""

    def __init__(self, qkey: str):
        self.whole = difflib.SequenceMatcher(None, autojunk=False)
        self.whole.set_seq2(qkey.replace(" ", ""))
        self.reordered = difflib.SequenceMatcher(None, autojunk=False)
        self.reordered.set_seq2("".join(sorted(qkey.split())))

    def __call__(self, nkey: str) -> float:
        self.whole.set_seq1(nkey.replace(" ", ""))
        self.reordered.set_seq1("".join(sorted(nkey.split())))
        if self.whole.real_quick_ratio() < 0.4 and self.reordered.real_quick_ratio() < 0.4:
            return 0.0  # lengths too different to be the same name
        return max(self.whole.ratio(), self.reordered.ratio())


def match_names(query: str, known_names: Iterable[str], limit: int = 5) -> list[tuple[str, float]]:
    """Known names most similar to `query`, across scripts, as (name, score 0-1), best first."""
    names = list(dict.fromkeys(n for n in known_names if n and n.strip()))
    qkey = skeleton(query)
    if not qkey or not names:
        return []
    q_persian = is_persian(query)
    candidates = [] if q_persian else [_fold_persian(c) for c in latin_to_persian_candidates(query)]
    q_folded = _fold_persian(query)
    # Skeletons rank every name; the finer spelling comparison re-scores only the front runners.
    similarity = _SkeletonScorer(qkey)
    scored = sorted(((similarity(skeleton(n)), n) for n in names), reverse=True)
    rescored = []
    for skel_score, name in scored[: max(limit * 4, 20)]:
        if is_persian(name):
            spellings = [q_folded] if q_persian else candidates
            folded = _fold_persian(name)
            spelled = max((_ratio(c, folded) for c in spellings), default=0.0)
        elif not q_persian:
            spelled = _ratio(query.lower(), name.lower())
        else:
            spelled = _ratio(final_vowel_key(query), final_vowel_key(name))
        rescored.append((name, round(0.7 * skel_score + 0.3 * spelled, 4)))
    rescored.sort(key=lambda x: -x[1])
    return rescored[:limit]
