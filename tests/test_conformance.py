"""docs/conformance-statement.md and the code agree (issue 18): the generated tables are
current, a stale table is caught, and the defaults the document quotes are the ones the
command line uses."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import click

from mediatool.cli import main
from mediatool.dicom import uids
from mediatool.net import association as pacs

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "conformance-statement.md"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "conformance", REPO / "scripts" / "conformance.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_document_is_current() -> None:
    check = subprocess.run([sys.executable, str(REPO / "scripts" / "conformance.py"), "--check"])
    assert check.returncode == 0, "run: python3 scripts/conformance.py"


def test_a_stale_table_is_caught() -> None:
    script = _script()
    text = DOC.read_text(encoding="utf-8")
    assert script.render(text) == text
    stale = text.replace("| `STD-GEN-CD` |", "| `STD-GEN-CD-OLD` |", 1)
    assert stale != text and script.render(stale) == text
    for name in script.TABLES:
        assert f"<!-- generated:{name}:begin -->" in text


def test_document_covers_every_ae_and_role() -> None:
    text = DOC.read_text(encoding="utf-8")
    for needle in (
        "Implementation Model",
        "Association Policies",
        "Support of Character Sets",
        "Security",
        "Media Interchange",
        "FSU: No",
        "station",
        uids.VERIFICATION,
        "1.2.840.10008.1.20.1",  # Storage Commitment Push Model
        "1.2.840.10008.5.1.4.31",  # Modality Worklist FIND
        "1.2.840.10008.1.3.10",  # Media Storage Directory
    ):
        assert needle in text, needle


def _default(command: str, option: str) -> object:
    cmd: click.Command = main
    for part in command.split():
        assert isinstance(cmd, click.Group)
        cmd = cmd.commands[part]
    return next(p.default for p in cmd.params if option in getattr(p, "opts", ()))


def test_quoted_defaults_are_the_command_lines() -> None:
    net = pacs.Network()
    for command in ("import", "find", "build"):
        assert _default(command, "--calling-aet") == net.calling_aet
    for command in ("import", "find", "build"):
        assert _default(command, "--timeout") == net.timeout
    assert _default("import", "--retries") == net.retries
    assert _default("import", "--retry-delay") == net.retry_delay


def _all_options(cmd: click.Command) -> set[str]:
    names = {o for p in cmd.params for o in getattr(p, "opts", ())}
    if isinstance(cmd, click.Group):
        for sub in cmd.commands.values():
            names |= _all_options(sub)
    return names


def test_every_option_the_document_names_exists() -> None:
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", DOC.read_text(encoding="utf-8")))
    assert named and named - _all_options(main) == set()
