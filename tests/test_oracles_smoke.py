"""Smoke tests of the oracle wrappers in ``tests/oracles.py``.

Each wrapper runs against a File-set made by DCMTK itself (``dcmmkdir``) from pydicom's bundled
test files, so these tests check the wrappers (and the installed tools), not mediatool. What
the tools say about broken input is documented in ``tests/ORACLES.md``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import oracles
import pydicom
import pytest
from pydicom.data import get_testdata_file

pytestmark = pytest.mark.oracle

# Explicit VR Little Endian encoding of an offset element header: tag, "UL", length 4.
_UL_HEADER = "<HH2sH"


def _testdata(name: str) -> Path:
    path = get_testdata_file(name)
    assert isinstance(path, str), f"pydicom test file {name} not found"
    return Path(path)


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _ul_positions(data: bytes, element: int) -> list[int]:
    """File positions of the values of every (0004,eeee) UL element (Explicit VR LE)."""
    header = struct.pack(_UL_HEADER, 0x0004, element, b"UL", 4)
    positions = []
    i = data.find(header)
    while i != -1:
        positions.append(i + len(header))
        i = data.find(header, i + 1)
    return positions


def _patch_offset(dicomdir: Path, element: int, index: int, value: int) -> int:
    """Set the ``index``-th (0004,``element``) offset in file order; return the old value."""
    data = bytearray(dicomdir.read_bytes())
    pos = _ul_positions(bytes(data), element)[index]
    (old,) = struct.unpack_from("<I", data, pos)
    struct.pack_into("<I", data, pos, value)
    dicomdir.write_bytes(bytes(data))
    return int(old)


@pytest.fixture
def fileset(tmp_path: Path) -> Path:
    """DICOMDIR + DICOM/CT1 + DICOM/MR1, DICOMDIR written by DCMTK dcmmkdir (STD-GEN-CD)."""
    root = tmp_path / "fs"
    (root / "DICOM").mkdir(parents=True)
    shutil.copyfile(_testdata("CT_small.dcm"), root / "DICOM" / "CT1")
    shutil.copyfile(_testdata("MR_small.dcm"), root / "DICOM" / "MR1")
    report = oracles.dcmmkdir_build(root, fileset_id="ORACLE_TEST")
    report.assert_ok()
    assert report.dicomdir == root / "DICOMDIR"
    assert report.rejected == []
    return root


# --- dciodvfy ----------------------------------------------------------------------------------


def test_dciodvfy_accepts_dcmtk_dicomdir(fileset: Path) -> None:
    report = oracles.dciodvfy(fileset / "DICOMDIR")
    report.assert_ok()
    assert report.iod == "BasicDirectory"
    # Only the known noise: Image Type in both IMAGE records (items 4 and 8).
    assert report.significant_warnings == []
    assert [(m.record_index, m.path) for m in report.messages] == [
        (4, "DirectoryRecordSequence(0004,1220)[4]/ImageType(0008,0008)"),
        (8, "DirectoryRecordSequence(0004,1220)[8]/ImageType(0008,0008)"),
    ]


def test_dciodvfy_accepts_bundled_images(fileset: Path) -> None:
    for name, iod in [("CT1", "CTImage"), ("MR1", "MRImage")]:
        report = oracles.dciodvfy(fileset / "DICOM" / name)
        report.assert_ok()
        assert report.iod == iod


def test_dciodvfy_reports_missing_type1_key(fileset: Path) -> None:
    # Rename Patient ID (0010,0020) -> Issuer of Patient ID (0010,0021) in the first PATIENT
    # record: same length, so every offset stays valid.
    dicomdir = fileset / "DICOMDIR"
    data = bytearray(dicomdir.read_bytes())
    pos = data.find(struct.pack("<HH2s", 0x0010, 0x0020, b"LO"))
    assert pos > 0
    struct.pack_into("<H", data, pos + 2, 0x0021)
    dicomdir.write_bytes(bytes(data))

    report = oracles.dciodvfy(dicomdir)
    assert report.returncode == 1
    assert report.errors == [
        "DirectoryRecordSequence(0004,1220)[1]/PatientID(0010,0020): "
        "Missing attribute for Type 1 Required - Module=<PatientDirectoryRecord>"
    ]


def test_dciodvfy_reports_missing_offset_elements() -> None:
    # pydicom's DICOMDIR-nooffset: the last record lacks (0004,1400) and (0004,1420), and its
    # item length was not updated.
    report = oracles.dciodvfy(_testdata("DICOMDIR-nooffset"))
    assert report.returncode == 1
    assert (
        "DirectoryRecordSequence(0004,1220)[52]/OffsetOfTheNextDirectoryRecord(0004,1400): "
        "Missing attribute for Type 1 Required - Module=<DirectoryInformation>"
    ) in report.errors
    assert report.has_error(r"^DirectoryRecordSequence\(0004,1220\): Bad Explicit Value Length")


def test_dciodvfy_does_not_check_offset_values(fileset: Path) -> None:
    """Documented blind spot (ORACLES.md): use dcdirdmp / dcmtk_dicomdir_load for offsets."""
    dicomdir = fileset / "DICOMDIR"
    old = _patch_offset(dicomdir, 0x1400, 0, 0)  # first PATIENT's next -> 0 (MR patient lost)
    assert old > 0
    report = oracles.dciodvfy(dicomdir)
    assert report.errors == []


# --- dcdirdmp / DCMTK DICOMDIR reader: offsets -------------------------------------------------


def test_dcdirdmp_walks_dcmtk_dicomdir(fileset: Path) -> None:
    report = oracles.dcdirdmp(fileset / "DICOMDIR")
    report.assert_ok()
    assert report.record_count == 8
    assert [(r.depth, r.label.split(" ")[0]) for r in report.records] == [
        (0, "PATIENT"), (1, "STUDY"), (2, "SERIES"), (3, "IMAGE"),
        (0, "PATIENT"), (1, "STUDY"), (2, "SERIES"), (3, "IMAGE"),
    ]  # fmt: skip
    assert report.referenced_files == ["DICOM\\CT1", "DICOM\\MR1"]
    items = pydicom.dcmread(fileset / "DICOMDIR").DirectoryRecordSequence
    assert report.root_first == items[0].seq_item_tell
    assert report.root_last == report.records[4].offset == items[4].seq_item_tell


def test_corrupted_offset_is_reported(fileset: Path) -> None:
    dicomdir = fileset / "DICOMDIR"
    second_patient = pydicom.dcmread(dicomdir).DirectoryRecordSequence[4].seq_item_tell
    bad = second_patient + 2  # first PATIENT's next record -> 2 bytes into the second PATIENT
    assert _patch_offset(dicomdir, 0x1400, 0, bad) == second_patient

    walk = oracles.dcdirdmp(dicomdir)
    assert walk.returncode == 1
    assert walk.errors == [
        f"Directory record offset invalid - doesn't point to a directory record - {bad:#x}"
    ]
    assert walk.referenced_files == ["DICOM\\CT1"]  # walk stops at the bad offset

    load = oracles.dcmtk_dicomdir_load(dicomdir)
    assert load.warnings == [f"DcmDicomDir::resolveGivenOffsets() Cannot resolve offset {bad}"]


def test_offset_cycle_is_reported(fileset: Path) -> None:
    dicomdir = fileset / "DICOMDIR"
    first = pydicom.dcmread(dicomdir).OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity
    _patch_offset(dicomdir, 0x1420, 0, first)  # first PATIENT's lower level -> itself

    walk = oracles.dcdirdmp(dicomdir, max_output=256 * 1024)  # recurses until killed
    assert walk.returncode is None
    assert walk.has_error("oracle killed")

    load = oracles.dcmtk_dicomdir_load(dicomdir)
    assert load.returncode == 1
    assert load.has_error(f"^DcmDicomDir: Record with offset={first} is referenced more than once")


def test_dcmtk_dicomdir_load_accepts_dcmtk_dicomdir(fileset: Path) -> None:
    before = _snapshot(fileset)
    oracles.dcmtk_dicomdir_load(fileset / "DICOMDIR").assert_ok()
    assert _snapshot(fileset) == before


# --- DCMTK parser and File-set acceptance --------------------------------------------------------


def test_dcmdump_parses(fileset: Path) -> None:
    for rel in ["DICOMDIR", "DICOM/CT1", "DICOM/MR1"]:
        report = oracles.dcmdump(fileset / rel)
        report.assert_ok()
        assert "# Dicom-File-Format" in report.stdout
    assert "(0004,1220) SQ" in oracles.dcmdump(fileset / "DICOMDIR").stdout


def test_dcmdump_reports_truncation(tmp_path: Path, fileset: Path) -> None:
    truncated = tmp_path / "TRUNC"
    truncated.write_bytes((fileset / "DICOM" / "CT1").read_bytes()[:1000])
    report = oracles.dcmdump(truncated)
    assert report.returncode == 1
    assert report.has_error("premature end of stream")


def test_dcmftest(fileset: Path, tmp_path: Path) -> None:
    raw = tmp_path / "RAW"
    raw.write_bytes((fileset / "DICOM" / "CT1").read_bytes()[132:])  # no preamble / "DICM"
    result = oracles.dcmftest([fileset / "DICOMDIR", fileset / "DICOM" / "CT1", raw])
    assert result == {fileset / "DICOMDIR": True, fileset / "DICOM" / "CT1": True, raw: False}


def test_dcmmkdir_check_accepts_without_modifying(fileset: Path) -> None:
    before = _snapshot(fileset)
    report = oracles.dcmmkdir_check(fileset)
    report.assert_ok()
    assert report.files == ["DICOM/CT1", "DICOM/MR1"]
    assert report.rejected == []
    assert report.warnings == []
    assert _snapshot(fileset) == before


def test_dcmmkdir_check_rejects(fileset: Path) -> None:
    shutil.copyfile(fileset / "DICOM" / "CT1", fileset / "DICOM" / "ct2")
    (fileset / "README.TXT").write_text("not DICOM\n", encoding="ascii")
    report = oracles.dcmmkdir_check(fileset)
    assert report.returncode == 0  # dcmmkdir exits 0 even when it rejects files
    assert not report.ok
    assert report.rejected == ["DICOM/ct2", "README.TXT"]
    assert report.has_error(r"^invalid character\(s\) in filename: DICOM/ct2\n\s+\^$")

    report = oracles.dcmmkdir_check(fileset, exclude=["readme.txt", "DICOM/CT2"])
    report.assert_ok()
    assert report.files == ["DICOM/CT1", "DICOM/MR1"]


# --- dcentvfy ----------------------------------------------------------------------------------


def test_dcentvfy(fileset: Path, tmp_path: Path) -> None:
    files = [fileset / "DICOM" / "CT1", fileset / "DICOM" / "MR1"]
    oracles.dcentvfy(files).assert_ok()

    ds = pydicom.dcmread(files[1])
    ds.PatientName = "Other^Name"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID + ".1"
    other = tmp_path / "OTHER"
    ds.save_as(other, enforce_file_format=True)
    report = oracles.dcentvfy([files[1], other])
    assert report.returncode == 1
    assert report.has_error(
        r"^String attribute has different value - Element=<PatientName> IE=<Patient> for file "
    )


# --- ISO 9660 ----------------------------------------------------------------------------------


@pytest.fixture
def iso(fileset: Path, tmp_path: Path) -> Path:
    image = tmp_path / "disc.iso"
    genisoimage = oracles.require_tool("genisoimage")
    subprocess.run(
        [genisoimage, "-quiet", "-iso-level", "1", "-V", "ORACLE_TEST", "-o", image, fileset],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return image


def test_isoinfo(iso: Path) -> None:
    pvd = oracles.isoinfo_pvd(iso)
    assert pvd.is_iso9660
    assert pvd.volume_id == "ORACLE_TEST"
    assert pvd.block_size == 2048
    assert not pvd.joliet
    assert not pvd.rock_ridge

    listing = oracles.isoinfo_listing(iso)
    assert listing.is_iso9660
    assert listing.directories == ["/DICOM"]
    assert sorted(listing.files) == ["/DICOM/CT1.;1", "/DICOM/MR1.;1", "/DICOMDIR.;1"]


def test_isoinfo_on_non_iso(fileset: Path) -> None:
    assert not oracles.isoinfo_pvd(fileset / "DICOM" / "CT1").is_iso9660
    assert not oracles.isoinfo_listing(fileset / "DICOM" / "CT1").is_iso9660


def test_xorriso_extract(iso: Path, fileset: Path, tmp_path: Path) -> None:
    report = oracles.xorriso_extract(iso, tmp_path / "out")
    report.assert_ok()
    assert report.volume_id == "ORACLE_TEST"
    assert [p.as_posix() for p in report.files] == ["DICOM/CT1", "DICOM/MR1", "DICOMDIR"]
    for rel in report.files:
        assert (report.dest / rel).read_bytes() == (fileset / rel).read_bytes()


def test_xorriso_extract_non_iso(fileset: Path, tmp_path: Path) -> None:
    report = oracles.xorriso_extract(fileset / "DICOM" / "CT1", tmp_path / "out")
    assert report.returncode == 0  # xorriso "extracts" a blank image and succeeds
    assert report.has_error("No ISO 9660 image at LBA 0")
    assert report.files == []


# --- a missing tool fails the test, never skips ------------------------------------------------


def test_missing_tool_fails(fileset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match=r"^dciodvfy not installed: run scripts/"):
        oracles.dciodvfy(fileset / "DICOMDIR")
