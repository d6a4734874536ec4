"""Agreement with independent oracles: every error dciodvfy or dcdirdmp (dicom3tools) reports on a
DICOMDIR is also reported by ``validate_media``, with the code in :data:`COVERAGE`.

Inputs: pydicom's bundled ``dicomdirtests`` variants (each set up as a File-set of its own with
the instance folders next to it), a File-set whose DICOMDIR DCMTK's ``dcmmkdir`` wrote (valid, and
hand-corrupted copies of it as described in tests/ORACLES.md), and a File-set mediatool built.
Tests fail, never skip, when a tool is missing (tests/oracles.py).

Blind spots of the oracles (ORACLES.md) are not agreement failures: they are covered by
test_validate_mutations.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import oracles
import pytest
from pydicom.data import get_testdata_file
from validate_helpers import Dicomdir, codes, problems, small_fileset, validate

from mediatool.validate import Report

pytestmark = pytest.mark.oracle

#: Which of our codes cover each oracle error message (regex on the message text). A record
#: index in the oracle's attribute path must also appear in our finding's location.
COVERAGE: list[tuple[str, str, frozenset[str]]] = [
    ("dciodvfy", r"IconImageSequence\(0088,0200\)", frozenset({"record.icon"})),
    ("dcdirdmp", r"Invalid Value Representation - Pixel Data", frozenset({"record.icon"})),
    (
        "dciodvfy",
        r"Bad Explicit Value Length for Sequence Item",
        frozenset({"dicomdir.bad-length"}),
    ),
    (
        "dciodvfy",
        r"Dicom dataset read failed",
        frozenset({"dicomdir.bad-length", "dicomdir.truncated"}),
    ),
    (
        "dciodvfy",
        r"\(0004,14[0-9A-F]{2}\)[^:]*: Missing attribute for Type 1 Required",
        frozenset({"record.missing-element"}),
    ),
    ("dciodvfy", r"Missing attribute for Type 1 Required", frozenset({"record.missing-key"})),
    (
        "dciodvfy",
        r"Empty attribute \(no value\) for Type 1 Required",
        frozenset({"record.missing-key"}),
    ),
    ("dciodvfy", r"Missing attribute for Type 2 Required", frozenset({"record.missing-type2-key"})),
    (
        "dciodvfy",
        r"DirectoryRecordType\(0004,1430\).*Unrecognized enumerated value",
        frozenset({"record.unknown-type", "record.retired-type"}),
    ),
    (
        "dciodvfy",
        r"ReferencedFileID\(0004,1500\).*Value invalid for this VR",
        frozenset({"fileid.bad-character"}),
    ),
    (
        "dciodvfy",
        r"FileSetID\(0004,1130\).*Value invalid for this VR",
        frozenset({"fileid.fileset-id"}),
    ),
    (
        "dciodvfy",
        r"Value invalid for this VR|Leading zeroes in embedded numeric",
        frozenset({"record.bad-value"}),
    ),
    (
        "dciodvfy",
        r"MediaStorageSOPInstanceUID different from SOPInstanceUID",
        frozenset({"meta.sop-instance-mismatch"}),
    ),
    (
        "dciodvfy",
        r"DirectoryRecordSequence\(0004,1220\): Missing attribute",
        frozenset({"dicomdir.no-records"}),
    ),
    ("dcdirdmp", r"Directory record offset invalid", frozenset({"dicomdir.bad-offset"})),
    (
        "dcdirdmp",
        r"Bad Explicit Value Length for Sequence Item",
        frozenset({"dicomdir.bad-length"}),
    ),
    ("dcdirdmp", r"read failed", frozenset({"dicomdir.bad-length", "dicomdir.truncated"})),
    ("dcdirdmp", r"oracle killed", frozenset({"dicomdir.offset-cycle"})),
]

VARIANTS = [
    "DICOMDIR",
    "DICOMDIR-nooffset",
    "DICOMDIR-reordered",
    "DICOMDIR-nopatient",
    "DICOMDIR-bigEnd",
    "DICOMDIR-implicit",
    "DICOMDIR-empty.dcm",
]


#: After "read failed" an oracle reports on the part it could read (dciodvfy then calls the
#: DICOMDIR "not a directory", dcdirdmp follows offsets into the void): all of that is covered
#: by our report of the damage itself.
READ_FAILED = re.compile(r"read failed")
DAMAGE = frozenset({"dicomdir.bad-length", "dicomdir.truncated"})


def covered(
    tool: str, message: oracles.OracleMessage, report: Report, read_failed: bool
) -> str | None:
    """None if our report covers the oracle's error, else why not."""
    if read_failed and DAMAGE & {f.code for f in report.findings}:
        return None
    for name, pattern, ours in COVERAGE:
        if name != tool or not re.search(pattern, str(message)):
            continue
        hits = [f for f in report.findings if f.code in ours]
        index = message.record_index
        if index is not None:
            at = f" record {index} @"
            hits = [f for f in hits if at in (f.where or "") or at in f.message]
        if hits:
            return None
        return f"{tool}: {message} -> none of {sorted(ours)} (record {index})"
    return f"{tool}: {message} -> not in COVERAGE: add the mapping"


