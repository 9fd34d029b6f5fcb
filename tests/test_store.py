import hashlib
import os
import stat

import pytest

from archive.errors import InputError
from archive.store import OriginalStore


def test_add_stores_by_hash_read_only(tmp_path):
    store = OriginalStore(tmp_path / "a")
    src = tmp_path / "letter.txt"
    src.write_bytes("نامه ۱۲۳".encode())
    stored = store.add(src)
    assert stored.sha256 == hashlib.sha256(src.read_bytes()).hexdigest()
    assert stored.created and stored.path == store.path_for(stored.sha256)
    assert stored.path.read_bytes() == src.read_bytes()
    assert not stat.S_IMODE(os.stat(stored.path).st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert list(store.tmp.iterdir()) == []


def test_same_bytes_twice_is_one_original(tmp_path):
    store = OriginalStore(tmp_path / "a")
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("same")
    two.write_text("same")
    first, second = store.add(one), store.add(two)
    assert first.sha256 == second.sha256 and not second.created
    assert store.all_hashes() == {first.sha256}
    assert list(store.tmp.iterdir()) == []


def test_missing_file_is_a_clear_error(tmp_path):
    store = OriginalStore(tmp_path / "a")
    with pytest.raises(InputError, match="no such file"):
        store.add(tmp_path / "nope.pdf")
    assert list(store.tmp.iterdir()) == []


def test_clean_tmp_removes_leftovers(tmp_path):
    store = OriginalStore(tmp_path / "a")
    (store.tmp / "999999999-incoming-x").write_bytes(b"half a file from a dead process")
    (store.tmp / "999999999-unzip").mkdir()
    mine = store.scratch("unzip")  # this process is alive: its files stay
    assert store.clean_tmp() == 2
    assert list(store.tmp.iterdir()) == [mine]


# -- adopting a file the archive owns (uploads in inbox/): linked, not copied ---------------------

def _write_only_bits(path):
    return stat.S_IMODE(os.stat(path).st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_adopt_links_instead_of_copying(tmp_path):
    store = OriginalStore(tmp_path / "a")
    upload = tmp_path / "a" / "inbox" / "letter.pdf"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"%PDF-1.4 an upload")
    stored = store.adopt(upload)
    assert stored.created and stored.sha256 == hashlib.sha256(b"%PDF-1.4 an upload").hexdigest()
    assert os.path.samefile(upload, stored.path) and os.stat(upload).st_nlink == 2  # one file, two names
    assert not _write_only_bits(stored.path)  # read-only like every original
    assert list(store.tmp.iterdir()) == []


def test_adopt_of_stored_bytes_links_to_the_existing_original(tmp_path):
    store = OriginalStore(tmp_path / "a")
    first = tmp_path / "first.txt"
    first.write_text("same bytes")
    original = store.add(first)
    upload = tmp_path / "a" / "inbox" / "again.txt"
    upload.parent.mkdir(parents=True)
    upload.write_text("same bytes")
    stored = store.adopt(upload)
    assert not stored.created and stored.path == original.path
    assert os.path.samefile(upload, original.path) and upload.read_text() == "same bytes"
    assert [p.name for p in upload.parent.iterdir()] == ["again.txt"]  # no leftover link name


def test_add_of_an_adopted_file_copies_nothing(tmp_path):
    store = OriginalStore(tmp_path / "a")
    upload = tmp_path / "a" / "inbox" / "scan.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(os.urandom(3 << 20))
    adopted = store.adopt(upload)
    inode = os.stat(adopted.path).st_ino
    again = store.add(upload)  # what `sanad ingest` does with the inbox file
    assert again == type(again)(adopted.sha256, adopted.size, adopted.path, created=False)
    assert os.stat(again.path).st_ino == inode and list(store.tmp.iterdir()) == []


def test_add_of_a_linked_file_that_is_no_original_still_copies(tmp_path):
    store = OriginalStore(tmp_path / "a")
    src, other = tmp_path / "src.txt", tmp_path / "other-name.txt"
    src.write_text("a user's file with two names")
    os.link(src, other)
    stored = store.add(src)
    assert stored.created and not os.path.samefile(src, stored.path)
    assert _write_only_bits(src)  # the user's file keeps its permissions


def test_adopt_across_file_systems_copies(tmp_path):
    shm = "/dev/shm"
    if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system (/dev/shm)")
    import tempfile

    with tempfile.TemporaryDirectory(dir=shm) as other:
        store = OriginalStore(tmp_path / "a")
        upload = os.path.join(other, "upload.txt")
        with open(upload, "w") as f:
            f.write("bytes on another disk")
        stored = store.adopt(type(tmp_path)(upload))
        assert stored.path.read_text() == "bytes on another disk"
        assert not os.path.samefile(upload, stored.path)
