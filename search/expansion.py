"""A parsed query widened with alternatives: the tree the parser made of what was typed, with the
translations, transliterations and amount spellings search.crosslingual finds for its plain words
and quoted phrases OR-ed in beside them.

The typed text is parsed once (search.query.parse). Its Leaves are the clauses of its plain words
and phrases; the alternatives of a stretch of words (one word, or several: `5.4 million`,
`Ministry of Health`) or of a phrase become clauses of their own, built by analysing the
alternative's words the way a quoted phrase is (search.clauses.phrase_clause), and each is kept with
the kind it is reported as (Alternative), so that a hit's matched terms are read off them.

What is searched is ``typed OR Scaled(widened, EXPANSION_WEIGHT)``: ``widened`` is the typed tree
with each expanded clause replaced by ``(clause OR alternative ...)``, so the words as typed count
in both halves and their alternatives in one (see EXPANSION_WEIGHT).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from search import crosslingual
from search.analysis import fold
from search.engine import Q
from search.clauses import Scaled, phrase_clause
from search.query import Parsed
from search.tiers import EXPANSION_KINDS

# A page found only through a translation or transliteration ranks lower: the widened half repeats
# the words as typed, so at weight 1 they count twice and their alternatives once. (Until the
# Scaled wrapper, Whoosh ignored the 0.5 written here and 1 is what was measured: Hamshahri MAP
# 0.8588, English queries 0.5535; with 0.5 applied, 0.8584 and 0.5198, as feedback then outweighs
# a query found only through translations.)
EXPANSION_WEIGHT = 1.0


@dataclass(frozen=True, eq=False)
class Alternative:
    """One alternative searched: its clause, and the kind a hit matched through it reports."""
    text: str  # as search.crosslingual gives it
    kind: str  # translation | name | amount | fuzzy (search.tiers.EXPANSION_KINDS)
    query: object  # the clause OR-ed into the tree
    expansion: int  # the index of its crosslingual.Expansion in Expanded.expansions


@dataclass(eq=False)
class Expanded:
    typed: object  # the query as typed (Parsed.query): tier 0, typed kinds
    query: object  # what is searched: ``typed`` with the alternatives
    expansions: list = field(default_factory=list)  # crosslingual.Expansion, in the order typed
    alternatives: tuple[Alternative, ...] = ()


def unexpanded(parsed: Parsed) -> Expanded:
    return Expanded(parsed.query, parsed.query)


def expand(parsed: Parsed, glossary, names: crosslingual.NameKeys | None = None) -> Expanded:
    """``parsed`` with the alternatives of its plain words and quoted phrases OR-ed in."""
    found = _found(parsed, glossary, names)  # (Leaf indexes, their expansions), in typed order
    if not found:
        return unexpanded(parsed)
    # a name is looked up spelled as it is, never by its stem (جهانگیر, not جهانگیری); so is any
    # alternative that is also some name's spelling
    whole = frozenset(fold(a) for _, groups in found for e in groups if e.kind in ("name", "fuzzy")
                      for a in e.added)
    expansions, alternatives, swap = [], [], {}
    expanded_leaves = {}  # Leaf index -> the found entry that widens it
    for number, (indexes, groups) in enumerate(found):
        clauses = []
        for e in groups:
            expansions.append(e)
            for text in e.added:
                clause = phrase_clause(text, whole)
                if clause is not None:
                    alternatives.append(Alternative(text, EXPANSION_KINDS.get(e.kind, "translation"),
                                                    clause, len(expansions) - 1))
                    clauses.append(clause)
        for i in indexes:
            expanded_leaves[i] = number
        _widen(parsed, indexes, clauses, swap)
    # a compound of an expanded word and its neighbour is not repeated in the widened half: the
    # alternatives stand between the two (as `(masks OR ماسک) prisons` would be read)
    for clause, a, b in parsed.compounds:
        if a in expanded_leaves or b in expanded_leaves:
            if expanded_leaves.get(a, -1) != expanded_leaves.get(b, -2):
                swap[id(clause)] = Q.NullQuery
    widened = _replaced(parsed.tree, swap).normalize()
    query = merge_terms(Q.Or([parsed.query, Scaled(widened, EXPANSION_WEIGHT)]))
    return Expanded(parsed.query, query, expansions, tuple(alternatives))


def _found(parsed: Parsed, glossary, names) -> list[tuple[tuple[int, ...], list]]:
    leaves, out, i = parsed.leaves, [], 0
    while i < len(leaves):
        if leaves[i].kind == "phrase":
            e = crosslingual.phrase_expansion(leaves[i].text, glossary)
            if e is not None and leaves[i].clause is not None:
                out.append(((i,), [e]))
            i += 1
            continue
        j = i
        while j < len(leaves) and leaves[j].kind == "word" and leaves[j].stretch == leaves[i].stretch:
            j += 1
        # the stretch's words as one text, so that an amount or an English glossary phrase of
        # several words is found across them; each found span is mapped back to its Leaves
        starts, text = [], ""
        for leaf in leaves[i:j]:
            starts.append(len(text) + (1 if text else 0))
            text = f"{text} {leaf.text}" if text else leaf.text
        for start, end, groups in crosslingual.word_expansions(text, glossary, names):
            covered = tuple(i + k for k, s in enumerate(starts)
                            if s < end and start < s + len(leaves[i + k].text))
            if any(leaves[k].clause is not None for k in covered):
                out.append((covered, groups))
        i = j
    return out


def _widen(parsed: Parsed, indexes: tuple[int, ...], alternatives: list, swap: dict) -> None:
    """Put ``(typed OR alternative ...)`` where the first typed clause of ``indexes`` stands;
    the stretch's other clauses, and compounds inside it, move into the typed part."""
    inside = set(indexes)
    typed = [parsed.leaves[i].clause for i in indexes if parsed.leaves[i].clause is not None]
    typed += [clause for clause, a, b in parsed.compounds if a in inside and b in inside]
    group = typed[0] if len(typed) == 1 else Q.Or(typed)
    for clause in typed[1:]:
        swap[id(clause)] = Q.NullQuery
    swap[id(typed[0])] = Q.Or([group, *alternatives]) if alternatives else group


def _replaced(q, swap: dict):
    """``q`` with the nodes of ``swap`` (by identity) replaced, the rest rebuilt around them."""
    if id(q) in swap:
        return swap[id(q)]
    if q.is_leaf():
        return q
    return q.apply(lambda child: _replaced(child, swap))


def merge_terms(query):
    """A query that only adds up terms (Ors of terms, scaled or not) as one Or holding each term
    once with its weights summed: the same scores, computed once. An expanded query repeats every
    typed word, five fields each; merged, a Hamshahri search took p50 313 ms instead of 427 (same
    MAP to the last digit). Any other query is returned as it is."""
    weights: dict[tuple[str, str], float] = {}

    def add(q, factor: float) -> bool:
        if type(q) is Q.Term:
            key = (q.fieldname, q.text)
            weights[key] = weights.get(key, 0.0) + q.boost * factor
            return True
        if type(q) is Scaled:
            return add(q.child, factor * q.factor)
        if type(q) is Q.Or and len(q.subqueries) > 1 and not q.minmatch and q.scale is None:
            return all(add(sub, factor * q.boost) for sub in q.subqueries)
        return False

    if not add(query, 1.0):
        return query
    return Q.Or([Q.Term(field_name, text, boost=weight) for (field_name, text), weight in weights.items()])
