"""Helpers shared by the pages of the web workbench (ui/app.py).

Everything that touches Streamlit lives in the page modules; this module holds what can be
tested on its own: escaping and right-to-left rendering, query building from filters, page
images with highlight boxes and exports (the background ingest batches are ui/batches.py).
"""

from __future__ import annotations

import base64
import csv
import getpass
import io
import json
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable

import streamlit as st

from archive.archive import Archive, default_root
from archive.errors import IndexNotReady
from archive.models import Hit, Page

REPO = Path(__file__).resolve().parent.parent
FA_FONTS = "'Vazirmatn','Noto Naskh Arabic','Nazli',sans-serif"
# Pixels of the page image sent to the browser: at 2000 an A4 scan keeps ~170 dpi, so zoomed in
# a letter's number and date are sharp (at 1200, ~100 dpi, the small print blurred).
DISPLAY_WIDTH = 2000
_index_lock = threading.Lock()


# -- the archive -----------------------------------------------------------------------------

def archive_root() -> Path:
    return default_root().resolve()


def open_index(archive: Archive):
    """The search index. Built from the catalog first when it is missing, out of date or damaged
    (a search that finds it damaged rebuilds it too, see SearchIndex), unless an ingest started
    here is running: that ingest builds it, and two builders would collide."""
    from archive.errors import IndexDamaged
    from search.index import SearchIndex, damage_detail

    root = archive.root.resolve()

    def uploading() -> bool:
        from ui.batches import any_running

        return any_running(root)

    def on_damage(message: str) -> None:
        if uploading():
            raise IndexNotReady("the search index is being rebuilt by the upload that is running")
        print(f"sanad: {message}", file=sys.stderr, flush=True)  # the server's log
        st.toast(message[:1].upper() + message[1:])

    index = SearchIndex(archive.index_dir, archive.catalog, notify=on_damage)
    try:
        current = index.current
    except IndexDamaged as exc:  # not a folder, or its table of contents gone
        on_damage(f"the search index is damaged; rebuilding from the catalog ({damage_detail(exc)})")
        current = False
    if not current:
        if uploading():
            raise IndexNotReady("the search index is being built by the upload that is running")
        with _index_lock:  # many sessions may ask at once; one builds
            try:
                if not index.current:
                    index.rebuild(archive.catalog)
            except IndexDamaged:
                index.rebuild(archive.catalog)
    return _searched_apart(index, root)


def _searched_apart(index, root: Path):
    """The index, its searches run in the server's search processes (search.pool) unless the
    `search_processes` setting keeps them in the server's threads: there, one session's search
    at a time ran, whatever the cores."""
    from archive import settings
    from search import pool

    processes = pool.processes_for(settings.load(root).search_processes)
    return index if processes <= 1 else pool.PooledIndex(index, pool.shared(processes))


