"""The raw DICOMDIR reader against pydicom: same records at the same positions, any encoding."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from mediatool.dicom.dicomdir_raw import EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE
from mediatool.dicom.dicomdir_read import parse

DIR = Path(str(get_testdata_file("DICOMDIR", download=False))).parent


@pytest.mark.parametrize(
    ("name", "ts"),
    [
        ("DICOMDIR", EXPLICIT_LE),
        ("DICOMDIR-reordered", EXPLICIT_LE),
        ("DICOMDIR-implicit", IMPLICIT_LE),
        ("DICOMDIR-bigEnd", EXPLICIT_BE),
    ],
)
def test_positions_match_pydicom(name: str, ts: str) -> None:
    """Offsets address the Item tag (PS3.3 F.3.2.2): our positions are pydicom's seq_item_tell."""
    data = (DIR / name).read_bytes()
    ours = parse(data)
    assert ours.findings == []
    assert ours.encoding is not None and ours.encoding.uid == ts
    theirs = dcmread(DIR / name).DirectoryRecordSequence
    assert [r.offset for r in ours.records] == [item.seq_item_tell for item in theirs]
    assert [r.record_type for r in ours.records] == [i.DirectoryRecordType for i in theirs]
    for record, item in zip(ours.records, theirs, strict=True):
        assert record.uint(0x00041400) == item.OffsetOfTheNextDirectoryRecord
        assert record.uint(0x00041420) == item.OffsetOfReferencedLowerLevelDirectoryEntity
        ds = record.dataset()
        for keyword in ("PatientName", "StudyDate", "InstanceNumber", "ReferencedFileID"):
            assert ds.get(keyword) == item.get(keyword)


def test_item_length_mismatch_is_reported_and_survived() -> None:
    ours = parse((DIR / "DICOMDIR-nooffset").read_bytes())
    assert len(ours.records) == 52
    assert [(f.code, f.where) for f in ours.findings] == [
        ("dicomdir.bad-length", "DICOMDIR record 52 @10860")
    ]
    assert not ours.records[-1].has(0x00041400)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"DICM", id="four-bytes"),
        pytest.param(b"\x00" * 132, id="preamble-no-prefix"),
        pytest.param(b"\x00" * 128 + b"DICM", id="prefix-only"),
        pytest.param(b"\x00" * 128 + b"DICM\x02\x00", id="cut-meta"),
    ],
)
def test_tiny_inputs(data: bytes) -> None:
    parsed = parse(data)
    assert parsed.records == []


def test_undefined_lengths() -> None:
    """DCMTK -e style: sequence and items of undefined length (delimiters), same records."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import dcmwrite

    ds = dcmread(DIR / "DICOMDIR")
    for item in ds.DirectoryRecordSequence:
        item.is_undefined_length_sequence_item = True
    ds["DirectoryRecordSequence"].is_undefined_length = True
    fp = DicomBytesIO()
    dcmwrite(fp, ds, enforce_file_format=True)
    ours = parse(fp.getvalue())
    assert ours.findings == []
    assert [r.record_type for r in ours.records] == [
        i.DirectoryRecordType for i in ds.DirectoryRecordSequence
    ]
