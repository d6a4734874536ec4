"""dicom/elements.py: the one Explicit VR LE encoder, read back by pydicom (PS3.5 §7.1.2, §7.5)."""

from __future__ import annotations

from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence as DicomSequence

from mediatool.dicom import elements


def _read(blob: bytes) -> Dataset:
    return read_dataset(BytesIO(blob), is_implicit_VR=False, is_little_endian=True)


@pytest.mark.parametrize(
    ("tag", "vr", "value", "keyword", "expected"),
    [
        (0x00100020, b"LO", elements.padded("PID42"), "PatientID", "PID42"),
        (0x00080016, b"UI", elements.uid("1.2.3"), "SOPClassUID", "1.2.3"),
        (0x00280010, b"US", elements.us(512), "Rows", 512),
        (0x00041400, b"UL", elements.ul(70000), "OffsetOfTheNextDirectoryRecord", 70000),
        (0x00081030, b"LO", elements.padded("CT THORAX"), "StudyDescription", "CT THORAX"),
        (0x7FE00010, b"OB", b"\x01\x02\x03\x04", "PixelData", b"\x01\x02\x03\x04"),
        (0x0040A160, b"UT", elements.padded("long text"), "TextValue", "long text"),
    ],
)
def test_element_read_back_by_pydicom(
    tag: int, vr: bytes, value: bytes, keyword: str, expected: object
) -> None:
    blob = elements.element(tag, vr, value)
    assert len(blob) == (12 if vr in elements.LONG_VRS else 8) + len(value)
    ds = _read(blob)
    assert vr.decode() == ds[tag].VR
    assert ds[keyword].value == expected


@pytest.mark.parametrize("vr", sorted(elements.LONG_VRS - {b"SQ"}))
def test_long_vrs_have_a_32_bit_length(vr: bytes) -> None:
    head = elements.header(0x00091010, vr, 0x12345678)
    assert len(head) == 12
    assert head[6:8] == b"\x00\x00"
    assert int.from_bytes(head[8:], "little") == 0x12345678


def test_sequence_and_items_read_back_by_pydicom() -> None:
    item_a = elements.element(0x00100010, b"PN", elements.padded("Doe^Jane"))
    item_b = elements.element(0x00100010, b"PN", elements.padded("Roe^Rick"))
    ds = _read(elements.sequence(0x00081115, [item_a, item_b]))
    names = [str(item.PatientName) for item in ds.ReferencedSeriesSequence]
    assert names == ["Doe^Jane", "Roe^Rick"]


def _pydicom_bytes(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    return fp.getvalue()


def test_insert_element_keeps_tag_order_past_undefined_length_sequences() -> None:
    """Sequences and items of undefined length (as readers keep them): the skip follows
    their delimiters (PS3.5 §7.5.1)."""
    ds = Dataset()
    ds.PatientName = "Doe^Jane"
    inner = Dataset()
    inner.CodeValue = "T-D3000"
    inner.is_undefined_length_sequence_item = True
    ds.AnatomicRegionSequence = DicomSequence([inner])  # (0008,2218)
    ds["AnatomicRegionSequence"].is_undefined_length = True
    ds.StudyInstanceUID = "1.2.3.4"  # (0020,000D)
    ds.add_new(0x00880904, "LO", "TOPIC")  # Topic Title, after the icon's (0088,0200)
    blob = _pydicom_bytes(ds)
    assert blob.count(b"\xff\xff\xff\xff") == 2  # the case under test: undefined lengths
    icon = elements.sequence(
        elements.ICON_IMAGE_SEQUENCE, [elements.element(0x00280010, b"US", elements.us(64))]
    )
    out = _read(elements.insert_element(blob, icon, elements.ICON_IMAGE_SEQUENCE))
    tags = [0x00082218, 0x00100010, 0x0020000D, elements.ICON_IMAGE_SEQUENCE, 0x00880904]
    assert [int(el.tag) for el in out] == tags
    assert out.IconImageSequence[0].Rows == 64
    assert out.AnatomicRegionSequence[0].CodeValue == "T-D3000"


def test_skip_element_walks_every_element() -> None:
    ds = Dataset()
    ds.PatientID = "X"
    ds.PixelData = b"\x00" * 6
    ds["PixelData"].VR = "OB"
    blob = _pydicom_bytes(ds)
    first = elements.skip_element(blob, 0)
    assert elements.skip_element(blob, first) == len(blob)