def actor_name(typed: str | None = None) -> str:
    name = (typed or "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# -- escaping and right-to-left text ----------------------------------------------------------------

# html.escape's five characters, plus those Streamlit's markdown gives a meaning to (emphasis,
# links, LaTeX, colour directives, emoji short codes): as entities they only show as themselves.
_ENTITIES = {c: f"&#{ord(c)};" for c in "&<>\"'*_[]()`$~#:|\\!{}"}


def esc(text: object) -> str:
    """Text made inert for HTML and markdown rendering."""
    return "".join(_ENTITIES.get(c, c) for c in str(text))


def lang_of(text: str) -> str:
    """'fa' when Arabic-script letters outnumber Latin ones, 'en' when the reverse, else ''."""
    arabic = sum(1 for c in text if "\u0600" <= c <= "\u06ff" or "\ufb50" <= c <= "\ufeff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if arabic > latin:
        return "fa"
    if latin > arabic:
        return "en"
    return ""


def direction_attrs(lang: str) -> str:
    """Attributes of a block of text in ``lang`` (fa, en, mixed or unknown)."""
    if lang == "fa":
        return f'dir="rtl" style="text-align:right; font-family: {FA_FONTS}"'
    if lang == "en":
        return 'dir="ltr" style="text-align:left"'
    return f'dir="auto" style="font-family: {FA_FONTS}"'


def marked(text: str, spans: list) -> str:
    """Escaped ``text`` with the character ranges ``spans`` wrapped in <mark>. A range may carry
    the kind it matched through, (start, end, kind): its mark is styled by it (ui.matches)."""
    from ui.matches import STYLE_OF

    out, last = [], 0
    for span in sorted(spans):
        start, end = span[0], span[1]
        if start < last or end <= start:
            continue
        if len(span) > 2:
            kind = span[2]
            opening = f'<mark class="sanad-m-{STYLE_OF.get(kind, "typed")}" data-kind="{esc(kind)}">'
        else:
            opening = "<mark>"
        out += [esc(text[last:start]), opening, esc(text[start:end]), "</mark>"]
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def text_block(text: str, lang: str, spans: list | None = None, testid: str = "page-text") -> str:
    """A page of text as HTML: one <div dir="auto"> per line so that mixed Persian/English lines
    each keep their own direction; the block is aligned by the page's language."""
    spans = sorted(spans or [])
    lines, pos = [], 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        inner = [(max(sp[0], pos) - pos, min(sp[1], end) - pos, *sp[2:]) for sp in spans
                 if sp[0] < end and sp[1] > pos]
        body = marked(raw, inner) or "&nbsp;"
        # In a page of one language the lines follow it; in a mixed page each line aligns by its own.
        align = "" if lang in ("fa", "en") else ' style="text-align:start"'
        lines.append(f'<div dir="auto"{align}>{body}</div>')
        pos = end + 1
    return (f'<div class="sanad-text" data-testid="{testid}" {direction_attrs(lang)}>'
            + "".join(lines) + "</div>")


def snippet_html(hit: Hit) -> str:
    """The hit's snippet, its marked words styled by how they matched (Hit.span_kinds)."""
    lang = hit.lang if hit.lang in ("fa", "en") else lang_of(hit.snippet)
    spans = ([(s, e, k) for (s, e), k in zip(hit.spans, hit.span_kinds)]
             if len(hit.span_kinds) == len(hit.spans) else hit.spans)
    return (f'<div class="sanad-snippet" data-testid="snippet" {direction_attrs(lang)}>'
            f'<span dir="auto">{marked(hit.snippet, spans)}</span></div>')


def _chip(term: str, kind: str) -> str:
    from ui.matches import STYLE_OF

    return (f'<span class="sanad-chip sanad-k-{STYLE_OF.get(kind, "typed")}" data-kind="{esc(kind)}" '
            f'dir="auto">{esc(term)}</span>')


def matched_html(hit) -> str:
    """Why a page was found (a Hit, or the document page's searching.PageMarks): each matched
    word or phrase with its kind, in the legend's styles."""
    from archive.models import MATCH_KINDS
    from ui.matches import KIND_LABELS, grouped

    if not hit.matched:
        return ('<div class="sanad-why" data-testid="matched">No word of the page\'s text matched: '
                "found by its file name, title or source.</div>")
    groups: dict[str, list[str]] = {}
    for term, kind in grouped(hit.matched, hit.phrases):
        groups.setdefault(kind, []).append(term)
    order = sorted(groups, key=lambda k: MATCH_KINDS.index(k) if k in MATCH_KINDS else len(MATCH_KINDS))
    parts = [f"{esc(KIND_LABELS.get(kind, kind))}: " + " ".join(_chip(t, kind) for t in groups[kind])
             for kind in order]
    lead = ("Found only through alternatives (ranked below pages with the words as typed) · "
            if hit.tier else "")
    return (f'<div class="sanad-why" data-testid="matched" data-tier="{hit.tier}">{lead}'
            + " · ".join(parts) + "</div>")


def legend_html(kinds: Iterable[str] | None = None) -> str:
    """What the marks and outlines mean: typed words, alternatives, feedback words."""
    shown = set(kinds) if kinds is not None else {"typed", "translation", "feedback"}
    styles = []
    if "typed" in shown:
        styles.append(f'{_chip("word", "typed")} as you typed it')
    alternatives = [k for k in ("translation", "name", "amount", "fuzzy") if k in shown]
    if alternatives or kinds is None:
        styles.append(f'{_chip("word", "translation")} an alternative search added (translation, name in the '
                      "other script, amount in another spelling, similar spelling)")
    if "feedback" in shown:
        styles.append(f'{_chip("word", "feedback")} a feedback word: common on the best pages, it only '
                      "reorders results (never marked in the text; on the page image only when asked)")
    if not styles:  # hits found by their file name or title only: nothing is marked
        return ""
    return '<div class="sanad-legend" data-testid="legend">Marks: ' + " · ".join(styles) + "</div>"


# -- queries ---------------------------------------------------------------------------------------

def _quoted(value: str) -> str:
    value = value.replace('"', " ").strip()
    return f'"{value}"' if re.search(r"\s|[():]", value) else value


def build_query(text: str, *, lang: str = "", source: str = "", tags: list[str] | tuple = (),
                date_from=None, date_to=None) -> str:
    """The query syntax for what was typed plus the filters chosen beside the box."""
    parts = [text.strip()] if text.strip() else []
    if lang in ("fa", "en"):
        parts.append(f"lang:{lang}")
    if source.strip():
        parts.append(f"source:{_quoted(source)}")
    for tag in tags:
        if tag.strip():
            parts.append(f"tag:{_quoted(tag)}")
    if date_from or date_to:
        parts.append(f"date:{date_from.isoformat() if date_from else ''}..{date_to.isoformat() if date_to else ''}")
    return " ".join(parts)


def has_words(text: str) -> bool:
    return any(c.isalnum() for c in text)


# -- page images and highlight boxes --------------------------------------------------------------

def render_page_image(original: Path, media_type: str, number: int, width: int | None, height: int | None):
    """The page as an upright PIL image, at the size its word boxes refer to when that is known."""
    from PIL import Image, ImageOps

    if media_type == "application/pdf":
        from ingest import poppler

        dpi = 100
        if width:
            width_pt, _ = poppler.page_size(original, number)
            dpi = max(20, min(600, round(width / (width_pt / 72)))) if width_pt else 100
        image = poppler.render(original, number, dpi)
    elif media_type.startswith("image/"):
        with Image.open(original) as im:
            if getattr(im, "n_frames", 1) > 1:
                im.seek(number - 1)
            image = ImageOps.exif_transpose(im.copy())
    else:
        return None
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    if width and height and image.size != (width, height):
        # OCR may have rotated or upscaled the page; boxes refer to that size.
        image = image.resize((width, height))
    return image


def page_view_html(image, boxes, *, page_w: int | None, page_h: int | None, alt: str, zoom: int = 100,
                   rtl: bool = False) -> str:
    """The page image with one rectangle per box, positioned in percent of the image so they stay
    on their words at any zoom. A box given as (WordBox, kind) is drawn in its kind's style
    (ui.matches.STYLE_OF); ``zoom`` is the image's width in percent of its frame, which scrolls.
    With ``rtl`` a zoomed page opens at its right edge, where a Persian letter starts."""
    from ui.matches import STYLE_OF

    picture = image if isinstance(image, PageImage) else PageImage.of(image)
    w, h = picture.size
    ref_w, ref_h = page_w or w, page_h or h
    marks = []
    for item in boxes:
        b, kind = item if isinstance(item, tuple) else (item, getattr(item, "kind", "typed"))
        marks.append(
            f'<div class="sanad-hl sanad-hl-{STYLE_OF.get(kind, "typed")}" data-testid="highlight-box" '
            f'data-kind="{esc(kind)}" title="{esc(b.text)}: {esc(kind)}" style="position:absolute;'
            f"left:{100 * b.left / ref_w:.3f}%;top:{100 * b.top / ref_h:.3f}%;"
            f'width:{100 * b.width / ref_w:.3f}%;height:{100 * b.height / ref_h:.3f}%"></div>')
    direction = ' dir="rtl"' if rtl else ""
    return (f'<div class="sanad-zoom" data-testid="page-frame" data-zoom="{int(zoom)}"{direction}>'
            f'<div data-testid="page-image" class="sanad-page" style="position:relative;width:{int(zoom)}%">'
            f'<img src="data:image/jpeg;base64,{picture.jpeg}" alt="{esc(alt)}">{"".join(marks)}</div></div>')


@dataclass(frozen=True)
class PageImage:
    """A page's picture as sent to the browser: base64 JPEG at most DISPLAY_WIDTH wide, and the
    size of the image it was drawn from (the one its word boxes refer to)."""

    jpeg: str
    size: tuple[int, int]

    @classmethod
    def of(cls, image) -> "PageImage":
        w, h = image.size
        scale = min(1.0, DISPLAY_WIDTH / w)
        small = image.resize((max(1, int(w * scale)), max(1, int(h * scale)))) if scale < 1 else image
        buf = io.BytesIO()
        small.convert("RGB").save(buf, format="JPEG", quality=85)
        return cls(base64.b64encode(buf.getvalue()).decode(), (w, h))


# -- exports -------------------------------------------------------------------------------------

EXPORT_FIELDS = ["document", "filename", "page", "snippet", "sha256", "source"]


def export_rows(hits: list[Hit], titles: dict[str, str] | None = None) -> list[dict]:
    titles = titles or {}
    return [{"document": titles.get(h.document_id) or h.title or h.filename, "filename": h.filename,
             "page": h.page, "snippet": h.snippet, "sha256": h.document_id, "source": h.source}
            for h in hits]


def to_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        # A cell starting with = + - @ is run as a formula by spreadsheets: keep it text.
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v)
                         for k, v in row.items()})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def to_json(query: str, rows: list[dict]) -> bytes:
    return json.dumps({"query": query, "results": rows}, ensure_ascii=False, indent=2).encode("utf-8")


