"""Which words pseudo-relevance feedback may add to a query (search.index.feedback_ranking).

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

import re

from archive.models import Page

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
