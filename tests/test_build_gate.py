"""Build: nothing that validate rejects is written (issue 11). The same per-file checks run on
the inputs at build as on the files of a disc at validate (mediatool.dicom.integrity via
scan_stream)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factories import make_instance, write_instance
from pydicom.data import get_testdata_file
from pydicom.fileset import FileSet

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


def test_a_file_cut_inside_an_element_header_is_refused_and_fails_validate(
    tmp_path: Path,
) -> None:
    """A data set cut a few bytes into the header of an element: pydicom reads the elements
    before it and stops without a word (a miss of benchmarks/bench_fuzz.py, issue 12)."""
    ds = make_instance()
    del ds.PixelData  # the header is the whole file: the cut lands among the header elements
    good = write_instance(tmp_path / "good.dcm", ds).read_bytes()
    marker = b"\x20\x00\x0e\x00"  # (0020,000E) Series Instance UID, explicit VR LE
    cut = good[: good.index(marker) + 3]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.dcm").write_bytes(cut)
    result = run("build", tmp_path / "in", "--out", tmp_path / "out", "--json", "-q")
    assert result.exit_code == 1
    (bad,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "read.truncated"]
    assert "3 byte(s) into the header of the element after" in bad["message"]
    assert not (tmp_path / "out").exists()
    disc = tmp_path / "disc"
    assert run("build", tmp_path / "good.dcm", "--out", disc, "-q", "--invent").exit_code == 0
    (target,) = [p for p in (disc / "DICOM").rglob("*") if p.is_file()]
    data = target.read_bytes()
    target.write_bytes(data[: data.index(marker) + 3])
    checked = run("validate", disc, "--json")
    assert checked.exit_code == 1
    assert "read.truncated" in {f["code"] for f in json.loads(checked.stdout)["findings"]}


def _refused_as_truncated(tmp_path: Path, data: bytes) -> str:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.dcm").write_bytes(data)
    result = run("build", tmp_path / "in", "--out", tmp_path / "out", "--json", "-q")
    assert result.exit_code == 1
    (bad,) = [f for f in json.loads(result.stdout)["findings"] if f["code"] == "read.truncated"]
    assert not (tmp_path / "out").exists()
    return str(bad["message"])


def test_one_stray_byte_after_pixel_data_is_refused(tmp_path: Path) -> None:
    """DCMTK stops with "premature end of stream" on it; pydicom reads it without a word."""
    good = write_instance(tmp_path / "good.dcm", make_instance()).read_bytes()
    message = _refused_as_truncated(tmp_path, good + b"\x00")
    assert message.startswith("1 stray byte(s) after the Pixel Data")


def test_a_long_value_cut_by_the_end_of_the_file_is_refused(tmp_path: Path) -> None:
    """A value longer than the read defers (4096 bytes) whose length overruns the file: the
    check must look at the length without reading the value (it was missed that way)."""
    ds = make_instance()
    del ds.PixelData
    ds.add_new(0x00091010, "OB", b"\x01" * 6000)  # a private value, last in the data set
    ds.add_new(0x00090010, "LO", "MEDIATOOL TEST")
    good = write_instance(tmp_path / "good.dcm", ds).read_bytes()
    message = _refused_as_truncated(tmp_path, good[:-1000])
    assert "which declares 6000 bytes" in message


@pytest.mark.parametrize(("vr", "said"), [(b"HS", "has the VR 'HS'"), (b"\x20\x00", "has no VR")])
def test_an_undefined_vr_is_refused(tmp_path: Path, vr: bytes, said: str) -> None:
    """A damaged VR of Instance Number (IS): pydicom reads on without a word."""
    good = write_instance(tmp_path / "good.dcm", make_instance()).read_bytes()
    marker = b"\x20\x00\x13\x00IS"  # (0020,0013) Instance Number, explicit VR LE
    assert marker in good
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.dcm").write_bytes(good.replace(marker, marker[:4] + vr))
    result = run("build", tmp_path / "in", "--out", tmp_path / "out", "--json", "-q")
    assert result.exit_code == 1
    found = json.loads(result.stdout)["findings"]
    (bad,) = [f for f in found if f["code"] == "read.invalid-vr"]
    assert f"(0020,0013) {said}" in bad["message"]
    assert not (tmp_path / "out").exists()


def test_a_32_pixel_wide_image_has_its_rows_and_columns(tmp_path: Path) -> None:
    """US 32 is the bytes 20 00: read as space padding, Rows and Columns looked empty, so a
    profile that keys IMAGE records on them refused the file (or --invent crashed on it)."""
    ds = make_instance(Rows=32, Columns=32, PixelData=bytes(32 * 32 * 2))
    write_instance(tmp_path / "in" / "a.dcm", ds)
    result = run(
        "build", tmp_path / "in", "--out", tmp_path / "out", "--profile", "STD-CTMR-CD", "-q"
    )
    assert result.exit_code == 0, result.stderr
    records = list(FileSet(tmp_path / "out" / "DICOMDIR"))
    assert [(r.Rows, r.Columns) for r in records] == [(32, 32)]


def bundled_files() -> list[Path]:
    folder = data_file("MR_truncated.dcm").parent
    files = sorted(folder.glob("*.dcm"))
    assert len(files) >= 78
    return files


def test_skip_invalid_builds_the_rest_of_pydicoms_test_files(tmp_path: Path) -> None:
    """All of pydicom's bundled files: refused without --skip-invalid; with it the build
    succeeds, lists each left-out file with its reason (JSON, README.TXT) and the disc
    validates clean. Runs under the suite's filterwarnings=error: no raw pydicom warning."""
    files = bundled_files()
    refused = run("build", *files, "--out", tmp_path / "refused", "-q")
    assert refused.exit_code == 1
    assert not (tmp_path / "refused").exists()
    out = tmp_path / "disc"
    result = run("build", *files, "--skip-invalid", "--out", out, "--json", "-q")
    assert result.exit_code == 0, result.stderr
    assert "Warning:" not in result.stderr and "UserWarning" not in result.stderr
    doc = json.loads(result.stdout)
    left = {Path(e["source"]).name: e for e in doc["left_out"]}
    assert left["MR_truncated.dcm"]["code"] == "file.pixel-data-truncated"
    assert left["rtplan_truncated.dcm"]["code"] == "read.truncated"
    assert left["JPEG-lossy.dcm"]["code"] == "profile.cannot-convert"  # found while writing
    assert "JPGExtended.dcm" not in left  # its duplicate JPEG-lossy.dcm went, so it stays
    assert "MR_small.dcm" not in left
    codes = [f["code"] for f in doc["findings"]]
    assert codes.count("build.left-out") == len(left)
    assert doc["counts"]["instances"] + len(left) <= len(files)
    readme = (out / "README.TXT").read_text()
    notes = readme.split("Not on this disc")[1].split("How to view it")[0]
    for name in left:
        assert name in notes.replace("\n", " ")
    checked = run("validate", out, "--profile", "STD-GEN-CD", "--fail-on", "warning")
    assert checked.exit_code == 0, checked.stdout