def assert_agreement(root: Path) -> Report:
    report = validate(root)
    missing: list[str] = []
    for tool, run in (
        ("dciodvfy", oracles.dciodvfy(root / "DICOMDIR")),
        ("dcdirdmp", oracles.dcdirdmp(root / "DICOMDIR", timeout=20, max_output=1 << 20)),
    ):
        failed = any(READ_FAILED.search(e) for e in run.errors)
        errors = [x for x in run.messages if x.level == "error"]
        missing += [m for m in (covered(tool, x, report, failed) for x in errors) if m]
    assert not missing, "\n".join([*missing, "ours:", *problems(report)])
    return report


def variant_fileset(name: str, root: Path) -> Path:
    src = Path(str(get_testdata_file("DICOMDIR", download=False))).parent
    root.mkdir(parents=True)
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(src / folder, root / folder)
    shutil.copy(src / name, root / "DICOMDIR")
    return root


#: What we must report on each variant besides agreeing with the oracles (ORACLES.md).
VARIANT_CODES = {
    "DICOMDIR": set(),
    "DICOMDIR-reordered": set(),
    "DICOMDIR-nooffset": {"dicomdir.bad-length", "record.missing-element"},
    "DICOMDIR-nopatient": {"record.unknown-type", "dicomdir.unreachable-record"},
    "DICOMDIR-bigEnd": {"dicomdir.transfer-syntax"},
    "DICOMDIR-implicit": {"dicomdir.transfer-syntax"},
    "DICOMDIR-empty.dcm": {"dicomdir.no-records"},
}


@pytest.mark.parametrize("name", VARIANTS)
def test_pydicom_variants(name: str, tmp_path: Path) -> None:
    report = assert_agreement(variant_fileset(name, tmp_path / "media"))
    errors = {f.code for f in report.findings if f.severity >= 30}
    assert VARIANT_CODES[name] <= codes(report), problems(report)
    if not VARIANT_CODES[name]:
        assert errors == set(), problems(report)
    if name not in ("DICOMDIR-empty.dcm",):
        # tolerant reading: all 31 images are found through the records, whatever the encoding
        assert report.inventory.counts()["instances"] == 31
        assert report.inventory.counts()["patients"] == 2


def test_encodings_read_alike(tmp_path: Path) -> None:
    """Big Endian and Implicit VR DICOMDIRs give the same inventory as the original."""
    inventories = []
    for n in ("DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-reordered"):
        inventory = validate(variant_fileset(n, tmp_path / n)).inventory.as_dict()
        del inventory["counts"]["bytes"]  # the DICOMDIRs differ in size
        inventories.append(inventory)
    assert all(i == inventories[0] for i in inventories[1:])


# --- a File-set written by DCMTK, and copies with one defect each ------------------------------


@pytest.fixture(scope="module")
def dcmtk_fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dcmtk")
    (root / "DICOM").mkdir()
    for name, target in (("CT_small.dcm", "CT1"), ("MR_small.dcm", "MR1")):
        shutil.copy(str(get_testdata_file(name, download=False)), root / "DICOM" / target)
    report = oracles.dcmmkdir_build(root, fileset_id="DCMTK_DEMO")
    assert report.dicomdir is not None, report.describe()
    d = Dicomdir(root / "DICOMDIR")
    types = [r.record_type for r in d.parsed.records]
    assert types == ["PATIENT", "STUDY", "SERIES", "IMAGE"] * 2, types
    return root


def test_dcmtk_fileset_is_clean(dcmtk_fileset: Path) -> None:
    report = assert_agreement(dcmtk_fileset)
    assert [f for f in report.findings if f.severity >= 30] == [], problems(report)


NEXT, IN_USE, LOWER, RTYPE, FILE_ID = 0x00041400, 0x00041410, 0x00041420, 0x00041430, 0x00041500


def _patch(change: Callable[[Dicomdir], None]) -> Callable[[Path], None]:
    def mutate(root: Path) -> None:
        d = Dicomdir(root / "DICOMDIR")
        change(d)
        d.save()

    return mutate


def _truncate(root: Path) -> None:
    path = root / "DICOMDIR"
    path.write_bytes(path.read_bytes()[:1200])


