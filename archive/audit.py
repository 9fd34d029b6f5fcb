"""Team mode's audit trail: who did what, when, from where, in the catalog's append-only log.

Catalog.audit records ingest and edits without an address; this module writes the rows of team
mode (logins, searches, views, downloads, exports, membership changes) with the address of the
request, and reads the log back filtered for `sanad audit` and the Audit page.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from archive.catalog import Catalog, now
from archive.errors import SettingsError

# What team mode records; the names are the `action` column.
ACTIONS = ("login", "login-failed", "logout", "search", "view", "page-image", "download", "export",
           "grant", "revoke", "user-add", "user-disable", "collection-create", "collection-add")


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    actor: str
    action: str
    document_id: str | None
    detail: dict
    address: str | None

    def to_json(self) -> dict:
        return {"id": self.id, "at": self.at, "actor": self.actor, "action": self.action,
                "document_id": self.document_id, "detail": self.detail, "address": self.address}


def record(catalog: Catalog, actor: str, action: str, document_id: str | None = None,
           detail: dict | None = None, address: str | None = None) -> None:
    with catalog.transaction() as db:
        write(db, actor, action, document_id, detail, address)


def write(db, actor: str, action: str, document_id: str | None = None, detail: dict | None = None,
          address: str | None = None) -> None:
    """The row, inside a transaction the caller holds (a change and its record commit together)."""
    db.execute("INSERT INTO audit (at, actor, action, document_id, detail, address) VALUES (?,?,?,?,?,?)",
               (now(), actor, action, document_id, json.dumps(detail or {}, ensure_ascii=False), address))


def since_bound(text: str) -> str:
    """An ISO time to compare with the log's `at` from a date or time a user typed."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SettingsError(f"--since {text!r} is not a date: write it as 2026-12-01 or 2026-12-01T09:30") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def entries(catalog: Catalog, *, user: str | None = None, since: str | None = None,
            action: str | None = None, limit: int = 10_000) -> list[Entry]:
    """The newest rows first, filtered by account, time (ISO, see ``since_bound``) and action."""
    where, args = [], []
    if user:
        where.append("actor = ?")
        args.append(user)
    if since:
        where.append("at >= ?")
        args.append(since)
    if action:
        where.append("action = ?")
        args.append(action)
    sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?"
    rows = catalog._query(sql, [*args, limit])
    return [Entry(r["id"], r["at"], r["actor"], r["action"], r["document_id"], json.loads(r["detail"]),
                  r["address"]) for r in rows]
