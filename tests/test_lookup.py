"""Short document ids: a prefix names the documents whose id starts with it, and nothing else.

`?doc=____` once matched every document: the prefix went to SQL LIKE, where `_` and `%` are
wildcards (issue #17, item 13).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def two_documents(sanad, tmp_path) -> list[str]:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.txt").write_text("first document about prisons", encoding="utf-8")
    (folder / "b.txt").write_text("second document about masks", encoding="utf-8")
    return sorted(r["document_id"] for r in sanad.json("ingest", str(folder)))


@pytest.mark.parametrize("prefix", ["____", "%%%%", "%", "_", "a_%", "", "zzzz", "0x12", " 1234"])
def test_wildcards_and_non_hex_match_nothing(archive, prefix):
    from archive.models import Document, Receipt

    for digit in "0af":
        doc_id = digit * 64
        archive.catalog.add_document(Document(id=doc_id, filename=f"{digit}.txt", media_type="text/plain", size=1,
                                              added_at="2024-01-01T00:00:00+00:00"),
                                     Receipt(doc_id, f"{digit}.txt", "2024-01-01T00:00:00+00:00", "t", None))
    assert archive.catalog.find_documents(prefix) == []


def test_prefix_finds_exactly_its_documents(archive):
    from archive.models import Document, Receipt

    ids = ["ab" + "0" * 62, "ab" + "f" * 62, "ac" + "0" * 62]
    for doc_id in ids:
        archive.catalog.add_document(Document(id=doc_id, filename="x", media_type="text/plain", size=1,
                                              added_at="2024-01-01T00:00:00+00:00"),
                                     Receipt(doc_id, "x", "2024-01-01T00:00:00+00:00", "t", None))
    assert sorted(d.id for d in archive.catalog.find_documents("ab")) == ids[:2]
    assert [d.id for d in archive.catalog.find_documents("AC")] == ids[2:]  # typed in capitals
    assert [d.id for d in archive.catalog.find_documents(ids[1])] == ids[1:2]
    assert archive.catalog.find_documents(ids[1] + "0") == []


@pytest.mark.parametrize("prefix", ["____", "%%%%", "____%"])
def test_show_with_wildcards_is_not_found(sanad, two_documents, prefix):
    out = sanad("show", prefix, check=3)
    assert "no document with id" in out.stderr


def test_show_with_a_real_prefix_still_works(sanad, two_documents):
    shown = sanad.json("show", two_documents[0][:8])[0]
    assert shown["document_id"] == two_documents[0]
