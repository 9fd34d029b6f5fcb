"""Nothing is read or set at import time: importing every module leaves the process as it was."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PROBE = """
import gc, importlib, json, os, pkgutil, sys
import PIL.Image
before = (dict(os.environ), PIL.Image.MAX_IMAGE_PIXELS, gc.isenabled())
names = []
for package in ("archive", "ingest", "search"):
    importlib.import_module(package)
    for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        names.append(info.name)
        importlib.import_module(info.name)
importlib.import_module("ui.cli")
after = (dict(os.environ), PIL.Image.MAX_IMAGE_PIXELS, gc.isenabled())
changed = {k: v for k, v in after[0].items() if before[0].get(k) != v}
print(json.dumps({"modules": len(names), "env": changed, "pillow": [before[1], after[1]],
                  "gc": [before[2], after[2]]}))
"""


def test_importing_every_module_changes_nothing_in_the_process():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, check=True)
    probe = json.loads(out.stdout)
    assert probe["modules"] > 20
    assert probe["env"] == {}
    assert probe["pillow"][0] == probe["pillow"][1]
    assert probe["gc"] == [True, True]
