"""The web workbench, driven by Streamlit's AppTest (no browser): escaping, messages, metadata edits."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from archive.archive import Archive  # noqa: E402
from archive.models import Page, WordBox  # noqa: E402
from ui import batches, web  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
NASTY = "Report <script>alert(1)</script> **x** [a](javascript:alert(1)) :red[y] $z$"
TYPED = '<mark class="sanad-m-typed" data-kind="typed">'  # a word as typed, marked (ui.matches)
PERSIAN = "گزارش بازدید از زندان اوین\nنامه شماره ۱۲۳۴/ص/۹۹ به تاریخ ۱۳۹۹/۰۱/۰۵"


@pytest.fixture(scope="module")
def ui_archive(tmp_path_factory) -> Path:
    """An archive with two text documents (text needs no OCR, so this is fast)."""
    from ingest.pipeline import Ingestor

    root = tmp_path_factory.mktemp("ui") / "archive"
    files = tmp_path_factory.mktemp("files")
    (files / "nasty.txt").write_text(NASTY + "\nsecond line", encoding="utf-8")
    (files / "letter-fa.txt").write_text(PERSIAN, encoding="utf-8")
    archive = Archive(root)
    results = Ingestor(archive, jobs=1, actor="test").ingest(sorted(files.iterdir()), source="test source",
                                                             tags=["alpha"])
    assert all(r.status == "ingested" for r in results), results
    archive.close()
    return root


@pytest.fixture
def app(ui_archive, monkeypatch):
    monkeypatch.setenv("SANAD_ARCHIVE", str(ui_archive))
    return AppTest.from_file(APP, default_timeout=60)


def search(at: AppTest, text: str) -> AppTest:
    at.text_input(key="search_text").input(text)
    at.button(key="FormSubmitter:search-Search").click()
    return at.run()


def html_of(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_empty_query_explains_what_to_do(app):
    at = app.run()
    no_errors(at)
    assert any("Type a word" in i.value for i in at.info)
    at = search(at, "   ")
    assert any("Type a word" in i.value for i in at.info)
    at = search(at, "!!!")
    assert any("punctuation alone" in w.value for w in at.warning)


@pytest.mark.parametrize("query", ["lang:xx", "date:notadate"])
def test_bad_query_shows_the_reason(app, query):
    at = search(app.run(), query)
    no_errors(at)
    warnings = [w.value for w in at.warning]
    assert any("could not be understood" in w for w in warnings), warnings


def test_script_and_markdown_in_documents_show_as_text(app):
    at = search(app.run(), "script")
    no_errors(at)
    body = html_of(at)
    assert f"{TYPED}script</mark>" in body
    assert "<script" not in body.lower().replace(f"{TYPED}script</mark>", "")
    assert "&#60;" in body  # the angle brackets arrive as entities
    assert "**x**" not in body and "](javascript" not in body and ":red[" not in body
    assert "&#42;&#42;x&#42;&#42;" in body


def test_persian_results_are_right_to_left(app):
    at = search(app.run(), "زندان")
    no_errors(at)
    body = html_of(at)
    assert 'dir="rtl"' in body and "text-align:right" in body
    assert f"{TYPED}زندان</mark>" in body
    assert at.get("page_link"), "each hit links to its page in the document view"


def test_document_view_escapes_text_and_audits_metadata_edits(app, ui_archive):
    archive = Archive(ui_archive)
    doc = next(d for d in archive.catalog.list_documents() if d.filename == "nasty.txt")
    at = app
    at.query_params["doc"] = doc.id
    at.query_params["page"] = "1"
    at.query_params["q"] = "script"
    at.switch_page("views/document.py").run()
    no_errors(at)
    body = html_of(at)
    assert f"&#60;{TYPED}script</mark>&#62;alert" in body
    assert "<script>" not in body

    at.text_input(key=f"title_{doc.id}").input("A title with <b>tags</b>")
    at.text_input(key=f"tags_{doc.id}").input("alpha, beta")
    at.text_input(key="actor").input("Investigator A")
    at.button(key=f"FormSubmitter:meta_{doc.id}-Save").click().run()
    no_errors(at)

    edited = archive.catalog.get_document(doc.id)
    assert edited.title == "A title with <b>tags</b>" and edited.tags == ["alpha", "beta"]
    log = [a for a in archive.catalog.audit_log(doc.id) if a["action"] == "edit"]
    assert log and log[0]["actor"] == "Investigator A"
    assert log[0]["detail"]["title"] == {"old": "", "new": "A title with <b>tags</b>"}
    # re-indexed: the new tag is searchable at once, and the title is shown escaped
    from search.index import SearchIndex

    assert SearchIndex(archive.index_dir).search("tag:beta").total == 1
    assert "A title with &#60;b&#62;tags&#60;/b&#62;" in html_of(at)
    archive.close()


def test_export_is_audited(app, ui_archive):
    at = search(app.run(), "script")
    no_errors(at)
    buttons = at.download_button
    assert [b.label for b in buttons] == ["Download CSV", "Download JSON"]
    buttons[0].click().run()
    no_errors(at)
    archive = Archive(ui_archive)
    exports = [a for a in archive.catalog.audit_log() if a["action"] == "export"]
    archive.close()
    assert exports and exports[0]["detail"]["format"] == "csv" and exports[0]["detail"]["query"] == "script"


def test_build_query_turns_filters_into_syntax():
    import datetime as dt

    q = web.build_query("زندان", lang="fa", source="Ministry of Health", tags=["a b", "c"],
                        date_from=dt.date(2020, 3, 1), date_to=None)
    assert q == 'زندان lang:fa source:"Ministry of Health" tag:"a b" tag:c date:2020-03-01..'


def test_highlight_boxes_follow_matching_words():
    from PIL import Image

    from search.highlight import Mark, word_boxes

    page = Page("d", 1, text="زندان‌های استان", width=1000, height=500, words=[
        WordBox("زندان‌های", 600, 100, 200, 50, 90.0), WordBox("استان", 300, 100, 200, 50, 90.0)])
    boxes = word_boxes(page.text, page.words, [Mark(0, len("زندان‌های"), "typed")])
    assert [(b.text, b.kind) for b in boxes] == [("زندان‌های", "typed")]
    html = web.page_view_html(Image.new("RGB", (1000, 500), "white"), boxes, page_w=1000, page_h=500, alt="p")
    assert html.count('data-testid="highlight-box"') == 1 and 'data-kind="typed"' in html
    assert "left:60.000%;top:20.000%;width:20.000%;height:10.000%" in html


def test_csv_export_neutralises_formulas():
    from archive.models import Hit

    rows = web.export_rows([Hit("abc", "f.txt", "", 1, 1.0, "=HYPERLINK(\"x\")", source="s")])
    data = web.to_csv(rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in data and data.splitlines()[0] == ",".join(web.EXPORT_FIELDS)


def test_other_pages_render(app, ui_archive):
    for page in ("views/overview.py", "views/upload.py", "views/document.py"):
        at = app.switch_page(page).run()
        no_errors(at)


def test_batch_keeps_zips_reports_failures_and_retries(tmp_path):
    import io
    import time
    import json
    import zipfile

    root = tmp_path / "archive"
    archive = Archive(root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("inner/a.txt", "first file inside the zip")
        z.writestr("../../escape.txt", "a name that tries to leave the folder")
    uploads = [("../evil name?.txt", "plain text upload".encode()), ("bundle.zip", buf.getvalue()),
               ("broken.pdf", b"%PDF-1.4 this is not really a pdf")]
    folder = batches.create_batch(root, uploads, "zip test", ["z"])
    names = sorted(f["name"] for f in json.loads((folder / batches.MANIFEST).read_text())["files"])
    assert names == ["broken.pdf", "bundle.zip", "evil name_.txt"]
    assert all((folder / "files" / n).resolve().is_relative_to(folder / "files") for n in names)

    def settle():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            batch = batches.load_batch(root, folder, archive.catalog)
            if batch.finished:
                return batch
            time.sleep(0.3)
        raise AssertionError("ingest did not finish")

    batches.start_ingest(root, folder)
    batch = settle()
    status = {f.name: f.status for f in batch.files}
    # The ZIP is kept as an original and each file in it becomes a document of its own; a member
    # named ../../escape.txt is reported without the parts that would leave the ZIP.
    assert status == {"broken.pdf": "failed", "bundle.zip": "ingested", "bundle.zip/escape.txt": "ingested",
                      "bundle.zip/inner/a.txt": "ingested", "evil name_.txt": "ingested"}, batch.files
    assert not (tmp_path / "escape.txt").exists() and not (root / "escape.txt").exists()
    broken = next(f for f in batch.files if f.name == "broken.pdf")
    assert broken.error  # the reason is shown

    # Retry: the file runs again and its new outcome replaces the old one
    batches.start_ingest(root, folder, ["broken.pdf"])
    assert not batches.load_batch(root, folder, archive.catalog).finished
    batch = settle()
    assert next(f for f in batch.files if f.name == "broken.pdf").status == "failed"
    assert len(archive.catalog.list_documents()) == 5
    archive.close()


def test_english_query_shows_its_persian_expansions_and_can_turn_them_off(app):
    at = search(app.run(), "prison")
    no_errors(at)
    assert "Also searched" in html_of(at) and "زندان" in html_of(at)
    assert "letter-fa.txt" in html_of(at)
    at.toggle(key="search_expand").set_value(False)
    at = search(at, "prison")
    assert "Also searched" not in html_of(at)
    assert "letter-fa.txt" not in html_of(at)


def test_glossary_edit_is_saved_audited_and_used(app, ui_archive):
    at = app.switch_page("views/glossary.py").run()
    no_errors(at)
    at.text_area[0].input("evin\tاوین\n")
    at.button[0].click()
    at = at.run()
    assert (ui_archive / "glossary.tsv").read_text(encoding="utf-8") == "evin\tاوین\n"
    assert Archive(ui_archive).catalog.audit_log()[0]["action"] == "glossary-edit"
    at = search(app.switch_page("views/search.py").run(), "evin")
    assert "letter-fa.txt" in html_of(at)


def test_document_view_shows_dates_in_both_calendars(app, ui_archive):
    doc = next(d for d in Archive(ui_archive).catalog.list_documents() if d.filename == "letter-fa.txt")
    at = app
    at.query_params["doc"] = doc.id
    at = at.switch_page("views/document.py").run()
    no_errors(at)
    assert "۱۳۹۹/۰۱/۰۵" in html_of(at) and "2020-03-24" in html_of(at)


@pytest.mark.parametrize("doc_id", ["____", "%%%%", "____%"])
def test_document_url_with_wildcards_opens_nothing(app, doc_id):
    # `?doc=____` once opened (or, with two documents, "matched several of") every document.
    at = app
    at.query_params["doc"] = doc_id
    at.switch_page("views/document.py").run()
    assert [e.value for e in at.error] == ["No such document."]
    assert not at.exception


def test_uploaded_bytes_are_on_disk_once(tmp_path):
    """An upload is written in chunks from its file object, its inbox file and its original are
    one file (a hard link), and once ingested the inbox name goes (issue #17, item 12)."""
    import io
    import json
    import os
    import time

    root = tmp_path / "archive"
    archive = Archive(root)
    big = os.urandom(3 << 20) + b"\nnot a document format"
    text = "an uploaded note about prisons".encode()
    folder = batches.create_batch(root, [("big.bin", io.BytesIO(big)), ("note.txt", io.BytesIO(text))], "s", [])
    files = {f["name"]: f["sha256"] for f in json.loads((folder / batches.MANIFEST).read_text())["files"]}
    for name, sha in files.items():
        assert os.path.samefile(folder / "files" / name, archive.store.path_for(sha))
    assert (folder / "files" / "big.bin").read_bytes() == big

    batches.start_ingest(root, folder)
    deadline = time.monotonic() + 120
    while not (batch := batches.load_batch(root, folder, archive.catalog)).finished and time.monotonic() < deadline:
        time.sleep(0.3)
    status = {f.name: f.status for f in batch.files}
    assert status == {"big.bin": "failed", "note.txt": "ingested"}, batch.files
    assert batches.release_stored_files(folder, batch, archive.store.originals) == 1
    # the ingested file lives in originals/ only; the failed one keeps its inbox name for Retry
    assert sorted(p.name for p in (folder / "files").iterdir()) == ["big.bin"]
    assert os.stat(archive.store.path_for(files["note.txt"])).st_nlink == 1
    assert os.path.samefile(folder / "files" / "big.bin", archive.store.path_for(files["big.bin"]))
    archive.close()


def test_upload_onto_a_full_disk_is_named_and_leaves_no_batch(tmp_path):
    import io
    import subprocess

    from archive.errors import DiskFull

    mount = tmp_path / "small"
    mount.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        root = mount / "archive"
        Archive(root).close()
        with pytest.raises(DiskFull, match="is full"):
            batches.create_batch(root, [("a.bin", io.BytesIO(b"x" * (1 << 20))), ("b.bin", io.BytesIO(b"y" * (3 << 20)))],
                             "s", [])
        assert batches.list_batches(root) == [] and list(batches.inbox(root).iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_submitted_uploads_are_not_kept_in_memory(tmp_path, monkeypatch):
    """Once "Add to the archive" has saved them, no open copy of the uploaded files is left in the
    session: Streamlit keeps the widget's value (UploadedFile objects over the uploaded bytes) in
    its widget state, and hands the page a deep copy of it, so closing the page's copies alone
    kept both uploads in memory until the session ended (issue #17, item 12)."""
    import gc
    import hashlib
    import os
    import time

    from streamlit.runtime.uploaded_file_manager import UploadedFile

    root = tmp_path / "archive"
    Archive(root).close()
    monkeypatch.setenv("SANAD_ARCHIVE", str(root))
    payload = os.urandom(1 << 20)
    at = AppTest.from_file(APP, default_timeout=60).switch_page("views/upload.py").run()
    at.file_uploader(key="upload_files").set_value([("scan.bin", payload, "application/octet-stream")])
    at.button(key="FormSubmitter:upload-Add to the archive").click()
    at = at.run()
    no_errors(at)
    assert any("processing has started" in s.value for s in at.success)

    gc.collect()
    still_open = [(f.name, f.size) for f in gc.get_objects() if isinstance(f, UploadedFile) and not f.closed]
    in_widget_state = at.session_state["upload_files"] or []

    archive = Archive(root)
    try:  # the batch is left to finish first: its ingest writes into tmp_path
        [folder] = list(batches.inbox(root).iterdir())
        deadline = time.monotonic() + 120
        while not batches.load_batch(root, folder, archive.catalog).finished and time.monotonic() < deadline:
            time.sleep(0.3)
        assert archive.store.path_for(hashlib.sha256(payload).hexdigest()).read_bytes() == payload
    finally:
        archive.close()
    assert not still_open
    assert all(f.closed for f in in_widget_state)
