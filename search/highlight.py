"""What a hit shows of why it matched, the one highlighter of Sanad: the query terms each shown
page holds (asked of the search's ranking.Evaluation), their places in its text (read from the
index's postings), each place marked with how its term came into the query (``Mark.kind``: typed,
translation, name, amount, fuzzy, feedback), the snippet around them, and the word boxes of the
page image under them (``word_boxes``).

A phrase is marked only where its words stand in a row, not wherever one of them stands. A
stopword or a one-letter word is marked only when typed, never as part of an alternative.
Feedback words are not marked unless asked for: they are not what was asked for (Hit.matched
lists them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from archive.models import Hit, Matched, WordBox
from search import ranking, tiers
from search.analysis import text_analyzer
from search.engine import Q, TermNotFound

SNIPPET_CHARS = 240


def matched_of(found: "Found", kinds: dict[tuple[str, str], str]) -> tuple[Matched, ...]:
    """What a page holds of the query, as Hit.matched lists it."""
    return _matched(found.pairs(), kinds)


def _matched(found: set[tuple[str, str]], kinds: dict[tuple[str, str], str]) -> tuple[Matched, ...]:
    """What a hit holds of the query, one entry per word and kind: a word spelled as in the
    exact field stands for its stem in the text field, which is listed only on its own."""
    exact, stems = set(), set()
    for field_name, term in found:
        kind = kinds.get((field_name, term), "typed")
        (exact if field_name in ("exact", "filename") else stems).add((term, kind))
    covered = {(_stem_of(term), kind) for term, kind in exact}
    out = exact | {pair for pair in stems if pair not in covered and pair not in exact}
    return tuple(Matched(term, kind) for term, kind in
                 sorted(out, key=lambda pair: (tiers.PRIORITY.index(pair[1]), pair[0])))


def phrases_of(found: "Found", kinds: dict[tuple[str, str], str]) -> tuple[Matched, ...]:
    """The phrases a page holds, each once, its words (as the index has them) joined by spaces:
    as spelled (the exact field) when the page holds it so, else as stems."""
    out: dict[str, str] = {}
    spelled = {phrase_kind(phrase, kinds) for phrase in found.phrases if phrase and phrase[0][0] == "exact"}
    for phrase in found.phrases:
        kind = phrase_kind(phrase, kinds)
        if phrase and phrase[0][0] != "exact" and kind in spelled:
            continue  # the same phrase, stemmed
        words = " ".join(term for _, term in phrase)
        if words not in out or tiers.PRIORITY.index(kind) < tiers.PRIORITY.index(out[words]):
            out[words] = kind
    return tuple(Matched(words, kind) for words, kind in out.items())


def phrase_kind(phrase: tuple, kinds: dict[tuple[str, str], str]) -> str:
    """How a phrase came into the query: as typed only when each of its words did; a translated
    phrase that shares a word with what was typed («ماسک N95» for "N95 masks") is a translation."""
    return max((kinds.get(pair, "typed") for pair in phrase), key=tiers.PRIORITY.index)


@lru_cache(maxsize=50_000)
def _stem_of(term: str) -> str | None:
    # asked for each exact-field term of each shown page, twice (its ranges, whether it is slight)
    return next((t.text for t in _STEMMER(term, mode="query")), None)


HIGHLIGHT_FIELDS = ("text", "exact", "title")  # fields whose matched words are marked


@dataclass(frozen=True)
class Mark:
    """A marked place of a page's text: where a term of the query stands, and how it came in."""
    start: int
    end: int
    kind: str  # one of archive.models.MATCH_KINDS


@dataclass
class Found:
    """What a page holds of a query: terms marked wherever they stand, and phrases, as (field,
    term) pairs in order, marked where their words stand in a row."""
    words: set[tuple[str, str]] = field(default_factory=set)
    phrases: list[tuple[tuple[str, str], ...]] = field(default_factory=list)

    def pairs(self) -> set[tuple[str, str]]:
        return self.words | {pair for phrase in self.phrases for pair in phrase}


def matched_terms(searcher, query, docnums: list[int],
                  evaluation: ranking.Evaluation | None = None) -> dict[int, set[tuple[str, str]]]:
    """For each page, the (field, term) pairs of ``query`` that it holds (see ``page_matches``)."""
    return {d: found.pairs() for d, found in page_matches(searcher, query, docnums, evaluation).items()}


