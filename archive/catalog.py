"""The SQLite catalog: documents, pages, receipts and an append-only audit log.

The catalog is the source of truth. The search index is derived from it and can be rebuilt
from it at any time (``sanad reindex``).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from archive.models import Document, Page, Receipt, WordBox

_HEX = re.compile(r"[0-9a-f]+")  # a document id, or the start of one

# Each entry upgrades the schema by one version. Never edit a released entry: add a new one.
MIGRATIONS: list[str] = [
    # 1: first release
    """
    CREATE TABLE documents (
        id          TEXT PRIMARY KEY,
        filename    TEXT NOT NULL,
        media_type  TEXT NOT NULL,
        size        INTEGER NOT NULL,
        added_at    TEXT NOT NULL,
        page_count  INTEGER NOT NULL DEFAULT 0,
        title       TEXT NOT NULL DEFAULT '',
        source      TEXT NOT NULL DEFAULT '',
        notes       TEXT NOT NULL DEFAULT '',
        languages   TEXT NOT NULL DEFAULT '',
        status      TEXT NOT NULL DEFAULT 'pending',
        error       TEXT,
        indexed     INTEGER NOT NULL DEFAULT 0,
        updated_at  TEXT NOT NULL
    );
    CREATE INDEX documents_status ON documents(status);
    CREATE TABLE receipts (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id  TEXT NOT NULL REFERENCES documents(id),
        filename     TEXT NOT NULL,
        received_at  TEXT NOT NULL,
        actor        TEXT NOT NULL,
        source       TEXT
    );
    CREATE INDEX receipts_document ON receipts(document_id);
    CREATE TABLE tags (
        document_id  TEXT NOT NULL REFERENCES documents(id),
        tag          TEXT NOT NULL,
        PRIMARY KEY (document_id, tag)
    );
    CREATE TABLE pages (
        document_id  TEXT NOT NULL REFERENCES documents(id),
        number       INTEGER NOT NULL,
        text         TEXT NOT NULL DEFAULT '',
        method       TEXT NOT NULL DEFAULT '',
        lang         TEXT NOT NULL DEFAULT '',
        confidence   REAL,
        width        INTEGER,
        height       INTEGER,
        words        TEXT NOT NULL DEFAULT '[]',
        status       TEXT NOT NULL DEFAULT 'pending',
        error        TEXT,
        updated_at   TEXT NOT NULL,
        PRIMARY KEY (document_id, number)
    );
    CREATE INDEX pages_status ON pages(status);
    CREATE TABLE page_dates (
        document_id  TEXT NOT NULL REFERENCES documents(id),
        page         INTEGER NOT NULL,
        day          TEXT NOT NULL,
        text         TEXT NOT NULL,
        calendar     TEXT NOT NULL
    );
    CREATE INDEX page_dates_page ON page_dates(document_id, page);
    CREATE INDEX page_dates_day ON page_dates(day);
    CREATE TABLE audit (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        at           TEXT NOT NULL,
        actor        TEXT NOT NULL,
        action       TEXT NOT NULL,
        document_id  TEXT,
        detail       TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: the character encoding a text page was decoded from, and the NUL bytes dropped from it
    """
    ALTER TABLE pages ADD COLUMN encoding TEXT NOT NULL DEFAULT '';
    ALTER TABLE pages ADD COLUMN nuls_removed INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: team mode: accounts, collections and who may read them (archive/accounts.py,
    # archive/collections.py). Every document belongs to one or more collections; those of a
    # personal archive go to "default". The audit log gains the address a request came from
    # (adding a column fires no trigger, so it stays append-only).
    """
    CREATE TABLE users (
        name        TEXT PRIMARY KEY,
        password    TEXT NOT NULL,
        admin       INTEGER NOT NULL DEFAULT 0,
        disabled    INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE collections (
        name        TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL
    );
    INSERT INTO collections (name, created_at) VALUES ('default', strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'));
    CREATE TABLE memberships (
        collection  TEXT NOT NULL REFERENCES collections(name),
        user        TEXT NOT NULL REFERENCES users(name),
        role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        PRIMARY KEY (collection, user)
    );
    CREATE INDEX memberships_user ON memberships(user);
    CREATE TABLE document_collections (
        document_id TEXT NOT NULL REFERENCES documents(id),
        collection  TEXT NOT NULL REFERENCES collections(name),
        PRIMARY KEY (document_id, collection)
    );
    CREATE INDEX document_collections_collection ON document_collections(collection);
    INSERT INTO document_collections (document_id, collection) SELECT id, 'default' FROM documents;
    CREATE TABLE login_state (
        user          TEXT PRIMARY KEY,
        failures      INTEGER NOT NULL DEFAULT 0,
        locked_until  TEXT
    );
    CREATE TABLE sessions (
        token_hash  TEXT PRIMARY KEY,
        user        TEXT NOT NULL REFERENCES users(name),
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        address     TEXT
    );
    ALTER TABLE audit ADD COLUMN address TEXT;
    CREATE INDEX audit_actor ON audit(actor);
    CREATE INDEX audit_at ON audit(at);
    """,
    # 4: OCR pages: bands of ink in which no word was read (the page is possibly incomplete)
    """
    ALTER TABLE pages ADD COLUMN unread_lines INTEGER NOT NULL DEFAULT 0;
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Catalog:
    """One connection to the catalog. Safe to share between threads of one process."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The ingest process and the UI write at the same time: wait for the lock, don't fail.
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._full_disk():
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()

    def close(self) -> None:
        self._db.close()

    # -- plumbing -----------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.transaction():
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                from archive.errors import IntegrityError

                raise IntegrityError(
                    f"{self.path} was written by a newer Sanad (schema {version}); upgrade Sanad"
                )
            for number in range(version, SCHEMA_VERSION):
                for statement in _split_sql(MIGRATIONS[number]):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._full_disk():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                    self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _query(self, sql: str, args: Iterable = ()) -> list[sqlite3.Row]:
        with self._lock, self._full_disk():
            return self._db.execute(sql, tuple(args)).fetchall()

    @contextmanager
    def _full_disk(self) -> Iterator[None]:
        # "database or disk is full" is no bug and no bad file: name it so the batch stops cleanly.
        try:
            yield
        except sqlite3.Error as exc:
            from archive.diskspace import disk_full, is_disk_full

            if is_disk_full(exc):
                raise disk_full(self.path.parent, exc) from exc
            raise

    @property
    def schema_version(self) -> int:
        return self._query("PRAGMA user_version")[0][0]

    # -- documents ----------------------------------------------------------------------

    def add_document(self, doc: Document, receipt: Receipt) -> bool:
        """Add a new document; False (and nothing written) when another process added it first."""
        with self.transaction() as db:
            added = db.execute(
                "INSERT OR IGNORE INTO documents (id, filename, media_type, size, added_at, title, source,"
                " status, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (doc.id, doc.filename, doc.media_type, doc.size, doc.added_at, doc.title,
                 doc.source, doc.status, now()),
            ).rowcount
            if not added:
                return False
            for tag in doc.tags:
                db.execute("INSERT OR IGNORE INTO tags VALUES (?,?)", (doc.id, tag))
            self._insert_receipt(db, receipt)
            self._audit(db, receipt.actor, "ingest", doc.id,
                        {"filename": receipt.filename, "source": receipt.source, "sha256": doc.id})
        return True

    def add_receipt(self, receipt: Receipt, tags: Iterable[str] = ()) -> None:
        """Record that known bytes were added again, perhaps under another name or source."""
        with self.transaction() as db:
            self._insert_receipt(db, receipt)
            for tag in tags:
                db.execute("INSERT OR IGNORE INTO tags VALUES (?,?)", (receipt.document_id, tag))
            self._audit(db, receipt.actor, "ingest-duplicate", receipt.document_id,
                        {"filename": receipt.filename, "source": receipt.source})

    @staticmethod
    def _insert_receipt(db: sqlite3.Connection, r: Receipt) -> None:
        db.execute(
            "INSERT INTO receipts (document_id, filename, received_at, actor, source) VALUES (?,?,?,?,?)",
            (r.document_id, r.filename, r.received_at, r.actor, r.source),
        )

    def get_document(self, doc_id: str) -> Document | None:
        rows = self._query("SELECT * FROM documents WHERE id = ?", (doc_id,))
        return self._document(rows[0]) if rows else None

    def find_documents(self, prefix: str) -> list[Document]:
        """Documents whose id starts with ``prefix`` (users type short hashes).

        Ids are lowercase hex, so anything else names no document. The lookup is a range on
        the id, not LIKE: LIKE gives `%` and `_` a meaning, and `?doc=____` matched them all."""
        prefix = prefix.lower()
        if not prefix or not _HEX.fullmatch(prefix):
            return []
        # 'g' sorts after every hex digit: [prefix, prefix + 'g') is every id starting with prefix.
        rows = self._query("SELECT * FROM documents WHERE id >= ? AND id < ? ORDER BY added_at",
                           (prefix, prefix + "g"))
        return [self._document(r) for r in rows]

    def list_documents(self, status: str | None = None) -> list[Document]:
        if status:
            rows = self._query("SELECT * FROM documents WHERE status = ? ORDER BY added_at, id", (status,))
        else:
            rows = self._query("SELECT * FROM documents ORDER BY added_at, id")
        return [self._document(r) for r in rows]

    def document_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT id FROM documents")}

    def _document(self, row: sqlite3.Row) -> Document:
        tags = [r[0] for r in self._query("SELECT tag FROM tags WHERE document_id = ? ORDER BY tag", (row["id"],))]
        names = [r[0] for r in self._query(
            "SELECT DISTINCT filename FROM receipts WHERE document_id = ? ORDER BY id", (row["id"],))]
        return Document(
            id=row["id"], filename=row["filename"], media_type=row["media_type"], size=row["size"],
            added_at=row["added_at"], page_count=row["page_count"], title=row["title"],
            source=row["source"], notes=row["notes"], tags=tags,
            languages=[x for x in row["languages"].split(",") if x], status=row["status"],
            error=row["error"], filenames=names,
        )

    def receipts(self, doc_id: str) -> list[Receipt]:
        rows = self._query("SELECT * FROM receipts WHERE document_id = ? ORDER BY id", (doc_id,))
        return [Receipt(r["document_id"], r["filename"], r["received_at"], r["actor"], r["source"]) for r in rows]

    def set_status(self, doc_id: str, status: str, error: str | None = None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE documents SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                       (status, error, now(), doc_id))

    def set_media_type(self, doc_id: str, media_type: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE documents SET media_type = ?, updated_at = ? WHERE id = ?",
                       (media_type, now(), doc_id))

    def update_metadata(self, doc_id: str, actor: str, *, title: str | None = None,
                        source: str | None = None, notes: str | None = None,
                        tags: list[str] | None = None) -> None:
        """Edit what a person may edit; every change lands in the audit log with old and new values."""
        doc = self.get_document(doc_id)
        if doc is None:
            from archive.errors import InputError

            raise InputError(f"no document {doc_id}")
        changes = {}
        for name, value in (("title", title), ("source", source), ("notes", notes)):
            if value is not None and value != getattr(doc, name):
                changes[name] = {"old": getattr(doc, name), "new": value}
        if tags is not None and sorted(set(tags)) != doc.tags:
            changes["tags"] = {"old": doc.tags, "new": sorted(set(tags))}
        if not changes:
            return
        with self.transaction() as db:
            for name in ("title", "source", "notes"):
                if name in changes:
                    db.execute(f"UPDATE documents SET {name} = ? WHERE id = ?", (changes[name]["new"], doc_id))
            if "tags" in changes:
                db.execute("DELETE FROM tags WHERE document_id = ?", (doc_id,))
                for tag in changes["tags"]["new"]:
                    db.execute("INSERT INTO tags VALUES (?,?)", (doc_id, tag))
            # Metadata is in the index too: mark the document for re-indexing.
            db.execute("UPDATE documents SET indexed = 0, updated_at = ? WHERE id = ?", (now(), doc_id))
            self._audit(db, actor, "edit", doc_id, changes)

    # -- pages ----------------------------------------------------------------------------

    def plan_pages(self, doc_id: str, count: int) -> None:
        """Record the page work items of a document; pages already done are kept."""
        with self.transaction() as db:
            db.execute("DELETE FROM pages WHERE document_id = ? AND number > ?", (doc_id, count))
            for number in range(1, count + 1):
                db.execute("INSERT OR IGNORE INTO pages (document_id, number, updated_at) VALUES (?,?,?)",
                           (doc_id, number, now()))
            db.execute("UPDATE documents SET page_count = ?, status = 'processing', updated_at = ?"
                       " WHERE id = ?", (count, now(), doc_id))

    def save_page(self, page: Page) -> None:
        words = json.dumps([[w.text, w.left, w.top, w.width, w.height, round(w.conf, 1), w.line]
                            for w in page.words], ensure_ascii=False)
        with self.transaction() as db:
            db.execute(
                "UPDATE pages SET text=?, method=?, lang=?, confidence=?, width=?, height=?, words=?,"
                " status=?, error=?, encoding=?, nuls_removed=?, unread_lines=?, updated_at=?"
                " WHERE document_id=? AND number=?",
                (page.text, page.method, page.lang, page.confidence, page.width, page.height, words,
                 page.status, page.error, page.encoding, page.nuls_removed, page.unread_lines, now(),
                 page.document_id, page.number),
            )

    def reset_failed(self, doc_id: str) -> None:
        """Make a failed document's failed pages work items again, for a retry."""
        with self.transaction() as db:
            db.execute("UPDATE pages SET status = 'pending', error = NULL WHERE document_id = ?"
                       " AND status = 'failed'", (doc_id,))
            db.execute("UPDATE documents SET status = 'pending', error = NULL, updated_at = ? WHERE id = ?",
                       (now(), doc_id))

    def pages(self, doc_id: str, *, with_words: bool = False) -> list[Page]:
        rows = self._query("SELECT * FROM pages WHERE document_id = ? ORDER BY number", (doc_id,))
        return [self._page(r, with_words) for r in rows]

    def page(self, doc_id: str, number: int) -> Page | None:
        rows = self._query("SELECT * FROM pages WHERE document_id = ? AND number = ?", (doc_id, number))
        return self._page(rows[0], True) if rows else None

    def pending_pages(self, doc_id: str) -> list[int]:
        rows = self._query("SELECT number FROM pages WHERE document_id = ? AND status = 'pending'"
                           " ORDER BY number", (doc_id,))
        return [r[0] for r in rows]

    @staticmethod
    def _page(row: sqlite3.Row, with_words: bool) -> Page:
        words = []
        if with_words:
            words = [WordBox(*w) for w in json.loads(row["words"])]
        return Page(
            document_id=row["document_id"], number=row["number"], text=row["text"],
            method=row["method"], lang=row["lang"], confidence=row["confidence"],
            width=row["width"], height=row["height"], words=words, status=row["status"],
            error=row["error"], encoding=row["encoding"], nuls_removed=row["nuls_removed"],
            unread_lines=row["unread_lines"],
        )

    def finish_document(self, doc_id: str) -> Document:
        """Settle a document's status from its pages once none is pending."""
        pages = self.pages(doc_id)
        failed = [p for p in pages if p.status == "failed"]
        langs = sorted({p.lang for p in pages if p.lang in ("fa", "en")})
        if not pages:
            status, error = "failed", "no pages could be read"
        elif len(failed) == len(pages):
            status, error = "failed", failed[0].error
        elif failed:
            status = "done"
            error = f"{len(failed)} of {len(pages)} pages failed: " + "; ".join(
                f"page {p.number}: {p.error}" for p in failed[:3])
        else:
            status, error = "done", None
        with self.transaction() as db:
            db.execute("UPDATE documents SET status=?, error=?, languages=?, indexed=0, updated_at=?"
                       " WHERE id=?", (status, error, ",".join(langs), now(), doc_id))
        return self.get_document(doc_id)

    # -- index bookkeeping -------------------------------------------------------------------

    def unindexed(self) -> list[str]:
        rows = self._query("SELECT id FROM documents WHERE indexed = 0 AND status IN ('done', 'failed')"
                           " ORDER BY added_at")
        return [r[0] for r in rows]

    def mark_indexed(self, doc_ids: Iterable[str], indexed: bool = True) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE documents SET indexed = ? WHERE id = ?",
                           [(int(indexed), d) for d in doc_ids])

    def mark_all_unindexed(self) -> None:
        with self.transaction() as db:
            db.execute("UPDATE documents SET indexed = 0")

    def searchable_pages(self) -> set[tuple[str, int]]:
        """The (document, page) pairs the index must hold: every readable page of a finished document."""
        rows = self._query(
            "SELECT p.document_id, p.number FROM pages p JOIN documents d ON d.id = p.document_id"
            " WHERE d.status = 'done' AND p.status = 'done'")
        return {(r[0], r[1]) for r in rows}

    def save_page_dates(self, doc_id: str, number: int, dates: Iterable[tuple[str, str, str]]) -> None:
        """Replace the dates found on a page: (ISO Gregorian day, text as written, calendar)."""
        with self.transaction() as db:
            db.execute("DELETE FROM page_dates WHERE document_id = ? AND page = ?", (doc_id, number))
            db.executemany("INSERT INTO page_dates (document_id, page, day, text, calendar) VALUES (?,?,?,?,?)",
                           [(doc_id, number, day, text, cal) for day, text, cal in dates])

    def dates_found(self, doc_id: str) -> list[dict]:
        """Every date found in a document, in page order, for showing in both calendars."""
        rows = self._query("SELECT page, day, text, calendar FROM page_dates WHERE document_id = ?"
                           " ORDER BY page, rowid", (doc_id,))
        return [dict(r) for r in rows]

    def document_date(self, doc_id: str) -> str | None:
        """The document's own date: the first date written on its first page that has one."""
        rows = self._query("SELECT day FROM page_dates WHERE document_id = ? ORDER BY page, rowid LIMIT 1",
                           (doc_id,))
        return rows[0][0] if rows else None

    def document_days(self) -> dict[str, str]:
        """Every dated document's own date (as ``document_date``), in one query: the timeline."""
        rows = self._query("SELECT document_id, day, min(page * 4294967296 + rowid) FROM page_dates"
                           " GROUP BY document_id")  # SQLite takes day from the row with the min
        return {r[0]: r[1] for r in rows}

    def page_dates(self, doc_id: str, number: int) -> list[str]:
        """Gregorian days (YYYYMMDD) found on a page."""
        rows = self._query("SELECT DISTINCT day FROM page_dates WHERE document_id = ? AND page = ? ORDER BY day",
                           (doc_id, number))
        return [r[0].replace("-", "") for r in rows]

    # -- audit ------------------------------------------------------------------------------

    def audit(self, actor: str, action: str, document_id: str | None = None, detail: dict | None = None) -> None:
        with self.transaction() as db:
            self._audit(db, actor, action, document_id, detail or {})

    @staticmethod
    def _audit(db: sqlite3.Connection, actor: str, action: str, doc_id: str | None, detail: dict) -> None:
        db.execute("INSERT INTO audit (at, actor, action, document_id, detail) VALUES (?,?,?,?,?)",
                   (now(), actor, action, doc_id, json.dumps(detail, ensure_ascii=False)))

    def audit_log(self, doc_id: str | None = None, limit: int = 1000) -> list[dict]:
        if doc_id:
            rows = self._query("SELECT * FROM audit WHERE document_id = ? ORDER BY id DESC LIMIT ?", (doc_id, limit))
        else:
            rows = self._query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
        return [dict(r) | {"detail": json.loads(r["detail"])} for r in rows]

    # -- overview -----------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        out = {r[0]: r[1] for r in self._query("SELECT status, count(*) FROM documents GROUP BY status")}
        out["documents"] = sum(out.values())
        out["pages"] = self._query("SELECT count(*) FROM pages")[0][0]
        return out


    # -- for the web workbench ------------------------------------------------------------------

    def facets(self) -> dict[str, list[str]]:
        """The distinct sources and tags in use, for the search filters."""
        sources = [r[0] for r in self._query("SELECT DISTINCT source FROM documents WHERE source != ''"
                                             " ORDER BY source")]
        tags = [r[0] for r in self._query("SELECT DISTINCT tag FROM tags ORDER BY tag")]
        return {"sources": sources, "tags": tags}


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text.endswith(";") and sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    if "\n".join(current).strip():
        statements.append("\n".join(current))
    return statements
