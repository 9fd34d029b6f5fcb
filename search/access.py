"""What a member reads, always through their ``Access``: searches, documents, page images,
originals and exports, each recorded in the audit log with the account and address.

The filter itself is in the search layer (SearchIndex.search's ``readable``); this module is the
one way the workbench reaches the archive in team mode, so no view can forget to pass it.
"""

from __future__ import annotations

from archive import audit, collections
from archive.collections import Access
from archive.errors import NotFound


def search(index, catalog, access: Access, text: str, *, address: str | None = None, **options):
    """SearchIndex.search over the collections ``access`` may read; the query is audited."""
    results = index.search(text, readable=access.readable, **options)
    audit.record(catalog, access.user, "search", None,
                 {"query": text, "total": results.total, **{k: v for k, v in options.items() if k == "sort"}},
                 address)
    return results


def document(catalog, access: Access, doc_id: str, *, address: str | None = None, action: str | None = "view",
             page: int | None = None):
    """The document if ``access`` may read it, else NotFound as for a missing one; audited as
    ``action`` (view, page-image, download) unless None."""
    doc = collections.readable_document(catalog, access, doc_id)
    if action:
        detail = {"page": page} if page is not None else {}
        audit.record(catalog, access.user, action, doc.id, detail, address)
    return doc


def original(archive, access: Access, doc_id: str, *, address: str | None = None):
    """The path of a readable document's original, the download audited."""
    doc = document(archive.catalog, access, doc_id, address=address, action="download")
    path = archive.original_path(doc.id)
    if not path.exists():
        raise NotFound(f"no document with id {doc_id!r}")
    return path


def exported(catalog, access: Access, query: str, hits: list, *, kind: str, address: str | None = None) -> list:
    """The hits an export may hold (only readable documents, whatever list it is handed), audited."""
    ids = collections.readable_ids(catalog, access)
    kept = [h for h in hits if ids is None or h.document_id in ids]
    audit.record(catalog, access.user, "export", None, {"query": query, "rows": len(kept), "format": kind}, address)
    return kept


def require_edit(catalog, access: Access, doc_id: str) -> None:
    """AccessDenied unless ``access`` may edit the document (checked where the change is saved,
    not only by hiding the form)."""
    from archive.errors import AccessDenied

    collections.readable_document(catalog, access, doc_id)
    if not access.may_edit(collections.of_document(catalog, doc_id)):
        raise AccessDenied(f"{access.user!r} may read this document but not change it")
