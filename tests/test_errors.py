"""The error tree: one exit code per class, and a message a user can act on."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from archive import errors

ROOT = Path(__file__).resolve().parent.parent


def _classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.SanadError)]


def test_each_error_class_has_its_own_exit_code():
    codes = {}
    for cls in _classes():
        assert cls.__doc__, cls
        assert "exit_code" in vars(cls), f"{cls.__name__} inherits its exit code"
        assert cls.exit_code not in codes, f"{cls.__name__} and {codes.get(cls.exit_code)} share {cls.exit_code}"
        codes[cls.exit_code] = cls.__name__
    reserved = {errors.EXIT_OK, errors.EXIT_FILES_FAILED, errors.EXIT_INTERRUPTED}
    assert not reserved & (set(codes) - {errors.SanadError.exit_code})


def test_message_defaults_to_the_docstring_and_adds_the_hint():
    assert str(errors.DiskFull()).startswith("The disk that holds the archive is full; free some space")
    assert str(errors.IndexDamaged("segment _MAIN_3 cannot be read")).endswith("nothing in the archive is lost)")


def test_error_classes_are_defined_only_in_archive_errors():
    strays = []
    for path in [p for d in ("ingest", "search", "ui") for p in (ROOT / d).rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and (b.id.endswith("Error") or b.id in {"Exception", "SanadError"})
                    for b in node.bases):
                strays.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert strays == []
