"""The layers import inward only: the domain is pure, the application imports no adapter.

Read from the source (every import statement, also those inside functions), so a violation
fails here before any code runs.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
ROUTING_MODULES = ["operations", "routing", "headers", "rewriting", "status_codes", "errors"]


def modules_of(package: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py"))


def imports_of(path: str) -> set[str]:
    """Every module a file imports, as written (`a.b` for `from a.b import c`)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
    return imported


def top_level(module: str) -> str:
    return module.split(".")[0]


def test_the_layer_lists_see_every_module() -> None:
    assert "domain/messages.py" in modules_of("domain")
    assert "domain/translation/engine.py" in modules_of("domain")
    assert "application/ledger.py" in modules_of("application")


@pytest.mark.parametrize("path", modules_of("domain"))
def test_domain_modules_import_only_the_standard_library_the_domain_and_aggregates(
    path: str,
) -> None:
    foreign = {
        module
        for module in imports_of(path)
        if top_level(module) not in sys.stdlib_module_names
        and top_level(module) not in {"domain", "__future__"}
        and module != "eventsourcing.domain"
    }

    assert foreign == set()


@pytest.mark.parametrize("name", ROUTING_MODULES)
def test_routing_modules_import_only_the_standard_library_and_the_domain(name: str) -> None:
    foreign = {
        module
        for module in imports_of(f"domain/{name}.py")
        if top_level(module) not in {*sys.stdlib_module_names, "domain", "__future__"}
    }

    assert foreign == set()


@pytest.mark.parametrize("path", modules_of("application"))
def test_application_modules_import_no_adapter(path: str) -> None:
    adapters = {
        module for module in imports_of(path) if top_level(module) in {"infrastructure", "api"}
    }

    assert adapters == set()
