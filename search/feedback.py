"""Pseudo-relevance feedback: which words it may add to a query, and the re-ranking with them.

Feedback takes the words that set the best pages of a first pass apart from the archive. On OCR
pages the words that set a page apart most are its misreadings: a misread word occurs on that page
only, so it looks as specific as a word can be. A new user searching ماسک got a first hit whose
snippet held no ماسک, marked for `۸۷۶اس`, `رده` and `01۷10-19`. So a feedback word must be a word
of the archive, not of one page:

- it stands on at least MIN_PAGES pages (a misreading rarely repeats itself);
- it has at least MIN_CHARS characters (3 cost Hamshahri MAP 0.8597 -> 0.8568: two-letter words
  such as بم carry topics; one-letter pieces never do);
- it holds no digit: a number is no topic word, and one mixed with letters (`۸۷۶اس`, `01۷10-19`)
  is an OCR fragment (codes such as N95 are still searched when typed, just never added);
- on an OCR page only the words Tesseract was confident of count (MIN_CONF): the page's feedback
  text, stored beside its text at indexing (``stored_fields``).

Feedback words are optional clauses: they reorder the pages that match, never add one.
"""

from __future__ import annotations

import math
import re

import numpy as np

from archive.models import Page
from search import caches, postings, ranking, tiers
from search.engine import Q
from search.order import all_scores, tiered, top_hits

MIN_PAGES = 3  # at MIN_CHARS 3, Hamshahri MAP was the same with 2 and 3 pages (0.8568)
MIN_CHARS = 2
# Tesseract's word confidence (0-100). On the demo letters (fas, 4 fonts) 96% of the words read
# at 60 or more; what fell below was misreadings (ص۹۸ at 0, کاظه at 13), a few real words and
# fragments of dates and codes.
MIN_CONF = 60.0

_DIGIT = re.compile(r"\d")


def usable(word: str) -> bool:
    """Whether an analysed word may be added as a feedback word (its page counts aside)."""
    # a word of digits only is a number, one of digits and letters a fragment: neither is added
    return len(word) >= MIN_CHARS and not _DIGIT.search(word)


def confident_text(page: Page) -> str | None:
    """The words feedback may read on ``page``: None for a page whose text is to be trusted
    whole (a text layer or plain text), the confident words of an OCR page line by line."""
    if page.method != "ocr" or not page.words:
        return None
    lines: dict[int, list[str]] = {}
    for word in page.words:
        if word.conf >= MIN_CONF:
            lines.setdefault(word.line, []).append(word.text)
    return "\n".join(" ".join(words) for _, words in sorted(lines.items()))


def stored_fields(page: Page) -> dict[str, str]:
    """What the index stores for feedback beside a page's text (nothing for a text page)."""
    text = confident_text(page)
    return {} if text is None else {"sure": text}


# Pseudo-relevance feedback: the words that distinguish the best pages of a first pass from the
# archive as a whole are added, weighted, to the query, and the matching pages are ranked again.
# Feedback only re-ranks: the pages that match stay those that match the query as typed (and
# expanded). Hamshahri, full pipeline (MAP): words chosen and weighted by their share of the best
# pages alone (a relevance model, RM3) 0.8503 at 5 pages/10 words/weight 6, 0.8422 at 10 pages;
# by how much more the best pages use them than the archive does (relative entropy) 0.8588 and
# 0.8541. Weight 4 / 6 / 8 / 12 at 5 pages: 0.8526 / 0.8588 / 0.8581 / 0.8584; 5 / 10 / 15 / 20
# words: 0.8564 / 0.8588 / 0.8547 / 0.8546. Without feedback: 0.8273.
FEEDBACK_DOCS = 5  # pages of the first pass that the words are taken from
FEEDBACK_TERMS = 10  # words added
FEEDBACK_WEIGHT = 6.0  # total boost shared by the added words, in proportion to their weight
FEEDBACK_MAX_DF = 0.1  # words on more than this share of the pages carry no topic: skipped
FEEDBACK_SELECTION = "divergence"  # or "share" (RM3), kept for bench/retrieval.py --tune


def feedback_query(searcher, query, schema, *, docs: int | None = None, terms: int | None = None,
                   weight: float | None = None):
    """``query`` re-weighted with pseudo-relevance feedback.

    Each of the best ``docs`` pages of a first pass lends its words their share of the page's
    words times the page's share of the first-pass score, which gives P(word | best pages). A word
    is worth P(word | best pages) * log(P(word | best pages) / P(word | archive)): its part of the
    relative entropy between the best pages and the archive, so a word that every page uses is
    worth little however often the best pages use it. The ``terms`` words worth most (leaving out
    those on more than FEEDBACK_MAX_DF of the pages) are added on the stemmed field, boosted in
    proportion to their worth with ``weight`` in all. They are optional (AndMaybe): they change
    the order of the pages that match, never which pages match. ``feedback_ranking`` ranks by
    this query without scoring ``query`` twice."""
    first, _ = top_hits(searcher, query, FEEDBACK_DOCS if docs is None else docs)
    extra = _feedback_terms(searcher, first, schema, terms, weight)
    return query if extra is None else Q.AndMaybe(query, extra)