#: ORACLES.md "hand-corrupted copies" and what we must say (besides agreeing with the oracles).
CORRUPTIONS = [
    pytest.param(
        _patch(lambda d: d.set_ul(1, NEXT, d.record(5) + 2)), "dicomdir.bad-offset", id="next_plus2"
    ),
    pytest.param(
        _patch(lambda d: d.set_ul(None, 0x00041200, d.record(1) + 8)),
        "dicomdir.bad-offset",
        id="root_first_plus8",
    ),
    pytest.param(
        _patch(lambda d: d.set_ul(None, 0x00041200, 1 << 30)),
        "dicomdir.bad-offset",
        id="root_first_eof",
    ),
    pytest.param(
        _patch(lambda d: d.set_ul(None, 0x00041202, d.record(1))),
        "dicomdir.root-offsets",
        id="root_last_wrong",
    ),
    pytest.param(
        _patch(lambda d: d.set_ul(1, LOWER, d.record(1))), "dicomdir.offset-cycle", id="lower_cycle"
    ),
    pytest.param(
        _patch(lambda d: d.set_ul(2, NEXT, d.record(5))),
        "dicomdir.record-reached-twice",
        id="study_next_to_patient2",
    ),
    pytest.param(
        _patch(lambda d: d.set_ul(2, LOWER, 0)),
        "dicomdir.unreachable-record",
        id="study_lower_zero",
    ),
    pytest.param(
        _patch(lambda d: d.retag(1, 0x00100020, 0x00100021)),
        "record.missing-key",
        id="patient_no_id",
    ),
    pytest.param(
        _patch(lambda d: d.set_value(1, 0x00100020, b"")),
        "record.missing-key",
        id="patient_id_blank",
    ),
    pytest.param(
        _patch(lambda d: d.set_value(2, RTYPE, b"FOOBAR")),
        "record.unknown-type",
        id="rectype_unknown",
    ),
    pytest.param(
        _patch(lambda d: d.set_value(2, RTYPE, b"TOPIC")), "record.retired-type", id="rectype_topic"
    ),
    pytest.param(_patch(lambda d: d.set_us(1, IN_USE, 0)), "record.inactive", id="inuse_zero"),
    pytest.param(
        _patch(lambda d: d.set_us(None, 0x00041212, 0xFFFF)),
        "dicomdir.consistency-flag-set",
        id="consistency_ffff",
    ),
    pytest.param(
        _patch(lambda d: d.set_value(4, FILE_ID, d.value(4, FILE_ID).lower())),
        "fileid.bad-character",
        id="fileid_lower",
    ),
    pytest.param(
        _patch(lambda d: d.set_value(None, 0x00041130, d.value(None, 0x00041130).lower())),
        "fileid.fileset-id",
        id="fsid_lower",
    ),
    pytest.param(
        _patch(
            lambda d: d.set_value(
                4, 0x00041511, d.value(4, 0x00041511).replace(b".", b".0", 1)[:-1]
            )
        ),
        "record.bad-value",
        id="refuid_leading0",
    ),
    pytest.param(_truncate, "dicomdir.truncated", id="truncated"),
]


@pytest.mark.parametrize(("mutate", "code"), CORRUPTIONS)
def test_dcmtk_corruptions(
    dcmtk_fileset: Path, tmp_path: Path, mutate: Callable[[Path], None], code: str
) -> None:
    root = Path(shutil.copytree(dcmtk_fileset, tmp_path / "media"))
    mutate(root)
    report = assert_agreement(root)
    assert code in codes(report), problems(report)


def test_mediatool_fileset_agrees(tmp_path: Path) -> None:
    """A File-set mediatool built: the oracles and we find nothing."""
    root = small_fileset(tmp_path)
    report = assert_agreement(root)
    assert report.findings == (), problems(report)
    assert oracles.dciodvfy(root / "DICOMDIR").errors == []


#: dciodvfy errors about the content of an instance against its IOD (checklist E24, which
#: validate does not implement: docs/checks.md). Every other error must be covered by COVERAGE.
IOD_CONTENT = re.compile(
    r"Module=|Bad private owner value|Shall not be present|has same value as|"
    r"Attribute present when condition unsatisfied"
)


def test_instances_agree(tmp_path: Path) -> None:
    """dciodvfy on every instance of the pydicom File-set: Part 10 errors are ours too."""
    root = variant_fileset("DICOMDIR", tmp_path / "media")
    report = validate(root)
    missing: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR"):
        for message in oracles.dciodvfy(path).messages:
            if message.level != "error" or IOD_CONTENT.search(str(message)):
                continue
            why = covered("dciodvfy", message, report, False)
            if why:
                missing.append(f"{path.relative_to(root)}: {why}")
    assert not missing, "\n".join(missing)


def test_icon_images(tmp_path: Path) -> None:
    """DCMTK's icons (dcmmkdir +X) pass D11; a 16-bit icon does not (PS3.3 F.7)."""
    root = tmp_path / "media"
    (root / "DICOM").mkdir(parents=True)
    shutil.copy(str(get_testdata_file("CT_small.dcm", download=False)), root / "DICOM" / "CT1")
    assert oracles.dcmmkdir_build(root, extra=["+X"]).dicomdir is not None
    d = Dicomdir(root / "DICOMDIR")
    assert 0x00880200 in d.parsed.records[3].elements
    report = assert_agreement(root)
    assert [f for f in report.findings if f.severity >= 20] == [], problems(report)
    bits = b"\x28\x00\x00\x01US\x02\x00\x08\x00"  # (0028,0100) Bits Allocated = 8
    data = (root / "DICOMDIR").read_bytes()
    assert data.count(bits) == 1
    (root / "DICOMDIR").write_bytes(data.replace(bits, bits[:-2] + b"\x10\x00"))
    assert "record.icon" in codes(assert_agreement(root))
