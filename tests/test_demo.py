"""`make run` opens on the demo archive: the demo set must ingest completely and be searchable."""

from ui import demo


def test_demo_archive_ingests_and_finds_both_languages(tmp_path):
    root = tmp_path / "archive"
    assert demo.seed(root) == 5
    assert demo.seed(root) == 0  # a second `make run` leaves the archive alone
    from archive.archive import Archive
    from search.index import SearchIndex

    archive = Archive(root)
    assert {d.status for d in archive.catalog.list_documents()} == {"done"}
    index = SearchIndex(archive.index_dir)
    persian = {h.filename for h in index.search("ماسک", expand=False).hits}
    english = {h.filename for h in index.search("disinfectant", expand=False).hits}
    assert "letter-1399-01-05-clean-scan.png" in persian and "report-health-supplies.html" in english
