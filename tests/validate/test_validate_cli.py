"""``mediatool validate`` through the CLI: exit codes, stdout/stderr, JSON and HTML reports."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from validate_helpers import Dicomdir, small_fileset

from mediatool.cli import main
from mediatool.findings import CODES

IMAGE1 = "DICOM/PT000001/ST000001/SE000001/IM000001"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_fileset(tmp_path_factory.mktemp("cli"))


@pytest.fixture
def broken(clean: Path, tmp_path: Path) -> Path:
    root = Path(shutil.copytree(clean, tmp_path / "broken"))
    (root / IMAGE1).unlink()
    return root


def test_clean_exits_0(clean: Path) -> None:
    result = run("validate", clean)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS: folder")
    file_set = result.stdout.splitlines()[1]
    assert file_set.startswith("File-set: ID 'TESTCD', UID ") and "DICOMDIR in the root" in file_set
    assert "2 patients, 2 studies, 4 series, 12 instances" in result.stdout
    assert "patient 'PID0002' 'Müller^Jürgen'" in result.stdout
    assert result.stderr == ""


def test_findings_exit_1_and_are_on_stdout(broken: Path) -> None:
    result = run("validate", broken)
    assert result.exit_code == 1
    assert result.stdout.startswith("FAIL: folder")
    assert "ERROR file.missing (1)" in result.stdout
    assert IMAGE1 in result.stdout
    assert result.stderr == ""


def test_json_document(broken: Path) -> None:
    result = run("validate", broken, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["schema"] == "mediatool.validate/1"
    assert doc["ok"] is False
    assert doc["media"]["kind"] == "folder"
    assert doc["media"]["fileset_id"] == "TESTCD"
    assert doc["inventory"]["counts"]["instances"] == 11
    assert "what to do: " + (CODES["file.missing"].action or "") in run("validate", broken).stdout
    missing = [f for f in doc["findings"] if f["code"] == "file.missing"]
    assert missing == [
        {
            "code": "file.missing",
            "severity": "error",
            "message": missing[0]["message"],
            "where": IMAGE1,
            "ref": "PS3.3 F.2.1",
            "check": "E01",
            "action": CODES["file.missing"].action,
        }
    ]
    assert all(f["action"] for f in doc["findings"])  # issue 11: each says what to do


def test_fail_on_warning(clean: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(clean, tmp_path / "media"))
    d = Dicomdir(root / "DICOMDIR")  # a tolerant name (E02) is an error since issue 11:
    d.set_us(None, 0x00041212, 0xFFFF)  # the retired "inconsistent" flag is a warning (B10)
    d.save()
    assert run("validate", root).exit_code == 0
    result = run("validate", root, "--fail-on", "warning", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["ok"] is False


def test_html_report(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "qa.html"
    result = run("validate", broken, "--html", out, "-q")
    assert result.exit_code == 1
    page = out.read_text(encoding="utf-8")
    assert '<span class="verdict FAIL">FAIL</span>' in page
    assert "file.missing" in page and IMAGE1 in page
    assert "Müller^Jürgen" in page
    # issue 11: verdict and findings (with what to do) first, the inventory after them
    action = CODES["file.missing"].action or ""
    assert f"What to do: {action}" in page
    assert page.index("file.missing") < page.index("<h2>Inventory</h2>")
    assert page.index("<h2>Findings</h2>") < page.index("<h2>Medium</h2>")
    assert not re.search(r"(src|href)\s*=", page)  # self-contained: no external resource
    assert "<script" not in page


def test_html_escapes_values_from_the_media(clean: Path, tmp_path: Path) -> None:
    root = Path(shutil.copytree(clean, tmp_path / "media"))
    (root / "<i>x<i>.txt").write_text("not dicom")
    out = tmp_path / "qa.html"
    run("validate", root, "--html", out)
    page = out.read_text(encoding="utf-8")
    assert "<i>x<i>" not in page
    assert "&lt;i&gt;x&lt;i&gt;" in page


def test_profile_claimed(clean: Path) -> None:
    result = run("validate", clean, "--profile", "STD-GEN-CD", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["media"]["profile"] == "STD-GEN-CD"
    assert json.loads(run("validate", clean, "--json").stdout)["media"]["profile"] is None


def test_unknown_profile_exits_2(clean: Path) -> None:
    result = run("validate", clean, "--profile", "STD-GEN-CDX")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown Application Profile 'STD-GEN-CDX'" in result.stderr


def test_missing_media_exits_2(tmp_path: Path) -> None:
    result = run("validate", tmp_path / "nothing")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: cannot open media")
    assert "Traceback" not in result.stderr


def test_not_a_container_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "disc.iso"
    bogus.write_bytes(b"nothing like an ISO image")
    result = run("validate", bogus)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_empty_folder_is_not_clean(tmp_path: Path) -> None:
    result = run("validate", tmp_path, "--json")
    assert result.exit_code == 1
    found = {f["code"]: f["severity"] for f in json.loads(result.stdout)["findings"]}
    # no instance is a consequence of the missing DICOMDIR here, not an extra error (issue 11)
    assert found == {"dicomdir.missing": "error", "inventory.empty": "info"}


def test_zip_archive(clean: Path, tmp_path: Path) -> None:
    archive = tmp_path / "disc.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(clean.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(clean).as_posix())
    result = run("validate", archive, "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["media"]["kind"] == "zip"


def test_unwritable_html_exits_2(clean: Path, tmp_path: Path) -> None:
    result = run("validate", clean, "--html", tmp_path / "no" / "such" / "dir" / "qa.html")
    assert result.exit_code == 2
    assert "cannot write the HTML report" in result.stderr


def test_help_has_example() -> None:
    result = run("validate", "--help")
    assert result.exit_code == 0
    assert "mediatool validate disc.iso --profile STD-GEN-CD --html qa.html" in result.stdout