def page_matches(searcher, query, docnums: list[int],
                 evaluation: ranking.Evaluation | None = None) -> dict[int, Found]:
    """For each page, the (field, term) pairs of ``query`` in HIGHLIGHT_FIELDS that it holds;
    a phrase's words only where the phrase is, and excluded parts (NOT, -word) not at all. Read
    for the shown pages only: Whoosh's own record of matched terms is kept for every matching
    page as it is scored. A word or phrase is looked up in the search's ``evaluation``, which
    has its pages from ranking (a phrase is checked on the shown pages only); the words of a
    prefix or fuzzy word, one by one in the index."""
    evaluation = evaluation or ranking.Evaluation(searcher)
    reader = searcher.reader()
    out = {docnum: Found() for docnum in docnums}
    expanded = set()
    for leaf in tiers.positive_leaves(query):
        if isinstance(leaf, Q.Phrase):
            if leaf.fieldname not in HIGHLIGHT_FIELDS:
                continue
            phrase = tuple((leaf.fieldname, w) for w in leaf.words)
            for docnum in evaluation.holding(leaf, docnums):
                out[docnum].phrases.append(phrase)
            continue
        found = {(field_name, term.decode("utf-8") if isinstance(term, bytes) else term)
                 for field_name, term in leaf.expanded_terms(reader, phrases=True)
                 if field_name in HIGHLIGHT_FIELDS}
        if not found:
            continue
        if type(leaf) is Q.Term:
            for docnum in evaluation.holding(leaf, docnums):
                out[docnum].words |= found
        else:
            expanded |= found
    for sub, offset, local in _by_segment(searcher, docnums):
        for field_name, term in expanded:
            for docnum, _ in _postings(sub.reader(), field_name, term, local):
                out[docnum + offset].words.add((field_name, term))
    return out


def _by_segment(searcher, docnums):
    """(segment searcher, its first docnum, the sorted docnums in it made local) per segment."""
    for sub, offset in searcher.leaf_searchers():
        end = offset + sub.reader().doc_count_all()
        local = sorted(d - offset for d in docnums if offset <= d < end)
        if local:
            yield sub, offset, local


def _matching(matcher, docnums: list[int]):
    """The docnums (sorted) that `matcher` holds, left standing on each as it is yielded."""
    for docnum in docnums:
        if not matcher.is_active():
            return
        matcher.skip_to(docnum)
        if matcher.is_active() and matcher.id() == docnum:
            yield docnum


def _postings(reader, field_name: str, term: str, docnums: list[int]):
    """(docnum, postings matcher standing on it) for each of ``docnums`` (sorted) that holds
    ``term``: one pass over the term's postings for all the pages."""
    try:
        matcher = reader.postings(field_name, term)
    except TermNotFound:
        return
    for docnum in _matching(matcher, docnums):
        yield docnum, matcher


def term_ranges(searcher, pages: list[tuple[int, str, set[tuple[str, str]]]], schema
                ) -> list[dict[tuple[str, str], list[tuple[int, int]]]]:
    """For each (docnum, stored text, matched (field, term) pairs) page of a search, the character
    ranges of each matched term, read from the index instead of found by analysing the text.

    The text field's postings record where each word stands in the stored text, so the ranges of
    a stemmed term are read, once per term for all the pages (Hamshahri, 20 hits: analysing each
    hit's text with two analyzers took ~280 ms of a search). An exact-field term is placed through
    its stem: of the stem's ranges, those whose characters are the term exactly. Only a stopword
    (it has no stem) sends a page through the exact analyzer. A term of one field is never matched
    against another field's analysis (the stopword سراسر is not marked for the word سراسری), so
    what is marked is where the page matched."""
    plans = [{pair: _lookup(pair) for pair in matched} for _, _, matched in pages]
    stems: dict[str, set[int]] = {}
    for (docnum, _, _), plan in zip(pages, plans):
        for stem, _ in filter(None, plan.values()):
            stems.setdefault(stem, set()).add(docnum)
    chars = {}  # (docnum, stem) -> ranges
    for stem, docnums in stems.items():
        for sub, offset, local in _by_segment(searcher, docnums):
            for docnum, matcher in _postings(sub.reader(), "text", stem, local):
                chars[(docnum + offset, stem)] = [(start, end) for _, start, end in matcher.value_as("characters")]
    exact = schema["exact"].analyzer
    out = []
    for (docnum, text, _), plan in zip(pages, plans):
        ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
        stopwords = None
        for pair, lookup in plan.items():
            if lookup is None:  # a stopword: the page is analysed, once
                if stopwords is None:
                    stopwords = {}
                    for t in exact(text, chars=True, mode="index"):
                        stopwords.setdefault(t.text, []).append((t.startchar, t.endchar))
                ranges[pair] = stopwords.get(pair[1], [])
                continue
            stem, exact_term = lookup
            ranges[pair] = [(start, end) for start, end in chars.get((docnum, stem), ())
                            if exact_term is None
                            or any(t.text == exact_term for t in exact(text[start:end], mode="index"))]
        out.append(ranges)
    return out


