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
from typing import BinaryIO

import streamlit as st

from archive.archive import Archive, default_root
from archive.errors import IndexNotReady
from archive.models import Hit, Page

REPO = Path(__file__).resolve().parent.parent
FA_FONTS = "'Vazirmatn','Noto Naskh Arabic','Nazli',sans-serif"
DISPLAY_WIDTH = 1200  # pixels of the page image sent to the browser
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
    return index


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


def marked(text: str, spans: list[tuple[int, int]]) -> str:
    """Escaped ``text`` with the character ranges ``spans`` wrapped in <mark>."""
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last or end <= start:
            continue
        out += [esc(text[last:start]), "<mark>", esc(text[start:end]), "</mark>"]
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def text_block(text: str, lang: str, spans: list[tuple[int, int]] | None = None, testid: str = "page-text") -> str:
    """A page of text as HTML: one <div dir="auto"> per line so that mixed Persian/English lines
    each keep their own direction; the block is aligned by the page's language."""
    spans = sorted(spans or [])
    lines, pos = [], 0
    for raw in text.split("\n"):
        end = pos + len(raw)
        inner = [(max(s, pos) - pos, min(e, end) - pos) for s, e in spans if s < end and e > pos]
        body = marked(raw, inner) or "&nbsp;"
        # In a page of one language the lines follow it; in a mixed page each line aligns by its own.
        align = "" if lang in ("fa", "en") else ' style="text-align:start"'
        lines.append(f'<div dir="auto"{align}>{body}</div>')
        pos = end + 1
    return (f'<div class="sanad-text" data-testid="{testid}" {direction_attrs(lang)}>'
            + "".join(lines) + "</div>")


def snippet_html(hit: Hit) -> str:
    lang = hit.lang if hit.lang in ("fa", "en") else lang_of(hit.snippet)
    return (f'<div class="sanad-snippet" {direction_attrs(lang)}>'
            f'<span dir="auto">{marked(hit.snippet, hit.spans)}</span></div>')


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

def matching_boxes(page: Page, terms: list[str], schema) -> list:
    """The word boxes of a page whose analysed text gives one of the matched index terms."""
    wanted = set(terms)
    if not wanted:
        return []
    analyzers = [schema["text"].analyzer, schema["exact"].analyzer]
    found = []
    for word in page.words:
        tokens = {t.text for a in analyzers for t in a(word.text, mode="index")} if word.text.strip() else set()
        if tokens & wanted:
            found.append(word)
    return found


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


def page_view_html(image, boxes, *, page_w: int | None, page_h: int | None, alt: str) -> str:
    """The page image with one semi-transparent rectangle per box, positioned in percent of the
    image so they stay on their words at whatever width the browser shows the image."""
    w, h = image.size
    ref_w, ref_h = page_w or w, page_h or h
    scale = min(1.0, DISPLAY_WIDTH / w)
    small = image.resize((max(1, int(w * scale)), max(1, int(h * scale)))) if scale < 1 else image
    buf = io.BytesIO()
    small.convert("RGB").save(buf, format="JPEG", quality=85)
    data = base64.b64encode(buf.getvalue()).decode()
    marks = "".join(
        f'<div class="sanad-hl" data-testid="highlight-box" style="position:absolute;'
        f"left:{100 * b.left / ref_w:.3f}%;top:{100 * b.top / ref_h:.3f}%;"
        f"width:{100 * b.width / ref_w:.3f}%;height:{100 * b.height / ref_h:.3f}%;"
        f'background:rgba(255,213,0,0.40);outline:2px solid rgba(230,120,0,0.9);border-radius:2px"></div>'
        for b in boxes)
    return (f'<div data-testid="page-image" style="position:relative;display:inline-block;width:100%">'
            f'<img src="data:image/jpeg;base64,{data}" alt="{esc(alt)}" style="width:100%;display:block;'
            f'border:1px solid #ccc">{marks}</div>')


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


def forget_uploads(files) -> None:
    """Let go of Streamlit's in-memory copies of uploaded files once they are on disk.

    Streamlit keeps every uploaded file's bytes in its UploadedFileManager until the browser
    deletes it or the session ends, whatever the script does; `clear_on_submit` only empties
    the widget. Removing them from the manager and closing each UploadedFile (a BytesIO over
    the same bytes) frees the memory now instead of at the end of the session."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    for f in files:
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
    return render_page_image(Path(original), media_type, number, width, height)


def page_image(archive: Archive, doc, page: Page):
    """The page's picture, or None for documents that are text (HTML, DOCX, plain text)."""
    if not (doc.media_type.startswith("image/") or doc.media_type == "application/pdf"):
        return None
    return _cached_page_image(str(archive.original_path(doc.id)), doc.media_type, page.number,
                              page.width, page.height)
