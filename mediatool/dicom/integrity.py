"""The file's own integrity, read from the header scan (checklist E23): does the file hold every
byte its elements declare? Run by :func:`mediatool.scan.scan_stream` on every file it reads, so
``build`` refuses (or with ``--skip-invalid`` leaves out) an input that ``validate`` would reject
on the disc: one rule, one implementation. No pixel decoding: the file size against the declared
lengths is enough.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Final

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from mediatool.dicom.elements import LONG_VRS
from mediatool.dicom.uids import DEFLATED
from mediatool.dicom.values import tag_name
from mediatool.findings import Finding, finding
from mediatool.limits import ELEMENT_LENGTH_LIMIT

_PIXEL_TAGS: Final = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})


def check(ds: Dataset, fp: BinaryIO, size: int, where: str) -> list[Finding]:
    """Every integrity check on the data set just read (``fp`` where the header read stopped)."""
    return pixel_truncation(ds, fp, size, where) + header_truncation(ds, size, where)


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
    if length != 0xFFFFFFFF and pos + header + length > size:
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
    element: object = ds.get_item(tags[-1])
    if not isinstance(element, RawDataElement) or element.length == 0xFFFFFFFF:
        return []
    value = element.value
    short = len(value) < element.length if isinstance(value, bytes) else False
    if value is None and element.value_tell + element.length > size:
        short = True
    if not short:
        return []
    return [
        finding(
            "read.truncated",
            f"the file ends inside {tag_name(tags[-1])}, which declares {element.length} bytes",
            where,
        )
    ]


_UNDEFINED: Final = 0xFFFFFFFF


def element_lengths(ds: Dataset, where: str) -> list[Finding]:
    """``read.element-too-long`` for each top-level element beyond ELEMENT_LENGTH_LIMIT; its
    value is deferred by the read (defer_size) and is never loaded here."""
    out: list[Finding] = []
    for tag in ds.keys():  # noqa: SIM118 - iterating a Dataset converts (reads) each value
        if tag in _PIXEL_TAGS:
            continue
        element = ds.get_item(tag, keep_deferred=True)
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
