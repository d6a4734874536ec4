"""The network layer stands below the jobs: ``importer`` and ``retrieve`` both import from
``mediatool.net``; ``net`` imports neither, and neither imports the other (issue 13)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import mediatool

PACKAGE = Path(mediatool.__file__).parent


def _imports(folder: str) -> dict[str, set[str]]:
    """Each module file under ``mediatool/<folder>`` → the mediatool modules it imports (also
    inside functions and TYPE_CHECKING blocks)."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / folder).glob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        found[path.name] = {n for n in names if n.startswith("mediatool")}
    return found


def _offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{folder}/{module} imports {name}"
        for module, names in _imports(folder).items()
        for name in names
        if name.startswith(forbidden)
    )


def test_net_imports_no_job() -> None:
    assert _imports("net"), "mediatool/net holds no modules"
    assert _offenders("net", ("mediatool.importer", "mediatool.retrieve", "mediatool.cli")) == []


def test_importer_and_retrieve_do_not_import_each_other() -> None:
    assert _offenders("importer", ("mediatool.retrieve",)) == []
    assert _offenders("retrieve", ("mediatool.importer",)) == []


def test_both_jobs_use_net() -> None:
    for folder in ("importer", "retrieve"):
        used = set().union(*_imports(folder).values())
        assert any(name.startswith("mediatool.net.") for name in used), folder


@pytest.mark.parametrize("package", ["mediatool", "mediatool.importer"])
def test_public_names_still_resolve(package: str) -> None:
    """The lazily exported names (PEP 562) point at modules that exist after the moves."""
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []
