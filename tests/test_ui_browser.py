"""The web workbench in a real browser: `sanad ui` in a subprocess, Debian's Chromium via Playwright.

Skipped when /usr/bin/chromium or Playwright is missing. Screenshots of the search page and the
document view go to docs/screenshots/ (look at them: RTL alignment shows there, not in the DOM).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import socket
import sys
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO, make_text_pdf, served, wait_until

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


_wait = wait_until


@contextmanager
def serve(root: Path, log_path: Path, *options: str):
    """The real `sanad ui` on a free port, its output in ``log_path``: yields its base URL once it
    answers, and stops it (and everything it started in its session) afterwards."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "ui.cli", "--archive", str(root), "ui", *options, "--port", str(port)]
    with served(cmd, log_path, base + "/_stcore/health", "the Streamlit server",
                env=os.environ | {"PYTHONPATH": str(REPO)}):
        yield base


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser") / "archive"
    with serve(root, root.parent / "server.log") as base:
        yield base, root
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
    """Debian's Chromium through Playwright, one per test module (the team tests use it too)."""
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


def download(page, button: str, attempts: int = 3) -> Path:
    """Click a download button until the browser saves the file; its path."""
    return Path(saved_download(page, button, attempts).path())


def saved_download(page, button: str, attempts: int = 3):
    """Click a download button until the browser saves the file; Playwright's Download (its .url
    is the server's /media address).

    Streamlit drops a click that reaches the server while a rerun is registering the button's new
    deferred file (streamlit.runtime.media_file_manager.remove_deferred), and keeps the button
    disabled while a deferred file is being made: a user waits for it and clicks again, and so
    does the test. Once in CI (Streamlit 1.67) the button stayed disabled for two minutes after
    the search page's rerun; a user then reloads the page (its address holds the query), and so
    does the test."""
    target = page.get_by_role("button", name=button)
    for attempt in range(attempts):
        try:
            sync_api.expect(target).to_be_enabled(timeout=60_000)
        except AssertionError:
            if attempt == attempts - 1:
                raise
            page.reload()
            continue
        try:
            with page.expect_download(timeout=45_000) as saved:
                target.click()
            saved.value.path()  # wait until it is saved
            return saved.value
        except sync_api.TimeoutError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def assert_only_this_browser_gets(context, url: str) -> None:
    """A /media address (a download) answers the logged-in browser and nobody without its cookie."""
    import urllib.error

    assert urllib.parse.urlsplit(url).path.startswith("/media/"), url
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 403
    assert context.request.get(url).status == 200


def _upload(page, base: str, paths: list[Path], source: str, tags: str) -> None:
    page.goto(base + "/upload")
    page.locator('input[type="file"]').set_input_files([str(p) for p in paths])
    for p in paths:  # the uploader lists each file once the browser has sent it
        page.get_by_text(p.name, exact=True).first.wait_for(timeout=30_000)
    page.get_by_label("Where these files came from (source / provenance)").fill(source)
    page.get_by_label("Tags (separated by commas)").fill(tags)
    page.get_by_role("button", name="Add to the archive").click()
    page.get_by_text("processing has started").wait_for(timeout=30_000)


def _uploads_in_memory(base: str) -> int:
    """Bytes of uploaded files Streamlit's UploadedFileManager holds, from its metrics endpoint."""
    with urllib.request.urlopen(base + "/_stcore/metrics?families=cache_memory_bytes", timeout=10) as r:
        lines = r.read().decode().splitlines()
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in lines if "UploadedFileManager" in line)


def _search(page, base: str, query: str):
    page.goto(base + "/search?q=" + urllib.parse.quote(query))
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
        # The bytes live once: each original is stored, the inbox copies are gone (the Upload page
        # lets go of them once ingest is done) and Streamlit no longer holds the uploads in memory.
        assert all((root / "originals" / d[:2] / d).is_file() for d in wanted)
        _wait(lambda: not [p for p in root.glob("inbox/*/files/*") if p.name in (scan.name, pdf.name)],
              30, "the inbox copies to be removed")
        _wait(lambda: _uploads_in_memory(base) == 0, 60, "Streamlit to let go of the uploaded files")

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
        rows = list(csv.DictReader(io.StringIO(download(page, "Download CSV").read_text(encoding="utf-8-sig"))))
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


