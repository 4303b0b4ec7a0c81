"""No graphql_api modules import each other, through any chain of imports.

Every import counts, at the top, inside a function or under ``TYPE_CHECKING``; a
``strawberry.lazy("...")`` reference is a string, not an import, and is how types that refer
to each other are declared. That importing ``graphql_api.x`` first runs the package's
``__init__`` is Python's doing and is not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

PACKAGE = "graphql_api"
PACKAGE_DIR = Path(__file__).resolve().parents[2] / PACKAGE


def _module_names(package_dir: Path, package: str) -> dict[str, Path]:
    """The package's modules by dotted name (the package itself for ``__init__``)."""
    return {
        package if path.stem == "__init__" else f"{package}.{path.stem}": path
        for path in sorted(package_dir.glob("*.py"))
    }


def _imported_by(tree: ast.Module, module: str, package: str, modules: Set[str]) -> set[str]:
    """The modules of ``modules`` that ``module`` imports anywhere in its ``tree``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            submodules = {f"{base}.{alias.name}" for alias in node.names} & modules
            # ``from package import module`` imports that module; a name of the package
            # itself (its ``__init__``) is an import of the package.
            found.update(submodules or ({base} & modules))
    found.discard(module)
    return found


def import_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """Which modules of the package each of its modules imports."""
    paths = _module_names(package_dir, package)
    return {
        module: _imported_by(
            ast.parse(path.read_text(encoding="utf-8")), module, package, paths.keys()
        )
        for module, path in paths.items()
    }


def find_cycle(graph: Mapping[str, Set[str]]) -> list[str] | None:
    """A chain of imports that comes back to where it started (first module repeated at the
    end), or None when there is none."""
    done: set[str] = set()
    path: list[str] = []

    def walk(module: str) -> list[str] | None:
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                return [*path[path.index(imported) :], imported]
            if imported not in done:
                cycle = walk(imported)
                if cycle is not None:
                    return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done:
            cycle = walk(module)
            if cycle is not None:
                return cycle
    return None


def test_no_graphql_api_modules_import_each_other() -> None:
    graph = import_graph(PACKAGE_DIR, PACKAGE)
    assert "graphql_api.loaders" in graph["graphql_api.context"]
    cycle = find_cycle(graph)
    assert cycle is None, "graphql_api modules import each other: " + " -> ".join(cycle or [])


def test_a_cycle_is_named_from_where_it_starts() -> None:
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set[str]()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set[str]()}) is None


def test_imports_inside_functions_and_for_type_checking_count(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from pkg.one import ONE\n")
    (package / "one.py").write_text("from pkg import two\nONE = 1\n")
    (package / "two.py").write_text("def late():\n    from pkg.three import THREE\n")
    (package / "three.py").write_text(
        "from typing import TYPE_CHECKING\nimport strawberry\n"
        'LAZY = strawberry.lazy("pkg.two")\n'
        "if TYPE_CHECKING:\n    from . import one\n"
    )
    graph = import_graph(package, "pkg")
    assert graph == {
        "pkg": {"pkg.one"},
        "pkg.one": {"pkg.two"},
        "pkg.two": {"pkg.three"},
        "pkg.three": {"pkg.one"},
    }
    assert find_cycle(graph) == ["pkg.one", "pkg.two", "pkg.three", "pkg.one"]
