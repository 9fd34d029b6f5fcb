"""The package's layers import downwards only: ui -> ingest -> search -> archive.

Imports inside functions count too. bench/ and tests/ may use the package; the package never
imports them.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ["ui", "ingest", "search", "archive"]  # each may import itself and those after it
OUTSIDE = {"bench", "tests"}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_imports_follow_the_layers():
    wrong = []
    for layer in LAYERS:
        allowed = set(LAYERS[LAYERS.index(layer):])
        for path in sorted((REPO / layer).rglob("*.py")):
            for line, name in _imports(path):
                top = name.split(".")[0]
                if (top in LAYERS and top not in allowed) or top in OUTSIDE:
                    wrong.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert wrong == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from bench.letters import render\n", encoding="utf-8")
    assert _imports(module) == [(2, "bench.letters")]


def test_only_search_engine_imports_whoosh():
    """Whoosh is wrapped in one module (search/engine.py); the package and the benchmarks reach it
    through that module only. Tests may use Whoosh directly, to compare Sanad with it."""
    users = []
    for top in LAYERS + ["bench"]:
        for path in sorted((REPO / top).rglob("*.py")):
            if any(name.split(".")[0] == "whoosh" for _, name in _imports(path)):
                users.append(str(path.relative_to(REPO)))
    assert users == ["search/engine.py"]