def test_jpeg_lossy_gets_one_story(tmp_path: Path) -> None:
    """Not "decoded from JPEG Extended" and then "Unable to decode": only the error."""
    result = run("build", data_file("JPEG-lossy.dcm"), "--out", tmp_path / "o", "--json", "-q")
    assert result.exit_code == 1
    found = [f for f in json.loads(result.stdout)["findings"] if f["where"]]
    assert [f["code"] for f in found] == ["profile.cannot-convert"]
    assert "Unable to decode" in found[0]["message"]


def test_pydicom_warnings_become_findings_naming_the_file(tmp_path: Path) -> None:
    """SC_rgb_jpeg.dcm: "Expected explicit VR ..." is a finding; badVR.dcm's IS '1A' is met
    only when its content is compared with its duplicate rtdose.dcm, silenced there since
    hierarchy.duplicate-conflict says the content differs."""
    src = data_file("SC_rgb_jpeg.dcm")
    result = run("build", src, "--invent", "--dry-run", "--json", "-q")
    found = json.loads(result.stdout)["findings"]
    warned = [f for f in found if f["code"] == "read.pydicom-warning"]
    assert warned and warned[0]["where"] == str(src)
    assert "Expected explicit VR" in warned[0]["message"]
    pair = run("build", data_file("rtdose.dcm"), data_file("badVR.dcm"), "--dry-run", "--json")
    assert "UserWarning" not in pair.stderr
    conflict = [
        f
        for f in json.loads(pair.stdout)["findings"]
        if f["code"] == "hierarchy.duplicate-conflict"
    ]
    assert len(conflict) == 1 and conflict[0]["where"].endswith("rtdose.dcm")


