"""Unpack ZIP files safely: no path escapes the target folder, no bomb fills the disk, and no
member name (a folder's name, 300 bytes, '..', NUL, a duplicate) can stop a batch.

Members are written under numbered names (``000001``, ``000002``, ...) in a flat scratch
folder: the name written in the ZIP never touches the file system. It is kept, made printable,
as the member's display path (``c.zip/a/b.txt``) and receipt filename.
"""

from __future__ import annotations

import shutil
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from archive.errors import EncryptedFile, InputError, TooLarge
from archive.diskspace import is_disk_full

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200  # uncompressed/compressed; ordinary documents stay far below this
MAX_NAME_CHARS = 1000  # a display path longer than this is cut (receipts and lines stay readable)
CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    name: str  # the name as written in the ZIP, made printable and unique within it
    path: Path | None  # where it was unpacked, None when it could not be
    error: str | None = None


def safe_name(name: str) -> str:
    """The member's name for display and receipts: a relative path with no '..', drive letters,
    leading slashes, NUL or control characters, whatever the ZIP says. Never used on disk."""
    name = "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in name.replace("\\", "/"))
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".", "..", "/")]
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts = parts[1:]  # C:/Users/... written by a Windows tool
    text = "/".join(parts) or "unnamed"
    return text if len(text) <= MAX_NAME_CHARS else text[:MAX_NAME_CHARS - 1] + "…"


def members(zip_path: Path) -> list[zipfile.ZipInfo]:
    """The files of a ZIP, checked before anything is unpacked. Raises InputError for a ZIP
    that cannot be opened and TooLarge for one with too many files."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"a damaged ZIP file ({exc})") from None
    if len(infos) > MAX_MEMBERS:
        raise TooLarge(f"the ZIP holds {len(infos):,} files; the limit is {MAX_MEMBERS:,}")
    return infos


def unpack(zip_path: Path, target: Path) -> Iterator[Member]:
    """Unpack one member at a time into ``target``; yields each member, unpacked or with its reason.
    Disk full is raised (it is not the member's fault); any other problem is the member's."""
    infos = members(zip_path)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"a damaged ZIP file ({exc})") from None
    seen: set[str] = set()
    with archive:
        total = 0
        for number, info in enumerate(infos, start=1):
            name = _unique(safe_name(info.filename), seen)
            if info.flag_bits & 0x1:
                yield Member(name, None, str(EncryptedFile("the file in the ZIP is password-protected")))
                continue
            dest = target / f"{number:06d}"
            try:
                written = _extract(archive, info, dest, budget=MAX_TOTAL_BYTES - total)
            except Exception as exc:  # noqa: BLE001 - zlib, bz2 and zipfile raise many kinds
                dest.unlink(missing_ok=True)
                if is_disk_full(exc):
                    raise
                yield Member(name, None, str(exc) if isinstance(exc, InputError) else f"cannot be unpacked ({exc})")
                continue
            total += written
            yield Member(name, dest)


def _unique(name: str, seen: set[str]) -> str:
    # A ZIP may hold the same name twice; each member still gets a line of its own.
    candidate, n = name, 1
    while candidate in seen:
        n += 1
        candidate = f"{name} ({n})"
    seen.add(candidate)
    return candidate


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int) -> int:
    limit = min(MAX_MEMBER_BYTES, budget)
    if info.file_size > limit:
        raise TooLarge(f"unpacks to {info.file_size:,} bytes, over the limit of {limit:,}")
    written = 0
    # The sizes in a ZIP's directory can lie: count what actually comes out.
    with archive.open(info) as src, open(dest, "wb") as out:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > limit or (written > (10 << 20) and written > MAX_RATIO * max(info.compress_size, 1)):
                raise TooLarge("unpacks to far more than its compressed size (a ZIP bomb?)")
            out.write(chunk)
    return written


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
