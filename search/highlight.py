"""What a hit shows of why it matched: the query terms each shown page holds, and their places
in its text (read from the index's postings), and the snippet around them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from archive.models import Hit, Matched
from search import ranking, tiers
from search.analysis import text_analyzer
from search.engine import Q, TermNotFound

SNIPPET_CHARS = 240


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


def _stem_of(term: str) -> str | None:
    return next((t.text for t in _STEMMER(term, mode="query")), None)


def matching_spans(text: str, terms: Iterable[str], schema) -> list[tuple[int, int]]:
    """Character ranges of ``text`` whose analysed tokens are among ``terms``."""
    wanted = set(terms)
    if not wanted or not text:
        return []
    spans = set()
    for field_name in ("text", "exact"):
        spans |= _analysed_spans(text, wanted, schema[field_name].analyzer)
    return sorted(spans)


HIGHLIGHT_FIELDS = ("text", "exact", "title")  # fields whose matched words are marked


def matched_terms(searcher, query, docnums: list[int],
                  evaluation: ranking.Evaluation | None = None) -> dict[int, set[tuple[str, str]]]:
    """For each page, the (field, term) pairs of ``query`` in HIGHLIGHT_FIELDS that it holds;
    a phrase's words only where the phrase is, and excluded parts (NOT, -word) not at all. Read
    for the shown pages only: Whoosh's own record of matched terms is kept for every matching
    page as it is scored. A word or phrase is looked up in the search's ``evaluation``, which
    has its pages from ranking (a phrase is checked on the shown pages only); the words of a
    prefix or fuzzy word, one by one in the index."""
    evaluation = evaluation or ranking.Evaluation(searcher)
    reader = searcher.reader()
    out: dict[int, set[tuple[str, str]]] = {docnum: set() for docnum in docnums}
    expanded = set()
    for leaf in tiers.positive_leaves(query):
        found = {(field_name, term.decode("utf-8") if isinstance(term, bytes) else term)
                 for field_name, term in leaf.expanded_terms(reader, phrases=True)
                 if field_name in HIGHLIGHT_FIELDS}
        if not found:
            continue
        if type(leaf) is Q.Term or isinstance(leaf, Q.Phrase):
            for docnum in evaluation.holding(leaf, docnums):
                out[docnum] |= found
        else:
            expanded |= found
    for sub, offset, local in _by_segment(searcher, docnums):
        for field_name, term in expanded:
            for docnum, _ in _postings(sub.reader(), field_name, term, local):
                out[docnum + offset].add((field_name, term))
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


def page_spans(searcher, pages: list[tuple[int, str, set[tuple[str, str]]]], schema) -> list[list[tuple[int, int]]]:
    """For each (docnum, stored text, matched (field, term) pairs) page of a search, the character
    ranges of its matched words, read from the index instead of found by analysing the text.

    The text field's postings record where each word stands in the stored text, so the ranges of
    a stemmed term are read, once per term for all the pages (Hamshahri, 20 hits: analysing each
    hit's text with two analyzers took ~280 ms of a search). An exact-field term is placed through
    its stem: of the stem's ranges, those whose characters are the term exactly. Only a stopword
    (it has no stem) sends a page through the exact analyzer. Unlike ``matching_spans``, a term of
    one field is never matched against another field's analysis (the stopword سراسر is no longer
    marked for the word سراسری), so what is marked is where the page matched."""
    plans = [_span_lookups(matched) for _, _, matched in pages]
    stems: dict[str, set[int]] = {}
    for (docnum, _, _), (lookups, _) in zip(pages, plans):
        for stem, _ in lookups:
            stems.setdefault(stem, set()).add(docnum)
    chars = {}  # (docnum, stem) -> ranges
    for stem, docnums in stems.items():
        for sub, offset, local in _by_segment(searcher, docnums):
            for docnum, matcher in _postings(sub.reader(), "text", stem, local):
                chars[(docnum + offset, stem)] = [(start, end) for _, start, end in matcher.value_as("characters")]
    exact = schema["exact"].analyzer
    out = []
    for (docnum, text, _), (lookups, unplaced) in zip(pages, plans):
        spans: set[tuple[int, int]] = set()
        for stem, exact_term in lookups:
            for start, end in chars.get((docnum, stem), ()):
                if exact_term is None or any(t.text == exact_term for t in exact(text[start:end], mode="index")):
                    spans.add((start, end))
        if unplaced:
            spans |= _analysed_spans(text, unplaced, exact)
        out.append(sorted(spans))
    return out


def _span_lookups(matched: set[tuple[str, str]]) -> tuple[list[tuple[str, str | None]], set[str]]:
    """(text-field term to read, exact term its ranges must spell or None) for each matched term,
    and the exact terms that have no stem (stopwords)."""
    lookups, unplaced = [], set()
    for field_name, term in sorted(matched):
        if field_name != "exact":
            lookups.append((term, None))
            continue
        stem = next((t.text for t in _STEMMER(term, mode="query")), None)
        if stem is None:
            unplaced.add(term)
        else:
            lookups.append((stem, term))
    return lookups, unplaced


_STEMMER = text_analyzer()


def _analysed_spans(text: str, wanted: set[str], analyzer) -> set[tuple[int, int]]:
    return {(t.startchar, t.endchar) for t in analyzer(text, chars=True, mode="index") if t.text in wanted}


def make_snippet(text: str, terms: Iterable[str], schema, width: int = SNIPPET_CHARS,
                 spans: list[tuple[int, int]] | None = None,
                 focus: list[tuple[int, int]] | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The stretch of ``text`` with the most matches, and the matches' ranges within it.
    ``spans`` are the matches' ranges in ``text`` when already known (see ``page_spans``);
    ``focus``, when it holds any, the ranges the stretch is chosen by (the words as typed: a
    snippet about a translation of one word hides the word the user typed)."""
    if spans is None:
        spans = matching_spans(text, terms, schema)
    if not spans:
        snippet = _collapse(text[:width])
        return snippet, []
    best_start, _ = _densest(focus or spans, width)
    begin = max(0, best_start - width // 4)
    # Start at a word boundary so the snippet does not open with half a word.
    while begin > 0 and not text[begin - 1].isspace() and best_start - begin < width // 2:
        begin -= 1
    end = min(len(text), begin + width)
    while end < len(text) and not text[end].isspace() and end - begin < width + 30:
        end += 1
    raw = text[begin:end]
    inner = [(s - begin, e - begin) for s, e in spans if s >= begin and e <= end]
    return _collapse_with_spans(raw, inner, prefix="… " if begin > 0 else "", suffix=" …" if end < len(text) else "")


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
    words as typed, the ranges of the matched words in them, and what each matched and how
    (``kinds``, see search.tiers); ``in_first`` are the pages of the first tier."""
    kinds = kinds or {}
    docnums = [docnum for docnum, _ in found]
    matched = matched_terms(searcher, query, docnums, evaluation)
    # feedback words are not marked: they are not what was asked for (Hit.matched has them)
    marked = {d: {p for p in m if kinds.get(p, "typed") != "feedback"} for d, m in matched.items()}
    typed_only = {d: {p for p in m if kinds.get(p, "typed") == "typed"} for d, m in matched.items()}
    pages = [(docnum, searcher.stored_fields(docnum), marked[docnum]) for docnum in docnums]
    spans_found = page_spans(searcher, [(d, stored.get("text", ""), m) for d, stored, m in pages], schema)
    # the typed words' ranges are read apart only for pages that hold other marked words too
    apart = [(d, stored.get("text", ""), typed_only[d]) for d, stored, m in pages if typed_only[d] != m]
    focus_of = dict(zip([d for d, _, _ in apart], page_spans(searcher, apart, schema)))
    focus_found = [focus_of.get(d) for d in docnums]
    hits = []
    for (docnum, score), (_, stored, terms_found), spans, focus in zip(found, pages, spans_found, focus_found):
        terms = sorted({t for _, t in terms_found})
        snippet, spans = make_snippet(stored.get("text", ""), terms, schema, spans=spans, focus=focus)
        hits.append(Hit(
            document_id=stored["document_id"], filename=stored.get("filename", ""),
            title=stored.get("title", ""), page=stored["page"], score=round(score, 4),
            snippet=snippet, spans=spans, lang=stored.get("lang", ""), source=stored.get("source", ""),
            tags=[t for t in stored.get("tags", "").split(",") if t], terms=terms,
            matched=_matched(matched[docnum], kinds),
            tier=tiers.TYPED if in_first is None or docnum in in_first else tiers.ALTERNATIVE,
        ))
    return hits
