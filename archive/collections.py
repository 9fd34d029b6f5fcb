"""Collections of team mode: which documents each holds and who may read or change them.

Every document belongs to one or more collections; a document the catalog holds no row for (added
by a path that knows nothing of collections) counts as in DEFAULT, here and in the index alike.
What a person may do is computed once per request as an ``Access`` (as Aleph's authz does) and
handed to the search layer, which filters every query by ``Access.readable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from archive import audit
from archive.catalog import Catalog, now
from archive.errors import InputError, NotFound

DEFAULT = "default"
ROLES = ("viewer", "editor", "admin")  # each may do what the one before may, and more
NAME = re.compile(r"^[\w.-]{1,64}$")  # no commas or spaces: the index keeps them in a keyword field


@dataclass(frozen=True)
class Access:
    """What one person may do. ``readable`` None means everything (personal mode, site admins)."""

    user: str
    readable: frozenset[str] | None
    editable: frozenset[str] | None
    managed: frozenset[str] | None  # collections whose members this person may change
    admin: bool = False

    @property
    def everything(self) -> bool:
        return self.readable is None

    def may_read(self, collections: Iterable[str]) -> bool:
        return self.readable is None or bool(self.readable & set(collections))

    def may_edit(self, collections: Iterable[str]) -> bool:
        return self.editable is None or bool(self.editable & set(collections))

    @property
    def may_upload(self) -> bool:
        return self.editable is None or bool(self.editable)


def personal(user: str) -> Access:
    """Personal mode: one person at this computer, who may do everything."""
    return Access(user, None, None, None, admin=True)


def access_for(catalog: Catalog, user: str) -> Access:
    """The user's rights now, read from the catalog. A disabled or unknown account reads nothing."""
    from archive.accounts import get_user

    account = get_user(catalog, user)
    if account is None or account.disabled:
        return Access(user, frozenset(), frozenset(), frozenset())
    if account.admin:
        return Access(user, None, None, None, admin=True)
    rows = catalog._query("SELECT collection, role FROM memberships WHERE user = ?", (user,))
    by_role = {role: frozenset(r[0] for r in rows if ROLES.index(r[1]) >= ROLES.index(role)) for role in ROLES}
    return Access(user, by_role["viewer"], by_role["editor"], by_role["admin"])


# -- collections ------------------------------------------------------------------------------------

def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name):
        raise InputError(f"{name!r} cannot be a collection name: use 1-64 letters, digits, '.', '-' or '_'")
    return name


def create(catalog: Catalog, name: str, *, actor: str) -> None:
    name = check_name(name)
    if exists(catalog, name):
        raise InputError(f"there is already a collection {name!r}")
    with catalog.transaction() as db:
        db.execute("INSERT INTO collections (name, created_at) VALUES (?,?)", (name, now()))
        audit.write(db, actor, "collection-create", None, {"collection": name})


def exists(catalog: Catalog, name: str) -> bool:
    return bool(catalog._query("SELECT 1 FROM collections WHERE name = ?", (name,)))


def require(catalog: Catalog, name: str) -> str:
    if not exists(catalog, name):
        raise NotFound(f"no collection {name!r}; `sanad collections list` shows them")
    return name


def listing(catalog: Catalog) -> list[dict]:
    """Each collection with its documents and members (name -> role)."""
    out = []
    for row in catalog._query("SELECT name, created_at FROM collections ORDER BY name"):
        docs = catalog._query("SELECT count(*) FROM document_collections WHERE collection = ?", (row[0],))[0][0]
        members = {r[0]: r[1] for r in catalog._query(
            "SELECT user, role FROM memberships WHERE collection = ? ORDER BY user", (row[0],))}
        out.append({"name": row[0], "created_at": row[1], "documents": docs, "members": members})
    return out


