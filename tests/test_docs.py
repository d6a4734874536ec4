"""README and docs/ stay in step with the CLI and the finding-code registry.

docs/commands.md and docs/codes.md are written by scripts/docs.py from the code; README.md is a
short front page that links them and the guides. Every example command in README and the guides
uses options the command has.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

from mediatool.cli import main
from mediatool.findings import CODES

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = (REPO / "README.md").read_text(encoding="utf-8")
REQUIRED_DOCS = ("commands.md", "codes.md", "benchmarks.md", "layout.md")
GUIDES = ("build.md", "validate.md", "import.md", "pacs.md")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_script", REPO / "scripts" / "docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _commands() -> dict[str, click.Command]:
    """Every command by its path after `mediatool`: '' (the group), 'build', 'profiles show'..."""
    found: dict[str, click.Command] = {"": main}

    def walk(group: click.Group, prefix: str) -> None:
        for name, command in group.commands.items():
            found[prefix + name] = command
            if isinstance(command, click.Group):
                walk(command, f"{prefix}{name} ")

    walk(main, "")
    return found


def _long_options(command: click.Command) -> set[str]:
    return {
        opt
        for param in command.params
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--")
    }


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_with_an_example_and_is_in_readme(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"mediatool {name}" in README


def test_generated_docs_are_current() -> None:
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr + "run: python3 scripts/docs.py"


def test_a_stale_doc_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = _script()
    monkeypatch.setattr(script, "DOCS", tmp_path)
    monkeypatch.setattr(sys, "argv", ["docs.py"])
    assert script.main() == 0
    assert (tmp_path / "codes.md").read_text(encoding="utf-8") == script.codes_md()
    stale = (tmp_path / "commands.md").read_text(encoding="utf-8").replace("--fail-on", "--fail")
    (tmp_path / "commands.md").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["docs.py", "--check"])
    assert script.main() == 1


@pytest.mark.parametrize("path", sorted(_commands()))
def test_every_option_is_in_commands_md(path: str) -> None:
    """Each command's section of docs/commands.md names each of its long options."""
    text = (DOCS / "commands.md").read_text(encoding="utf-8")
    heading = f"## `{' '.join(['mediatool', *path.split()])}`\n"
    assert heading in text
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    options = _long_options(_commands()[path])
    missing = sorted(o for o in options if not re.search(rf"^\| `[^`]*{o}\b", section, re.M))
    assert missing == [], f"docs/commands.md does not give {path} {missing}"


def test_every_code_is_in_codes_md() -> None:
    text = (DOCS / "codes.md").read_text(encoding="utf-8")
    assert [c for c in CODES if f"| `{c}` |" not in text] == []


def test_every_code_says_what_to_do() -> None:
    """Issue 11: every finding says what to do about it, in one short sentence."""
    missing = [code for code, entry in CODES.items() if not entry.action]
    assert missing == [], "give these codes action=...: " + ", ".join(missing)
    for code, entry in CODES.items():
        action = entry.action or ""
        assert action.endswith(".") and len(action) <= 110, (code, action)
        assert action[0].isupper(), (code, action)


def test_every_code_is_emitted_somewhere() -> None:
    """A code in the registry that no module can produce is dead documentation."""
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (REPO / "mediatool").rglob("*.py")
        if p.name != "findings.py"
    )
    unused = [c for c in CODES if not re.search(rf"[\"']{re.escape(c)}[\"']", sources)]
    assert unused == []


def test_quick_start_has_exactly_two_commands() -> None:
    section = README.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    assert section.count("```sh") == 1, "one command block in the Quick start"
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].split() for line in block.splitlines() if line.strip()]
    assert commands == [["bash", "scripts/demo.sh"], ["bash", "scripts/test.sh"]]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^bash scripts/test\.sh\b", ci, re.M)


def test_readme_is_short_and_links_the_docs() -> None:
    assert len(README.splitlines()) < 200
    for name in (*REQUIRED_DOCS, *GUIDES):
        assert f"](docs/{name})" in README, f"README does not link docs/{name}"
        assert (DOCS / name).is_file()


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _markdown_files() -> list[Path]:
    return [REPO / "README.md", REPO / "profiles" / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(path: Path) -> None:
    """Links between the documents point to files that exist, and anchors to their headings."""
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(encoding="utf-8"), re.M)
            if anchor not in {_slug(h) for h in headings}:
                broken.append(target)
    assert broken == [], f"{path.name}: broken links {broken}"


def _examples(text: str) -> list[list[str]]:
    """The `mediatool ...` command lines of the sh code blocks (continuations joined)."""
    lines: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["mediatool"]:
                lines.append(words[1:])
    return lines


@pytest.mark.parametrize("name", ["README.md", *(f"docs/{g}" for g in GUIDES)])
def test_examples_use_options_the_commands_have(name: str) -> None:
    commands = _commands()
    examples = _examples((REPO / name).read_text(encoding="utf-8"))
    assert examples, f"{name} has no mediatool examples"
    wrong = []
    for words in examples:
        path = next(
            (
                p
                for p in sorted(commands, key=len, reverse=True)
                if p and words[: len(p.split())] == p.split()
            ),
            None,
        )
        if path is None:
            wrong.append(" ".join(words))
            continue
        known = _long_options(commands[path])
        wrong += [w for w in words if w.startswith("--") and w.split("=")[0] not in known]
    assert wrong == [], f"{name}: examples with unknown commands or options: {wrong}"
