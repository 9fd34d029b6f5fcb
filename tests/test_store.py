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
