"""Run page work items in parallel, isolated from each other.

The pipeline only needs ``Executor.run(fn, items)``; a distributed engine can take the place
of ``ProcessExecutor`` by implementing that one method.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from archive.errors import TimedOut, TooLarge, WorkerCrashed


class Executor(Protocol):
    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, result)`` as items finish, in any order; ``result`` is the value
        ``fn(item)`` returned or the exception it raised. Items are pulled lazily."""
        ...


class InlineExecutor:
    """Runs everything in this process: for one job, debugging and small inputs."""

    batches = True  # may be handed several pages as one item (see ingest/pipeline.py)

    def run(self, fn, items):
        for item in items:
            try:
                yield item, fn(item)
            except Exception as exc:  # noqa: BLE001 - the caller records it against the item
                yield item, exc


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH_SECONDS = 1.0  # how often a worker looks for its parent when the kernel cannot tell it


def _limit_worker(memory_bytes: int, parent: int = 0) -> None:
    # One Tesseract per core, each single-threaded: OpenMP threads only fight each other here.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if parent:
        _die_with(parent)
    if memory_bytes:
        # Applies to the worker and to the tesseract/poppler processes it starts.
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _die_with(parent: int) -> None:
    """Make this worker, and the tesseract and poppler processes it starts, die with the
    `sanad` that started it. A parent killed by SIGKILL cannot stop its pool; left alone, the
    workers would wait on its pipe for minutes.

    The worker leads a process group of its own that its children join, so one killpg stops
    them all. The kernel sends SIGTERM when the parent dies (PR_SET_PDEATHSIG, Linux); a thread
    watching the parent's pid covers other systems and the moment before prctl took effect.
    """
    os.setpgrp()
    signal.signal(signal.SIGTERM, _stop_group)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass  # the watching thread is enough
    threading.Thread(target=_watch_parent, args=(parent,), name="sanad-watch-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    _stop_group()


def _stop_group(*_args) -> None:
    os.killpg(os.getpgrp(), signal.SIGKILL)  # this worker included


class ProcessExecutor:
    """A local process pool that survives its workers: a page that hangs or kills its worker
    fails alone with a clear reason, and every other page still gets done. An item with a
    ``weight`` (pages read together) gets that many times the timeout."""

    batches = True

    def __init__(self, jobs: int | None = None, *, timeout: float = 900, memory_limit: int = 6 << 30):
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self.memory_limit = memory_limit

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.jobs, initializer=_limit_worker,
                                   initargs=(self.memory_limit, os.getpid()))

    def _limit(self, item) -> float:
        return self.timeout * getattr(item, "weight", 1)

    def run(self, fn, items):
        source = iter(items)
        retry: deque = deque()  # items whose worker died alongside others: rerun one at a time
        suspects: set[int] = set()
        running: dict[Future, tuple[Any, float]] = {}
        pool = self._pool()
        try:
            while True:
                limit = 1 if retry or suspects else self.jobs
                while len(running) < limit:
                    item = retry.popleft() if retry else next(source, _END)
                    if item is _END:
                        break
                    try:
                        running[pool.submit(fn, item)] = (item, time.monotonic())
                    except BrokenProcessPool:
                        # A worker died since the last look: its pages come back broken below.
                        retry.appendleft(item)
                        if running:
                            break
                        _kill(pool)
                        pool = self._pool()
                if not running:
                    return
                done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    item, _started = running.pop(future)
                    try:
                        yield item, future.result()
                    except BrokenProcessPool:
                        broken = True
                        if id(item) in suspects:
                            suspects.discard(id(item))
                            yield item, WorkerCrashed(
                                "the worker processing this page died (out of memory or a crash"
                                " in an image library); the page is probably corrupt")
                        else:
                            suspects.add(id(item))
                            retry.append(item)
                    except MemoryError:
                        yield item, TooLarge("processing ran out of memory; the page is too large")
                    except Exception as exc:  # noqa: BLE001 - recorded against the item
                        suspects.discard(id(item))
                        yield item, exc
                    else:
                        suspects.discard(id(item))
                now = time.monotonic()
                late = [f for f, (item, started) in running.items() if now - started > self._limit(item)]
                if late or broken:
                    for future in late:
                        item, _ = running.pop(future)
                        yield item, TimedOut(f"processing took longer than {self._limit(item):.0f} s and was stopped")
                    for future, (item, _) in running.items():
                        retry.append(item)  # innocent bystanders: do them again
                    running.clear()
                    _kill(pool)
                    pool = self._pool()
        finally:
            _kill(pool)


_END = object()


def _kill(pool: ProcessPoolExecutor) -> None:
    # A hung worker never returns: kill the processes rather than waiting for them, with the
    # tesseract or pdftoppm each is running (a worker leads their process group).
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:  # not yet a group of its own: it has no children either
                proc.kill()
    for proc in processes:
        proc.join(timeout=5)
