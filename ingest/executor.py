"""Run page work items in parallel, isolated from each other.

The pipeline only needs ``Executor.run(fn, items)``; a distributed engine can take the place
of ``ProcessExecutor`` by implementing that one method.
"""

from __future__ import annotations

import os
import resource
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from archive.errors import TimedOut, TooLarge, WorkerCrashed

# One Tesseract per core, each single-threaded: OpenMP threads only fight each other here.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class Executor(Protocol):
    def run(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, result)`` as items finish, in any order; ``result`` is the value
        ``fn(item)`` returned or the exception it raised. Items are pulled lazily."""
        ...


class InlineExecutor:
    """Runs everything in this process: for one job, debugging and small inputs."""

    def run(self, fn, items):
        for item in items:
            try:
                yield item, fn(item)
            except Exception as exc:  # noqa: BLE001 - the caller records it against the item
                yield item, exc


def _limit_worker(memory_bytes: int) -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    if memory_bytes:
        # Applies to the worker and to the tesseract/poppler processes it starts.
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


class ProcessExecutor:
    """A local process pool that survives its workers: a page that hangs or kills its worker
    fails alone with a clear reason, and every other page still gets done."""

    def __init__(self, jobs: int | None = None, *, timeout: float = 900, memory_limit: int = 6 << 30):
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self.memory_limit = memory_limit

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self.jobs, initializer=_limit_worker, initargs=(self.memory_limit,))

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
                    running[pool.submit(fn, item)] = (item, time.monotonic())
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
                late = [f for f, (_, started) in running.items() if now - started > self.timeout]
                if late or broken:
                    for future in late:
                        item, _ = running.pop(future)
                        yield item, TimedOut(f"processing took longer than {self.timeout:.0f} s and was stopped")
                    for future, (item, _) in running.items():
                        retry.append(item)  # innocent bystanders: do them again
                    running.clear()
                    _kill(pool)
                    pool = self._pool()
        finally:
            _kill(pool)


_END = object()


def _kill(pool: ProcessPoolExecutor) -> None:
    # A hung worker never returns: terminate the processes rather than waiting for them.
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
