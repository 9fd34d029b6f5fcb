"""Unpack ZIP files safely: no path escapes the target folder, no bomb fills the disk."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from archive.errors import EncryptedFile, InputError, TooLarge

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 4 << 30
MAX_RATIO = 200  # uncompressed/compressed; ordinary documents stay far below this
CHUNK = 1 << 20


@dataclass
class Member:
    name: str  # as written in the ZIP, for messages
    path: Path | None  # where it was unpacked, None when it could not be
    error: str | None = None


def safe_name(name: str) -> str:
    """A relative path with no '..', drive letters or leading slashes, whatever the ZIP says."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
    parts = [p.replace(":", "_") for p in parts]
    return "/".join(parts) or "unnamed"


def unpack(zip_path: Path, target: Path) -> Iterator[Member]:
    """Unpack one member at a time into ``target``; yields each member, unpacked or with its reason."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"a damaged ZIP file ({exc})") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise TooLarge(f"the ZIP holds {len(infos):,} files; the limit is {MAX_MEMBERS:,}")
        total = 0
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                yield Member(name, None, str(EncryptedFile("the file in the ZIP is password-protected")))
                continue
            dest = target / safe_name(name)
            try:
                written = _extract(archive, info, dest, budget=MAX_TOTAL_BYTES - total)
            except Exception as exc:  # noqa: BLE001 - zlib, bz2 and zipfile raise many kinds
                dest.unlink(missing_ok=True)
                yield Member(name, None, str(exc) if isinstance(exc, InputError) else f"cannot be unpacked ({exc})")
                continue
            total += written
            yield Member(name, dest)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, budget: int) -> int:
    limit = min(MAX_MEMBER_BYTES, budget)
    if info.file_size > limit:
        raise TooLarge(f"unpacks to {info.file_size:,} bytes, over the limit of {limit:,}")
    dest.parent.mkdir(parents=True, exist_ok=True)
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
