"""Apps depend one way, accounts <- workflows <- runs <- triggers, uploads beside them and engine under all:
no module of a lower package imports a higher one (read from the source, so an import hidden in a function
counts too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "engine": {
        "django",
        "rest_framework",
        "accounts",
        "workflows",
        "runs",
        "uploads",
        "triggers",
        "workflowsite",
    },
    "accounts": {"workflows", "runs", "uploads", "triggers"},
    "uploads": {"workflows", "runs", "triggers"},
    "workflows": {"runs", "triggers"},
    "runs": {"triggers"},
}


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", FORBIDDEN)
def test_no_module_imports_a_package_above_its_own(package):
    offending = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }

    assert {path: names for path, names in offending.items() if names} == {}


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_test_module_imports_another():
    """Steps and constants tests share live in helper modules (tests/<area>/helpers.py, tests/fakes/): a
    test module imported elsewhere would also run its tests twice under another name's fixtures."""
    offending = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in _imported_modules(path)
            if name.startswith("tests.") and name.split(".")[-1].startswith("test_")
        )
        for path in sorted((ROOT / "tests").rglob("*.py"))
    }

    assert {path: names for path, names in offending.items() if names} == {}
