"""The workbench's background ingest batches under ROOT/inbox/: each upload saved as a batch
folder (its files, a manifest, the ingest's log), a `sanad ingest` process started on it, and
its progress read back from the log and the catalog, so a batch survives a reload or a restart
of the workbench."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import streamlit as st

REPO = Path(__file__).resolve().parent.parent

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


def any_running(root: Path) -> bool:
    """Whether an ingest started by the workbench is running on the archive at ``root``."""
    return any(_alive(f, json.loads((f / MANIFEST).read_text(encoding="utf-8"))) for f in list_batches(root))
