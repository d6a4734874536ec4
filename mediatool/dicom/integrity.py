"""The file's own integrity, read from the header scan (checklist E23): does the file hold every
byte its elements declare? Run by :func:`mediatool.scan.scan_stream` on every file it reads, so
``build`` refuses (or with ``--skip-invalid`` leaves out) an input that ``validate`` would reject
on the disc: one rule, one implementation. No pixel decoding: the file size against the declared
lengths is enough.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Final, cast

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.valuerep import VR

from mediatool.dicom.elements import LONG_VRS
from mediatool.dicom.uids import DEFLATED
from mediatool.dicom.values import tag_name
from mediatool.findings import Finding, finding
from mediatool.limits import ELEMENT_LENGTH_LIMIT

_PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
#: bytes of the shortest data element header (tag, VR or length: PS3.5 7.1.2, 7.1.3)
_HEADER: Final = 8


def check(ds: Dataset, fp: BinaryIO, size: int, where: str) -> list[Finding]:
    """Every integrity check on the data set just read (``fp`` where the header read stopped)."""
    out = pixel_truncation(ds, fp, size, where) + header_truncation(ds, size, where)
    return out + value_representations(ds, where)


#: The VRs PS3.5 Table 6.2-1 defines (pydicom's own list).
_Pairs = list[tuple[int, object]]
_VRS: Final = frozenset(str(vr) for vr in VR)


def value_representations(ds: Dataset, where: str) -> list[Finding]:
    """PS3.5 6.2: in an Explicit VR data set each element's VR is one PS3.5 defines. pydicom
    reads an unknown VR without a word and guesses the length field: damaged bytes pass as
    values (found by benchmarks/bench_fuzz.py; DCMTK reports them). Top-level elements."""
    implicit, _ = ds.original_encoding
    if implicit is not False:
        return []
    # the elements as read (raw, deferred values not loaded): what get_item(keep_deferred=True)
    # returns for each tag, without a lookup per element (a fifth of this check's time)
    elements: _Pairs = list(cast("dict[int, object]", ds._dict).items())
    # typed str by pydicom, but None where it met no VR it knows
    vrs: list[str | None] = [e.VR if isinstance(e, RawDataElement) else "" for _, e in elements]
    # VR None throughout: pydicom found implicit VR and reads on as such (it warns, and that
    # warning is a finding of its own); None among explicit VRs is damage it passed over
    mixed = any(vrs)
    for (tag, _), vr in zip(elements, vrs, strict=True):
        if (vr is None and mixed) or (vr and vr not in _VRS):
            return [
                finding(
                    "read.invalid-vr",
                    f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) has "
                    f"{'no VR' if vr is None else f'the VR {vr!r}'}, which PS3.5 does not "
                    "define: the bytes from there on cannot be trusted",
                    where,
                )
            ]
    return []


def pixel_truncation(ds: Dataset, fp: BinaryIO, size: int, where: str) -> list[Finding]:
    """E23: the header read stopped at Pixel Data; does the file hold all of its value?"""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and str(meta.get("TransferSyntaxUID", "")) == DEFLATED:
        return []
    implicit, little = ds.original_encoding
    pos = fp.tell()
    head = fp.read(12)
    if len(head) < 8:
        return []
    endian = "<" if little is not False else ">"
    group, elem = struct.unpack(endian + "HH", head[:4])
    if (group << 16 | elem) not in _PIXEL_TAGS:
        return []
    if implicit or head[4:6] not in LONG_VRS:
        length, header = struct.unpack(endian + "L", head[4:8])[0], 8
    elif len(head) == 12:
        length, header = struct.unpack(endian + "L", head[8:12])[0], 12
    else:
        return [
            finding(
                "file.pixel-data-truncated", "the file ends inside the Pixel Data header", where
            )
        ]
    rest = size - (pos + header + length)
    if length != 0xFFFFFFFF and 0 < rest < _HEADER:
        return [
            finding(
                "read.truncated",
                f"{rest} stray byte(s) after the Pixel Data, fewer than an element header: "
                "the file was cut inside the next element (or damaged)",
                where,
            )
        ]
    if length != 0xFFFFFFFF and rest < 0:
        return [
            finding(
                "file.pixel-data-truncated",
                f"Pixel Data declares {length} bytes but the file ends after "
                f"{max(size - pos - header, 0)}",
                where,
            )
        ]
    return []


def header_truncation(ds: Dataset, size: int, where: str) -> list[Finding]:
    """E23: pydicom keeps a last element cut short by the end of the file without a word."""
    tags = list(ds.keys())
    if not tags:
        return []
    element: object = ds.get_item(tags[-1], keep_deferred=True)  # never read a lying length
    if not isinstance(element, RawDataElement) or element.length == 0xFFFFFFFF:
        return []
    value = element.value
    short = len(value) < element.length if isinstance(value, bytes) else False
    end = element.value_tell + element.length
    if value is None and end > size:
        short = True
    if short:
        declared = element.length
        message = f"the file ends inside {tag_name(tags[-1])}, which declares {declared} bytes"
    elif 0 < size - end < _HEADER:
        # pydicom stops without a word when fewer bytes than an element header remain: the
        # file was cut inside the next element's header (found by benchmarks/bench_fuzz.py)
        message = (
            f"the file ends {size - end} byte(s) into the header of the element after "
            f"{tag_name(tags[-1])}: the rest of the data set is missing"
        )
    else:
        return []
    return [finding("read.truncated", message, where)]


_UNDEFINED: Final = 0xFFFFFFFF


def element_lengths(ds: Dataset, where: str) -> list[Finding]:
    """``read.element-too-long`` for each top-level element beyond ELEMENT_LENGTH_LIMIT; its
    value is deferred by the read (defer_size) and is never loaded here."""
    out: list[Finding] = []
    # the elements as read, values not loaded (iterating a Dataset would convert each one)
    for tag, element in cast("dict[int, object]", ds._dict).items():
        if tag in _PIXEL_TAGS:
            continue
        length = element.length if isinstance(element, RawDataElement) else 0
        if ELEMENT_LENGTH_LIMIT < length != _UNDEFINED:
            out.append(
                finding(
                    "read.element-too-long",
                    f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) is {length} bytes long, more "
                    f"than the limit of {ELEMENT_LENGTH_LIMIT} bytes (128 MiB) for an element "
                    "other than Pixel Data; the instance is not read",
                    where,
                )
            )
    return out
