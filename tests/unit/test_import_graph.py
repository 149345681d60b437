"""The import graph of the project: no cycles anywhere, and the layers depend one way only.

Every import statement counts, wherever it is: at the top, inside a function, under
TYPE_CHECKING. An import moved into a function still makes two modules depend on each other; it
only hides the cycle from the interpreter until the function runs.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "infrastructure", "api", "simulator", "bench")

FRAMEWORKS = ("fastapi", "starlette", "pydantic", "psycopg", "httpx", "sqlite3")
"""What the domain must never import (sqlite3 is in the standard library, and still a store)."""
DOMAIN_MAY_IMPORT = (set(sys.stdlib_module_names) - set(FRAMEWORKS)) | {
    "__future__",
    "domain",
    "eventsourcing",  # aggregates and events are eventsourcing's, as in its examples
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    """The module as written (`a.b.c`, or `a.b.name` for `from a.b import name`)."""
    where: str
    """file:line, from the root of the tree."""

    def __str__(self) -> str:
        return f"{self.where} imports {self.imported}"


def modules_under(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports_in(root: Path, module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    file = path.relative_to(root).as_posix()
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [Import(module, name, f"{file}:{node.lineno}") for name in names]
    return found


def project_module(name: str, known: dict[str, Path]) -> str | None:
    """The project module an import loads: the longest known prefix of the dotted name."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, list[Import]]:
    known = modules_under(root, packages)
    graph: dict[str, list[Import]] = {}
    for module, path in known.items():
        edges = []
        for found in imports_in(root, module, path):
            target = project_module(found.imported, known)
            if target is not None:
                edges.append(Import(module, target, found.where))
        graph[module] = edges
    return graph


@dataclass(frozen=True)
class Cycle:
    modules: list[str]
    """Every module of the group: each reaches each other by imports."""
    loop: list[Import]
    """One way round, import by import."""

    def __str__(self) -> str:
        way = " -> ".join([self.loop[0].importer, *(edge.imported for edge in self.loop)])
        steps = "".join(f"\n    {edge}" for edge in self.loop)
        return f"{', '.join(self.modules)}: {way}{steps}"


def cycles(graph: dict[str, list[Import]]) -> list[Cycle]:
    """Every group of modules that import each other round a loop (strongly connected
    components of more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for edge in graph[module]:
            if edge.imported not in index:
                visit(edge.imported)
                low[module] = min(low[module], low[edge.imported])
            elif edge.imported in on_stack:
                low[module] = min(low[module], index[edge.imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1 or any(e.imported == module for e in graph[module]):
                groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return [Cycle(sorted(group), _loop(graph, group)) for group in groups]


def _loop(graph: dict[str, list[Import]], group: set[str]) -> list[Import]:
    """The shortest chain of imports from the group's first module back to itself (through
    other modules of the group, where it has others)."""
    start = min(group)
    paths: dict[str, list[Import]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for edge in graph[module]:
                if edge.imported == start and (paths[module] or len(group) == 1):
                    return [*paths[module], edge]
                if edge.imported in group and edge.imported not in paths:
                    paths[edge.imported] = [*paths[module], edge]
                    following.append(edge.imported)
        frontier = following
    raise AssertionError(f"no loop through {start}")  # a strongly connected group has one


def imports_of(layer: str) -> list[Import]:
    return [
        found
        for module, path in modules_under(ROOT, (layer,)).items()
        for found in imports_in(ROOT, module, path)
    ]


def top_level(found: Import) -> str:
    return found.imported.split(".")[0]


# ---- the project --------------------------------------------------------------------------------


def test_no_modules_import_each_other_round_a_cycle() -> None:
    found = cycles(import_graph(ROOT, PACKAGES))

    if found:
        pytest.fail("import cycles:\n" + "\n".join(map(str, found)), pytrace=False)


def test_the_domain_imports_only_itself_the_standard_library_and_eventsourcing() -> None:
    breaches = [str(f) for f in imports_of("domain") if top_level(f) not in DOMAIN_MAY_IMPORT]

    assert not breaches, "\n".join(breaches)


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("domain", ("application", "infrastructure", "api", "simulator", "bench", *FRAMEWORKS)),
        ("application", ("infrastructure", "api", "simulator", "bench")),
        ("infrastructure", ("api", "simulator", "bench")),
    ],
)
def test_a_layer_imports_nothing_from_the_layers_above_it(
    layer: str, forbidden: tuple[str, ...]
) -> None:
    breaches = [str(found) for found in imports_of(layer) if top_level(found) in forbidden]

    assert not breaches, "\n".join(breaches)


# ---- the checks themselves, on a made-up tree ---------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_through_an_import_inside_a_function_is_found_and_named(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/cli.py": "from pkg import audit\n",
            "pkg/audit.py": "import json\nfrom pkg.tables import render\n",
            "pkg/tables.py": "def render():\n    from pkg.cli import main\n",
            "pkg/leaf.py": "from pkg.tables import render\n",
        },
    )

    (cycle,) = cycles(import_graph(tmp_path, ("pkg",)))

    assert str(cycle).splitlines() == [
        "pkg.audit, pkg.cli, pkg.tables: pkg.audit -> pkg.tables -> pkg.cli -> pkg.audit",
        "    pkg/audit.py:2 imports pkg.tables",
        "    pkg/tables.py:2 imports pkg.cli",
        "    pkg/cli.py:1 imports pkg.audit",
    ]


def test_imports_under_type_checking_and_relative_ones_count_too(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/state.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.client import Client\n"
            ),
            "pkg/client.py": "from .state import State\n",
        },
    )

    (cycle,) = cycles(import_graph(tmp_path, ("pkg",)))

    assert cycle.modules == ["pkg.client", "pkg.state"]


def test_modules_that_import_one_way_make_no_cycle(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.shared import Command\n",
            "pkg/shared.py": "import argparse\n",
            "pkg/cli.py": "from pkg import audit, shared\n",
            "pkg/audit.py": "from pkg.shared import Command\n",
        },
    )

    assert cycles(import_graph(tmp_path, ("pkg",))) == []
