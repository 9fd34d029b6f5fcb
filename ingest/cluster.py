"""Pages OCRed on several machines: a Dask `distributed` scheduler, `sanad worker`s, and
``DaskExecutor``, the ingest's side of it.

The catalog stays the durable queue: the pipeline records every pending page before work starts,
and Dask only runs them. The process running `sanad ingest` is the one writer of the catalog and
the index; workers get an original's bytes (scattered once per original, no shared disk), write
them to a local file and return ``extract.PageResult``s. If the scheduler, a worker or the
ingest dies, the same `sanad ingest` command resumes from the catalog.

This is the only module that imports dask/distributed: a local ingest never loads them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, OrderedDict
from importlib import metadata
from pathlib import Path

import dask
from distributed import Client, Nanny, Scheduler, as_completed, get_worker
from distributed.client import FutureCancelledError
from distributed.comm.core import CommClosedError
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.scheduler import KilledWorker
from distributed.security import Security

from archive.errors import ClusterRefused, ClusterUnavailable, InputError, ToolMissing, TooLarge, WorkerCrashed

DEFAULT_PORT = 8786
# Tesseract models the OCR reads with (ingest/ocr.py): Persian, English, the Arabic script model for
# dates and numbers, and orientation detection; with the Debian packages that carry them.
MODELS = {"fas": "tesseract-ocr-fas", "eng": "tesseract-ocr-eng", "Arabic": "tesseract-ocr-script-arab",
          "osd": "tesseract-ocr"}
POPPLER_TOOLS = ("pdfinfo", "pdftotext", "pdftoppm")
LOCAL_COPIES = 8  # originals a worker keeps on its disk: the pages of one PDF come in a run
LOST_DATA_TRIES = 3  # times an original is sent again after the workers holding it died
SCATTER_TRIES = 3  # times sending an original is tried while the scheduler still answers


# -- addresses and TLS -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Tls:
    ca_file: str
    cert: str
    key: str

    @classmethod
    def from_args(cls, ca_file=None, cert=None, key=None) -> Tls | None:
        """TLS files from flags, else the tls_* settings ($SANAD_TLS_CA_FILE/_CERT/_KEY), read now."""
        from archive import settings

        current = settings.load(flags={"tls_ca_file": ca_file, "tls_cert": cert, "tls_key": key})
        ca_file, cert, key = current.tls_ca_file, current.tls_cert, current.tls_key
        given = [x for x in (ca_file, cert, key) if x]
        if not given:
            return None
        if len(given) < 3:
            raise ClusterRefused("TLS needs all three of --tls-ca-file, --tls-cert and --tls-key")
        for path in (ca_file, cert, key):
            if not Path(path).is_file():
                raise ClusterRefused(f"the TLS file {path} does not exist")
        return cls(ca_file, cert, key)

    def security(self, role: str) -> Security:
        # Each process shows its one certificate in whatever role it has; require_encryption makes
        # every connection TLS with certificates checked against the CA on both ends.
        files = {f"tls_{role}_cert": self.cert, f"tls_{role}_key": self.key}
        return Security(require_encryption=True, tls_ca_file=self.ca_file, **files)


def normalize(address: str, tls: Tls | None) -> str:
    """'host', 'host:port' or 'tcp://host:port' -> a full address whose scheme matches the TLS setting."""
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "", address
    if scheme and scheme not in ("tcp", "tls"):
        raise ClusterRefused(f"a cluster address starts with tcp:// or tls://, not {scheme}://")
    if tls is None and scheme == "tls":
        raise ClusterRefused(f"{address} uses TLS: give --tls-ca-file, --tls-cert and --tls-key")
    host, _, port = rest.rpartition(":") if rest.count(":") == 1 or rest.startswith("[") else (rest, "", "")
    return f"{'tls' if tls else 'tcp'}://{host or rest}:{port or DEFAULT_PORT}"


def is_local(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- what a worker needs -----------------------------------------------------------------------

def sanad_version() -> str:
    if os.environ.get("SANAD_TEST_HOOKS") == "1" and os.environ.get("SANAD_TEST_VERSION"):
        return os.environ["SANAD_TEST_VERSION"]  # tests only: a worker that pretends to be another release
    return metadata.version("sanad")


def worker_problems(expected_version: str | None = None) -> list[str]:
    """What keeps this machine from reading pages as the ingest would, in words for its admin."""
    problems = []
    if expected_version and sanad_version() != expected_version:
        problems.append(f"it runs Sanad {sanad_version()} and the ingest runs {expected_version};"
                        " install the same version on both")
    if shutil.which("tesseract") is None:
        problems.append("tesseract is not installed (Debian package tesseract-ocr)")
    else:
        proc = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=60)
        have = {line.strip().removeprefix("script/") for line in proc.stdout.splitlines()[1:]}
        missing = [name for name in MODELS if name not in have]
        if missing:
            packages = " ".join(sorted({MODELS[m] for m in missing}))
            problems.append(f"Tesseract models missing: {', '.join(missing)} (install: {packages})")
    tools = [t for t in POPPLER_TOOLS if shutil.which(t) is None]
    if tools:
        problems.append(f"poppler's {', '.join(tools)} missing (Debian package poppler-utils)")
    return problems


class Gatekeeper(WorkerPlugin):
    """Registered by each ingest: a worker, now or when it joins later, that runs another Sanad
    version or lacks a model closes itself and its nanny, saying why on its own terminal."""

    name = "sanad-gatekeeper"

    def __init__(self, version: str):
        self.version = version

    def setup(self, worker) -> None:
        problems = worker_problems(self.version)
        if problems:
            reason = f"refused by the ingest: {'; '.join(problems)}"
            print(f"sanad worker: {reason}", file=sys.stderr, flush=True)
            if os.environ.get("SANAD_WORKER_STATE"):
                Path(os.environ["SANAD_WORKER_STATE"], f"refused-{os.getpid()}").write_text(reason)
            self._closing = asyncio.ensure_future(worker.close(nanny=True, reason="sanad-refused"))


# -- the scheduler and the workers -------------------------------------------------------------

def serve_scheduler(host: str, port: int, tls: Tls | None, *, insecure: bool = False,
                    allowed_failures: int = 3) -> None:
    if not is_local(host) and tls is None and not insecure:
        raise ClusterRefused(
            f"listening on {host or 'every interface'} without TLS would let any computer that reaches"
            " the port run code here (tasks travel as pickles); give --tls-ca-file, --tls-cert and"
            " --tls-key, or --insecure on a network you trust")
    dask.config.set({
        # A page that killed this many workers fails as WorkerCrashed instead of killing more.
        "distributed.scheduler.allowed-failures": allowed_failures,
        # One page per worker process at a time: a worker that dies takes only its own page with it,
        # so a poison page's tries never count against the pages queued behind it.
        "distributed.scheduler.worker-saturation": 1.0,
    })

    async def run() -> None:
        async with Scheduler(host=host, port=port, protocol="tls" if tls else "tcp", dashboard=False,
                             security=tls.security("scheduler") if tls else None) as scheduler:
            print(f"sanad scheduler: listening at {scheduler.address}", file=sys.stderr, flush=True)
            await scheduler.finished()

    asyncio.run(run())


def serve_worker(address: str, jobs: int, tls: Tls | None, *, memory_limit: str = "auto",
                 name: str | None = None, test_hooks: bool = False, test_version: str | None = None) -> None:
    """Run ``jobs`` worker processes, each under a nanny that restarts it when it dies or outgrows
    ``memory_limit``, each reading one page at a time with a single-threaded Tesseract."""
    env = {"OMP_THREAD_LIMIT": "1"}
    if test_hooks:
        env["SANAD_TEST_HOOKS"] = "1"
        if test_version:
            env["SANAD_TEST_VERSION"] = test_version
    problems = worker_problems()
    if problems:
        raise ToolMissing(f"this machine cannot read pages: {'; '.join(problems)}")
    address = normalize(address, tls)
    prefix = name or f"{socket.gethostname()}-{os.getpid()}"

    state = Path(tempfile.mkdtemp(prefix="sanad-worker-"))
    env["SANAD_WORKER_STATE"] = str(state)  # where a refused worker process leaves its reason

    async def run() -> None:
        while True:
            # A name per process, kept across restarts, so the scheduler's logs follow it.
            nannies = [Nanny(address, nthreads=1, memory_limit=memory_limit, name=f"{prefix}-{i}", env=env,
                             security=tls.security("worker") if tls else None, dashboard=False)
                       for i in range(max(1, jobs))]
            try:
                await asyncio.gather(*nannies)
            except Exception as exc:  # noqa: BLE001 - no scheduler yet, or it went away while we joined
                await asyncio.gather(*(n.close() for n in nannies), return_exceptions=True)
                print(f"sanad worker: cannot join the scheduler at {address} ({type(exc).__name__});"
                      " trying again in 5 s", file=sys.stderr, flush=True)
                await asyncio.sleep(5)
                continue
            print(f"sanad worker: {len(nannies)} worker process(es) joined {address}", file=sys.stderr, flush=True)
            await asyncio.gather(*(n.finished() for n in nannies))
            refusals = sorted(state.glob("refused-*"))
            if refusals:
                raise ClusterRefused(refusals[0].read_text())
            # Workers close when their scheduler goes away; a restarted scheduler gets them back.
            print(f"sanad worker: lost the scheduler at {address}; waiting for it to come back",
                  file=sys.stderr, flush=True)
            await asyncio.sleep(2)

    try:
        with dask.config.set({
            "distributed.worker.daemon": False,  # the pages' tools are child processes
            # Dask's statistical profiler samples every thread's stack every 10 ms: CPU taken from OCR.
            "distributed.worker.profile.enabled": False,
        }):
            asyncio.run(run())
    finally:
        shutil.rmtree(state, ignore_errors=True)


# -- the worker's side of a page -----------------------------------------------------------------

_copies: OrderedDict[str, Path] = OrderedDict()  # key of an original -> its file on this worker


def _local_copy(key: str, data: bytes, suffix: str) -> Path:
    path = _copies.get(key)
    if path is not None and path.exists():
        _copies.move_to_end(key)
        return path
    folder = Path(get_worker().local_directory) / "sanad-originals"
    folder.mkdir(exist_ok=True)
    path = folder / f"{key}{suffix}"
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    _copies[key] = path
    while len(_copies) > LOCAL_COPIES:
        _copies.popitem(last=False)[1].unlink(missing_ok=True)
    return path


def run_remote(fn, item, key: str, data: bytes, suffix: str):
    """Runs on a worker: ``fn`` on ``item`` with its original replaced by a local copy of ``data``."""
    path = _local_copy(key, data, suffix)
    if os.environ.get("SANAD_TEST_HOOKS") == "1":
        from ingest.cluster_hooks import before_page

        before_page(path)
    return fn(dataclasses.replace(item, original=str(path)))


# -- the ingest's side ---------------------------------------------------------------------------

@dataclasses.dataclass
class _Job:
    item: object
    path: str
    lost: int = 0


class DaskExecutor:
    """``Executor.run`` on a cluster. Items are dataclasses whose ``original`` field is the path of
    their original on this machine; each original is sent to the cluster once, and its pages run
    where it is. Pages come back in any order, each exactly once."""

    def __init__(self, address: str, *, ca_file=None, cert=None, key=None, connect_timeout: float = 20,
                 worker_wait: float = 60, window: int = 0, notify=None):
        self.tls = Tls.from_args(ca_file, cert, key)
        self.address = normalize(address, self.tls)
        self.connect_timeout = connect_timeout
        self.worker_wait = worker_wait
        self.min_window = window  # pages on the cluster at once, at least (the bench's many-worker case)
        self.notify = notify or (lambda line: print(f"sanad: {line}", file=sys.stderr, flush=True))

    def connect(self) -> Client:
        # The client logs tracebacks for what this class reports itself in plain words (a lost
        # scheduler, a refused worker); an ingest's terminal shows Sanad's messages only.
        for name in ["distributed", *[n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]]:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            client = Client(self.address, timeout=self.connect_timeout, set_as_default=False,
                            security=self.tls.security("client") if self.tls else None)
        except (OSError, TimeoutError) as exc:
            raise ClusterUnavailable(f"cannot reach the cluster's scheduler at {self.address} ({exc})") from None
        try:
            self._admit(client)
        except BaseException:
            client.close()
            raise
        return client

    def _admit(self, client: Client) -> None:
        try:
            client.wait_for_workers(1, timeout=self.worker_wait)
        except TimeoutError:
            raise ClusterUnavailable(f"no worker joined the scheduler at {self.address} within"
                                     f" {self.worker_wait:.0f} s; start one with `sanad worker {self.address}`") from None
        version = sanad_version()
        # A worker that dies while answering is left to the gatekeeper when its nanny restarts it.
        answers = client.run(worker_problems, version, on_error="return")
        refused = {w: p for w, p in answers.items() if isinstance(p, list) and p}
        for worker, problems in refused.items():
            self.notify(f"refused worker {worker}: {'; '.join(problems)}")
        client.register_plugin(Gatekeeper(version))  # also turns away workers that join later
        # Judged on the answers, not on the workers left now: the gatekeeper may already have closed
        # the refused ones, and an empty cluster would read as a lost scheduler.
        if refused and not any(p == [] for p in answers.values()):
            raise ClusterRefused(f"no worker at {self.address} can read pages for this ingest: "
                                 + " | ".join(f"{w}: {'; '.join(p)}" for w, p in refused.items()))

    def run(self, fn, items):
        client = self.connect()
        try:
            yield from self._run(client, fn, iter(items))
        finally:
            client.close(timeout=5)

    def _run(self, client: Client, fn, source):
        scattered: dict[str, object] = {}  # original's path -> the future of its bytes on the cluster
        waiting: Counter = Counter()  # original's path -> its pages on the cluster
        jobs: dict = {}  # future -> _Job
        done = as_completed(loop=client.loop)
        last_path = None
        window, window_at = 4, 0.0

        def lost() -> ClusterUnavailable:
            client.close(timeout=2)
            return ClusterUnavailable(f"lost the connection to the cluster's scheduler at {self.address} in the"
                                      " middle of the batch")

        def scatter(data: bytes):
            for _ in range(SCATTER_TRIES):
                try:
                    return client.scatter(data, hash=False)
                except (CommClosedError, OSError, TimeoutError):
                    # Either the scheduler went away (the client may still say "running" for a moment) or
                    # the worker it chose for the bytes has just died; only the first ends the batch.
                    if not scheduler_answers():
                        raise lost() from None
                    time.sleep(0.5)
            raise lost()

        def scheduler_answers() -> bool:
            try:
                client.nthreads()
            except (CommClosedError, OSError, TimeoutError):
                return False
            return client.status == "running"

        def submit(job: _Job) -> None:
            try:
                send(job)
            except Exception:
                if client.status != "running":
                    raise lost() from None
                raise

        def send(job: _Job) -> None:
            if job.path not in scattered:
                data = Path(job.path).read_bytes()  # an OSError here is the original's, not the cluster's
                scattered[job.path] = scatter(data)
            future = client.submit(run_remote, fn, job.item, uuid.uuid5(uuid.NAMESPACE_URL, job.path).hex,
                                   scattered[job.path], Path(job.path).suffix, pure=False,
                                   key=f"sanad-page-{uuid.uuid4().hex}")
            jobs[future] = job
            waiting[job.path] += 1
            done.add(future)

        def fill():
            nonlocal last_path, window, window_at
            if time.monotonic() - window_at > 2:
                # Two pages per worker process: one running, one on its way, none waiting long.
                window = max(4, self.min_window, 2 * sum(client.nthreads().values()))
                window_at = time.monotonic()
            while len(jobs) < window:
                item = next(source, None)
                if item is None:
                    return
                last_path = item.original
                try:
                    submit(_Job(item, item.original))
                except OSError as exc:
                    yield item, InputError(f"the stored original cannot be read ({exc})")

        yield from fill()
        for future in done:
            job = jobs.pop(future)
            waiting[job.path] -= 1
            try:
                outcome = future.result()
            except KilledWorker:
                outcome = _crashed()
            except FutureCancelledError as exc:
                if client.status != "running" or "connection" in str(exc):
                    raise lost() from None
                # The workers that held the original died before any other got a copy (usually the one
                # reading this very page, as pages run where their original is): send it again. Each
                # time counts as a try, so a page that kills every worker still fails in bounded time.
                job.lost += 1
                scattered.pop(job.path, None)
                if job.lost < LOST_DATA_TRIES:
                    submit(job)
                    continue
                outcome = _crashed()
            except CommClosedError:
                raise lost() from None  # the scheduler's connection, never the page's fault
            except MemoryError:
                outcome = TooLarge("processing ran out of memory; the page is too large")
            except Exception as exc:  # noqa: BLE001 - recorded against the item
                outcome = exc
            if not waiting[job.path] and job.path != last_path:
                del waiting[job.path]
                scattered.pop(job.path, None)  # releases the bytes on the cluster
            yield job.item, outcome
            yield from fill()


def _crashed() -> WorkerCrashed:
    return WorkerCrashed("every worker that read this page died (out of memory or a crash in an image library);"
                         " the page is probably corrupt")