def test_cd_is_the_80_minute_disc_and_cd74_the_74_minute_one() -> None:
    from mediatool.writers.iso import MEDIA_CAPACITY

    assert MEDIA_CAPACITY["cd"] == 360_000 * 2048 == 737_280_000
    assert MEDIA_CAPACITY["cd74"] == 333_000 * 2048
    shown = run("build", "--help").stdout
    assert "cd74" in shown and "737,280,000" in shown


def test_capacity_that_exactly_fits_does_not_split(tmp_path: Path) -> None:
    """The estimates call for a split (they round up, keep a reserve); the exact image fits."""
    from mediatool.build import BuildRequest, plan
    from mediatool.build.volumes import estimated_size
    from mediatool.profiles import load
    from mediatool.sample import generate_sample

    # 100 instances: enough that the per-instance rounding outweighs the fixed part (viewer,
    # pages, ISO structures) the estimate leaves to the reserve
    generate_sample(tmp_path / "in", instances=100)
    whole = tmp_path / "whole.iso"
    common = ("--date", "2024-03-12", "--invent", "-q", "--json")
    assert run("build", tmp_path / "in", "--iso", whole, *common).exit_code == 0
    size = whole.stat().st_size
    request = BuildRequest(
        sources=(str(tmp_path / "in"),), out=None, profile=load("STD-GEN-CD"), invent=True
    )
    planned = plan(request)
    assert estimated_size(planned, replace(request, iso=whole)) > size  # a split by estimate
    exact = tmp_path / "exact.iso"
    result = run("build", tmp_path / "in", "--iso", exact, "--capacity", str(size), *common)
    assert result.exit_code == 0, result.stderr
    assert "volumes" not in json.loads(result.stdout)
    assert exact.read_bytes() == whole.read_bytes()
    # one sector less: the web content gives way, the DICOM File-set stays on one disc (issue 17)
    less = tmp_path / "less.iso"
    result = run("build", tmp_path / "in", "--iso", less, "--capacity", str(size - 2048), *common)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert "volumes" not in doc and less.stat().st_size <= size - 2048
    assert [f["code"] for f in doc["findings"] if f["code"].startswith("web.")] == [
        "web.no-institution",
        "web.degraded",
    ]


def test_without_fileset_id_the_volume_label_is_not_blank(tmp_path: Path) -> None:
    import pycdlib

    src = write_instance(tmp_path / "in" / "a.dcm", make_instance(PatientID="pid 47/11"))
    image = tmp_path / "d.iso"
    common = ("--date", "2024-03-12", "-q")
    assert run("build", src, "--iso", image, *common).exit_code == 0
    iso = pycdlib.PyCdlib()
    iso.open(str(image))
    try:
        assert iso.pvd.volume_identifier.decode().strip() == "PID_47_11"
    finally:
        iso.close()
    again = tmp_path / "again.iso"
    assert run("build", src, "--iso", again, *common).exit_code == 0
    assert again.read_bytes() == image.read_bytes()  # still byte-identical
    checked = run("validate", image, "--profile", "STD-GEN-CD", "--fail-on", "warning")
    assert checked.exit_code == 0, checked.stdout


def test_default_fileset_ids() -> None:
    from mediatool.dicom.fileids import check_fileset_id, conformant_id, default_fileset_id
    from mediatool.hierarchy import build_tree
    from mediatool.model import SourceRef
    from mediatool.scan import ScanOptions, scan_one

    def info(path: Path) -> Any:
        result = scan_one(SourceRef(str(path)), ScanOptions())
        assert not isinstance(result, list)
        return result

    one = info(data_file("CT_small.dcm"))
    assert default_fileset_id(build_tree([one])) == "1CT1_20040119"
    two = info(data_file("MR_small.dcm"))
    assert default_fileset_id(build_tree([one, two])) == "2_PAT_20040826"
    assert conformant_id("patient cd 2024-03") == "PATIENT_CD202403"
    assert conformant_id("Müller, Jörg") == "MULLER_JORG"
    for made in ("1CT1_20040119", "2_PAT_20040826", "PATIENT_CD202403"):
        assert check_fileset_id(made) == []


