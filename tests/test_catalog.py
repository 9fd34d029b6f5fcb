import sqlite3

import pytest

from archive.catalog import SCHEMA_VERSION, Catalog, now
from archive.models import Document, Page, Receipt, WordBox


def _doc(doc_id="ab" * 32):
    return Document(id=doc_id, filename="نامه.pdf", media_type="application/pdf", size=10, added_at=now(),
                    source="leak 1", tags=["prisons"])


def test_schema_versioned_and_wal(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    assert cat.schema_version == SCHEMA_VERSION
    assert cat._query("PRAGMA journal_mode")[0][0] == "wal"
    cat.close()
    # Opening again runs no migration twice.
    assert Catalog(tmp_path / "c.sqlite").schema_version == SCHEMA_VERSION


def test_document_pages_receipts_and_audit(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    doc = _doc()
    cat.add_document(doc, Receipt(doc.id, "نامه.pdf", now(), "tester", "leak 1"))
    cat.add_receipt(Receipt(doc.id, "copy.pdf", now(), "tester", "leak 2"), tags=["masks"])
    cat.plan_pages(doc.id, 2)
    assert cat.pending_pages(doc.id) == [1, 2]
    words = [WordBox("زندان", 10, 20, 30, 40, 91.5, 1)]
    cat.save_page(Page(doc.id, 1, "زندان", "ocr", "fa", 91.5, 100, 200, words, "done"))
    cat.save_page(Page(doc.id, 2, "", "", "", None, None, None, [], "failed", "unreadable"))
    assert cat.pending_pages(doc.id) == []
    assert cat.page(doc.id, 1).words == words
    finished = cat.finish_document(doc.id)
    assert finished.status == "done" and "page 2: unreadable" in finished.error
    assert finished.filenames == ["نامه.pdf", "copy.pdf"]
    assert finished.tags == ["masks", "prisons"]
    assert [a["action"] for a in cat.audit_log(doc.id)] == ["ingest-duplicate", "ingest"]


def test_audit_log_is_append_only(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    cat.audit("tester", "export", None, {"rows": 3})
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        cat._db.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        cat._db.execute("DELETE FROM audit")


def test_metadata_edit_is_audited_with_old_and_new(tmp_path):
    cat = Catalog(tmp_path / "c.sqlite")
    doc = _doc()
    cat.add_document(doc, Receipt(doc.id, "نامه.pdf", now(), "tester"))
    cat.update_metadata(doc.id, "editor", title="نامه سازمان زندان‌ها", tags=["prisons", "masks"])
    entry = cat.audit_log(doc.id)[0]
    assert entry["action"] == "edit" and entry["actor"] == "editor"
    assert entry["detail"]["title"] == {"old": "", "new": "نامه سازمان زندان‌ها"}
    assert cat.get_document(doc.id).tags == ["masks", "prisons"]