def document_text(doc, pages: list[Page]) -> str:
    head = [f"Document: {doc.title or doc.filename}", f"File: {doc.filename}", f"SHA-256: {doc.id}",
            f"Source: {doc.source}", ""]
    body = []
    for p in pages:
        body.append(f"--- page {p.number} ---")
        body.append(p.text if p.status == "done" else f"[{p.status}] {p.error or ''}")
        body.append("")
    return "\n".join(head + body)


# -- Streamlit glue ------------------------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _cached_archive(root: str) -> Archive:
    return Archive(root)


def get_archive() -> Archive:
    """One Archive per archive folder, shared by every session of this server."""
    return _cached_archive(str(archive_root()))


def current_actor() -> str:
    return actor_name(st.session_state.get("actor"))


def show_html(body: str) -> None:
    st.html(body)


@st.cache_data(max_entries=24, show_spinner="Drawing the page …")
def _cached_page_image(original: str, media_type: str, number: int, width: int | None, height: int | None):
    # kept encoded: changing the zoom reruns the page, and encoding a scan took ~0.2 s a run
    image = render_page_image(Path(original), media_type, number, width, height)
    return None if image is None else PageImage.of(image)


def page_image(archive: Archive, doc, page: Page):
    """The page's picture, or None for documents that are text (HTML, DOCX, plain text)."""
    if not (doc.media_type.startswith("image/") or doc.media_type == "application/pdf"):
        return None
    return _cached_page_image(str(archive.original_path(doc.id)), doc.media_type, page.number,
                              page.width, page.height)