# -- what the workbench asks of the outside world, and what it refuses (issue #17, item 14) --------

LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHART = "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg.marks"  # a drawn chart
# Every Content-Security-Policy violation of the page, gathered before any of its scripts run.
CSP_WATCH = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="module")
def stored(server, files):
    """The scan and the PDF in the server's archive, added through the command line."""
    from tests.conftest import Sanad

    _, root = server
    results = Sanad(root).json("ingest", *map(str, files))
    assert {r["status"] for r in results} <= {"ingested", "duplicate"}, results
    return {Path(r["path"]).name: r["document_id"] for r in results}


def test_page_loads_make_no_outside_requests(server, browser, stored):
    base, _ = server
    scan_id = stored["نامه زندان گیلان.png"]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(CSP_WATCH)
    urls: list[str] = []
    context.on("request", lambda r: urls.append(r.url))
    page = context.new_page()
    page.on("websocket", lambda ws: urls.append(ws.url))
    violations = []
    try:
        _search(page, base, PERSIAN_WORD)
        page.wait_for_load_state("networkidle")
        violations += page.evaluate("window.__cspViolations")
        icon = page.locator("link[rel*='icon']").first.get_attribute("href")
        page.goto(f"{base}/document?doc={scan_id}&page=1&q={urllib.parse.quote(PERSIAN_WORD)}")
        page.get_by_test_id("page-image").wait_for(timeout=60_000)
        assert page.get_by_test_id("highlight-box").count() >= 1
        page.wait_for_load_state("networkidle")
        violations += page.evaluate("window.__cspViolations")
        page.goto(base + "/overview")
        page.get_by_text("Timeline", exact=True).wait_for(timeout=30_000)
        page.locator(CHART).first.wait_for(timeout=30_000)  # the chart is drawn
        page.wait_for_load_state("networkidle")
        violations += page.evaluate("window.__cspViolations")
        _no_errors(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=False)
    finally:
        context.close()
    hosts = {urllib.parse.urlsplit(u).hostname for u in urls}
    assert hosts == {"127.0.0.1"}, sorted(u for u in urls if urllib.parse.urlsplit(u).hostname not in LOCAL_HOSTS)
    assert any(urllib.parse.urlsplit(u).scheme == "ws" for u in urls), "the page's WebSocket was recorded"
    assert len(urls) > 20, urls  # scripts, fonts, the WebSocket, the page icon: all recorded
    # the page icon is a local file, not a Material icon fetched from fonts.gstatic.com
    assert icon and urllib.parse.urljoin(base + "/", icon).startswith(base + "/media/"), icon
    assert violations == [], violations  # the policy blocks nothing the workbench uses


# -- why each hit matched, the page image, the overview and the audit (issue #14, items 4 and 7) -----

DATED_LETTER = ("نامه شماره ۱۲ مورخ ۱۳۹۹/۰۱/۰۵ درباره ماسک\n"
                "پاسخ به نامه مورخ ۱۳۹۹/۰۱/۰۵ تا کنون نرسیده است\nReceived 24 March 2020")


@pytest.fixture(scope="module")
def dated(server, tmp_path_factory):
    """A letter that writes one day three times (twice in Persian, once in English)."""
    from tests.conftest import Sanad

    _, root = server
    path = tmp_path_factory.mktemp("dated") / "dated-letter.txt"
    path.write_text(DATED_LETTER, encoding="utf-8")
    results = Sanad(root).json("ingest", str(path))
    return results[0]["document_id"]


