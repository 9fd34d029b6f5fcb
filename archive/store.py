"""Content-addressed, write-once storage of original files.

An original lives at ``originals/<first two hex digits>/<sha256>``. It is written to a
temporary file in the same file system, fsynced, then renamed into place, so a crash at any
moment leaves either the complete file or nothing under ``originals/``. An upload the archive
owns already (in ``inbox/``) is hard-linked instead (``adopt``), so its bytes are on disk once.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from archive.diskspace import disk_full, is_disk_full
from archive.errors import InputError

CHUNK = 1 << 20


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    path: Path
    created: bool  # False when the same bytes were already stored


class OriginalStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.originals = self.root / "originals"
        self.tmp = self.root / "tmp"
        self.originals.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_for(self, sha256: str) -> Path:
        return self.originals / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def add(self, source: Path) -> Stored:
        """Copy ``source`` into the store, hashing while copying; return where it lives."""
        linked = self._already_linked(source)
        if linked is not None:
            return linked
        digest = hashlib.sha256()
        size = 0
        tmp_path = None
        try:
            with _open_regular(source) as src:
                fd, name = tempfile.mkstemp(dir=self.tmp, prefix=f"{os.getpid()}-incoming-")
                tmp_path = Path(name)
                with os.fdopen(fd, "wb") as out:
                    while chunk := _read(src, source):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha)
            if final.exists():
                _discard(tmp_path)
                return Stored(sha, size, final, created=False)
            final.parent.mkdir(exist_ok=True)
            os.chmod(tmp_path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            os.replace(tmp_path, final)
            _fsync_dir(final.parent)
        except InputError:
            _discard(tmp_path)
            raise
        except OSError as exc:
            # Everything left in this block writes to the archive: reading the source is
            # handled in _open_regular and _read, so this is the archive's disk, not the file.
            _discard(tmp_path)
            if is_disk_full(exc):
                raise disk_full(self.root, exc) from exc
            raise
        return Stored(sha, size, final, created=True)

    def adopt(self, path: Path) -> Stored:
        """Make ``path`` the stored original of its bytes without copying them: a hard link into
        ``originals/`` (when those bytes are stored already, ``path`` becomes a link to that
        original instead). Afterwards ``path`` and the original are one file, so it is made
        read-only like every original. Only for files the archive owns and nobody else will
        write, such as uploads in ``inbox/``; a user's own files go through ``add``, which copies.
        Where hard links are impossible (another file system), this copies like ``add``."""
        path = Path(path)
        with open(path, "rb+") as f:  # the bytes are on disk before a name in originals/ points at them
            os.fsync(f.fileno())
        digest, size = _hash(path)
        final = self.path_for(digest)
        final.parent.mkdir(exist_ok=True)
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        try:
            try:
                os.link(path, final)
                created = True
            except FileExistsError:
                # Stored before: keep that original, and make path another name of it.
                twin = path.with_name(f".{path.name}.{os.getpid()}.link")
                _discard(twin)
                os.link(final, twin)
                os.replace(twin, path)
                created = False
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            return self.add(path)
        _fsync_dir(final.parent)
        _fsync_dir(path.parent)
        return Stored(digest, size, final, created)

    def _already_linked(self, source: Path) -> Stored | None:
        """``source`` when it is itself a stored original under another name (an adopted upload):
        then there is nothing to copy. Only files with several links are hashed to find out."""
        try:
            info = os.stat(source)
        except OSError:
            return None  # add() reports it
        if info.st_nlink < 2 or not stat.S_ISREG(info.st_mode):
            return None
        digest, size = _hash(Path(source))
        final = self.path_for(digest)
        try:
            same = os.path.samefile(source, final)
        except OSError:
            return None
        return Stored(digest, size, final, created=False) if same else None

    def hash_of(self, sha256: str) -> str:
        digest = hashlib.sha256()
        with open(self.path_for(sha256), "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def all_hashes(self) -> set[str]:
        return {p.name for p in self.originals.glob("??/*") if p.is_file()}

    def scratch(self, name: str) -> Path:
        """A private folder for this process's temporary files (unpacked ZIPs, ...)."""
        folder = self.tmp / f"{os.getpid()}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def clean_tmp(self) -> int:
        """Remove temporary files left by interrupted processes; they never became originals.

        Entries are named after the process that made them, so a second `sanad` running at
        the same time keeps its own files.
        """
        removed = 0
        for p in self.tmp.iterdir():
            pid = p.name.split("-", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                _discard(p)
            removed += 1
        return removed


def _hash(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _open_regular(source: Path):
    """Open a file for reading only if it is a regular file: a FIFO would block forever and a
    device could be endless. O_NONBLOCK makes the open itself return at once whatever it is."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise InputError(f"{source}: no such file") from None
    except PermissionError:
        raise InputError(f"{source}: permission denied; check the file's read permissions") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    try:
        kind = special_kind(os.fstat(fd).st_mode)
        if kind:
            raise InputError(f"{source}: {kind}, not a file; skipped")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def special_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _read(src, source: Path) -> bytes:
    try:
        return src.read(CHUNK)
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror or exc})") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _discard(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
