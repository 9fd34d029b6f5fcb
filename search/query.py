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

A search parses what was typed once (``parse``): the Leaves it keeps, the clauses of the plain
words and quoted phrases, are where search.expansion ORs alternatives in. The clauses themselves
are built by search.clauses, the filters by search.filters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from archive.errors import QueryError
from search.analysis import VERB_PREFIXES, SUFFIX_WORDS, fold
from search.clauses import (EXACT_AN, STEM_AN, STEM_BOOST, TEXT_AN, Word, compounds, fuzzy, or_,
                            phrase_clause, prefix, word_clause)
from search.engine import Q
from search.filters import field_filter

MAX_QUERY_CHARS = 1000  # a pasted paragraph is cut here, at a space
MAX_TERMS = 64  # and to this many words/operators

_FIELDS = {"source": "source", "tag": "tag", "tags": "tag", "lang": "lang", "doc": "doc", "date": "date"}
_LEX_RE = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(\S+?)(?=[\s()"]|$)|(")|(\S))')
_FIELD_RE = re.compile(r"^([A-Za-z]+):(.*)$", re.S)
_FUZZY_RE = re.compile(r"^(.+?)~(\d?)$", re.S)
_MARKED_RE = re.compile(r"[*~]\d?$")


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




@dataclass
class _Tok:
    kind: str  # word, phrase, lparen, rparen, and, or, not, neg
    text: str = ""
    apart: bool = True  # a phrase that does not stick to the word before it (see _Parser.phrase)


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
        self.plain: list[Word] | None = None  # the item just read, when it was plain words
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
        runs: list[list[Word]] = [[]]  # neighbouring plain words, for compounds
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
        pairs = compounds(runs)
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
            item = (kind, or_([_positive(item), _positive(right)]))
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
                return ("must", field_filter(_FIELDS[m.group(1).lower()], value))
        if word.endswith("*") and len(word.rstrip("*")) >= 2:
            return prefix(word.rstrip("*"))
        fm = _FUZZY_RE.match(word)
        if fm and len(fm.group(1)) >= 2:
            return fuzzy(fm.group(1), int(fm.group(2) or 1))
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
        exact = [(t.startchar, t.text) for t in EXACT_AN(text, chars=True, mode="query")]
        stems = {t.startchar: t.text for t in TEXT_AN(text, chars=True, mode="query")}
        roots = {t.startchar: t.text for t in STEM_AN(text, chars=True, mode="query")} if STEM_BOOST > 0 else {}
        clauses = []
        self.plain = []
        for start, term in exact:
            stem = stems.get(start)
            self.plain.append(Word(term, stem, index))
            if stem is None and not self.keep_stopwords:
                self.dropped_stopwords = True
                continue
            clauses.append(word_clause(term, stem, roots.get(start)))
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


# --------------------------------------------------------------------------------------------
# Assembly
# --------------------------------------------------------------------------------------------

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
        core.append(or_(shoulds))
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
        query = Q.AndNot(query, or_(nots))
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
