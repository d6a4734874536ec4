"""Read the volume structures of a UDF image, any revision: what a reader needs to find the
File Set and what PS3.12 rules on (ECMA-167 3/8-3/10; OSTA UDF 2.60 §2.2).

Foreign media are hostile: every read is bounds-checked against the image, every descriptor's
tag (checksum, CRC, location) is checked, and counts are capped; anything wrong raises
:class:`Damaged` with what and where, which the caller turns into a finding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO, Final

from mediatool.udf import ecma167 as e

_MAX_VDS: Final = 64  # descriptors read from one Volume Descriptor Sequence
_MAX_MAPS: Final = 8


class Damaged(Exception):
    """A structure cannot be read; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Map:
    """3/10.7 a partition map: ``kind`` physical, metadata, virtual (VAT), sparable, other."""

    kind: str
    partition: int  # the Partition Number it maps
    metadata_file: int = 0  # UDF 2.2.10: blocks in the physical partition
    mirror_file: int = 0


@dataclass(slots=True)
class VolumeInfo:
    block: int = e.BLOCK
    revision: int = 0  # the LVD's Domain Identifier suffix (UDF 2.1.5.3)
    min_read: int = 0  # LVID Implementation Use (UDF 2.2.6.4)
    max_write: int = 0
    interchange: tuple[int, int] = (0, 0)  # PVD (3/10.1.4-5)
    volume_id: str = ""  # the Logical Volume Identifier
    partitions: dict[int, tuple[int, int]] = field(default_factory=dict)  # number: start, len
    maps: list[Map] = field(default_factory=list)
    file_set: tuple[int, int, int] = (0, 0, 0)  # long_ad: length, block, partition reference
    integrity: str = "missing"  # closed, open, missing

    @property
    def metadata(self) -> bool:
        return any(m.kind == "metadata" for m in self.maps)


def sector(fp: BinaryIO, size: int, number: int, count: int = 1) -> bytes:
    """``count`` sectors from ``number``; :class:`Damaged` past the end of the image."""
    if number < 0 or (number + count) * e.BLOCK > size:
        raise Damaged(f"sector {number} lies beyond the end of the image (truncated?)")
    fp.seek(number * e.BLOCK)
    return fp.read(count * e.BLOCK)


def tagged(fp: BinaryIO, size: int, number: int, *idents: int) -> bytes:
    """The descriptor at sector ``number``, its tag checked, of one of ``idents``."""
    data = sector(fp, size, number)
    problem = e.tag_ok(data, number)
    if problem is None and idents and struct.unpack_from("<H", data)[0] not in idents:
        problem = f"tag identifier {struct.unpack_from('<H', data)[0]}, expected {idents}"
    if problem is not None:
        raise Damaged(f"descriptor at sector {number}: {problem}")
    return data


def dstring(data: bytes) -> str:
    """1/7.2.12 d-string (the length in the last byte), CS0 8-bit or 16-bit (UDF 2.1.1)."""
    length = min(data[-1], len(data) - 1) if data else 0
    return characters(data[:length])


def characters(data: bytes) -> str:
    """OSTA CS0 characters: compression ID 8 (one byte each) or 16 (UTF-16BE)."""
    if not data:
        return ""
    if data[0] == 16:
        return data[1:].decode("utf-16-be", "replace")
    return data[1:].decode("latin-1")


