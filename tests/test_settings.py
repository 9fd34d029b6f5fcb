"""The settings table: declared once, read in order (file, environment, flags), checked, documented."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from archive import settings
from archive.errors import SettingsError

README = Path(__file__).resolve().parent.parent / "README.md"


def test_defaults_when_nothing_is_set(tmp_path):
    current = settings.load(tmp_path, environ={})
    assert current.values == {s.name: s.default for s in settings.SETTINGS}
    assert {current.source(s.name) for s in settings.SETTINGS} == {"default"}


def test_file_then_environment_then_flags(tmp_path):
    (tmp_path / "sanad.toml").write_text('jobs = 3\nmin_free_mb = 50\n[cluster]\ncluster = "tcp://10.0.0.5:8786"\n')
    current = settings.load(tmp_path, environ={"SANAD_JOBS": "5", "SANAD_MAX_PIXELS": "1000"},
                            flags={"jobs": 7, "page_timeout": None})
    assert (current.jobs, current.source("jobs")) == (7, "--jobs")
    assert (current.max_pixels, current.source("max_pixels")) == (1000, "$SANAD_MAX_PIXELS")
    assert current.min_free_mb == 50 and current.source("min_free_mb").endswith("sanad.toml")
    assert current.cluster == "tcp://10.0.0.5:8786"
    assert current.page_timeout == 900.0 and current.source("page_timeout") == "default"


@pytest.mark.parametrize("environ, words", [
    ({"SANAD_JOBS": "many"}, "not a whole number"),
    ({"SANAD_AUTH": "ldap"}, "not one of none, local, oidc"),
    ({"SANAD_MIN_FREE_MB": "-1"}, "cannot be negative"),
])
def test_a_bad_value_is_named_with_its_origin(tmp_path, environ, words):
    with pytest.raises(SettingsError, match=words) as caught:
        settings.load(tmp_path, environ=environ)
    assert next(iter(environ)) in str(caught.value)


def test_unknown_or_unreadable_file_entries_are_refused(tmp_path):
    (tmp_path / "sanad.toml").write_text("jobz = 3\n")
    with pytest.raises(SettingsError, match="no setting named 'jobz'"):
        settings.load(tmp_path, environ={})
    (tmp_path / "sanad.toml").write_text("jobs = = 3\n")
    with pytest.raises(SettingsError, match="cannot be read"):
        settings.load(tmp_path, environ={})


def test_settings_travel_to_workers_as_a_value(tmp_path):
    current = settings.load(tmp_path, environ={"SANAD_JOBS": "2"})
    assert pickle.loads(pickle.dumps(current)) == current
    assert current.with_values(jobs=1).jobs == 1 and current.jobs == 2


def test_loading_reads_nothing_at_import_time():
    source = Path(settings.__file__).read_text(encoding="utf-8")
    body = source.split("def load(")[0]
    assert "os.environ" not in body.replace("environ = os.environ if", "")


def test_readme_table_is_the_declared_table():
    text = README.read_text(encoding="utf-8")
    assert settings.markdown_table() in text, "README's settings table is stale: paste `sanad settings --markdown`"


def test_cli_prints_each_value_and_its_source(sanad, monkeypatch):
    archive = sanad.archive_dir
    archive.mkdir(parents=True, exist_ok=True)
    (archive / "sanad.toml").write_text("max_zip_depth = 2\n")
    rows = {r["name"]: r for r in map(json.loads, sanad("settings", "--json").stdout.splitlines())}
    assert rows["max_zip_depth"]["value"] == 2 and rows["max_zip_depth"]["source"].endswith("sanad.toml")
    assert rows["jobs"]["source"] == "default"
    monkeypatch.setenv("SANAD_JOBS", "nope")
    out = sanad("settings", check=17)
    assert re.search(r"jobs = 'nope' \(from \$SANAD_JOBS\)", out.stderr)


def test_the_dictionary_setting_is_read_when_a_search_needs_it(tmp_path, monkeypatch):
    from search.crosslingual import archive_glossary
    from search.glossary import WIKTIONARY_PATH

    monkeypatch.delenv("SANAD_DICTIONARY", raising=False)
    assert archive_glossary(tmp_path).wiktionary_path == WIKTIONARY_PATH
    (tmp_path / "sanad.toml").write_text(f'dictionary = "{tmp_path / "mine.txt"}"\n')
    assert archive_glossary(tmp_path).wiktionary_path == tmp_path / "mine.txt"


def test_the_archive_settings_reach_the_page_workers(sanad, tmp_path):
    from PIL import Image

    archive = sanad.archive_dir
    archive.mkdir(parents=True, exist_ok=True)
    (archive / "sanad.toml").write_text("[ocr]\nmax_pixels = 1000\n")
    Image.new("L", (100, 50), 255).save(tmp_path / "page.png")
    (row,) = sanad.json("ingest", str(tmp_path / "page.png"), "--jobs", "2", check=1)
    assert row["status"] == "failed" and "the limit is 4,000 pixels" in row["error"], row
