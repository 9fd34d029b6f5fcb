"""Helpers shared by the pages of the web workbench (ui/app.py).

Everything that touches Streamlit lives in the page modules; this module holds what can be
tested on its own: escaping and right-to-left rendering, query building from filters, page
images with highlight boxes, exports, and the background ingest batches under ROOT/inbox/.
"""

from __future__ import annotations

import base64
import csv
import getpass
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from collections.abc import Iterable
from typing import BinaryIO

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
        return any(_alive(f, json.loads((f / MANIFEST).read_text(encoding="utf-8"))) for f in list_batches(root))

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


# -- upload batches --------------------------------------------------------------------------------

LOG = "ingest.jsonl"
MANIFEST = "batch.json"


def safe_filename(name: str) -> str:
    """A file name that is safe to write: no folders, no control characters, no leading dot."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").split("/")[-1])
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" or c == "\u200c")
    name = re.sub(r'[<>:"|?*]', "_", name).strip().lstrip(".").strip()
    if len(name.encode("utf-8")) > 200:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name.encode("utf-8")[:190].decode("utf-8", "ignore") + ("." + keep if keep else "")
    return name or "unnamed"


def _unique(folder: Path, name: str) -> Path:
    path = folder / name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while path.exists():
        path = folder / (f"{stem} ({n}).{ext}" if ext else f"{stem} ({n})")
        n += 1
    return path


@dataclass
class FileState:
    name: str  # path relative to the batch's files/ folder
    sha256: str | None
    status: str = "waiting"  # waiting | processing | ingested | duplicate | failed
    error: str | None = None
    pages_done: int = 0
    pages_total: int = 0
    document_id: str | None = None
    joined: bool | None = None  # team mode: new to the batch's collection (a duplicate may be)


@dataclass
class Batch:
    id: str
    folder: Path
    created: str
    source: str
    tags: list[str]
    files: list[FileState] = field(default_factory=list)
    running: bool = False

    @property
    def finished(self) -> bool:
        return not self.running and all(f.status not in ("waiting", "processing") for f in self.files)


def inbox(root: Path) -> Path:
    return Path(root) / "inbox"


CHUNK = 1 << 20  # bytes copied at a time from an upload to its file


def create_batch(root: Path, uploads: list[tuple[str, bytes | BinaryIO]], source: str, tags: list[str],
                 collection: str | None = None) -> Path:
    """Save uploaded files into a new batch folder; returns the folder. ZIPs are saved as they
    are: ingest keeps each ZIP as an original and makes every file in it a document.

    Each upload (bytes, or a file object such as Streamlit's UploadedFile) is written in chunks,
    then adopted by the store: its inbox file and its original are one file on disk (a hard
    link), so ingest finds the bytes stored already and the archive holds them once."""
    from archive.store import OriginalStore

    store = OriginalStore(root)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = inbox(root) / f"{stamp}-{os.urandom(3).hex()}"
    files_dir = folder / "files"
    files_dir.mkdir(parents=True)
    entries = []
    try:
        for raw_name, data in uploads:
            path = _unique(files_dir, safe_filename(raw_name))
            with open(path, "xb") as out:
                if isinstance(data, (bytes, bytearray, memoryview)):
                    out.write(data)
                else:
                    data.seek(0)
                    while chunk := data.read(CHUNK):
                        out.write(chunk)
            entries.append({"name": path.name, "sha256": store.adopt(path).sha256})
        manifest = {"id": folder.name, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                    "source": source, "tags": tags, **({"collection": collection} if collection else {}),
                    "files": entries}
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError as exc:
        from archive.diskspace import disk_full, is_disk_full

        if not is_disk_full(exc):
            raise
        # The half-written batch goes (without its manifest it would never be listed). Originals
        # adopted before the disk filled stay: another ingest may be cataloguing the same bytes
        # right now, and sending the files again finds them; until then `sanad verify` lists
        # them as originals missing from the catalog.
        shutil.rmtree(folder, ignore_errors=True)
        raise disk_full(root, exc) from exc
    return folder


def forget_uploads(files, key: str | None = None) -> None:
    """Let go of Streamlit's in-memory copies of uploaded files once they are on disk.

    Streamlit keeps every uploaded file's bytes in its UploadedFileManager until the browser
    deletes it or the session ends, whatever the script does; `clear_on_submit` only empties
    the widget in the browser. And the widget's value is kept twice: the session's widget state
    holds UploadedFile objects (each a BytesIO over the uploaded bytes) and the page gets a deep
    copy of them. The kept ones lived until a later full run replaced the widget's value, which
    after a quick batch might never come: the server then held every upload until the session
    ended. So the files are removed from the manager, and the page's copies and, for the widget
    with ``key``, the session's are closed (a closed BytesIO lets go of its bytes)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    kept = st.session_state.get(key) if key is not None and ctx is not None else None
    kept = kept if isinstance(kept, list) else [kept] if kept is not None else []
    for f in [*files, *kept]:
        if ctx is not None and getattr(f, "file_id", None):
            ctx.uploaded_file_mgr.remove_file(ctx.session_id, f.file_id)
        f.close()


def release_stored_files(folder: Path, batch: "Batch", originals: Path) -> int:
    """Remove the inbox names of files that ingest has finished with and whose original is
    stored: they are links to (or, across file systems, copies of) an original. Failed files
    keep theirs, for Retry. Returns how many were removed."""
    if batch.running:
        return 0
    removed = 0
    for state in batch.files:
        path = folder / "files" / state.name
        if state.status in ("ingested", "duplicate") and state.sha256 and path.is_file() \
                and (originals / state.sha256[:2] / state.sha256).is_file():
            path.unlink()
            removed += 1
    return removed


_processes: dict[str, subprocess.Popen] = {}  # batch folder -> running `sanad ingest`


def start_ingest(root: Path, folder: Path, names: list[str] | None = None) -> None:
    """Run `sanad ingest --json` on the batch's files in its own session, so it carries on when
    the browser (or this server) goes away. Results go to the batch's log, one JSON line each."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    names = names if names is not None else [f["name"] for f in manifest["files"]]
    if not names:
        return
    cmd = [sys.executable, "-m", "ui.cli", "--archive", str(root), "ingest",
           *[str(folder / "files" / n) for n in names], "--json"]
    if manifest.get("source"):
        cmd += ["--source", manifest["source"]]
    for tag in manifest.get("tags", []):
        cmd += ["--tag", tag]
    if manifest.get("collection"):  # team mode: the collection the uploader chose
        cmd += ["--collection", manifest["collection"]]
    offset = len(_read_log(folder))
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(folder / LOG, "a", encoding="utf-8") as out, open(folder / "ingest.err", "a") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    _processes[str(folder)] = proc
    runs = manifest.get("runs", []) + [{"pid": proc.pid, "files": names, "log_offset": offset,
                                        "at": datetime.now(UTC).isoformat(timespec="seconds")}]
    manifest["runs"] = runs
    (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")


def _alive(folder: Path, manifest: dict) -> bool:
    proc = _processes.get(str(folder))
    if proc is not None:
        return proc.poll() is None
    # Started by an earlier server: look at the process table.
    for run in manifest.get("runs", [])[-1:]:
        try:
            stat = Path(f"/proc/{run['pid']}/stat").read_text()
            cmdline = Path(f"/proc/{run['pid']}/cmdline").read_bytes()
        except OSError:
            return False
        return stat.rsplit(")", 1)[-1].split()[0] != "Z" and b"ui.cli" in cmdline
    return False


def _read_log(folder: Path) -> list[dict]:
    entries = []
    if (folder / LOG).exists():
        for line in (folder / LOG).read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                entries.append({})  # a line being written right now; keeps the count right
    return entries


def load_batch(root: Path, folder: Path, catalog) -> Batch:
    """What became of each file of a batch: the log says how each file ended, the catalog how
    many of its pages are done so far."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    files_dir = str(folder / "files") + os.sep
    states = {f["name"]: FileState(f["name"], f["sha256"]) for f in manifest["files"]}
    log = _read_log(folder)
    last_run = (manifest.get("runs") or [{}])[-1]
    running = _alive(folder, manifest)
    for number, entry in enumerate(log):
        if not entry:
            continue
        path = str(entry.get("path", ""))
        name = path[len(files_dir):] if path.startswith(files_dir) else path
        state = states.setdefault(name, FileState(name, None))
        if running and name in last_run.get("files", []) and number < last_run.get("log_offset", 0):
            continue  # an outcome of an earlier run of a file being retried now
        state.status = entry.get("status", "failed")
        state.error = entry.get("error")
        state.document_id = entry.get("document_id")
        state.joined = entry.get("joined")
    for state in states.values():
        doc = catalog.get_document(state.sha256) if state.sha256 else None
        if doc is not None:
            pages = catalog.pages(doc.id)
            state.pages_total = len(pages)
            state.pages_done = sum(p.status != "pending" for p in pages)
            state.document_id = doc.id
        if state.status == "waiting" and running and doc is not None:
            state.status = "processing"
        if state.status == "waiting" and not running and state.name in last_run.get("files", []):
            state.status, state.error = "failed", "the ingest process stopped before this file was done; retry it"
    return Batch(manifest["id"], folder, manifest["created"], manifest.get("source", ""),
                 manifest.get("tags", []), list(states.values()), running)


def list_batches(root: Path) -> list[Path]:
    folder = inbox(root)
    if not folder.exists():
        return []
    return sorted((p for p in folder.iterdir() if (p / MANIFEST).exists()), reverse=True)


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
