"""Concurrent searches as the web workbench serves them, against one client, in one run.

    python -m bench.concurrency                      # 20,000 synthetic pages, 1 and 8 clients
    python -m bench.concurrency --pages 5000 --workdir /tmp/sanad-conc   # keep and reuse the index

Builds (or, with --workdir, reuses) an index of synthetic pages (bench.retrieval's PageMaker:
~2 KB pages, 2/3 Persian), reads its files once so that they are in the OS file cache, and runs
every query once through each way of searching. Then, in the same run, for each way:

- threads: SearchIndex.search in the clients' own threads, as the web server ran its sessions'
  searches (one process, so one thread of Python at a time);
- pool: the same searches sent to search.pool's worker processes (--processes, default one
  per core), each in a session of its own, as the workbench now runs them;
- pool, one session: the same with the workers left in this process's session, where Linux's
  scheduler (autogroup) gives them one share of the CPU between them when other sessions are
  busy (as on a shared machine);

it times one client searching the queries one after another, then N clients (threads) at once:
closed loop (each client searches again as soon as it has its results: the most load N clients
can make) and open loop (each client sends its searches at random times, at a rate that adds up
to --offered times one client's throughput: N investigators reading results between searches).
Prints a table of queries/s and p95 latency for 1 and N clients and their ratios, and what
Little's law allows a closed loop: N clients always waiting wait on average N / throughput.
The machine is shared, so only the ratios of one run are comparable.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.retrieval import (TIMING_FILE, PageMaker, _kept_index, _read_through, index_pages,
                             latency_queries, percentile)
from search import pool as search_pool
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


def run_clients(search, texts: list[str], clients: int, rate: float | None = None,
                seed: int = 5) -> tuple[float, list[float]]:
    """(wall seconds, each search's latency in ms) of ``clients`` threads each searching every
    query once, client i starting at query i * len / clients. Closed loop without ``rate``;
    with it, each client sends its next search at random intervals of mean clients / rate
    seconds (or at once, when its previous one came back late)."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        shift = i * len(texts) // clients
        order = texts[shift:] + texts[:shift]
        rng = random.Random(seed * 1000 + i)
        start.wait()
        due = time.perf_counter()
        try:
            for text in order:
                if rate:  # intervals of mean clients / rate, within +-50%, so no client lags far behind
                    due += clients / rate * rng.uniform(0.5, 1.5)
                    time.sleep(max(0.0, due - time.perf_counter()))
                t0 = time.perf_counter()
                search(text)
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


def figures(wall: float, ms: list[float]) -> tuple[float, float, float]:
    return len(ms) / wall, percentile(ms, 50), percentile(ms, 95)


def median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2] if len(values) % 2 else (values[len(values) // 2 - 1] + values[len(values) // 2]) / 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=20_000, help="synthetic pages (default 20,000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--queries", type=int, default=24, help="queries each client runs (default 24)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every run; figures are medians (default 3)")
    parser.add_argument("--processes", type=int, default=search_pool.cores(),
                        help=f"search processes of the pool (default: one per core, {search_pool.cores()})")
    parser.add_argument("--offered", type=float, default=0.8,
                        help="open loop: N clients' searches a second, as a share of one client's throughput "
                             "(threads, same round) (default 0.8)")
    parser.add_argument("--workdir", help="keep the index here and reuse it (default: a temp dir)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="sanad-conc-"))
    pools = {f"pool of {args.processes}, one session": search_pool.SearchPool(args.processes, own_sessions=False),
             f"pool of {args.processes}": search_pool.SearchPool(args.processes)}
    try:
        path = workdir / f"pages-{args.pages}"
        build(path, args.pages, reuse=bool(args.workdir))
        (path / VERSION_FILE).write_text(str(sanad_schema.SCHEMA_VERSION))
        cached = _read_through(path)
        index = SearchIndex(path)
        texts = queries(args.queries)
        ways = {"threads": lambda text: index.search(text, limit=20)}
        for name, pool in pools.items():
            pool.start()
            ways[name] = lambda text, pool=pool: pool.search(index, text, limit=20)
        for search in ways.values():  # warm: caches filled, as on a server that has been searched
            run_clients(search, texts, 1)
            run_clients(search, texts, args.processes)  # every worker of a pool gets some
        n = args.clients
        print(f"{len(texts)} queries (word, phrase, boolean, filtered in turn) a client, index {cached / 2**20:,.0f} MiB "
              f"read once first; SearchIndex.search, top 20 with snippets; {search_pool.cores()} cores, "
              f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds, medians; open loop at "
              f"{args.offered:.0%} of one client's throughput (threads) in its round")
        runs: dict[tuple[str, str], list] = {}
        for round_no in range(args.rounds):
            one = {}
            for name, search in ways.items():
                one[name] = figures(*run_clients(search, texts, 1))
                runs.setdefault((name, "one"), []).append(one[name])
                runs.setdefault((name, "closed"), []).append(figures(*run_clients(search, texts, n, seed=round_no)))
            rate = args.offered * one["threads"][0]
            for name, search in ways.items():
                runs.setdefault((name, "open"), []).append(figures(*run_clients(search, texts, n, rate=rate,
                                                                              seed=round_no)))
            print(f"  round {round_no + 1}: load average {os.getloadavg()[0]:.1f}", flush=True)

        def med(name: str, kind: str, i: int) -> float:
            return median([f[i] for f in runs[(name, kind)]])

        def ratio(name: str, kind: str, i: int, base: str | None = None) -> float:
            """Median over the rounds of (N clients / one client in the same round)."""
            return median([many[i] / single[i] for many, single in zip(runs[(name, kind)], runs[(base or name, "one")])])

        print(f"\n  {'way of searching, ' + str(n) + ' clients':40} {'q/s 1':>7} {'q/s ' + str(n):>7} {'ratio':>6}"
              f" {'p95 1':>8} {'p95 ' + str(n):>8} {'ratio':>6}   vs threads' 1 client: q/s, p95")
        for kind, label in (("closed", "closed loop"), ("open", "open loop")):
            for name in ways:
                print(f"  {name + ', ' + label:40} {med(name, 'one', 0):7.1f} {med(name, kind, 0):7.1f}"
                      f" {ratio(name, kind, 0):5.2f}x {med(name, 'one', 2):6.0f}ms {med(name, kind, 2):6.0f}ms"
                      f" {ratio(name, kind, 2):5.2f}x   {ratio(name, kind, 0, 'threads'):5.2f}x"
                      f" {ratio(name, kind, 2, 'threads'):5.2f}x")
        print(f"  target: {n} clients >= 1.00x one client's q/s, p95 <= 3.00x one client's p95")
        base_q, base_p95 = med("threads", "one", 0), med("threads", "one", 2)
        need = n / (3 * base_p95 / 1000)
        print(f"  Little's law: {n} clients always waiting wait on average {n} / throughput; for that mean alone to "
              f"stay within 3x one client's p95 ({3 * base_p95:.0f} ms) takes {need:.1f} q/s = "
              f"{need / base_q:.1f}x one client's throughput (threads)")
        for name in ways:
            q = med(name, "closed", 0)
            print(f"    {name}: {q:.1f} q/s closed loop, a mean wait of {n / q * 1000:.0f} ms")
        print(f"  load average after: {os.getloadavg()[0]:.1f}")
    finally:
        for pool in pools.values():
            pool.close()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    from bench.concurrency import main as _main

    sys.exit(_main())
