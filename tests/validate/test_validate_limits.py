"""Hostile DICOMDIRs are judged within mediatool/limits.py (issue 12): beyond a limit the finding
``dicomdir.limit`` names it and the work is not done. The limits are made small here so that the
inputs stay small; benchmarks/bench_hostile.py measures the real ones (time, peak memory)."""

from __future__ import annotations

import json
from pathlib import Path

import hostile_dicomdirs as hostile
import pytest
from click.testing import CliRunner
from validate_helpers import codes, problems, validate

from mediatool import limits
from mediatool.cli import main
from mediatool.dicom.dicomdir_read import parse


def limit_findings(root: Path) -> list[str]:
    report = validate(root)
    return [f.message for f in report.findings if f.code == "dicomdir.limit"]


def test_record_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.chained(tmp_path / "DICOMDIR", 300)
    assert len(parse((tmp_path / "DICOMDIR").read_bytes()).records) == 300
    monkeypatch.setattr(limits, "DICOMDIR_RECORD_LIMIT", 100)
    found = limit_findings(tmp_path)
    assert len(found) == 1 and "DICOMDIR_RECORD_LIMIT" in found[0], found
    report = validate(tmp_path)
    # nothing is judged beyond the limit: no record findings, no unreachable echoes
    assert {c for c in codes(report) if c.startswith(("record.", "dicomdir."))} == {
        "dicomdir.limit"
    }, problems(report)


def test_size_limit_zeros(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.zeros(tmp_path / "DICOMDIR", 64 * 1024)
    monkeypatch.setattr(limits, "DICOMDIR_SIZE_LIMIT", 32 * 1024)
    found = limit_findings(tmp_path)
    assert len(found) == 1 and "DICOMDIR_SIZE_LIMIT" in found[0], found


def test_zeros_within_the_size_limit_stop_at_once(tmp_path: Path) -> None:
    """Zeros are the element (0000,0000) repeated: reading stops at the first repeat."""
    hostile.zeros(tmp_path / "DICOMDIR", 1 << 20)
    directory = parse((tmp_path / "DICOMDIR").read_bytes())
    assert [f.code for f in directory.findings] == ["dicomdir.element-order"]
    assert "repeats" in directory.findings[0].message


def test_element_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.chained(tmp_path / "DICOMDIR", 200)
    monkeypatch.setattr(limits, "DICOMDIR_ELEMENT_LIMIT", 500)
    directory = parse((tmp_path / "DICOMDIR").read_bytes())
    assert directory.limit is not None and "DICOMDIR_ELEMENT_LIMIT" in directory.limit
    assert directory.records == []
    assert [f.code for f in directory.findings] == ["dicomdir.limit"]


def test_random_items_one_line_per_kind(tmp_path: Path) -> None:
    hostile.random_items(tmp_path / "DICOMDIR", 2000)
    directory = parse((tmp_path / "DICOMDIR").read_bytes())
    # findings of one kind are listed up to FINDINGS_PER_CODE, then counted in one
    per_code: dict[str, int] = {}
    for f in directory.findings:
        per_code[f.code] = per_code.get(f.code, 0) + 1
    assert max(per_code.values()) <= limits.FINDINGS_PER_CODE + 1
    assert any("more like the above" in f.message for f in directory.findings)


def test_value_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile.chained(tmp_path / "DICOMDIR", 3)
    monkeypatch.setattr(limits, "DICOMDIR_VALUE_LIMIT", 6)  # Patient's Name is 8 bytes
    found = limit_findings(tmp_path)
    assert len(found) == 1 and "DICOMDIR_VALUE_LIMIT" in found[0], found


def test_import_list_reads_the_dicomdir_within_the_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``import --list`` uses the same bounded reader (the survey's listed-missing files)."""
    hostile.chained(tmp_path / "DICOMDIR", 300)
    monkeypatch.setattr(limits, "DICOMDIR_RECORD_LIMIT", 100)
    result = CliRunner().invoke(main, ["import", str(tmp_path), "--list", "--json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert any("dicomdir.limit" in p["codes"] for p in document["problems"]), document
