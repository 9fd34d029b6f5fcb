"""The user query language, turned into a Whoosh query.

    زلزله بم                 plain words: ranked, pages with more of the words first; each word
                             is looked up stemmed (text, title) and exact (exact, filename), and
                             exact matches add to the score so they rank above stemmed-only ones;
                             neighbouring Persian words are also looked up joined (جلو گیری finds
                             جلوگیری)
    "زندان اوین"             phrase (exact words, or the same stems in the same order)
    a AND b, a OR b, NOT a   operators (upper case); OR binds tighter than AND/juxtaposition
    -word, -"phrase"         exclude
    word*  word~  word~2     prefix, fuzzy (edit distance 1 by default, at most 2)
    source:X tag:X lang:fa|en|mixed doc:ID-or-prefix date:YYYY-MM-DD..YYYY-MM-DD
                             filters; dates may be Jalali (date:1399-01-05) and either end of a
                             range may be left open (date:2020-01-01..)

Anything that does not parse as the language is searched as plain words: only an empty query,
a query with nothing searchable in it, or an invalid filter value raises QueryError.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from search.engine import Q, WrappingQuery, matching

from archive.errors import QueryError
from search.analysis import VERB_PREFIXES, SUFFIX_WORDS, exact_analyzer, fold, stem_analyzer, text_analyzer

# Score weights of the fields a plain word is looked up in (tuned with bench/retrieval.py
# --tune). A small exact boost is enough to put the very form typed first; larger ones cost MAP.
TEXT_BOOST = 1.0
EXACT_BOOST = 0.25
TITLE_BOOST = 0.25
FILENAME_BOOST = 1.0
STEM_BOOST = 0.25  # the aggressively stemmed field (see search.schema)
WHOLE_WORD_BOOST = TEXT_BOOST + EXACT_BOOST + TITLE_BOOST + STEM_BOOST  # see _whole_word

# Persian writes a compound with a space, a ZWNJ or nothing (جلو گیری, جلوگیری); the index folds
# ZWNJ away, so a compound written closed or with ZWNJ is one word there. Each pair of neighbouring
# Persian words of a query is therefore also looked up joined, with this weight. Hamshahri's text
# has spaces where ZWNJs were, so it barely shows there (MAP 0.8585 without, 0.8588 at 0.5, 0.8578
# at 1.0; جلو گیری gains 0.97 -> 0.98 AP); it is for archives whose text keeps its ZWNJs.
COMPOUND_BOOST = 0.5

MAX_QUERY_CHARS = 1000  # a pasted paragraph is cut here, at a space
MAX_TERMS = 64  # and to this many words/operators
MAX_FUZZY = 2

_TEXT = text_analyzer()
_EXACT = exact_analyzer()
_STEM = stem_analyzer()

_FIELDS = {"source": "source", "tag": "tag", "tags": "tag", "lang": "lang", "doc": "doc", "date": "date"}
_LANGS = {"fa": ("fa", "mixed"), "en": ("en", "mixed"), "mixed": ("mixed",)}
_LEX_RE = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(\S+?)(?=[\s()"]|$)|(")|(\S))')
_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.S)
_FUZZY_RE = re.compile(r"^(.+?)~(\d?)$", re.S)
_MARKED_RE = re.compile(r"[*~]\d?$")


@dataclass
class _Word:
    exact: str  # as the exact field has it
    stem: str | None  # as the text field has it; None for a stopword
    leaf: int = -1  # its Leaf in Parsed.leaves; -1 when it has none


@dataclass(frozen=True)
class Leaf:
    """A plain word or a quoted phrase as typed, and the clause the parser made of it: the places
    search.expansion ORs alternatives into. Words under a NOT, filters, prefixes and fuzzy words
    have no Leaf: what they ask for is not widened."""
    kind: str  # "word" (a word with its detached affix, نهنگ ها) or "phrase" (quotes taken off)
    text: str
    clause: object | None  # a node of Parsed.tree; None for a stopword, which has no clause
    stretch: int = -1  # plain words typed next to each other share one (a phrase: -1)


@dataclass(frozen=True, eq=False)
class Parsed:
    """A query parsed once. ``tree`` is the parser's query before Whoosh's normalize flattens it,
    so that each Leaf's clause and each compound is still a node of it; ``query`` is the
    normalized tree, what is searched for the words as typed."""
    text: str
    tree: object
    query: object
    leaves: tuple[Leaf, ...] = ()
    compounds: tuple[tuple[object, int, int], ...] = ()  # (clause, Leaf of each word; -1: none)


_PERSIAN_WORD = re.compile(r"[\u0621-\u06d5]+")


@dataclass
class _Tok:
    kind: str  # word, phrase, lparen, rparen, and, or, not, neg
    text: str = ""
    apart: bool = True  # a phrase that does not stick to the word before it (see Parser.phrase)


# --------------------------------------------------------------------------------------------
# Lexing
# --------------------------------------------------------------------------------------------

def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise QueryError("A search query must be text")
    # control characters (tabs, newlines, NUL, ...) separate words, nothing more
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text).strip()
    if not text:
        raise QueryError("Type something to search for")
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > 0 else MAX_QUERY_CHARS]
    return text


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text) and len(toks) < MAX_TERMS:
        m = _LEX_RE.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        lparen, rparen, phrase, word, lone_quote, other = m.groups()
        if lparen:
            toks.append(_Tok("lparen"))
        elif rparen:
            toks.append(_Tok("rparen"))
        elif phrase is not None:
            before = m.start(3) - 2  # the character before the opening quote
            toks.append(_Tok("phrase", phrase, before < 0 or text[before].isspace() or text[before] == "("))
        elif lone_quote or other:
            # an unbalanced quote: the rest is read as plain words
            continue
        else:
            _lex_word(word, toks)
    return _glue_affixes(toks)


def _lex_word(word: str, toks: list[_Tok]) -> None:
    if word in ("AND", "&&"):
        toks.append(_Tok("and"))
    elif word in ("OR", "||"):
        toks.append(_Tok("or"))
    elif word == "NOT":
        toks.append(_Tok("not"))
    elif word.startswith("-") and len(word) > 1 and word[1] != "-":
        toks.append(_Tok("neg"))
        _lex_word(word[1:], toks)
    else:
        toks.append(_Tok("word", word))


def _glue_affixes(toks: list[_Tok]) -> list[_Tok]:
    # "نهنگ ها", "می خواهم": keep the detached affix with its word so the analyzer glues them
    out: list[_Tok] = []
    for tok in toks:
        prev = out[-1] if out else None
        if tok.kind == "word" and prev is not None and prev.kind == "word" \
                and (fold(tok.text) in SUFFIX_WORDS or fold(prev.text) in VERB_PREFIXES):
            prev.text += " " + tok.text
        else:
            out.append(tok)
    return out


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

class _Parser:
    """Recursive descent over the tokens; every odd input has a plain-words reading."""

    def __init__(self, toks: list[_Tok], keep_stopwords: bool, whole: frozenset[str] = frozenset()):
        self.toks = toks
        self.whole = whole  # words looked up as they are spelled only (see parse_query)
        self.i = 0
        self.keep_stopwords = keep_stopwords
        self.dropped_stopwords = False
        self.plain: list[_Word] | None = None  # the item just read, when it was plain words
        self.leaves: list[Leaf] = []
        self.compounds: list[tuple[Q.Query, int, int]] = []
        self.negated = 0  # inside a NOT or -: nothing read there gets a Leaf
        self.stretch, self.last_word = -1, -2  # the current stretch; the token of its last word

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    # seq := or_group ((AND)? or_group)*   -> (kind, query) with kind in should/must/not
    def seq(self, depth: int):
        items: list[tuple[str, Q.Query]] = []
        runs: list[list[_Word]] = [[]]  # neighbouring plain words, for compounds
        required_next = False
        while (tok := self.peek()) is not None:
            if tok.kind == "rparen":
                self.take()
                if depth > 0:
                    break
                continue  # a stray ")" is ignored
            if tok.kind == "and":
                self.take()
                if items and items[-1][0] == "should":
                    items[-1] = ("must", items[-1][1])
                required_next = bool(items)
                runs.append([])
                continue
            if tok.kind == "or":
                self.take()  # an OR with nothing on its left
                continue
            item = self.or_group(depth)
            if self.plain is None or required_next or (item is not None and item[0] != "should"):
                runs.append([])  # only optional plain words next to each other make a pair
            else:
                runs[-1] += self.plain
            if item is None:
                continue
            if required_next and item[0] == "should":
                item = ("must", item[1])
            required_next = False
            items.append(item)
        self.plain = None
        pairs = _compounds(runs)
        self.compounds += [(item[1], a, b) for item, a, b in pairs]
        return _combine(items + [item for item, _, _ in pairs])

    def or_group(self, depth: int):
        self.plain = None
        item = self.unary(depth)
        plain = self.plain
        while (tok := self.peek()) is not None and tok.kind == "or":
            self.take()
            plain = None  # alternatives are not neighbours of the words around them
            if self.peek() is None or self.peek().kind in ("rparen", "and", "or"):
                break
            right = self.unary(depth)
            if right is None:
                continue
            if item is None:
                item = right
                continue
            kind = "must" if item[0] == right[0] == "must" else "should"
            item = (kind, _or([_positive(item), _positive(right)]))
        self.plain = plain
        return item

    def unary(self, depth: int):
        tok = self.take()
        if tok.kind in ("not", "neg"):
            nxt = self.peek()
            if nxt is None or nxt.kind in ("rparen", "and", "or"):
                # a lone NOT is just the word "not"; a lone "-" is nothing
                return self.words("NOT") if tok.kind == "not" else None
            self.negated += 1
            inner = self.unary(depth)
            self.negated -= 1
            self.plain = None
            if inner is None:
                return None
            return ("not", _positive(inner))
        if tok.kind == "lparen":
            item = self.seq(depth + 1)
            self.plain = None
            return item
        if tok.kind == "phrase":
            return self.phrase(tok.text, tok.apart)
        if tok.kind == "rparen":
            return None
        return self.word(tok.text)

    # ---- atoms -------------------------------------------------------------------------
    def word(self, word: str):
        m = _FIELD_RE.match(word)
        if m and m.group(1).lower() in _FIELDS:
            value = m.group(2)
            if not value and self.peek() is not None and self.peek().kind == "phrase":
                value = self.take().text  # source:"Ministry of Oil"
            if value:
                return ("must", _field_filter(_FIELDS[m.group(1).lower()], value))
        if word.endswith("*") and len(word.rstrip("*")) >= 2:
            return _prefix(word.rstrip("*"))
        fm = _FUZZY_RE.match(word)
        if fm and len(fm.group(1)) >= 2:
            return _fuzzy(fm.group(1), int(fm.group(2) or 1))
        # a word with a colon or a lone * or ~ reads as plain words but asks for something else
        plain = not self.negated and ":" not in word and not _MARKED_RE.search(word)
        return self.words(word.strip("*~"), leaf=plain)

    def words(self, text: str, leaf: bool = False):
        """Plain words: one clause per analysed word, stemmed and exact lookups summed. With
        ``leaf``, the clause is recorded as a Leaf of the stretch of words typed next to it."""
        index = -1
        if leaf:
            at = self.i - 1  # the token just taken
            if at - 1 != self.last_word:
                self.stretch += 1
            self.last_word, index = at, len(self.leaves)
        exact = [(t.startchar, t.text) for t in _EXACT(text, chars=True, mode="query")]
        stems = {t.startchar: t.text for t in _TEXT(text, chars=True, mode="query")}
        roots = {t.startchar: t.text for t in _STEM(text, chars=True, mode="query")} if STEM_BOOST > 0 else {}
        clauses = []
        self.plain = []
        for start, term in exact:
            stem = stems.get(start)
            self.plain.append(_Word(term, stem, index))
            if stem is None and not self.keep_stopwords:
                self.dropped_stopwords = True
                continue
            clauses.append(_word_clause(term, stem, roots.get(start)))
        clause = None if not clauses else clauses[0] if len(clauses) == 1 else Q.And(clauses)
        if leaf:
            self.leaves.append(Leaf("word", text, clause, self.stretch))
        return None if clause is None else ("should", clause)

    def phrase(self, text: str, apart: bool = True):
        """A quoted phrase; one stuck to the word before it (`x"a b"`) or negated gets no Leaf."""
        clause = phrase_clause(text, self.whole)
        if apart and not self.negated:
            self.leaves.append(Leaf("phrase", text, clause))
        return None if clause is None else ("should", clause)


def phrase_clause(text: str, whole: frozenset[str] = frozenset()) -> Q.Query | None:
    """What a quoted ``text`` searches: its words in order, or one word (spelled as it is when
    among ``whole``). Also the clause of an alternative search.expansion ORs in."""
    exact = [t.text for t in _EXACT(text, mode="query")]
    stems = [t.text for t in _TEXT(text, mode="query")]
    if not exact:
        return None
    if len(exact) == 1:
        if exact[0] in whole:
            return _whole_word(exact[0])
        roots = [t.text for t in _STEM(text, mode="query")] if STEM_BOOST > 0 else []
        return _word_clause(exact[0], stems[0] if stems else None, roots[0] if roots else None)
    alternatives = [Q.Phrase("exact", exact, boost=1.0 + EXACT_BOOST)]
    if len(stems) > 1:
        alternatives.append(Q.Phrase("text", stems))
        if TITLE_BOOST > 0:
            alternatives.append(Q.Phrase("title", stems, boost=TITLE_BOOST))
    return _or(alternatives)


def _whole_word(term: str) -> Q.Query:
    """A word looked up spelled as it is, never by its stem: a name (جهانگیر) shares its stem
    with another family name (جهانگیری)."""
    # weighed as the fields of a word's clause together, so a name counts as much as a word
    return Q.Or([Q.Term("exact", term, boost=WHOLE_WORD_BOOST), Q.Term("filename", term, boost=FILENAME_BOOST)])


def _word_clause(term: str, stem: str | None, root: str | None = None) -> Q.Query:
    subs = [("exact", term, EXACT_BOOST), ("filename", term, FILENAME_BOOST)]
    if stem is not None:
        subs += [("text", stem, TEXT_BOOST), ("title", stem, TITLE_BOOST)]
    if root is not None and stem is not None:
        subs.append(("stem", root, STEM_BOOST))
    # a zero boost would make Whoosh's quality skipping divide by zero
    terms = [Q.Term(field, t, boost=boost) for field, t, boost in subs if boost > 0]
    if stem is None and EXACT_BOOST <= 0:
        terms.append(Q.Term("exact", term))  # a stopword-only query still needs the exact field
    return _or(terms)


def _compounds(runs: list[list[_Word]]) -> list[tuple[tuple[str, Q.Query], int, int]]:
    """Each pair of neighbouring Persian words also looked up as one word (see COMPOUND_BOOST),
    with the Leaf of each word."""
    if COMPOUND_BOOST <= 0:
        return []
    out = []
    for run in runs:
        for a, b in zip(run, run[1:]):
            # a one-letter word is و or a letter of an abbreviation, never half of a compound
            # (joined, و makes "مرگ ومیر" of "مرگ و میر")
            if min(len(a.exact), len(b.exact)) < 2 \
                    or not (_PERSIAN_WORD.fullmatch(a.exact) and _PERSIAN_WORD.fullmatch(b.exact)):
                continue
            joined = a.exact + b.exact
            stems = [t.text for t in _TEXT(joined, mode="query")]
            if len(stems) != 1 or stems[0] in (a.stem, b.stem) or not (a.stem or b.stem):
                continue
            roots = [t.text for t in _STEM(joined, mode="query")] if STEM_BOOST > 0 else [None]
            clause = _word_clause(joined, stems[0], roots[0])
            out.append((("should", clause.with_boost(clause.boost * COMPOUND_BOOST)), a.leaf, b.leaf))
    return out


def _prefix(word: str):
    term = fold(word)
    if not term:
        return None
    return ("should", Q.Or([Q.Prefix("exact", term), Q.Prefix("filename", term)]))


def _fuzzy(word: str, distance: int):
    term = fold(word)
    if not term:
        return None
    distance = max(1, min(distance, MAX_FUZZY))
    return ("should", Q.Or([Q.FuzzyTerm("exact", term, maxdist=distance, prefixlength=1),
                            Q.FuzzyTerm("filename", term, maxdist=distance, prefixlength=1)]))


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------

def _field_filter(field: str, value: str) -> Q.Query:
    value = value.strip()
    if field == "source":
        terms = [t.text for t in _EXACT(value, mode="query")]
        if not terms:
            raise QueryError(f"Nothing to match in source:{value}")
        return Q.Term("source", terms[0]) if len(terms) == 1 else Q.Phrase("source", terms)
    if field == "tag":
        tags = {value.lower(), fold(value)}
        return _or([Q.Term("tags", t) for t in sorted(tags) if t])
    if field == "lang":
        langs = _LANGS.get(value.lower())
        if langs is None:
            raise QueryError(f"lang: must be fa, en or mixed, not {value!r}")
        return _or([Q.Term("lang", lang) for lang in langs])
    if field == "doc":
        doc = fold(value)
        if not re.fullmatch(r"[0-9a-f]{1,64}", doc):
            raise QueryError(f"doc: takes a document id or the start of one (hex digits), not {value!r}")
        return Q.Term("document_id", doc) if len(doc) == 64 else Q.Prefix("document_id", doc)
    return _date_filter(value)


_DATE_PART = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")


def _date_filter(value: str) -> Q.Query:
    raw = fold(value)
    lo, sep, hi = raw.partition("..")
    if not sep:
        lo = hi = raw
    start = _date_bound(lo, end=False, original=value)
    stop = _date_bound(hi, end=True, original=value)
    if start is None and stop is None:
        raise QueryError("Write dates as date:YYYY-MM-DD or date:YYYY-MM-DD..YYYY-MM-DD")
    if start is not None and stop is not None and start > stop:
        raise QueryError(f"The date range {value} ends before it starts")
    if start == stop:
        return Q.Term("dates", start)
    return Q.TermRange("dates", start, stop)


def _date_bound(text: str, end: bool, original: str) -> str | None:
    """YYYYMMDD for one end of a range; a year or month alone covers the whole period."""
    if not text:
        return None
    m = _DATE_PART.match(text)
    if not m:
        raise QueryError(f"Cannot read the date {original!r}: write date:YYYY-MM-DD (e.g. date:2020-03-24)")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if end else 1)
    day = int(m.group(3)) if m.group(3) else None
    try:
        if year < 1700:  # a Jalali (Solar Hijri) year such as 1399
            return _jalali_bound(year, month, day, end)
        import datetime as dt
        if day is None:
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            day = (nxt - dt.timedelta(days=1)).day if end else 1
        return dt.date(year, month, day).strftime("%Y%m%d")
    except ValueError:
        raise QueryError(f"{original!r} is not a valid date") from None


def _jalali_bound(year: int, month: int, day: int | None, end: bool) -> str:
    import jdatetime
    if day is None:
        day = jdatetime.j_days_in_month[month - 1] if end else 1
        if end and month == 12 and jdatetime.date(year, 1, 1).isleap():
            day = 30
    return jdatetime.date(year, month, day).togregorian().strftime("%Y%m%d")


class Scaled(WrappingQuery):
    """``child`` with its scores multiplied by ``factor``. Whoosh drops the boost of a compound
    query that holds one subquery, so ``Or([q], boost=0.5)`` scores as ``q``: the alternatives of
    an expanded query weighed as much as what was typed until this wrapper was used."""

    def __init__(self, child, factor: float):
        super().__init__(child)
        self.factor = factor

    def __eq__(self, other):
        return type(other) is Scaled and self.child == other.child and self.factor == other.factor

    def __hash__(self):
        return hash(self.child) ^ hash(self.factor)

    def _rewrap(self, child):
        return Scaled(child, self.factor)

    def matcher(self, searcher, context=None):
        m = self.child.matcher(searcher, context)
        return m if self.factor == 1.0 else matching.WrappingMatcher(m, boost=self.factor)


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------

def _or(subs: list[Q.Query]) -> Q.Query:
    return subs[0] if len(subs) == 1 else Q.Or(subs)


def _positive(item) -> Q.Query:
    kind, q = item
    return Q.Not(q) if kind == "not" else q


# Fields that only narrow a search (source:, tag:, lang:, doc:, date:): they never add to a score.
FILTER_FIELDS = frozenset({"source", "tags", "lang", "document_id", "dates"})


def _is_filter(q: Q.Query) -> bool:
    return all(leaf.field() in FILTER_FIELDS for leaf in q.leaves())


def _combine(items):
    shoulds = [q for kind, q in items if kind == "should"]
    musts = [q for kind, q in items if kind == "must"]
    nots = [q for kind, q in items if kind == "not"]
    filters = [q for q in musts if _is_filter(q)]
    musts = [q for q in musts if not _is_filter(q)]
    # plain words are ranked (any may match); AND-ed parts are required; filters are required
    # and weigh nothing (a page's date or language is no measure of how well it answers)
    core = []
    if shoulds:
        core.append(_or(shoulds))
    core += musts
    if not core and not filters and not nots:
        return None
    query = (core[0] if len(core) == 1 else Q.And(core)) if core else None
    if filters:
        narrowing = filters[0] if len(filters) == 1 else Q.And(filters)
        # only filters: every page they keep scores the same, and ties list the newest first
        query = Q.Require(query, narrowing) if query is not None else Q.ConstantScoreQuery(narrowing, 1.0)
    query = query if query is not None else Q.Every()
    if nots:
        query = Q.AndNot(query, _or(nots))
    kind = "must" if (musts or filters) and not shoulds and not nots else "should"
    return (kind, query)


def parse_query(text: str, schema=None, whole: frozenset[str] = frozenset()) -> Q.Query:
    """Turn what a user typed into a Whoosh query over ``search.schema.build_schema()``.

    A quoted single word among ``whole`` (exact-field terms) is looked up spelled as it is, not
    by its stem.

    Raises QueryError (only) when there is nothing to search for or a filter value is invalid.
    """
    return parse(text, schema, whole).query


def parse(text: str, schema=None, whole: frozenset[str] = frozenset()) -> Parsed:
    """``text`` parsed, with the leaves expansion widens (see Parsed); raises as parse_query."""
    text = _clean(text)
    toks = _lex(text)
    try:
        parser = _Parser(toks, keep_stopwords=False, whole=whole)
        item = parser.seq(0)
        if item is None:
            # only stopwords: look them up in the unstemmed field, which keeps them
            parser = _Parser(toks, keep_stopwords=True)
            item = parser.seq(0)
    except QueryError:
        raise
    except Exception as exc:  # a parser bug must not show a traceback to the user
        raise QueryError(f"Could not understand the query {text[:80]!r}: {exc}") from exc
    if item is None:
        raise QueryError(f"Nothing searchable in {text[:80]!r}: use letters or digits")
    return Parsed(text, item[1], item[1].normalize(), tuple(parser.leaves), tuple(parser.compounds))
