"""The command line's house rules: the cli/ package has no import circle, only cli/ imports
click, the options several commands share are declared once, and each command's option groups
cover exactly its click parameters."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import click
from click.testing import CliRunner

from mediatool.cli import main
from mediatool.cli.build import BuildOptions
from mediatool.cli.from_pacs import PacsOptions
from mediatool.cli.import_options import ImportOptions

PACKAGE = Path(__file__).resolve().parents[1] / "mediatool"


def _imported(path: Path) -> set[str]:
    """Absolute module names ``path`` imports (``from a import b`` gives ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return names


def _cli_graph() -> dict[str, set[str]]:
    modules = {
        "mediatool.cli" + ("" if p.stem == "__init__" else f".{p.stem}"): p
        for p in (PACKAGE / "cli").glob("*.py")
    }
    return {m: _imported(p) & set(modules) - {m} for m, p in modules.items()}


def test_no_command_module_imports_the_cli_package() -> None:
    graph = _cli_graph()
    assert len(graph) > 10
    importing_package = sorted(m for m, deps in graph.items() if "mediatool.cli" in deps)
    assert importing_package == []


def test_cli_modules_form_no_circle() -> None:
    graph = _cli_graph()

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    assert [m for m in graph if m in reachable(m)] == []


def test_only_cli_imports_click() -> None:
    outside = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "cli" not in p.relative_to(PACKAGE).parts[:1]
        and any(n == "click" or n.startswith("click.") for n in _imported(p))
    ]
    assert outside == []


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, cmd in group.commands.items():
        found[prefix + name] = cmd
        if isinstance(cmd, click.Group):
            found |= _commands(cmd, f"{prefix}{name} ")
    return found


def _option(cmd: click.Command, name: str) -> click.Option | None:
    return next((p for p in cmd.params if isinstance(p, click.Option) and name in p.opts), None)


def test_network_options_are_declared_once() -> None:
    seen: dict[str, list[tuple[object, ...]]] = {}
    for command_name, cmd in _commands(main).items():
        for name in ("--calling-aet", "--timeout", "--retries", "--retry-delay"):
            opt = _option(cmd, name)
            if opt is not None:
                kind = opt.type
                bounds = (getattr(kind, "min", None), getattr(kind, "max", None))
                seen.setdefault(name, []).append((command_name, opt.help, kind.name, bounds))
    assert {c for c, *_ in seen["--timeout"]} == {"build", "find", "import", "echo"}
    for name, uses in seen.items():
        assert len({tuple(u[1:]) for u in uses}) == 1, (name, uses)
    assert seen["--timeout"][0][3] == (0.5, 3600)


def test_timeout_keeps_each_command_default() -> None:
    defaults = {c: _option(cmd, "--timeout") for c, cmd in _commands(main).items()}
    assert {c: o.default for c, o in defaults.items() if o is not None} == {
        "build": 30.0, "find": 30.0, "import": 30.0, "echo": 10.0,
    }  # fmt: skip


def test_a_timeout_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (
        ["echo", "X@127.0.0.1:1", "--timeout", "0.1"],
        ["import", str(tmp_path), "--list", "--timeout", "3601"],
        ["find", "X@127.0.0.1:1", "--all", "--timeout", "0"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, args
        assert "Invalid value for '--timeout'" in result.stderr
        assert "0.5<=x<=3600" in result.stderr


def _fields(*classes: type) -> set[str]:
    return {f.name for cls in classes for f in dataclasses.fields(cls)}


def test_option_groups_cover_exactly_the_parameters() -> None:
    params = {c: {p.name for p in cmd.params} for c, cmd in _commands(main).items()}
    assert params["build"] == _fields(BuildOptions, PacsOptions)
    assert params["import"] == _fields(ImportOptions) | {"media"}
    assert not _fields(BuildOptions) & _fields(PacsOptions)
