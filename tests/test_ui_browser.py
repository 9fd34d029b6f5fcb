"""The web workbench in a real browser: `sanad ui` in a subprocess, Debian's Chromium via Playwright.

Skipped when /usr/bin/chromium or Playwright is missing. Screenshots of the search page and the
document view go to docs/screenshots/ (look at them: RTL alignment shows there, not in the DOM).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, make_text_pdf

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
# Screenshots land in build/ so a test run leaves the tree clean; SANAD_UPDATE_SCREENSHOTS=1
# writes the committed ones in docs/screenshots/ (look at them before committing).
SCREENSHOTS = REPO / ("docs/screenshots" if os.environ.get("SANAD_UPDATE_SCREENSHOTS") else "build/screenshots")
PERSIAN_WORD = "زندان"
ENGLISH_PAGES = ["Report on prison visits in Gilan province.\nHealth supplies arrived late; masks were short.",
                 "Second page: the inspectors asked for 26,000 N95 masks."]

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wait(predicate, timeout: float, what: str, step: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser") / "archive"
    port = _free_port()
    log = open(root.parent / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "--archive", str(root), "ui", "--port", str(port)],
                            cwd=REPO, env=os.environ | {"PYTHONPATH": str(REPO)}, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def healthy():
        assert proc.poll() is None, (root.parent / "server.log").read_text()
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    _wait(healthy, 60, "the Streamlit server")
    yield base, root
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()
    # Background ingests started by the UI run in their own sessions: let them finish.
    _wait_for_ingests(root)


def _wait_for_ingests(root: Path, timeout: float = 120) -> None:
    def none_running():
        for pidfile in root.glob("inbox/*/batch.json"):
            import json

            for run in json.loads(pidfile.read_text(encoding="utf-8")).get("runs", []):
                stat = Path(f"/proc/{run['pid']}/stat")
                if stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z":
                    return False
        return True

    try:
        _wait(none_running, timeout, "background ingests")
    except AssertionError:
        pass


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from bench.letters import make_letter, render

    folder = tmp_path_factory.mktemp("uploads")
    scan = folder / "نامه زندان گیلان.png"
    render(make_letter(1), "nazli").save(scan)
    pdf = make_text_pdf(folder / "prison-report.pdf", ENGLISH_PAGES)
    return scan, pdf


def _documents(root: Path) -> dict:
    from archive.archive import Archive

    archive = Archive(root)
    try:
        return {d.id: d for d in archive.catalog.list_documents()}
    finally:
        archive.close()


def _no_errors(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
    assert "Traceback" not in page.inner_text("body")


def _upload(page, base: str, paths: list[Path], source: str, tags: str) -> None:
    page.goto(base + "/upload")
    page.locator('input[type="file"]').set_input_files([str(p) for p in paths])
    for p in paths:  # the uploader lists each file once the browser has sent it
        page.get_by_text(p.name, exact=True).first.wait_for(timeout=30_000)
    page.get_by_label("Where these files came from (source / provenance)").fill(source)
    page.get_by_label("Tags (separated by commas)").fill(tags)
    page.get_by_role("button", name="Add to the archive").click()
    page.get_by_text("processing has started").wait_for(timeout=30_000)


def _search(page, base: str, query: str):
    page.goto(base + "/?q=" + urllib.parse.quote(query))
    page.locator(".sanad-snippet mark").first.wait_for(timeout=30_000)
    return page


def test_upload_search_open_and_export(server, browser, files):
    base, root = server
    scan, pdf = files
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        _upload(page, base, [scan, pdf], source="Test leak 2024", tags="prisons, gilan")

        wanted = {_sha256(scan), _sha256(pdf)}
        _wait(lambda: all(d in (docs := _documents(root)) and docs[d].status == "done" for d in wanted)
              or None, 180, "both uploads to be processed")
        # the progress display catches up by itself (auto-refresh), without reloading the page
        page.get_by_text("2/2 files").first.wait_for(timeout=30_000)
        page.get_by_text("added", exact=True).nth(1).wait_for(timeout=30_000)
        _no_errors(page)

        # Persian search: highlighted snippet, right to left
        _search(page, base, PERSIAN_WORD)
        _no_errors(page)
        snippet = page.locator(".sanad-snippet").first
        assert snippet.get_attribute("dir") == "rtl"
        assert PERSIAN_WORD in page.locator(".sanad-snippet mark").first.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=False)

        # open the hit: the matching words are outlined on the page image
        page.get_by_role("link", name="Page 1").first.click()
        page.get_by_test_id("page-image").wait_for(timeout=60_000)
        boxes = page.get_by_test_id("highlight-box")
        assert boxes.count() >= 1
        box = boxes.first.bounding_box()
        image = page.get_by_test_id("page-image").bounding_box()
        assert box and image and box["width"] > 2 and image["x"] <= box["x"] <= image["x"] + image["width"]
        assert page.locator(".sanad-text mark").count() >= 1
        assert page.get_by_test_id("page-text").get_attribute("dir") == "rtl"
        _no_errors(page)
        page.screenshot(path=str(SCREENSHOTS / "document.png"), full_page=False)

        # English search and CSV export
        _search(page, base, "masks")
        assert "mask" in page.locator(".sanad-snippet mark").first.inner_text().lower()
        with page.expect_download(timeout=90_000) as download:
            page.get_by_role("button", name="Download CSV").click()
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
        assert rows and rows[0]["filename"] == "prison-report.pdf" and rows[0]["sha256"] == _sha256(pdf)
        assert rows[0]["source"] == "Test leak 2024"
    finally:
        context.close()


def test_ten_sessions_search_while_uploads_run(server, browser, tmp_path):
    base, root = server
    uploads = [make_text_pdf(tmp_path / f"batch-{i}.pdf", [f"Concurrent upload number {i} about prison masks"])
               for i in range(3)]
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(10)]
    pages = [c.new_page() for c in contexts]
    try:
        # three sessions upload one file each; then all ten search at once while those are processed
        for page, path in zip(pages[:3], uploads):
            _upload(page, base, [path], source=f"concurrency {path.stem}", tags="load")
        queries = ["masks", PERSIAN_WORD, "prison OR زندان", "upload*", "Gilan"]
        for i, page in enumerate(pages):
            page.goto(base + "/?q=" + urllib.parse.quote(queries[i % len(queries)]), wait_until="commit")
        for page in pages:
            # a result, or a message such as "no pages match" (the uploads may not be indexed yet)
            page.locator(".sanad-snippet mark, [data-testid='stAlert']").first.wait_for(timeout=60_000)
            _no_errors(page)
            assert page.locator("[data-testid='stAlertContentError']").count() == 0, page.inner_text("body")

        wanted = {_sha256(p) for p in uploads}
        _wait(lambda: all(d in (docs := _documents(root)) and docs[d].status == "done" for d in wanted)
              or None, 180, "every concurrent upload to reach the catalog")
        # and each is searchable
        _search(pages[3], base, "Concurrent upload")
        assert "3 matching pages" in pages[3].inner_text("body")
    finally:
        for c in contexts:
            c.close()