def feedback_ranking(searcher, query, schema, limit: int, evaluation: ranking.Evaluation | None = None,
                     first_tier=None):
    """What ``top_hits`` gives for ``feedback_query(query)``, and that query: the first pass
    scores every matching page once, and the feedback words' scores are added to those. With
    ``first_tier`` (see search.tiers), the pages it matches come first in both passes."""
    evaluation = evaluation or ranking.Evaluation(searcher)
    docnums, scores = all_scores(searcher, query, evaluation)
    page_tiers = None
    if first_tier is not None:
        # only which pages it matches counts: evaluated unscored
        typed_pages = all_scores(searcher, Q.ConstantScoreQuery(first_tier, 1.0), evaluation)[0]
        page_tiers = tiers.tier_of(docnums, typed_pages)
    extra = _feedback_terms(searcher, tiered(searcher, docnums, scores, page_tiers, FEEDBACK_DOCS), schema)
    if extra is None:
        return tiered(searcher, docnums, scores, page_tiers, limit), len(docnums), query
    bonus_docs, bonus = all_scores(searcher, extra, evaluation)
    final = scores.copy()
    # docnums come in docnum order from all_scores, so each bonus page is found by bisection
    where = np.searchsorted(docnums, bonus_docs)
    inside = where < len(docnums)
    hit = inside.copy()
    hit[inside] = docnums[where[inside]] == bonus_docs[inside]
    final[where[hit]] += bonus[hit]
    return tiered(searcher, docnums, final, page_tiers, limit), len(docnums), Q.AndMaybe(query, extra)


def _feedback_terms(searcher, first: list[tuple[int, float]], schema, terms: int | None = None,
                    weight: float | None = None):
    """The added words of ``feedback_query`` as an Or of boosted terms, or None."""
    terms = FEEDBACK_TERMS if terms is None else terms
    weight = FEEDBACK_WEIGHT if weight is None else weight
    if not first or terms <= 0 or weight <= 0:
        return None
    # an OCR page lends only the words read with confidence (search.feedback)
    pages = [(_feedback_text(searcher.stored_fields(docnum)), score) for docnum, score in first]
    chosen = _feedback_words(searcher, _relevance_model(pages, schema["text"].analyzer), terms)
    if not chosen:
        return None
    scale = weight / sum(worth for _, worth in chosen)
    return Q.Or([Q.Term("text", word, boost=worth * scale) for word, worth in chosen])


def _feedback_text(stored: dict) -> str:
    sure = stored.get("sure")
    return stored.get("text", "") if sure is None else sure


def _relevance_model(pages: list[tuple[str, float]], analyzer) -> dict[str, float]:
    """P(word | best pages): each page's word shares weighted by the page's share of the score."""
    total_score = sum(score for _, score in pages)
    model: dict[str, float] = {}
    if not total_score:
        return model
    for text, score in pages:
        counts: dict[str, int] = {}
        for token in analyzer(text, mode="index"):
            if not getattr(token, "part", False):
                counts[token.text] = counts.get(token.text, 0) + 1
        length = sum(counts.values())
        if not length:
            continue
        share = score / total_score / length
        for word, count in counts.items():
            model[word] = model.get(word, 0.0) + share * count
    return model


def _feedback_words(searcher, model: dict[str, float], terms: int) -> list[tuple[str, float]]:
    """The ``terms`` words worth most to feedback, with their worth (see feedback_query).

    Words are taken in falling order of P(word | best pages). A word's worth is at most
    p * log(p * archive words) (it occurs at least once), which falls with p, so once that bound is
    below the worth of the ``terms``-th best word so far no later word can enter, and the term
    lookups (one per segment each) stop: at 100,000 pages they took 0.5 s a query."""
    max_df = FEEDBACK_MAX_DF * searcher.doc_count()
    archive_words = searcher.field_length("text") or 1
    reader = searcher.reader()
    version = _index_version(reader)
    share = FEEDBACK_SELECTION == "share"
    worth: dict[str, float] = {}
    kth = -math.inf
    for word, p in sorted(model.items(), key=lambda kv: (-kv[1], kv[0])):
        bound = p if share else p * math.log(p * archive_words)
        if len(worth) >= terms and bound * (1 + 1e-8) < kth:
            break
        if not usable(word):
            continue
        df, cf = _text_stats(reader, version, word)
        if not MIN_PAGES <= df <= max_df:
            continue
        value = p if share else p * math.log(p * archive_words / max(cf, 1))
        if value > 0:
            # Rounded so that the last-place differences of scores (see SCORE_TOLERANCE) cannot
            # reorder two words of equal worth; ties go to the word that sorts first.
            worth[word] = float(f"{value:.9g}")
            if len(worth) >= terms:
                kth = sorted(worth.values(), reverse=True)[terms - 1]
    return sorted(worth.items(), key=lambda kv: (-kv[1], kv[0]))[:terms]


def _index_version(reader) -> tuple:
    """What identifies the index's contents: its segments and their live pages."""
    return tuple((r.segment().segment_id(), r.doc_count()) for r, _ in reader.leaf_readers())


def _text_stats(reader, key: tuple, word: str) -> tuple[int, float]:
    """(pages, occurrences) of a word in the text field. Kept while the index version ``key``
    stays the same: a lookup costs a read per segment (0.5 s a search for the ~650 words of the
    best pages at 100,000 pages), and the best pages of one search after another share most words."""
    def compute():
        # each segment's entry looked up once (Whoosh's own term_info looks it up twice)
        btext = word.encode("utf-8")
        entries = [postings.term_info(leaf, "text", btext) for leaf, _ in reader.leaf_readers()]
        return (sum(e.doc_frequency() for e in entries if e is not None),
                sum(e.weight() for e in entries if e is not None))
    return caches.text_stats(key, word, compute)