def test_nonconformant_fileset_id_is_refused_with_the_conformant_form(tmp_path: Path) -> None:
    src = write_instance(tmp_path / "in" / "a.dcm", make_instance())
    result = run("build", src, "--out", tmp_path / "o", "--fileset-id", "patient cd 2024-03")
    assert result.exit_code == 1
    assert "fileid.fileset-id" in result.stderr
    assert "use 'PATIENT_CD202403'" in result.stderr


def test_readme_names_creator_viewer_and_asks_for_the_institution(tmp_path: Path) -> None:
    """README.TXT per IHE RAD TF-3 4.47 (pdi.md 2.4): the creating application (name, version,
    vendor, contact), the viewer on the disc (name, version, vendor, minimum requirements);
    without --site a build warning that the institution's contact is missing."""
    import mediatool

    src = write_instance(tmp_path / "in" / "a.dcm", make_instance())
    result = run("build", src, "--out", tmp_path / "bare", "-q", "--json")
    assert result.exit_code == 0
    found = [f for f in json.loads(result.stdout)["findings"] if f["severity"] != "info"]
    assert [f["code"] for f in found] == ["web.no-institution"]
    readme = (tmp_path / "bare" / "README.TXT").read_text(encoding="ascii")
    creator = readme.split("Software that made this disc")[1].split("\n\n")[0]
    assert f"mediatool {mediatool.__version__}" in creator
    assert "Vendor:" in creator and "Contact:" in creator
    viewers = readme.split("Viewers on this disc")[1].split("\n\n")[0]
    assert f"mediatool browser viewer {mediatool.__version__}" in viewers
    assert "Vendor:" in viewers and "Requirements: a web browser with JavaScript" in viewers
    assert all(len(line) <= 80 for line in readme.splitlines())
    site = tmp_path / "site.toml"
    site.write_text('name = "St. Example"\nphone = "+1 555 0100"\n', encoding="utf-8")
    result = run("build", src, "--out", tmp_path / "site", "--site", site, "-q", "--json")
    assert all(f["severity"] == "info" for f in json.loads(result.stdout)["findings"])
    assert "+1 555 0100" in (tmp_path / "site" / "README.TXT").read_text(encoding="ascii")
    assert run("build", src, "--out", tmp_path / "strict", "--fail-on", "warning").exit_code == 1


def version_string(key: str, value: str) -> bytes:
    """One String entry of a VS_VERSIONINFO StringTable: header words, key, padding, value."""
    import struct

    body = key.encode("utf-16-le") + b"\0\0"
    body += b"\0" * ((4 - (6 + len(body)) % 4) % 4)
    text = value.encode("utf-16-le") + b"\0\0"
    entry = struct.pack("<HHH", 6 + len(body) + len(text), len(value) + 1, 1) + body + text
    return entry + b"\0" * ((4 - len(entry) % 4) % 4)


def test_readme_names_a_third_party_viewer_from_its_version_resource(tmp_path: Path) -> None:
    """RAD TF-3 4.47: name, version and vendor of the viewer on the disc; for --viewer they
    come from the program's version resource (VS_VERSIONINFO)."""
    app = tmp_path / "app"
    app.mkdir()
    resource = b"".join(
        version_string(k, v)
        for k, v in (
            ("CompanyName", "Example Imaging GmbH"),
            ("FileDescription", "Viewer"),
            ("ProductName", "Example DICOM Viewer"),
            ("ProductVersion", "4.2.1"),
        )
    )
    (app / "VIEWER.EXE").write_bytes(b"MZ" + b"\0" * 62 + resource)
    src = write_instance(tmp_path / "in" / "a.dcm", make_instance())
    result = run("build", src, "--out", tmp_path / "d", "--viewer", app, "-q")
    assert result.exit_code == 0, result.stderr
    readme = (tmp_path / "d" / "README.TXT").read_text(encoding="ascii")
    assert "Example DICOM Viewer 4.2.1 (APP\\VIEWER.EXE), a third-party DICOM viewer" in readme
    assert "  Vendor:       Example Imaging GmbH\n" in readme
    (app / "VIEWER.EXE").write_bytes(b"MZ")  # no version resource: said so
    result = run("build", src, "--out", tmp_path / "e", "--viewer", app, "-q")
    readme = (tmp_path / "e" / "README.TXT").read_text(encoding="ascii")
    assert "app (APP\\VIEWER.EXE), a third-party DICOM viewer" in readme
    assert "Vendor:       not stated in the program; see its files in APP\\" in readme