def _anchor(fp: BinaryIO, size: int) -> list[tuple[int, int]]:
    """3/10.2 / UDF 2.2.3: the Anchor at 256, else in the last sector: the Main and Reserve
    sequences as (first sector, sectors)."""
    problems = []
    for where in (256, size // e.BLOCK - 1):
        try:
            data = tagged(fp, size, where, e.AVDP)
        except Damaged as exc:
            problems.append(str(exc))
            continue
        main_len, main, res_len, res = struct.unpack_from("<IIII", data, 16)
        return [(main, main_len // e.BLOCK), (res, res_len // e.BLOCK)]
    raise Damaged("no Anchor Volume Descriptor Pointer: " + "; ".join(problems))


def _sequence(fp: BinaryIO, size: int, start: int, count: int) -> dict[int, list[bytes]]:
    found: dict[int, list[bytes]] = {}
    for number in range(start, start + min(max(count, 1), _MAX_VDS)):
        data = tagged(fp, size, number)
        ident = struct.unpack_from("<H", data)[0]
        if ident == e.TD:
            break
        found.setdefault(ident, []).append(data)
    if e.LVD not in found or e.PD not in found or e.PVD not in found:
        raise Damaged(f"the Volume Descriptor Sequence at sector {start} lacks a PVD, PD or LVD")
    return found


def _maps(data: bytes, count: int, table: int) -> list[Map]:
    """3/10.7 partition maps of the LVD (from byte 440); UDF 2.2.8-2.2.10 name the Type 2 ones."""
    out, pos, end = [], 440, min(440 + table, len(data))
    for _ in range(min(count, _MAX_MAPS)):
        if pos + 2 > end or data[pos + 1] < 6 or pos + data[pos + 1] > end:
            raise Damaged("a partition map of the Logical Volume Descriptor is cut short")
        kind, length = data[pos], data[pos + 1]
        if kind == 1:
            out.append(Map("physical", struct.unpack_from("<H", data, pos + 4)[0]))
        elif length >= 64:
            ident = data[pos + 5 : pos + 28].rstrip(b"\0")
            number = struct.unpack_from("<H", data, pos + 38)[0]
            names = {b"*UDF Metadata Partition": "metadata", b"*UDF Virtual Partition": "virtual",
                     b"*UDF Sparable Partition": "sparable"}  # fmt: skip
            meta, mirror = struct.unpack_from("<II", data, pos + 40)
            out.append(Map(names.get(ident, "other"), number, meta, mirror))
        else:
            out.append(Map("other", 0))
        pos += length
    return out


def _logical(info: VolumeInfo, data: bytes) -> None:
    """3/10.6 Logical Volume Descriptor."""
    info.volume_id = dstring(data[84:212])
    info.block = struct.unpack_from("<I", data, 212)[0]
    info.revision = struct.unpack_from("<H", data, 216 + 24)[0]
    length, block, ref = struct.unpack_from("<IIH", data, 248)
    info.file_set = (length & 0x3FFFFFFF, block, ref)
    table, count = struct.unpack_from("<II", data, 264)
    info.maps = _maps(data, count, table)
    if info.block != e.BLOCK:
        raise Damaged(f"logical block size {info.block}; only 2048 is read")


def _integrity(fp: BinaryIO, size: int, info: VolumeInfo, data: bytes) -> None:
    """3/10.10 the first Logical Volume Integrity Descriptor: closed or open, and the UDF
    revisions of its Implementation Use (UDF 2.2.6.4)."""
    length, where = struct.unpack_from("<II", data, 432)
    if not length:
        return
    lvid = tagged(fp, size, where, e.LVID)
    kind, count, use = struct.unpack_from("<I", lvid, 28)[0], *struct.unpack_from("<II", lvid, 72)
    info.integrity = "closed" if kind == 1 else "open"
    base = 80 + 8 * min(count, 64)
    if use >= 46 and base + 46 <= len(lvid):
        info.min_read, info.max_write = struct.unpack_from("<H2xH", lvid, base + 40)


def read_volume(fp: BinaryIO, size: int) -> VolumeInfo:
    """The volume's facts and where its File Set is (the Main sequence, else the Reserve)."""
    problems = []
    for start, count in _anchor(fp, size):
        try:
            found = _sequence(fp, size, start, count)
        except Damaged as exc:
            problems.append(str(exc))
            continue
        info = VolumeInfo()
        pvd = found[e.PVD][0]
        info.interchange = struct.unpack_from("<HH", pvd, 60)
        for pd in found[e.PD]:
            number, start_at, length = (
                struct.unpack_from("<H", pd, 22)[0],
                *struct.unpack_from("<II", pd, 188),
            )
            info.partitions[number] = (start_at, length)
        _logical(info, found[e.LVD][0])
        _integrity(fp, size, info, found[e.LVD][0])
        return info
    raise Damaged("; ".join(problems))
