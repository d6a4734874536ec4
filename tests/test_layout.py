"""The house has no import circle (issue 13): mediatool's modules import each other one way only.

The graph is read from the source with :mod:`ast` (nothing is imported). It counts the imports a
module runs when it is loaded: statements at module level, including those inside module-level
``if``/``try`` blocks (``if TYPE_CHECKING:`` too: a circle in the types is a circle in the
layers) and class bodies. Imports inside functions are not counted (they run later, on call).
An import of ``a.b.c`` is an edge to the deepest module of mediatool it names; the implicit
import of a module's own parent packages is not an edge (``pkg/__init__`` importing its
submodules is normal).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mediatool"
Graph = dict[str, set[str]]


def modules(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` below ``package``."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _load_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run when the module is loaded: not those inside function bodies."""
    for node in body:
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for field in ("body", "orelse", "finalbody"):
            yield from _load_time_statements(getattr(node, field, []))
        for handler in getattr(node, "handlers", []):
            yield from _load_time_statements(handler.body)


def _named(node: ast.stmt, name: str, is_package: bool) -> list[str]:
    """The dotted names an import statement in module ``name`` may refer to."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    target = node.module or ""
    if node.level:
        parts = name.split(".") if is_package else name.split(".")[:-1]
        base = ".".join(parts[: len(parts) - node.level + 1])
        target = f"{base}.{target}" if target else base
    return [target] + [f"{target}.{alias.name}" for alias in node.names]


def import_graph(package: Path) -> Graph:
    mods = modules(package)
    graph: Graph = {name: set() for name in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _load_time_statements(tree.body):
            for target in _named(node, name, path.name == "__init__.py"):
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def circles(graph: Graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, edges = work[-1]
            nxt = next(edges, None)
            if nxt is not None and nxt not in index:
                index[nxt] = low[nxt] = len(index)
                stack.append(nxt)
                work.append((nxt, iter(sorted(graph[nxt]))))
            elif nxt is not None:
                if nxt in stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = stack[stack.index(node) :]
                    del stack[stack.index(node) :]
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"]]),
    ],
)
def test_circle_finder(graph: Graph, expected: list[list[str]]) -> None:
    assert circles(graph) == expected


def test_graph_reads_relative_and_nested_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import leaf\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "leaf.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import top\n"
    )
    (pkg / "top.py").write_text("def later() -> None:\n    from pkg.sub import leaf\n")
    assert import_graph(pkg) == {
        "pkg": {"pkg.sub", "pkg.sub.leaf"},
        "pkg.sub": set(),
        "pkg.sub.leaf": {"pkg.top"},
        "pkg.top": set(),  # an import inside a function is not counted
    }


def test_mediatool_has_no_import_circle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100  # it read the real package
    found = circles(graph)
    assert found == [], "import circles: " + "; ".join(" <-> ".join(c) for c in found)
