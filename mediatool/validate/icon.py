"""Icon Image Key (PS3.3 F.7; checklist D11): one item, an 8-bit or 1-bit monochrome or palette
Image Pixel Macro, uncompressed (the DICOMDIR is Explicit VR Little Endian)."""

from __future__ import annotations

from typing import Any, Final

from pydicom.dataset import Dataset

from mediatool.dicom.dicomdir_raw import RawRecord
from mediatool.dicom.values import captured, raw_dataset
from mediatool.findings import Finding, finding

ICON_SEQUENCE: Final = 0x00880200
_PHOTOMETRIC: Final = frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR"})


def _icon_item(record: RawRecord, out: list[Finding]) -> list[Dataset] | None:
    element = record.elements[ICON_SEQUENCE]
    vr = element.vr.decode("ascii") if element.vr else None
    ds = raw_dataset([(ICON_SEQUENCE, vr, element.value)], *_flags(record))
    try:
        with captured(record.where, out):
            return list(ds[ICON_SEQUENCE].value)
    except Exception as exc:  # a damaged nested sequence: report, never raise
        out.append(
            finding("record.icon", f"cannot read the Icon Image Sequence: {exc}", record.where)
        )
        return None


def _flags(record: RawRecord) -> tuple[bool, bool]:
    return record.encoding.implicit, record.encoding.little


def _get(item: Dataset, keyword: str) -> Any:
    try:
        return item.get(keyword)
    except Exception:
        return None


def _is(value: Any) -> str:
    """'is 8' or 'is absent' (issue 11: never 'None')."""
    return "is absent" if value is None else f"is {value!r}"


def _problems(item: Dataset) -> list[str]:
    problems: list[str] = []
    spp = _get(item, "SamplesPerPixel")
    photometric = _get(item, "PhotometricInterpretation")
    allocated = _get(item, "BitsAllocated")
    stored = _get(item, "BitsStored")
    high = _get(item, "HighBit")
    if spp != 1:
        problems.append(f"(0028,0002) Samples per Pixel {_is(spp)}, not 1")
    if str(photometric or "") not in _PHOTOMETRIC:
        problems.append(f"(0028,0004) Photometric Interpretation {_is(photometric or None)}")
    if "PlanarConfiguration" in item:
        problems.append("(0028,0006) Planar Configuration is present")
    if allocated not in (1, 8) or stored != allocated:
        shown = "/".join("absent" if v is None else repr(v) for v in (allocated, stored))
        problems.append(f"Bits Allocated/Stored are {shown}, not 1/1 or 8/8")
    if isinstance(stored, int) and high != stored - 1:
        problems.append(f"(0028,0102) High Bit {_is(high)}, not {stored - 1}")
    representation = _get(item, "PixelRepresentation")
    if representation != 0:
        problems.append(f"(0028,0103) Pixel Representation {_is(representation)}, not 0")
    if photometric == "PALETTE COLOR" and allocated != 8:
        problems.append("a PALETTE COLOR icon must have 8 Bits Allocated")
    rows, columns = _get(item, "Rows"), _get(item, "Columns")
    pixels = _get(item, "PixelData")
    if not isinstance(rows, int) or not isinstance(columns, int):
        problems.append("(0028,0010) Rows or (0028,0011) Columns is missing")
    elif not isinstance(pixels, bytes):
        problems.append("(7FE0,0010) Pixel Data is missing")
    elif isinstance(allocated, int) and len(pixels) < (rows * columns * allocated + 7) // 8:
        problems.append(f"Pixel Data has {len(pixels)} bytes, fewer than {rows}x{columns} pixels")
    return problems


def check_icon(record: RawRecord) -> list[Finding]:
    """D11 on a record's Icon Image Sequence, if it has one."""
    if ICON_SEQUENCE not in record.elements:
        return []
    out: list[Finding] = []
    items = _icon_item(record, out)
    if items is None:
        return out
    if len(items) != 1:
        out.append(
            finding(
                "record.icon",
                f"(0088,0200) Icon Image Sequence has {len(items)} items, not exactly 1",
                record.where,
            )
        )
    for item in items[:1]:
        with captured(record.where, out):
            problems = _problems(item)
        if problems:
            out.append(finding("record.icon", "icon: " + "; ".join(problems), record.where))
    return out


def icon_form(record: RawRecord, size: int, bits: int, photometric: tuple[str, ...]) -> list[str]:
    """How a record's icon differs from a profile's rule (checklist D12): size, bits,
    photometric interpretation."""
    out: list[Finding] = []
    items = _icon_item(record, out)
    if not items:
        return ["the Icon Image Sequence cannot be read"] if out else []
    item = items[0]
    problems: list[str] = []
    rows, columns = _get(item, "Rows"), _get(item, "Columns")
    if (rows, columns) != (size, size):
        problems.append(f"{rows!r}x{columns!r} pixels")
    if _get(item, "BitsAllocated") != bits or _get(item, "BitsStored") != bits:
        problems.append(f"{_get(item, 'BitsAllocated')!r}/{_get(item, 'BitsStored')!r} bits")
    value = str(_get(item, "PhotometricInterpretation") or "")
    if value not in photometric:
        problems.append(f"Photometric Interpretation {value!r}")
    return problems
