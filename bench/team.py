"""Search latency with team mode's collection filter, against the same queries unfiltered.

    python -m bench.team --pages 100000 --workdir DIR   # builds (or reuses) bench.retrieval's pages
    python -m bench.team --index DIR/pages-sanad        # an index bench.retrieval built already

In team mode every query of a member carries their readable collections, a filter nothing can
drop (SearchIndex.search's ``readable``). The pages are bench.retrieval's synthetic ones: each
document in one of four desks, one in eight also in a fifth ("shared"). Members of one desk, of
two and of all four are timed against an admin (no filter) with SearchIndex.search, the path the
CLI and the workbench use (expansion, feedback, top 20 with snippets). Filtered and unfiltered
runs alternate query by query, so that neither gets a warmer cache; on a shared machine only the
ratios mean anything, and the load is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import time
from pathlib import Path

from bench import retrieval as r
from search import schema as sanad_schema
from search.index import VERSION_FILE, SearchIndex

MEMBERS = {"one desk": frozenset({"desk-a"}), "two desks": r.MEMBER_READS, "all four desks": frozenset(r.COLLECTIONS)}
LIMIT = 0.10  # the bound: filtered within 10% of unfiltered


def index_at(args) -> Path:
    if args.index:
        return Path(args.index)
    workdir = Path(args.workdir)
    path = workdir / "pages-sanad"
    if r._kept_index(path, args.pages) is None:
        shutil.rmtree(path, ignore_errors=True)
        print(f"building {args.pages:,} synthetic pages in {path} (bench.retrieval's; reused by later runs) …",
              flush=True)
        _, elapsed, _ = r.index_pages(path, sanad_schema.build_schema(), r.PageMaker(), args.pages, args.procs,
                                      args.batch)
        (path / r.TIMING_FILE).write_text(json.dumps({"pages": args.pages, "seconds": elapsed}))
    return path


def measure(path: Path, rounds: int) -> list[tuple[str, str, float, float, float]]:
    """(member, kind, unfiltered p50, filtered p50, filtered/unfiltered of the means) per query kind."""
    if not (path / VERSION_FILE).exists():  # bench.retrieval's pages are Sanad's schema, written directly
        (path / VERSION_FILE).write_text(str(sanad_schema.SCHEMA_VERSION))
    cached = r._read_through(path)
    sx = SearchIndex(path)
    kinds = r.latency_queries(r.PageMaker(), random.Random(11))
    for readable in (None, *MEMBERS.values()):
        sx.search("warm", limit=20, readable=readable)
    print(f"{r.si.open_whoosh_index(path).doc_count():,} pages; index {cached / 2**20:,.0f} MiB read "
          f"once first; {len(kinds['word'])} queries of each kind, {rounds} round(s); load {os.getloadavg()[0]:.1f}")
    rows = []
    for member, reads in MEMBERS.items():
        for kind, texts in kinds.items():
            plain, narrowed = [], []
            for _ in range(rounds):
                for text in texts:
                    for readable, times in ((None, plain), (reads, narrowed)):
                        t0 = time.perf_counter()
                        sx.search(text, limit=20, readable=readable)
                        times.append((time.perf_counter() - t0) * 1000)
            rows.append((member, kind, r.percentile(plain, 50), r.percentile(narrowed, 50),
                         sum(narrowed) / sum(plain)))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", help="an index of bench.retrieval's synthetic pages, built already")
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--workdir", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "sanad-bench-team"))
    parser.add_argument("--rounds", type=int, default=1, help="times each query is run each way")
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20000)
    args = parser.parse_args(argv)
    rows = measure(index_at(args), args.rounds)
    print(f"{'member':15} {'query':9} {'unfiltered p50':>15} {'filtered p50':>13} {'p50 ratio':>10} {'mean ratio':>11}")
    worst = 0.0
    for member, kind, p50, f50, mean in rows:
        worst = max(worst, mean - 1)
        print(f"{member:15} {kind:9} {p50:12.1f} ms {f50:10.1f} ms {f50 / p50:9.2f}x {mean:10.2f}x")
    overall = sum(m for *_, m in rows) / len(rows)
    print(f"mean over every member and kind: filtered = {overall:.3f} x unfiltered "
          f"({'within' if overall - 1 <= LIMIT else 'OVER'} the 10% bound); worst one {worst * 100:+.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
