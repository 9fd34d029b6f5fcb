"""The foundation's promises, through the real `sanad` command."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3

import pytest

from tests.conftest import make_text_pdf


def _folder(tmp_path, count, name="batch"):
    folder = tmp_path / name
    folder.mkdir()
    for i in range(count):
        (folder / f"report-{i:04d}.txt").write_text(
            f"Report {i}: the prisons authority asked for {i * 100} N95 masks.\nگزارش {i} درباره زندان\n")
    return folder


def test_ingest_twice_then_verify(sanad, tmp_path):
    folder = _folder(tmp_path, 200)
    first = sanad.json("ingest", str(folder), "--source", "test batch", "--tag", "reports")
    assert len(first) == 200 and {r["status"] for r in first} == {"ingested"}
    assert all(r["pages"] == 1 and len(r["document_id"]) == 64 and r["error"] is None for r in first)
    second = sanad.json("ingest", str(folder))
    assert len(second) == 200 and {r["status"] for r in second} == {"duplicate"}
    assert {r["path"]: r["document_id"] for r in first} == {r["path"]: r["document_id"] for r in second}
    out = sanad("verify")
    assert "everything matches" in out.stdout
    listed = sanad.json("list")
    assert len(listed) == 200 and listed[0]["tags"] == ["reports"] and listed[0]["source"] == "test batch"


def test_search_json_and_show(sanad, tmp_path):
    folder = _folder(tmp_path, 3)
    make_text_pdf(folder / "two-pages.pdf", ["First page about budgets", "Second page: ventilators for Evin prison"])
    sanad.json("ingest", str(folder))
    hits = sanad.json("search", "ventilators")
    assert len(hits) == 1
    hit = hits[0]
    assert set(hit) == {"document_id", "filename", "title", "page", "score", "snippet", "tier", "matched",
                        "phrases", "marks"}
    assert hit["tier"] == 0 and {"term": "ventilators", "kind": "typed"} in hit["matched"]
    assert hit["marks"] and all(m["kind"] == "typed" for m in hit["marks"])
    assert {hit["snippet"][m["start"]:m["end"]].lower() for m in hit["marks"]} == {"ventilators"}
    assert hit["filename"] == "two-pages.pdf" and hit["page"] == 2 and "ventilators" in hit["snippet"]
    shown = sanad.json("show", hit["document_id"][:10], "--page", "2")[0]
    assert shown["pages"] == 2 and shown["page_texts"][0]["method"] == "text"
    assert "Evin prison" in shown["page_texts"][0]["text"]
    assert "page 2" in sanad("show", hit["document_id"]).stdout
    assert "matched typed: ventilators" in sanad("search", "ventilators").stdout


def test_verify_names_a_corrupted_original(sanad, tmp_path, archive_dir):
    folder = _folder(tmp_path, 3)
    results = sanad.json("ingest", str(folder))
    victim = results[1]["document_id"]
    path = archive_dir / "originals" / victim[:2] / victim
    os.chmod(path, 0o644)
    with open(path, "ab") as f:
        f.write(b"tampered")
    out = sanad("verify", check=1)
    assert victim in out.stdout and "CHANGED" in out.stdout
    assert results[0]["document_id"] not in out.stdout


def test_sigkill_mid_batch_then_resume(sanad, tmp_path, archive_dir):
    folder = _folder(tmp_path, 1500)
    proc = sanad.popen("ingest", str(folder), "--json", stdout=-1, stderr=-1, start_new_session=True)
    seen = 0
    for line in proc.stdout:
        seen += 1
        if seen == 100:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Whatever is under originals/ is complete: every file hashes to its name.
    for path in (archive_dir / "originals").glob("??/*"):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
    results = sanad.json("ingest", str(folder))
    assert len(results) == 1500
    assert {r["status"] for r in results} <= {"ingested", "duplicate"}
    assert sum(r["status"] == "duplicate" for r in results) >= 100
    assert list((archive_dir / "tmp").iterdir()) == []
    db = sqlite3.connect(archive_dir / "catalog.sqlite")
    assert db.execute("SELECT count(*) FROM documents").fetchone()[0] == 1500
    assert db.execute("SELECT count(*) FROM documents WHERE status != 'done'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM pages WHERE document_id NOT IN (SELECT id FROM documents)").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM pages WHERE status != 'done'").fetchone()[0] == 0
    assert len(list((archive_dir / "originals").glob("??/*"))) == 1500
    sanad("verify")


def test_bad_inputs_each_get_a_clear_message(sanad, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "نامه زندان.txt").write_text("درخواست ماسک N95 برای زندان اوین")
    odd = os.fsencode(folder) + b"/odd-\xff\xfe-name.txt"
    with open(odd, "wb") as f:
        f.write(b"odd bytes in the name")
    (folder / "random.bin").write_bytes(bytes(range(256)) * 40)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    results = sanad.json("ingest", str(folder), str(tmp_path / "does-not-exist.pdf"), check=1)
    by_name = {os.path.basename(r["path"]): r for r in results}
    assert by_name["نامه زندان.txt"]["status"] == "ingested"
    assert by_name["odd-\ufffd\ufffd-name.txt"]["status"] == "ingested"
    assert by_name["empty.txt"]["status"] == "failed" and "empty" in by_name["empty.txt"]["error"]
    assert by_name["random.bin"]["status"] == "failed" and by_name["random.bin"]["error"]
    assert by_name["broken.pdf"]["status"] == "failed" and "PDF" in by_name["broken.pdf"]["error"]
    assert by_name["does-not-exist.pdf"]["status"] == "failed"
    assert by_name["does-not-exist.pdf"]["error"] == "no such file or folder"
    # Failed files are kept in the archive with their reason; nothing is lost.
    listed = {d["filename"]: d for d in sanad.json("list")}
    assert listed["random.bin"]["status"] == "failed" and listed["empty.txt"]["status"] == "failed"
    sanad("verify")
    hits = sanad.json("search", "اوین")
    assert [h["filename"] for h in hits] == ["نامه زندان.txt"]


def test_human_output_has_no_traceback(sanad, tmp_path):
    out = sanad("ingest", str(tmp_path / "missing"), check=1)
    assert "no such file or folder" in out.stderr and "1 failed" in out.stderr
    out = sanad("show", "deadbeef", check=3)
    assert "no document" in out.stderr
    out = sanad("search", "", check=4)
    assert out.stderr.startswith("sanad: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its permissions")
def test_unreadable_file(sanad, tmp_path):
    f = tmp_path / "secret.txt"
    f.write_text("x")
    f.chmod(0)
    result = sanad.json("ingest", str(f), check=1)[0]
    assert result["status"] == "failed" and "permission" in result["error"]


def test_many_small_files_in_nested_folders(sanad, tmp_path):
    root = tmp_path / "deep"
    for i in range(3000):
        sub = root / f"box{i % 30}" / f"folder{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"n{i}.txt").write_text(f"note {i}")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    results = sanad.json("ingest", str(root))
    assert len(results) == 3000 and {r["status"] for r in results} == {"ingested"}
    assert json.loads(sanad("list", "--json").stdout.splitlines()[0])["status"] == "done"
