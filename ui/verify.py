"""`sanad verify`: is every original intact, and do catalog and index agree?"""

from __future__ import annotations

from collections.abc import Callable

from archive.archive import Archive
from search.index import SearchIndex


def verify(archive: Archive, report: Callable[[str], None]) -> int:
    """Check everything; report each problem as a line; return how many there were."""
    problems = 0
    catalog_ids = archive.catalog.document_ids()
    for doc_id in sorted(catalog_ids):
        path = archive.original_path(doc_id)
        if not path.is_file():
            report(f"MISSING  original of {doc_id} ({path})")
            problems += 1
        elif (actual := archive.store.hash_of(doc_id)) != doc_id:
            doc = archive.catalog.get_document(doc_id)
            report(f"CHANGED  original of {doc_id} ({doc.filename}) now hashes to {actual}: {path}")
            problems += 1
    for doc in archive.catalog.list_documents():
        if doc.status in ("pending", "processing"):
            report(f"UNFINISHED  {doc.id} ({doc.filename}): its ingest was interrupted;"
                   " run `sanad ingest` on it again to finish it")
            problems += 1
    for sha in sorted(archive.store.all_hashes() - catalog_ids):
        report(f"UNCATALOGUED  {archive.original_path(sha)}: stored but not in the catalog;"
               " ingest the file again to catalog it")
        problems += 1
    check = SearchIndex(archive.index_dir).check(archive.catalog)
    if check.stale:
        report("INDEX  the search index is missing or out of date; run `sanad reindex`")
        problems += 1
    for damage in check.damage:
        report(f"INDEX DAMAGED  {damage}")
    if check.damage:
        report("INDEX DAMAGED  the index is derived from the catalog: `sanad reindex` rebuilds it"
               " (a search or ingest rebuilds it too)")
        problems += len(check.damage)
    for doc_id, page in check.missing:
        report(f"INDEX  page {page} of {doc_id} is in the catalog but not in the index")
    for doc_id, page in check.extra:
        report(f"INDEX  page {page} of {doc_id} is in the index but not in the catalog")
    for doc_id, page in check.different:
        report(f"INDEX  page {page} of {doc_id} has different text in the index and the catalog")
    problems += len(check.missing) + len(check.extra) + len(check.different)
    report(f"checked {len(catalog_ids)} originals and {len(archive.catalog.searchable_pages())} indexed pages")
    return problems
