"""Our File-sets against independent readers: dciodvfy, pydicom's FileSet, dcmmkdir, dcmdump.

Inputs: the bundled sample set (``mediatool sample``) and pydicom's own test files. A test that
needs a tool fails (never skips) when the tool is missing: run scripts/test.sh.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import oracles
import pytest
from click.testing import CliRunner
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.fileset import FileSet

from mediatool.cli import main
from mediatool.sample import generate_sample

pytestmark = pytest.mark.oracle

#: pydicom bundled files used as foreign input (valid enough to get a record each).
PYDICOM_FILES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "JPEG2000.dcm",
    "rtplan.dcm",
    "rtdose.dcm",
    "rtstruct.dcm",
    "SC_rgb_rle.dcm",
    "ExplVR_BigEnd.dcm",
    "reportsi.dcm",
    "image_dfl.dcm",
    "examples_palette.dcm",
    "liver_1frame.dcm",
)


def _build(src: Path, out: Path, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["build", str(src), "--out", str(out), "--json", *extra], catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


@pytest.fixture(scope="module")
def sample_fileset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], int]:
    root = tmp_path_factory.mktemp("sample")
    sample = generate_sample(root / "in", instances=120, seed=1)
    doc = _build(
        root / "in",
        root / "out",
        "--fileset-id",
        "SAMPLE_CD",
        "--iso",
        str(root / "disc.iso"),
        "--date",
        "2024-03-12",
    )
    return root / "out", doc, sample.instances


@pytest.fixture(scope="module")
def pydicom_fileset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    root = tmp_path_factory.mktemp("pydicom")
    src = root / "in"
    src.mkdir()
    for name in PYDICOM_FILES:
        path = get_testdata_file(name, download=False)
        assert path, name
        shutil.copy(str(path), src / name.lower())
    # several pydicom files share a SOP Instance UID with different content: one each
    return root / "out", _build(src, root / "out", "--invent")


def _written(out: Path) -> list[Path]:
    return sorted(p for p in (out / "DICOM").rglob("*") if p.is_file())


def test_sample_defects_are_reported(sample_fileset: tuple[Path, dict[str, Any], int]) -> None:
    _, doc, instances = sample_fileset
    found = {f["code"] for f in doc["findings"]}
    # non-DICOM files, raw data set, Implicit VR file and the duplicate of the sample set
    assert {
        "source.not-dicom",
        "meta.no-preamble",
        "build.reencoded",
        "hierarchy.duplicate-identical",
    } <= found
    assert doc["counts"]["instances"] == instances
    assert not [f for f in doc["findings"] if f["severity"] == "error"]


def test_dciodvfy_finds_no_error_in_our_dicomdir(
    sample_fileset: tuple[Path, dict[str, Any], int], pydicom_fileset: tuple[Path, dict[str, Any]]
) -> None:
    report = oracles.dciodvfy(sample_fileset[0] / "DICOMDIR")
    assert report.errors == [], report.describe()
    assert report.significant_warnings == [], report.describe()
    report = oracles.dciodvfy(pydicom_fileset[0] / "DICOMDIR")
    assert report.errors == [], report.describe()
    # pydicom's old test files have names like 'JANCT000' (no '^'): copied as they are
    assert [w for w in report.significant_warnings if "Retired Person Name form" not in w] == [], (
        report.describe()
    )


def test_pydicom_fileset_finds_every_instance(
    sample_fileset: tuple[Path, dict[str, Any], int],
) -> None:
    out, _, instances = sample_fileset
    fs = FileSet(out / "DICOMDIR")
    assert len(fs) == instances
    assert fs.ID == "SAMPLE_CD"
    record_types = {inst.node.record_type for inst in fs}
    assert {
        "IMAGE",
        "RT DOSE",
        "RT STRUCTURE SET",
        "RT PLAN",
        "PRESENTATION",
        "WAVEFORM",
        "SR DOCUMENT",
        "KEY OBJECT DOC",
        "ENCAP DOC",
    } <= record_types
    for inst in fs:
        ds = inst.load()
        assert ds.SOPInstanceUID == inst.SOPInstanceUID
        assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"


def test_dcmmkdir_accepts_every_file(
    sample_fileset: tuple[Path, dict[str, Any], int], pydicom_fileset: tuple[Path, dict[str, Any]]
) -> None:
    for out in (sample_fileset[0], pydicom_fileset[0]):
        web = ("README.TXT", "INDEX.HTM", "IHE_PDI/*", "VIEWER/*", "REPORTS/*")
        report = oracles.dcmmkdir_check(out, exclude=web)
        assert report.rejected == [], report.describe()
        assert len(report.files) == len(_written(out))


def test_dcmdump_parses_every_file(sample_fileset: tuple[Path, dict[str, Any], int]) -> None:
    out = sample_fileset[0]
    for path in [out / "DICOMDIR", *_written(out)]:
        report = oracles.dcmdump(path)
        assert report.errors == [], report.describe()


def test_written_instances_pass_dciodvfy(sample_fileset: tuple[Path, dict[str, Any], int]) -> None:
    """Rewriting the meta (and re-encoding) must not break an IOD that was valid."""
    out = sample_fileset[0]
    seen: set[str] = set()
    for path in _written(out):
        sop_class = str(dcmread(path, stop_before_pixels=True).SOPClassUID)
        if sop_class in seen:
            continue
        seen.add(sop_class)
        report = oracles.dciodvfy(path)
        assert report.errors == [], report.describe()
    assert len(seen) >= 15


def test_non_ascii_names_survive(sample_fileset: tuple[Path, dict[str, Any], int]) -> None:
    fs = FileSet(sample_fileset[0] / "DICOMDIR")
    names = {str(inst.PatientName) for inst in fs}
    assert "Müller^Jürgen" in names
    assert "Dvořák^Antonín" in names
    assert "Yamada^Tarou=山田^太郎=やまだ^たろう" in names


def test_pydicom_files_build(pydicom_fileset: tuple[Path, dict[str, Any]]) -> None:
    out, doc = pydicom_fileset
    assert doc["counts"]["instances"] == len(_written(out))
    assert {"build.decompressed", "build.reencoded"} <= {f["code"] for f in doc["findings"]}


def test_our_disc_validates_clean_as_folder_and_iso(
    sample_fileset: tuple[Path, dict[str, Any], int],
) -> None:
    """The whole disc (DICOM, web content, viewer) through our own validator: no error, no
    warning, in the folder and in the ISO image, under the profile it was built for."""
    out = sample_fileset[0]
    for media in (out, out.parent / "disc.iso"):
        result = CliRunner().invoke(
            main,
            ["validate", str(media), "--profile", "STD-GEN-CD", "--json", "--fail-on", "warning"],
        )
        assert result.exit_code == 0, result.stdout
        doc = json.loads(result.stdout)
        assert [f for f in doc["findings"] if f["severity"] != "info"] == []
        assert doc["inventory"]["counts"]["instances"] == sample_fileset[2]


def test_iso_names_and_extraction(
    sample_fileset: tuple[Path, dict[str, Any], int], tmp_path: Path
) -> None:
    out = sample_fileset[0]
    iso = out.parent / "disc.iso"
    assert oracles.isoinfo_pvd(iso).volume_id == "SAMPLE_CD"
    names = oracles.isoinfo_listing(iso).files
    assert "/DICOMDIR.;1" in names and "/INDEX.HTM;1" in names and "/README.TXT;1" in names
    assert all(n.endswith(";1") and n == n.upper() for n in names)
    extracted = oracles.xorriso_extract(iso, tmp_path / "x")
    digest = {
        p.relative_to(tmp_path / "x"): p.read_bytes()
        for p in (tmp_path / "x").rglob("*")
        if p.is_file()
    }
    assert digest == {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert extracted.volume_id == "SAMPLE_CD"
