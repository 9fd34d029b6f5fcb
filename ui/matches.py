"""How the workbench shows why a page matched: the style each kind of match is drawn in, and the
list of what matched with each phrase once.

What is marked, and where, is the search's own answer (search.highlight, on the ranking's
Evaluation): a hit's snippet spans with their kinds, and on the document page the marks and word
boxes of SearchIndex.page_marks. This module only turns kinds into styles and words. Typed words
and the alternatives the search added (translation, name, amount, similar spelling) are drawn in
different styles; feedback words only re-ranked the page, so the search does not mark them.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.models import MATCH_KINDS, Matched

# The three ways a word is drawn; the legend explains each.
STYLE_OF = {"typed": "typed", "translation": "alt", "name": "alt", "amount": "alt", "fuzzy": "alt",
            "feedback": "feedback"}
KIND_LABELS = {"typed": "as typed", "translation": "translation", "name": "name in the other script",
               "amount": "amount in another spelling", "fuzzy": "similar spelling",
               "feedback": "feedback word"}

__all__ = ["KIND_LABELS", "MATCH_KINDS", "STYLE_OF", "grouped"]


def grouped(matched: Iterable[Matched], phrases: Iterable[Matched] = ()) -> list[tuple[str, str]]:
    """(words, kind) for listing why a page matched: each phrase it holds once, then the words
    that are not part of a listed phrase («و» on its own explains nothing)."""
    phrases = list(phrases)
    out = [(p.term, p.kind) for p in phrases]
    in_phrases = {word for p in phrases for word in p.term.split(" ")}
    out += [(m.term, m.kind) for m in matched if m.term not in in_phrases and (m.term, m.kind) not in out]
    return out
