"""What the workbench's showing of marks adds to a search, measured in one run.

    python -m bench.marks --archive sanad-archive          # e.g. the demo archive of `make run`
    python -m bench.marks --archive DIR --repeat 5 word "a phrase" ...

For each query: SearchIndex.search as the Search page calls it (top 20, expansion, feedback,
snippets), then what the page adds for those hits (their snippets drawn with their marks, the list
of why), then what the Document page asks for the first hit's page (SearchIndex.page_marks: its
marks, matched terms and word boxes, without searching the archive again). Prints the median of each and their ratio to the search. The machine is
shared, so only the ratios of one run are comparable.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

QUERIES = ["ماسک", "زندان", "masks", "Ministry of Health", '"ماسک N95"', "گیلان masks", "Jahangir", "prison"]


def main(argv=None) -> int:
    from archive.archive import Archive
    from search.index import SearchIndex
    from ui import web

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("queries", nargs="*", default=QUERIES)
    args = parser.parse_args(argv)
    archive = Archive(args.archive)
    index = SearchIndex(archive.index_dir, archive.catalog)
    index.ensure_current(archive.catalog)
    searched, listed, paged = [], [], []
    for query in args.queries * (args.repeat + 1):
        t0 = time.perf_counter()
        results = index.search(query, limit=20)
        t1 = time.perf_counter()
        for hit in results.hits:
            web.snippet_html(hit) + web.matched_html(hit)
        t2 = time.perf_counter()
        if results.hits:
            hit = results.hits[0]
            page = archive.catalog.page(hit.document_id, hit.page)
            marked = index.page_marks(query, hit.document_id, hit.page)
            marked.boxes(page.text, page.words)
            web.matched_html(marked)
        t3 = time.perf_counter()
        searched.append(t1 - t0)
        listed.append(t2 - t1)
        paged.append(t3 - t2)
    skip = len(args.queries)  # the first round warms caches (stemmer lexicon, index files)
    s, li, p = (statistics.median(x[skip:]) * 1000 for x in (searched, listed, paged))
    print(f"{len(args.queries)} queries x {args.repeat}, {archive.catalog.counts()['pages']} pages")
    print(f"search (top 20)            median {s:8.2f} ms")
    print(f"marking the 20 hits        median {li:8.2f} ms  ratio to search {li / s:.2f}")
    print(f"marking a document's page  median {p:8.2f} ms  ratio to search {p / s:.2f}")
    archive.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