def page_spans(searcher, pages: list[tuple[int, str, set[tuple[str, str]]]], schema) -> list[list[tuple[int, int]]]:
    """For each page as ``term_ranges`` takes them, the ranges of all its matched terms."""
    return [sorted({r for found in ranges.values() for r in found})
            for ranges in term_ranges(searcher, pages, schema)]


def _lookup(pair: tuple[str, str]) -> tuple[str, str | None] | None:
    """(text-field term to read, exact term its ranges must spell or None) for a matched term;
    None for an exact term without a stem (a stopword)."""
    field_name, term = pair
    if field_name != "exact":
        return term, None
    stem = _stem_of(term)
    return None if stem is None else (stem, term)


_STEMMER = text_analyzer()


def marks(text: str, found: Found, ranges: dict[tuple[str, str], list[tuple[int, int]]],
          kinds: dict[tuple[str, str], str], feedback: bool = False) -> list[Mark]:
    """The marked places of a page, in order, one kind each: where a term stands under several
    kinds, the first of tiers.PRIORITY. A phrase's words only where they stand in a row (nothing
    but spaces and punctuation between them); feedback words only when ``feedback``."""
    best: dict[tuple[int, int], str] = {}

    def put(where: tuple[int, int], kind: str) -> None:
        if kind == "feedback" and not feedback:
            return
        if where not in best or tiers.PRIORITY.index(kind) < tiers.PRIORITY.index(best[where]):
            best[where] = kind

    for pair in found.words:
        kind = kinds.get(pair, "typed")
        if kind != "typed" and _slight(pair):
            continue
        for where in ranges.get(pair, ()):
            put(where, kind)
    for phrase in found.phrases:
        kind = phrase_kind(phrase, kinds)
        # an alternative phrase's «و» or «of» is not what anyone looks for: its words are
        slight = set() if kind == "typed" else {r for pair in phrase if _slight(pair) for r in ranges.get(pair, ())}
        for where in _in_a_row(text, [sorted(ranges.get(pair, ())) for pair in phrase]):
            if where not in slight:
                put(where, kind)
    return [Mark(start, end, kind) for (start, end), kind in sorted(best.items())]


def _slight(pair: tuple[str, str]) -> bool:
    """A stopword or a one-letter word: marked only where the user typed it."""
    field_name, term = pair
    return len(term) <= 1 or (field_name == "exact" and _stem_of(term) is None)


def _in_a_row(text: str, words: list[list[tuple[int, int]]]) -> set[tuple[int, int]]:
    """The ranges of each occurrence of the words one after the other."""
    out: set[tuple[int, int]] = set()
    if not words or not all(words):
        return out
    for first in words[0]:
        chain = [first]
        for later in words[1:]:
            end = chain[-1][1]
            following = next((r for r in later if r[0] >= end), None)
            if following is None or any(ch.isalnum() for ch in text[end:following[0]]):
                break
            chain.append(following)
        if len(chain) == len(words):
            out.update(chain)
    return out