def grant(catalog: Catalog, name: str, user: str, role: str, *, actor: str, address: str | None = None) -> None:
    from archive.accounts import get_user

    require(catalog, name)
    if role not in ROLES:
        raise InputError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    if get_user(catalog, user) is None:
        raise NotFound(f"no user {user!r}; `sanad users add {user}` creates the account")
    with catalog.transaction() as db:
        old = db.execute("SELECT role FROM memberships WHERE collection = ? AND user = ?", (name, user)).fetchone()
        db.execute("INSERT INTO memberships (collection, user, role) VALUES (?,?,?)"
                   " ON CONFLICT(collection, user) DO UPDATE SET role = excluded.role", (name, user, role))
        audit.write(db, actor, "grant", None,
                    {"collection": name, "user": user, "role": role, "old": old[0] if old else None}, address)


def revoke(catalog: Catalog, name: str, user: str, *, actor: str, address: str | None = None) -> None:
    require(catalog, name)
    with catalog.transaction() as db:
        old = db.execute("SELECT role FROM memberships WHERE collection = ? AND user = ?", (name, user)).fetchone()
        if old is None:
            raise NotFound(f"{user!r} is not a member of {name!r}")
        db.execute("DELETE FROM memberships WHERE collection = ? AND user = ?", (name, user))
        audit.write(db, actor, "revoke", None, {"collection": name, "user": user, "old": old[0]}, address)


# -- documents --------------------------------------------------------------------------------------

def add_document(catalog: Catalog, doc_id: str, name: str, *, actor: str) -> bool:
    """Put a document in a collection; True when it was not there. The document is marked for
    re-indexing, since the index filters by the collections it holds per page."""
    require(catalog, name)
    with catalog.transaction() as db:
        added = db.execute("INSERT OR IGNORE INTO document_collections (document_id, collection) VALUES (?,?)",
                           (doc_id, name)).rowcount
        if added:
            db.execute("UPDATE documents SET indexed = 0 WHERE id = ?", (doc_id,))
            audit.write(db, actor, "collection-add", doc_id, {"collection": name})
    return bool(added)


def of_document(catalog: Catalog, doc_id: str) -> list[str]:
    rows = catalog._query("SELECT collection FROM document_collections WHERE document_id = ? ORDER BY collection",
                          (doc_id,))
    return [r[0] for r in rows] or [DEFAULT]


def readable_document(catalog: Catalog, access: Access, doc_id: str):
    """The document, when it exists and ``access`` may read it. A document of another collection
    is refused exactly as a missing one is, so an id tells nobody what the archive holds."""
    doc = catalog.get_document(doc_id)
    if doc is None or not access.may_read(of_document(catalog, doc_id)):
        raise NotFound(f"no document with id {doc_id!r}")
    return doc


def readable_ids(catalog: Catalog, access: Access) -> set[str] | None:
    """Ids of the documents ``access`` may read; None for all."""
    if access.readable is None:
        return None
    if not access.readable:
        return set()
    marks = ",".join("?" * len(access.readable))
    rows = catalog._query(
        f"SELECT id FROM documents d WHERE EXISTS (SELECT 1 FROM document_collections c WHERE c.document_id = d.id"
        f" AND c.collection IN ({marks}))"
        + (" OR NOT EXISTS (SELECT 1 FROM document_collections c WHERE c.document_id = d.id)"
           if DEFAULT in access.readable else ""), sorted(access.readable))
    return {r[0] for r in rows}


def counts(catalog: Catalog, access: Access) -> dict[str, int]:
    """Catalog.counts() over the documents ``access`` may read (the Overview)."""
    ids = readable_ids(catalog, access)
    if ids is None:
        return catalog.counts()
    out: dict[str, int] = {}
    for doc in catalog.list_documents():
        if doc.id in ids:
            out[doc.status] = out.get(doc.status, 0) + 1
    out["documents"] = sum(out.values())
    out["pages"] = sum(d.page_count for d in catalog.list_documents() if d.id in ids)
    return out


def facets(catalog: Catalog, access: Access) -> dict[str, list[str]]:
    """Catalog.facets() over the documents ``access`` may read: the filters offered must not name
    a source or tag only another collection uses."""
    ids = readable_ids(catalog, access)
    if ids is None:
        return catalog.facets()
    docs = [d for d in catalog.list_documents() if d.id in ids]
    return {"sources": sorted({d.source for d in docs if d.source}), "tags": sorted({t for d in docs for t in d.tags})}
