"""Searches from several threads of one process, as the web app runs them, against one client.

    python -m bench.concurrency                      # 20,000 synthetic pages, 1 and 8 clients
    python -m bench.concurrency --pages 5000 --workdir /tmp/sanad-conc   # keep and reuse the index

Builds (or, with --workdir, reuses) an index of synthetic pages (bench.retrieval's PageMaker:
~2 KB pages, 2/3 Persian), reads its files once so that they are in the OS file cache, runs every
query once, then in the same run: one client searching the queries one after another, and N
clients (threads) each searching all of them, starting at different places in the list. Each
search is SearchIndex.search as the web app calls it (expansion, feedback, top 20 with snippets).
Prints queries/s, p50 and p95 of each, and the ratios of N clients to one. The machine is
shared, so only the ratios of one run are comparable.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.retrieval import (TIMING_FILE, PageMaker, _kept_index, _read_through, index_pages,
                             latency_queries, percentile)
from search import schema as sanad_schema
from search.index import VERSION_FILE, SearchIndex


def build(path: Path, pages: int, reuse: bool) -> None:
    kept = _kept_index(path, pages) if reuse else None
    if kept:
        print(f"index of {pages:,} pages kept from an earlier run in {path}")
        return
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    _, elapsed, size = index_pages(path, sanad_schema.build_schema(), PageMaker(), pages, procs=2, batch=20_000)
    (path / TIMING_FILE).write_text(f'{{"pages": {pages}, "seconds": {elapsed}}}')
    (path / VERSION_FILE).write_text(str(sanad_schema.SCHEMA_VERSION))
    print(f"indexed {pages:,} pages in {time.perf_counter() - t0:.0f} s ({size / 2**20:,.0f} MiB)")


def queries(count: int) -> list[str]:
    kinds = latency_queries(PageMaker(), random.Random(11), count=max(1, count // 4 + 1))
    mixed = [q for group in zip(*kinds.values()) for q in group]  # word, phrase, boolean, filtered, ...
    return mixed[:count]


def run_clients(index: SearchIndex, texts: list[str], clients: int) -> tuple[float, list[float]]:
    """(wall seconds, each search's latency in ms) of ``clients`` threads each searching every
    query once, client i starting at query i * len / clients."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        shift = i * len(texts) // clients
        order = texts[shift:] + texts[:shift]
        start.wait()
        try:
            for text in order:
                t0 = time.perf_counter()
                index.search(text, limit=20)
                latencies[i].append((time.perf_counter() - t0) * 1000)
        except BaseException as exc:  # noqa: BLE001 - reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return wall, [ms for per_client in latencies for ms in per_client]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20_000, help="synthetic pages (default 20,000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--queries", type=int, default=40, help="queries each client runs (default 40)")
    parser.add_argument("--workdir", help="keep the index here and reuse it (default: a temp dir)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="sanad-conc-"))
    try:
        path = workdir / f"pages-{args.pages}"
        build(path, args.pages, reuse=bool(args.workdir))
        (path / VERSION_FILE).write_text(str(sanad_schema.SCHEMA_VERSION))
        cached = _read_through(path)
        index = SearchIndex(path)
        texts = queries(args.queries)
        for text in texts:  # warm: caches filled, as on a server that has been searched
            index.search(text, limit=20)
        gc_before = gc.get_count(), gc.isenabled(), gc.get_threshold()
        print(f"{len(texts)} queries (word, phrase, boolean, filtered in turn), index {cached / 2**20:,.0f} MiB "
              f"read once first; SearchIndex.search, top 20 with snippets")
        results = {}
        for clients in (1, args.clients):
            cpu = time.process_time()
            wall, ms = run_clients(index, texts, clients)
            cpu = (time.process_time() - cpu) / len(ms) * 1000
            results[clients] = (len(ms) / wall, percentile(ms, 50), percentile(ms, 95), cpu)
            qps, p50, p95, _ = results[clients]
            print(f"  {clients:2} client(s): {qps:6.1f} queries/s   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms"
                  f"   CPU {cpu:5.1f} ms a search   ({len(ms)} searches in {wall:.1f} s)")
        one, many = results[1], results[args.clients]
        print(f"  {args.clients} clients / 1: throughput {many[0] / one[0]:.2f}x (target >= 1), "
              f"p95 {many[2] / one[2]:.2f}x (target <= 3), p50 {many[1] / one[1]:.2f}x, "
              f"CPU a search {many[3] / one[3]:.2f}x")
        # Clients that always have a search running each wait for the others' (Little's law):
        # their mean latency is clients / throughput, however the work is shared out.
        print(f"  {args.clients} clients always searching at {many[0]:.1f} queries/s wait on average "
              f"{args.clients / many[0] * 1000:.0f} ms a search; at one client's throughput, "
              f"{args.clients / one[0] * 1000:.0f} ms = {args.clients / one[0] * 1000 / one[2]:.1f}x one client's p95")
        print(f"  garbage collector after the runs: enabled {gc.isenabled()} (before: {gc_before[1]}), "
              f"thresholds {gc.get_threshold()} (before: {gc_before[2]})")
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    from bench.concurrency import main as _main

    sys.exit(_main())
