"""A profile's ``[severity]`` reaches every finding of a build, those added after the plan
(``build.*`` while splitting and writing, ``web.*``) too: the policy is applied once, at the end
(issue 13). Retrieve accounting reports the registry's severities; ``--allow-partial`` is a
policy applied by the command."""

from __future__ import annotations

import sys
from pathlib import Path

from profile_helpers import build_json
from pydicom.dataset import Dataset

from mediatool.findings import CODES, Severity, apply_policy
from mediatool.retrieve.accounting import (
    ALLOW_PARTIAL,
    RetrieveResult,
    StudyOutcome,
    record_response,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _common import generate

PROFILES = Path(__file__).resolve().parents[2] / "profiles"


def _profile(folder: Path, profile_id: str, severity: dict[str, str]) -> Path:
    """STD-GEN-CD under another identifier, with a ``[severity]`` table (profiles/README.md)."""
    folder.mkdir(exist_ok=True)
    text = (PROFILES / "STD-GEN-CD.toml").read_text()
    table = "".join(f'"{code}" = "{level}"\n' for code, level in severity.items())
    (folder / f"{profile_id}.toml").write_text(
        text.replace('id = "STD-GEN-CD"', f'id = "{profile_id}"') + "\n[severity]\n" + table
    )
    return folder


def _severities(doc: dict[str, object], code: str) -> set[str]:
    findings = doc["findings"]
    assert isinstance(findings, list)
    return {f["severity"] for f in findings if f["code"] == code}


def test_profile_severity_reaches_build_and_web_codes(tmp_path: Path) -> None:
    # the registry says: build.spanned and build.series-split info, web.no-institution warning
    assert CODES["build.spanned"].severity is Severity.INFO
    assert CODES["web.no-institution"].severity is Severity.WARNING
    mine = _profile(
        tmp_path / "profiles",
        "AUG-SEVERITY-CD",
        {"build.spanned": "warning", "build.series-split": "warning", "web.no-institution": "info"},
    )
    src = generate(tmp_path / "in", 40, 20, size=128)
    args = ("--capacity", "1M", "--dry-run", "--profile-dir", mine)
    result, doc = build_json(src, *args, "--profile", "AUG-SEVERITY-CD")
    assert result.exit_code == 0, result.stderr
    assert _severities(doc, "build.spanned") == {"warning"}
    assert _severities(doc, "build.series-split") == {"warning"}
    assert _severities(doc, "web.no-institution") == {"info"}
    # the same build without the override: the registry's severities
    result, doc = build_json(src, *args, "--profile", "STD-GEN-CD")
    assert result.exit_code == 0, result.stderr
    assert _severities(doc, "build.spanned") == {"info"}
    assert _severities(doc, "web.no-institution") == {"warning"}


def test_profile_raising_a_web_code_to_error_refuses_the_build(tmp_path: Path) -> None:
    mine = _profile(tmp_path / "profiles", "AUG-SITE-CD", {"web.no-institution": "error"})
    src = generate(tmp_path / "in", 2, 2)
    out = tmp_path / "out"
    args = ("--out", out, "--profile-dir", mine, "--profile", "AUG-SITE-CD")
    result, doc = build_json(src, *args)
    assert result.exit_code == 1, result.stderr
    assert _severities(doc, "web.no-institution") == {"error"}
    assert not out.exists()


def test_retrieve_accounting_reports_the_registry_severity() -> None:
    s = StudyOutcome("1.2.3", "20240101 CT", written={"a"})
    record_response(s, _status_failed(), None)
    found = RetrieveResult("PACS@h:1", "get", [s]).findings()
    assert found and all(f.severity is CODES[f.code].severity for f in found)
    assert any(f.severity is Severity.ERROR for f in found)
    partial = apply_policy(found, ALLOW_PARTIAL)
    assert [f.code for f in partial] == [f.code for f in found]
    assert all(f.severity <= Severity.WARNING for f in partial)


def _status_failed() -> Dataset:
    ds = Dataset()
    ds.Status = 0xA702  # Refused: out of resources - unable to perform sub-operations
    ds.NumberOfCompletedSuboperations = 1
    ds.NumberOfFailedSuboperations = 2
    ds.NumberOfWarningSuboperations = 0
    ds.NumberOfRemainingSuboperations = 0
    return ds
