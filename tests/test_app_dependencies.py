"""Apps depend one way, accounts <- connections <- workflows <- runs <- triggers, mcp_server and evaluations,
uploads beside them, core (the shared kernel) and engine under all: no module of a lower package imports a
higher one (read from the source, so an import hidden in a function counts too). No import cycles and no
overlong modules, in the Python packages and among the page's ES modules (static/js) alike."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "engine": {
        "django",
        "rest_framework",
        "accounts",
        "connections",
        "workflows",
        "runs",
        "uploads",
        "triggers",
        "mcp_server",
        "workflowsite",
        "core",
        "evaluations",
    },
    "core": {
        "accounts",
        "connections",
        "workflows",
        "runs",
        "uploads",
        "triggers",
        "mcp_server",
        "workflowsite",
        "evaluations",
    },
    "accounts": {
        "connections",
        "workflows",
        "runs",
        "uploads",
        "triggers",
        "mcp_server",
        "workflowsite",
        "evaluations",
    },
    "uploads": {"connections", "workflows", "runs", "triggers", "mcp_server", "workflowsite", "evaluations"},
    "connections": {"workflows", "runs", "triggers", "mcp_server", "workflowsite", "evaluations"},
    "workflows": {"runs", "triggers", "mcp_server", "workflowsite", "evaluations"},
    "runs": {"triggers", "mcp_server", "workflowsite", "evaluations"},
    "triggers": {"mcp_server", "workflowsite", "evaluations"},
    "mcp_server": {"triggers", "workflowsite", "evaluations"},
    "evaluations": {"triggers", "mcp_server", "workflowsite"},
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


PRODUCT_PACKAGES = (
    "engine",
    "core",
    "accounts",
    "connections",
    "workflows",
    "runs",
    "triggers",
    "uploads",
    "mcp_server",
    "workflowsite",
)

MAX_MODULE_LINES = 400

# Modules allowed past MAX_MODULE_LINES, each with why splitting it would not make it easier to read.
LONG_MODULES = {
    "workflowsite/settings.py": "one flat list of settings read from the environment, top to bottom",
}


def _product_modules() -> dict[str, Path]:
    modules = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _imports_between(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which product modules each one imports, at any depth of its code. `from a import b` counts as
    importing the module a.b when there is one, else a."""
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                submodules = {f"{module}.{alias.name}" for alias in node.names} & modules.keys()
                targets.update(submodules or {module})
        edges[name] = {target for target in targets if target in modules and target != name}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    lowlink[work[-1][0]] = min(lowlink[work[-1][0]], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def test_no_import_cycle_between_modules():
    assert _cycles(_imports_between(_product_modules())) == []


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert _cycles(edges) == [["a", "b", "c"]]


def test_no_module_is_longer_than_the_limit():
    lengths = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for path in _product_modules().values()
    }

    assert {path for path, length in lengths.items() if length > MAX_MODULE_LINES} == set(LONG_MODULES)


JS_ROOT = ROOT / "static" / "js"

# A static import or re-export of a module by relative path, over several lines too:
# `import { a, b } from "./x.js";`, `export * from "../y.js";`, `import "./z.js";`.
JS_IMPORT = re.compile(
    r"""^\s*(?:import|export)\s(?:[\w\s{},*$]*?\bfrom\s*)?["'](\.{1,2}/[^"']+)["']""", re.MULTILINE
)


def _js_modules(root: Path) -> dict[str, Path]:
    return {path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*.js"))}


def _js_imports_between(root: Path) -> dict[str, set[str]]:
    """Which of the ES modules under root each one imports statically (a module outside root, such as a
    vendored library, is left out)."""
    modules = _js_modules(root)
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for match in JS_IMPORT.finditer(path.read_text()):
            target = (path.parent / match.group(1)).resolve()
            if target.is_relative_to(root.resolve()):
                targets.add(target.relative_to(root.resolve()).as_posix())
        edges[name] = targets & modules.keys()
    return edges


def test_no_import_cycle_between_js_modules():
    assert _cycles(_js_imports_between(JS_ROOT)) == []


def test_the_js_import_reader_sees_imports_over_several_lines(tmp_path):
    (tmp_path / "editor").mkdir()
    (tmp_path / "a.js").write_text(
        'import {\n  b,\n  c,\n} from "./editor/b.js";\nexport function from_(x) {}\n'
    )
    (tmp_path / "editor" / "b.js").write_text('import "../a.js";\nexport * from "./c.js";\n')
    (tmp_path / "editor" / "c.js").write_text('import dagre from "../../vendor/dagre.js";\n')

    edges = _js_imports_between(tmp_path)

    assert edges == {"a.js": {"editor/b.js"}, "editor/b.js": {"a.js", "editor/c.js"}, "editor/c.js": set()}
    assert _cycles(edges) == [["a.js", "editor/b.js"]]


def test_no_js_module_is_longer_than_the_limit():
    lengths = {
        f"static/js/{name}": len(path.read_text().splitlines()) for name, path in _js_modules(JS_ROOT).items()
    }

    assert {path for path, length in lengths.items() if length > MAX_MODULE_LINES} == {
        path for path in LONG_MODULES if path.endswith(".js")
    }
