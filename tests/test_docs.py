"""README stays in step with the CLI and the finding-code registry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediatool.cli import main
from mediatool.findings import CODES

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help_and_is_in_readme(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"mediatool {name}" in README


def test_readme_code_table_is_current() -> None:
    check = subprocess.run([sys.executable, str(REPO / "scripts" / "readme_codes.py"), "--check"])
    assert check.returncode == 0, "run: python3 scripts/readme_codes.py"
    for code in CODES:
        assert f"`{code}`" in README


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
    block = README.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert [c.split()[1] for c in commands] == ["scripts/demo.sh", "scripts/test.sh"]


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_option_is_in_readme(name: str) -> None:
    """Keep README in step with the CLI: each long option of each command is named there."""
    command = main.commands[name]
    options = {
        opt
        for param in command.params
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--") and opt != "--help"
    }
    missing = sorted(o for o in options if o not in README)
    assert missing == [], f"README does not mention {name} {missing}"
