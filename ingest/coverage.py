"""Whether every printed line of a page produced text: ink bands that no word box covers.

A line Tesseract drops leaves no trace in the text, so an investigator cannot tell a complete
reading from one with a line missing. The gap pass (ingest/passes.py) re-reads such bands; a
band that still yields nothing is counted here, and a page with any is flagged "possibly
incomplete" (shown by `sanad show`, in the page's JSON and on the document page).
"""

from __future__ import annotations

from PIL import Image

from archive.models import WordBox
from ingest import images

# A band counts as read when word boxes cover this share of its height (the gap pass's rule).
COVERED = 0.25


def unread_lines(words: list[WordBox], page: Image.Image) -> int:
    """How many bands of ink rows on `page` (the image the words were read on) have no word."""
    return sum(1 for top, bottom in images.text_bands(page)
               if not any(min(bottom, w.top + w.height) - max(top, w.top) > COVERED * (bottom - top)
                          for w in words))