def _shot(page, name: str, height: float | None = None) -> None:
    """The page image's frame, the controls above it and the text beside it (``height``: only
    the frame's top)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.get_by_text("Text beside the image").wait_for(timeout=30_000)
    page.get_by_test_id("stButtonGroup").first.scroll_into_view_if_needed()
    top = page.get_by_test_id("stButtonGroup").first.bounding_box()
    frame = page.get_by_test_id("page-frame").bounding_box()
    text = page.get_by_test_id("page-text").bounding_box()
    right = max(frame["x"] + frame["width"], text["x"] + text["width"])
    bottom = frame["y"] + (height or frame["height"])
    page.screenshot(path=str(SCREENSHOTS / name), clip={"x": frame["x"] - 10, "y": top["y"] - 10,
                                                       "width": right - frame["x"] + 20,
                                                       "height": bottom - top["y"] + 20})


def _open_page(page, base: str, doc_id: str, query: str, number: int = 1):
    page.goto(f"{base}/document?doc={doc_id}&page={number}&q={urllib.parse.quote(query)}")
    page.get_by_test_id("page-image").wait_for(timeout=60_000)
    page.locator("[data-testid='page-image'] img").evaluate("img => img.decode()")  # drawn, sized
    return page


def _zoom(page, label: str) -> None:
    page.get_by_role("radio", name=label).click()
    percent = "100" if label == "Fit" else label.rstrip("%")
    page.locator(f"[data-testid='page-frame'][data-zoom='{percent}']").wait_for(timeout=30_000)
    page.locator("[data-testid='page-image'] img").evaluate("img => img.decode()")


def test_search_has_its_own_address(server, browser, stored):
    base, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(base + "/search?q=masks")  # typed, bookmarked or sent: the query runs at once
        page.locator(".sanad-snippet mark").first.wait_for(timeout=30_000)
        assert "Page not found" not in page.inner_text("body")
        assert page.get_by_test_id("effective-query").inner_text() == "masks"
        assert urllib.parse.urlsplit(page.url).path == "/search"
        # the filters chosen beside the box are in the address too
        page.get_by_label("Language").click()
        page.get_by_role("option", name="English").click()
        page.get_by_role("button", name="Search", exact=True).click()
        page.wait_for_function("() => new URLSearchParams(location.search).get('q') === 'masks lang:en'",
                               timeout=30_000)
        page.goto(base + "/?q=" + urllib.parse.quote(PERSIAN_WORD))  # the start page opens Search with it
        page.locator(".sanad-snippet mark").first.wait_for(timeout=30_000)
        split = urllib.parse.urlsplit(page.url)
        assert split.path == "/search" and urllib.parse.parse_qs(split.query)["q"] == [PERSIAN_WORD]
        _no_errors(page)
    finally:
        context.close()


def test_each_hit_says_why_it_matched_with_a_legend(server, browser, stored):
    base, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    page = context.new_page()
    try:
        _search(page, base, "masks")
        legend = page.get_by_test_id("legend")
        legend.wait_for(timeout=30_000)
        assert legend.locator("[data-kind='typed']").count() == 1
        assert legend.locator("[data-kind='translation']").count() == 1
        cards = page.locator("[class*='st-key-result-']")
        report = cards.filter(has_text="prison-report.pdf").first
        letter = cards.filter(has_text="نامه زندان گیلان.png").first
        # the English report holds the word as typed; the Persian letter only its translation
        assert report.locator("[data-testid='matched'] [data-kind='typed']").first.inner_text() == "masks"
        assert report.locator("mark.sanad-m-typed").count() >= 1
        assert report.locator("mark.sanad-m-alt").count() == 0
        why = letter.locator("[data-testid='matched']").first
        assert why.get_attribute("data-tier") == "1" and "only through alternatives" in why.inner_text()
        assert letter.locator("mark.sanad-m-alt").count() >= 1 and letter.locator("mark.sanad-m-typed").count() == 0
        # the two styles differ on screen, not only in the markup
        typed_bg = report.locator("mark.sanad-m-typed").first.evaluate("e => getComputedStyle(e).backgroundColor")
        alt_bg = letter.locator("mark.sanad-m-alt").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert typed_bg != alt_bg
        _no_errors(page)
        # one Persian page holding a typed word and a translation, one English page a name
        _search(page, base, "گیلان masks")
        legend = page.get_by_test_id("legend")
        legend.wait_for(timeout=30_000)
        letter = cards.filter(has_text="نامه زندان گیلان.png").first
        why = letter.locator("[data-testid='matched']").first
        assert why.locator("[data-kind='typed']").count() == 1 and why.locator("[data-kind='translation']").count() == 1
        assert letter.locator("mark.sanad-m-typed").count() >= 1  # the snippet is centred on the typed word
        legend.scroll_into_view_if_needed()
        box = legend.bounding_box()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "search-legend.png"),
                        clip={"x": box["x"] - 20, "y": box["y"] - 60, "width": 1100, "height": 560})
    finally:
        context.close()


def test_page_image_draws_typed_and_expanded_words_apart(server, browser, stored):
    base, _ = server
    scan_id = stored["نامه زندان گیلان.png"]
    context = browser.new_context(viewport={"width": 1400, "height": 1300})
    page = context.new_page()
    try:
        _open_page(page, base, scan_id, f"{PERSIAN_WORD} masks")  # زندان typed, ماسک through "masks"
        boxes = page.get_by_test_id("highlight-box")
        kinds = [boxes.nth(i).get_attribute("data-kind") for i in range(boxes.count())]
        assert "typed" in kinds and "translation" in kinds, kinds
        assert "feedback" not in kinds  # feedback words are outlined only when asked for
        typed = page.locator("[data-testid='highlight-box'][data-kind='typed']").first
        alt = page.locator("[data-testid='highlight-box'][data-kind='translation']").first
        style = "e => getComputedStyle(e).outlineStyle"
        assert typed.evaluate(style) == "solid" and alt.evaluate(style) == "dashed"
        assert page.get_by_test_id("page-text").locator("mark.sanad-m-alt").count() >= 1
        _no_errors(page)
        _zoom(page, "150%")
        # scrolled so that both kinds are in view: the translated ماسک lies below the typed زندان
        _shot(page, "outline-kinds.png", height=760)  # down to the translated ماسک below the typed زندان

        # a translated phrase outlines where it stands, and none of its «و» (nor any other)
        _open_page(page, base, scan_id, "Ministry of Health")
        boxes = page.get_by_test_id("highlight-box")
        titles = [boxes.nth(i).get_attribute("title") for i in range(boxes.count())]
        assert 2 <= len(titles) <= 8, titles
        assert not [t for t in titles if t.split(":")[0].strip() in ("و", "")], titles
        _no_errors(page)
    finally:
        context.close()


def test_born_digital_pdf_hit_is_outlined(server, browser, stored):
    base, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    try:
        _open_page(page, base, stored["prison-report.pdf"], "masks")
        box = page.locator("[data-testid='highlight-box'][data-kind='typed']").first
        assert box.get_attribute("title").startswith("masks")
        outline, image = box.bounding_box(), page.get_by_test_id("page-image").bounding_box()
        assert outline["width"] > 10 and image["x"] <= outline["x"] <= image["x"] + image["width"]
        _no_errors(page)
        _shot(page, "pdf-outlined.png", height=360)
    finally:
        context.close()


def test_page_image_is_large_and_zooms(server, browser, stored):
    base, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        _open_page(page, base, stored["نامه زندان گیلان.png"], PERSIAN_WORD)
        fit = page.get_by_test_id("page-image").bounding_box()["width"]
        assert fit >= 520, fit  # it was 450: too small to read a letter's number
        _zoom(page, "300%")
        frame = page.get_by_test_id("page-frame")
        inner, scroll = frame.evaluate("e => [e.clientWidth, e.scrollWidth]")
        assert page.get_by_test_id("page-image").bounding_box()["width"] >= 2.9 * inner and scroll > 2.5 * inner
        # a Persian letter opens at its right edge, where it starts
        assert frame.evaluate("e => Math.abs(e.scrollLeft)") < 5
        assert frame.evaluate("e => getComputedStyle(e).direction") == "rtl"
        # the outlines stay on their words
        box = page.get_by_test_id("highlight-box").first.bounding_box()
        image = page.get_by_test_id("page-image").bounding_box()
        assert image["x"] <= box["x"] <= image["x"] + image["width"] and box["width"] > 20
        _shot(page, "zoomed-page.png", height=600)
        # the whole width for the image, the text below it
        page.get_by_text("Text beside the image").click()
        _zoom(page, "Fit")
        wide = page.get_by_test_id("page-image").bounding_box()["width"]
        assert wide >= 1.5 * fit, (wide, fit)
        _no_errors(page)
    finally:
        context.close()


def test_each_date_is_listed_once(server, browser, dated):
    base, _ = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{base}/document?doc={dated}&page=1")
        dates = page.get_by_test_id("dates")
        dates.wait_for(timeout=60_000)
        items = dates.locator("li").all_inner_texts()
        assert len(items) == 1 and "2020-03-24" in items[0], items
        assert "۱۳۹۹/۰۱/۰۵" in items[0] and "24 March 2020" in items[0]
        _no_errors(page)
    finally:
        context.close()


def test_overview_counts_by_letter_date_and_the_log_is_readable(server, browser, stored, dated):
    from archive.archive import Archive

    base, root = server
    archive = Archive(root)
    try:
        documents, dated_count = len(archive.catalog.document_ids()), len(archive.catalog.document_days())
    finally:
        archive.close()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(base + "/overview")
        page.get_by_text(f"{dated_count} document(s) by the first date written on them").wait_for(timeout=30_000)
        assert page.get_by_role("radio", name="Date of the letter").is_checked()
        assert dated_count < documents  # the undated are said apart
        assert f"{documents - dated_count} with no date found" in page.inner_text("body")
        page.locator(CHART).first.wait_for(timeout=30_000)
        page.get_by_text("Day added to the archive").click()
        page.get_by_text("first date written on them").wait_for(state="detached", timeout=30_000)
        page.locator(CHART).first.wait_for(timeout=30_000)
        # the activity table reads as text: times in UTC, documents by name, no Python dicts
        table = page.locator("[data-testid='stDataFrame'] table").last
        table.wait_for(state="attached", timeout=30_000)
        text = table.inner_text()
        assert "UTC" in text and "prison-report.pdf" in text and "filename:" not in text
        assert "{" not in text and "'" not in text, text[:500]
        _no_errors(page)
    finally:
        context.close()


def _raw_get(base: str, path: str, host: str | None) -> tuple[int, dict, bytes]:
    """A GET with exactly the Host header given (a browser of a DNS-rebinding page sends its own)."""
    import http.client

    port = urllib.parse.urlsplit(base).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/static/js/nonexistent.js", "/media/x.png",
                                  "/_stcore/host-config"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example:{port}",
                                  "localhost.evil.example", "user@127.0.0.1:{port}", None])
def test_foreign_host_is_refused(server, path, host):
    base, _ = server
    port = urllib.parse.urlsplit(base).port
    status, _, body = _raw_get(base, path, host.format(port=port) if host else None)
    assert status in (400, 403), (status, body[:200])


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "127.0.0.1"])
def test_own_host_is_answered(server, host):
    base, _ = server
    status, _, body = _raw_get(base, "/_stcore/health", host.format(port=urllib.parse.urlsplit(base).port))
    assert status == 200 and body == b"ok"


@pytest.mark.parametrize("host,refused", [("evil.example:{port}", True), ("127.0.0.1:{port}", False)])
def test_websocket_with_foreign_host_is_refused(server, host, refused):
    base, _ = server
    port = urllib.parse.urlsplit(base).port
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host.format(port=port)}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n"
               f"Origin: http://{host.format(port=port)}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request.encode())
        status_line = s.recv(4096).split(b"\r\n", 1)[0]
    assert (b" 403 " in status_line) is refused and (b" 101 " in status_line) is not refused, status_line


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/favicon.png", "/document"])
def test_security_headers_on_every_response(server, path):
    base, _ = server
    status, headers, _ = _raw_get(base, path, "127.0.0.1:" + str(urllib.parse.urlsplit(base).port))
    assert status == 200
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    policy = dict((d.split(" ", 1) + [""])[:2] for d in (x.strip() for x in headers["content-security-policy"].split(";")))
    assert policy["frame-ancestors"] == "'none'"
    assert policy["default-src"] == "'self'"
    for directive in ("script-src", "connect-src", "img-src", "font-src", "style-src"):
        sources = policy[directive].split()
        assert sources[0] == "'self'" and all(s.startswith("'") or s.endswith(":") for s in sources), policy
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


def test_workbench_cannot_be_framed(server, browser):
    base, _ = server
    context = browser.new_context()
    page = context.new_page()
    try:
        page.set_content(f'<iframe id="f" src="{base}/" width="800" height="600"></iframe>')

        def framed_url():
            urls = [f.url for f in page.frames if f != page.main_frame]
            return urls and urls[0] not in ("", "about:blank") and urls[0]

        # Chromium replaces a frame that X-Frame-Options / frame-ancestors forbid with its own
        # error page; without the headers the frame holds the app at base/.
        assert _wait(framed_url, 30, "the frame to load") == "chrome-error://chromewebdata/"
        assert page.frame_locator("#f").locator("[data-testid='stApp']").count() == 0
    finally:
        context.close()


def test_server_log_has_no_deprecation_warnings(server):
    """Last in the module: every page above has been drawn by this server by now."""
    _, root = server
    log = (root.parent / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "use_container_width" not in log and "deprecat" not in log.lower(), log[-3000:]
