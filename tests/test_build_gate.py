"""Build: nothing that validate rejects is written (issue 11). The same per-file checks run on
the inputs at build as on the files of a disc at validate (mediatool.integrity via scan_stream)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from factories import make_instance, write_instance
from pydicom.data import get_testdata_file

from mediatool.cli import main


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def data_file(name: str) -> Path:
    path = get_testdata_file(name)
    assert path is not None, name
    return Path(str(path))


def test_truncated_pixel_data_is_refused_naming_file_and_rule(tmp_path: Path) -> None:
    """MR_truncated.dcm: Pixel Data declares 8192 bytes, the file ends after 8130 (E23)."""
    src = data_file("MR_truncated.dcm")
    result = run("build", src, "--out", tmp_path / "out", "--json", "-q")
    assert result.exit_code == 1
    found = json.loads(result.stdout)["findings"]
    bad = [f for f in found if f["code"] == "file.pixel-data-truncated"]
    assert len(bad) == 1 and bad[0]["severity"] == "error"
    assert bad[0]["where"] == str(src)
    assert "8192" in bad[0]["message"] and "8130" in bad[0]["message"]
    assert not (tmp_path / "out").exists()


def test_truncated_copy_of_a_good_file_is_refused(tmp_path: Path) -> None:
    good = write_instance(tmp_path / "in" / "a.dcm", make_instance())
    (tmp_path / "in" / "a.dcm").write_bytes(good.read_bytes()[:-10])
    result = run("build", tmp_path / "in", "--out", tmp_path / "out", "-q")
    assert result.exit_code == 1
    assert "ERROR file.pixel-data-truncated" in result.stderr
    assert str(tmp_path / "in" / "a.dcm") in result.stderr
