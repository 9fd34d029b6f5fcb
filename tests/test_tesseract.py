"""The Tesseract wrapper (ingest/tesseract.py): probes, options and error mapping. The tests that
run Tesseract are marked and skip without it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from archive.errors import InputError, TimedOut, ToolMissing
from ingest import tesseract
from ingest.ocr import check_tesseract, ocr_image

REPO = Path(__file__).resolve().parents[1]
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")


def test_missing_tesseract(monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(ToolMissing, match="tesseract-ocr-fas"):
        check_tesseract()
    with pytest.raises(ToolMissing):
        ocr_image(Image.new("L", (100, 100), 255))


def test_missing_tesseract_empty_path():
    code = ("from PIL import Image\nfrom archive.errors import ToolMissing\nfrom ingest.ocr import ocr_image\n"
            "try:\n    ocr_image(Image.new('L', (50, 50), 255))\nexcept ToolMissing as e:\n    print('MISSING', e)\n")
    env = dict(os.environ, PATH="")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert "MISSING" in out.stdout, out.stderr


def test_missing_model_names_its_package(monkeypatch):
    monkeypatch.setattr(tesseract, "version", lambda: "5.3.0")
    monkeypatch.setattr(tesseract, "languages", lambda: frozenset({"eng", "osd"}))
    with pytest.raises(ToolMissing, match=r"lacks the language data fas; install it with: apt-get install tesseract-ocr-fas$"):
        tesseract.check()
    with pytest.raises(ToolMissing, match="tesseract-ocr-script-arab"):
        tesseract.check(("Arabic",))


def test_config_strings():
    assert tesseract.config(3) == "--psm 3 -c textord_noise_rejrows=0 -c textord_noise_rejwords=0"
    assert tesseract.config(7, keep_noisy_rows=False, dpi=150) == "--psm 7 --dpi 150"


def test_timeout_and_failure_kept_apart(monkeypatch):
    import pytesseract

    def overrun(*args, **kwargs):
        raise RuntimeError("Tesseract process timeout")

    def fail(*args, **kwargs):
        raise pytesseract.TesseractError(1, "Error in pixReadStream")

    image = Image.new("L", (20, 20), 255)
    monkeypatch.setattr(pytesseract, "image_to_data", overrun)
    with pytest.raises(TimedOut, match="within 3 s"):
        tesseract.data(image, "fas", 3, timeout=3)
    monkeypatch.setattr(pytesseract, "image_to_data", fail)
    with pytest.raises(InputError, match="could not read") as info:
        tesseract.data(image, "fas", 3)
    assert not isinstance(info.value, TimedOut)
    # An orientation check that fails on a page with little text leaves the page as it is ...
    monkeypatch.setattr(pytesseract, "image_to_osd", fail)
    assert tesseract.orientation(image) == (0, "")
    # ... but a hung one is reported.
    monkeypatch.setattr(pytesseract, "image_to_osd", overrun)
    with pytest.raises(TimedOut):
        tesseract.orientation(image)


def test_only_the_wrapper_imports_pytesseract():
    import ast

    users = []
    for path in REPO.glob("[!.]*/**/*.py"):
        if path.parts[len(REPO.parts)] in ("tests", "bench", "build"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] == "pytesseract" for n in names):
                users.append(str(path.relative_to(REPO)))
    assert sorted(set(users)) == ["ingest/tesseract.py"]


@needs_tesseract
def test_real_probe_and_thread_limit(monkeypatch):
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    assert tesseract.check().startswith("5.")
    tesseract.data(Image.new("L", (50, 50), 255), "fas", 7, timeout=60)
    # Set at the call (pytesseract passes os.environ on), not at import.
    assert os.environ.get("OMP_THREAD_LIMIT") == "1"
