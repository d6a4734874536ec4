"""Hostile DICOMDIRs made on the fly (issue 12 "bounded time and memory"): huge record counts,
random items, zeros. Written as the bytes a DICOMDIR writer would produce, streamed to disk, so
tests and benchmarks/bench_hostile.py make them in their temporary folder (nothing committed;
the zeros are a sparse file).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Iterator
from pathlib import Path

from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID

FILESET_UID = "1.2.826.0.1.3680043.10.1137.9.1"


def _meta() -> bytes:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID("1.2.840.10008.1.3.10")
    meta.MediaStorageSOPInstanceUID = UID(FILESET_UID)
    meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.1")
    meta.ImplementationClassUID = UID("1.2.826.0.1.3680043.10.1137")
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_file_meta_info(fp, meta)
    return b"\0" * 128 + b"DICM" + fp.getvalue()


def _el(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH", group, elem) + vr + struct.pack("<H", len(value)) + value


def _ul(group: int, elem: int, number: int) -> bytes:
    return _el(group, elem, b"UL", struct.pack("<L", number))


def _head(first: int, last: int) -> bytes:
    """Meta and the File-set elements before (0004,1220); offsets as given."""
    return (
        _meta()
        + _el(0x0004, 0x1130, b"CS", b"HOSTILE ")
        + _ul(0x0004, 0x1200, first)
        + _ul(0x0004, 0x1202, last)
        + _el(0x0004, 0x1212, b"US", b"\0\0")
        + struct.pack("<HH", 0x0004, 0x1220)
        + b"SQ\0\0"
        + struct.pack("<L", 0xFFFFFFFF)
    )


_SEQ_END = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)


def _record(next_offset: int, index: int) -> bytes:
    body = (
        _ul(0x0004, 0x1400, next_offset)
        + _el(0x0004, 0x1410, b"US", b"\xff\xff")
        + _ul(0x0004, 0x1420, 0)
        + _el(0x0004, 0x1430, b"CS", b"PATIENT ")
        + _el(0x0010, 0x0010, b"PN", b"Hostile^")
        + _el(0x0010, 0x0020, b"LO", f"{index:08d}".encode())
    )
    return struct.pack("<HHL", 0xFFFE, 0xE000, len(body)) + body


def chained(path: Path, records: int) -> Path:
    """``records`` PATIENT records chained at the root (about 90 bytes each)."""
    size = len(_record(0, 0))
    start = len(_head(0, 0))
    with path.open("wb") as fp:
        fp.write(_head(start, start + (records - 1) * size))
        for i in range(records):
            nxt = start + (i + 1) * size if i + 1 < records else 0
            fp.write(_record(nxt, i))
        fp.write(_SEQ_END)
    return path


def random_items(path: Path, items: int, seed: int = 12) -> Path:
    """``items`` items of 40 bytes each (Item tag, length 32, 32 random bytes)."""
    rng = random.Random(seed)
    start = len(_head(0, 0))

    def chunks() -> Iterator[bytes]:
        for _ in range(items):
            yield struct.pack("<HHL", 0xFFFE, 0xE000, 32) + rng.randbytes(32)

    with path.open("wb") as fp:
        fp.write(_head(start, start))
        for chunk in chunks():
            fp.write(chunk)
        fp.write(_SEQ_END)
    return path


def zeros(path: Path, size: int) -> Path:
    """``size`` zero bytes (a sparse file: nothing on disk)."""
    with path.open("wb") as fp:
        fp.truncate(size)
    return path
