"""dicom/ is the floor of the house (design.md, "Rules of the house"): it imports nothing from
mediatool but model, findings, errors, limits and the package's version, and no circle runs
through its modules. Read from the source (ast), so a lazy import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import mediatool.dicom

PACKAGE = Path(mediatool.dicom.__file__).parent
ALLOWED = {
    "mediatool",
    "mediatool.model",
    "mediatool.findings",
    "mediatool.errors",
    "mediatool.limits",
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mediatool"):
            names = {f"{node.module}.{a.name}" for a in node.names}
            dicom = {n for n in names if n.startswith("mediatool.dicom.")}
            found |= dicom if node.module == "mediatool.dicom" else {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mediatool")}
    return found


def _graph() -> dict[str, set[str]]:
    return {f"mediatool.dicom.{p.stem}": _imports(p) for p in PACKAGE.glob("*.py")}


def test_dicom_imports_only_the_floor() -> None:
    outside = {
        module: sorted(
            i for i in imports if not i.startswith("mediatool.dicom") and i not in ALLOWED
        )
        for module, imports in _graph().items()
    }
    assert {m: i for m, i in outside.items() if i} == {}


def test_no_circle_inside_dicom() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module in done:
            return
        for target in graph.get(module, set()):
            if target in graph:
                visit(target, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())
    assert "mediatool.dicom.dicomdir_read" in done and len(done) == len(graph)