def _find_word(text: str, piece: str, at: int) -> int:
    """Where ``piece`` next stands in ``text`` from ``at`` as a word of its own (not inside a
    longer one: `of` in `office`), or -1."""
    start = text.find(piece, at)
    while start >= 0:
        end = start + len(piece)
        if (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
            return start
        start = text.find(piece, start + 1)
    return -1


@dataclass(frozen=True)
class BoxMark:
    """A word box of the page image under a marked place, with the place's kind."""
    text: str
    left: int
    top: int
    width: int
    height: int
    kind: str


def word_boxes(text: str, words: list[WordBox], marked: list[Mark]) -> list[BoxMark]:
    """The word boxes under ``marked`` places of the page ``text``. Each word is found in the text
    in reading order (the text of an OCR page is its words joined; a text-layer page's words come
    from the same text), and is marked when its characters overlap a place."""
    if not marked:
        return []
    out, at, j = [], 0, 0
    ordered = sorted(marked, key=lambda m: (m.start, m.end))
    for word in sorted(words, key=lambda w: w.line) if any(w.line for w in words) else words:
        piece = word.text.strip()
        start = _find_word(text, piece, at) if piece else -1
        if start < 0:
            continue
        end = at = start + len(piece)
        while j < len(ordered) and ordered[j].end <= start:
            j += 1
        under = []
        for m in ordered[j:]:
            if m.start >= end:
                break
            under.append(m.kind)
        if under:
            kind = min(under, key=tiers.PRIORITY.index)
            out.append(BoxMark(word.text, word.left, word.top, word.width, word.height, kind))
    return out


def make_snippet(text: str, marked: list[Mark], width: int = SNIPPET_CHARS
                 ) -> tuple[str, list[tuple[int, int]], list[str]]:
    """The stretch of ``text`` with the most marked places, chosen by the typed ones when it has
    any (a snippet about a translation of one word hides the word the user typed); the places'
    ranges within it, and their kinds."""
    if not marked:
        return _collapse(text[:width]), [], []
    spans = [(m.start, m.end) for m in marked]
    typed = [(m.start, m.end) for m in marked if m.kind == "typed"]
    best_start, _ = _densest(typed or spans, width)
    begin = max(0, best_start - width // 4)
    # Start at a word boundary so the snippet does not open with half a word.
    while begin > 0 and not text[begin - 1].isspace() and best_start - begin < width // 2:
        begin -= 1
    end = min(len(text), begin + width)
    while end < len(text) and not text[end].isspace() and end - begin < width + 30:
        end += 1
    inside = [m for m in marked if m.start >= begin and m.end <= end]
    snippet, moved = _collapse_with_spans(text[begin:end], [(m.start - begin, m.end - begin) for m in inside],
                                          prefix="… " if begin > 0 else "", suffix=" …" if end < len(text) else "")
    return snippet, moved, [m.kind for m in inside]


def _densest(spans: list[tuple[int, int]], width: int) -> tuple[int, int]:
    """The start of the span that opens the ``width`` characters holding most whole spans, and
    how many it holds. Spans are sorted; a long page has hundreds, so only the spans that start
    inside each window are looked at."""
    best_start, best_count = spans[0][0], 0
    j = 0
    for i, (start, _) in enumerate(spans):
        limit = start + width
        j = max(j, i)
        while j < len(spans) and spans[j][0] < limit:
            j += 1
        count = sum(1 for _, end in spans[i:j] if end <= limit)
        if count > best_count:
            best_start, best_count = start, count
    return best_start, best_count


_SPACE = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _collapse_with_spans(raw: str, spans: list[tuple[int, int]], prefix: str, suffix: str):
    """Fold runs of white space to one space while keeping the spans pointing at the same words."""
    out, mapping = [], []
    previous_space = True
    for ch in raw:
        if ch.isspace():
            if not previous_space:
                out.append(" ")
            previous_space = True
        else:
            out.append(ch)
            previous_space = False
        mapping.append(len(out))
    text = "".join(out).rstrip()
    shift = len(prefix)
    moved = [(shift + (mapping[s - 1] if s else 0), shift + mapping[e - 1]) for s, e in spans]
    return prefix + text + suffix, moved


def hits(found: list[tuple[int, float]], query, searcher, schema, evaluation=None,
         kinds: dict | None = None, in_first: set[int] | None = None) -> list[Hit]:
    """The hits of the pages ``found`` (docnum, score) by ``query``: their snippets centred on the
    words as typed, the marked places in them with their kinds, and what each matched and how
    (``kinds``, see search.tiers); ``in_first`` are the pages of the first tier."""
    kinds = kinds or {}
    docnums = [docnum for docnum, _ in found]
    matches = page_matches(searcher, query, docnums, evaluation)
    stored = [searcher.stored_fields(docnum) for docnum in docnums]
    # feedback words are not marked, so their places are not read
    shown = [{p for p in matches[d].pairs() if kinds.get(p, "typed") != "feedback"} for d in docnums]
    ranges = term_ranges(searcher, [(d, f.get("text", ""), m) for d, f, m in zip(docnums, stored, shown)], schema)
    out = []
    for (docnum, score), fields, page_ranges in zip(found, stored, ranges):
        text = fields.get("text", "")
        snippet, spans, span_kinds = make_snippet(text, marks(text, matches[docnum], page_ranges, kinds))
        pairs = matches[docnum].pairs()
        out.append(Hit(
            document_id=fields["document_id"], filename=fields.get("filename", ""),
            title=fields.get("title", ""), page=fields["page"], score=round(score, 4),
            snippet=snippet, spans=spans, span_kinds=span_kinds, lang=fields.get("lang", ""),
            source=fields.get("source", ""), tags=[t for t in fields.get("tags", "").split(",") if t],
            terms=sorted({t for p, t in pairs if kinds.get((p, t), "typed") != "feedback"}),
            matched=_matched(pairs, kinds), phrases=phrases_of(matches[docnum], kinds),
            tier=tiers.TYPED if in_first is None or docnum in in_first else tiers.ALTERNATIVE,
        ))
    return out
