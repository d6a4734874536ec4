"""The volume and file descriptors of a UDF image (ECMA-167 parts 3 and 4, OSTA UDF 2.60 §2).

Each function returns one tagged descriptor (:func:`~mediatool.udf.ecma167.tag`); ``Volume``
carries what several of them repeat (revision, identifiers, the build's date).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from mediatool.udf import ecma167 as e

#: ECMA-167 4/14.9.5 Permissions: read for everyone, write/delete/attributes for the owner
#: (644), and execute (search) for everyone on directories (755); UDF 3.3.3.3.
FILE_PERMISSIONS: Final = 0b11110_00100_00100
DIR_PERMISSIONS: Final = 0b11111_00101_00101
#: UDF 2.2.10: Allocation and Alignment Unit Size of the metadata partition, in blocks (BD's
#: 64 KiB ECC block).
UNIT: Final = 32


@dataclass(frozen=True, slots=True)
class Revision:
    """What a UDF revision records (UDF 2.60 §2.2.6.4, 2.1.5.3; UDF 1.50 §2.2.6.4)."""

    number: int  # Domain Identifier suffix (UDF 2.1.5.3)
    min_read: int
    min_write: int
    max_write: int
    nsr: bytes  # ECMA-167 3/9.1 (NSR02: ECMA-167 2nd edition as UDF 1.50 uses)
    tag_version: int  # ECMA-167 3/7.2.2: 2 with NSR02, 3 with NSR03
    metadata: bool  # a Metadata Partition (UDF 2.50 and later, 2.2.10)


REVISIONS: Final = {
    "1.50": Revision(0x0150, 0x0150, 0x0150, 0x0150, b"NSR02", 2, False),
    "2.50": Revision(0x0250, 0x0250, 0x0250, 0x0250, b"NSR03", 3, True),
    "2.60": Revision(0x0260, 0x0250, 0x0260, 0x0260, b"NSR03", 3, True),
}


@dataclass(frozen=True, slots=True)
class Volume:
    revision: Revision
    volume_id: str
    set_id: str  # Volume Set Identifier (UDF 2.2.2.5: 16 hex characters first)
    date: datetime

    def tag(self, ident: int, location: int, body: bytes, serial: int = 1) -> bytes:
        return e.tag(ident, self.revision.tag_version, serial, location, body)

    @property
    def domain(self) -> bytes:
        return e.regid(e.DOMAIN, e.domain_suffix(self.revision.number))

    def udf_regid(self, ident: str) -> bytes:
        return e.regid(ident, e.udf_suffix(self.revision.number))


def primary(v: Volume, location: int, number: int) -> bytes:
    """3/10.1 Primary Volume Descriptor; Interchange Level 2 of 2 (PS3.12 P.2), CS0 only."""
    body = struct.pack("<II", number, 0) + e.dstring(v.volume_id, 32)
    body += struct.pack("<HHHHII", 1, 1, 2, 2, 1, 1) + e.dstring(v.set_id, 128)
    body += e.OSTA_CS0 + e.OSTA_CS0 + bytes(16) + e.regid("", b"")
    body += e.timestamp(v.date) + e.implementation() + bytes(64) + struct.pack("<IH", 0, 1)
    return v.tag(e.PVD, location, body.ljust(496, b"\x00"))


def implementation_use(v: Volume, location: int, number: int) -> bytes:
    """3/10.4 Implementation Use Volume Descriptor with the UDF LV Info (UDF 2.2.7)."""
    info = e.OSTA_CS0 + e.dstring(v.volume_id, 128) + bytes(108) + e.implementation()
    body = struct.pack("<I", number) + v.udf_regid("*UDF LV Info") + info.ljust(460, b"\x00")
    return v.tag(e.IUVD, location, body)


def partition(v: Volume, location: int, number: int, start: int, length: int) -> bytes:
    """3/10.5 Partition Descriptor: partition 0, allocated, read-only (access type 1: a
    finalised disc, so no space bitmap is needed, UDF 2.3.3)."""
    contents = e.regid("+" + v.revision.nsr.decode(), b"")
    body = struct.pack("<IHH", number, 1, 0) + contents + bytes(128)
    body += struct.pack("<III", 1, start, length) + e.implementation()
    return v.tag(e.PD, location, body.ljust(496, b"\x00"))


def _metadata_map(v: Volume) -> bytes:
    """UDF 2.2.10 Type 2 Metadata Partition Map: the Metadata File at block 0 of partition 0,
    its Mirror at block 1, no Metadata Bitmap (read-only), duplicated (flag bit 0)."""
    ident = v.udf_regid("*UDF Metadata Partition")
    body = struct.pack("<BBH", 2, 64, 0) + ident
    body += struct.pack("<HHIIIIHB5x", 1, 0, 0, 1, e.UNSET, UNIT, UNIT, 1)
    return body


def logical(v: Volume, location: int, number: int, integrity: int) -> bytes:
    """3/10.6 Logical Volume Descriptor: a Type 1 map of partition 0 (10.7.2) and, from UDF
    2.50, the Metadata Partition map; the File Set Descriptor is block 0 of the last map."""
    maps = struct.pack("<BBHH", 1, 6, 1, 0)
    if v.revision.metadata:
        maps += _metadata_map(v)
    count = 2 if v.revision.metadata else 1
    body = struct.pack("<I", number) + e.OSTA_CS0 + e.dstring(v.volume_id, 128)
    body += struct.pack("<I", e.BLOCK) + v.domain + e.long_ad(e.BLOCK, 0, count - 1)
    body += struct.pack("<II", len(maps), count) + e.implementation() + bytes(128)
    body += e.extent_ad(2 * e.BLOCK, integrity) + maps
    return v.tag(e.LVD, location, body)


def unallocated(v: Volume, location: int, number: int) -> bytes:
    """3/10.8 Unallocated Space Descriptor: none (everything is allocated)."""
    return v.tag(e.USD, location, struct.pack("<II", number, 0))


@dataclass(frozen=True, slots=True)
class Counts:
    files: int
    directories: int
    next_unique: int
    sizes: tuple[int, ...]  # blocks of each partition map


def integrity(v: Volume, location: int, counts: Counts) -> bytes:
    """3/10.10 Logical Volume Integrity Descriptor, closed, with the UDF 2.2.6.4 Implementation
    Use (numbers of files and directories, Minimum Read, Minimum and Maximum Write revisions)."""
    r = v.revision
    n = len(counts.sizes)
    use = e.implementation() + struct.pack("<IIHHH", counts.files, counts.directories,
                                           r.min_read, r.min_write, r.max_write)  # fmt: skip
    body = e.timestamp(v.date) + struct.pack("<I", 1) + bytes(8)
    body += struct.pack("<Q", counts.next_unique) + bytes(24) + struct.pack("<II", n, len(use))
    body += struct.pack(f"<{n}I", *([0] * n)) + struct.pack(f"<{n}I", *counts.sizes) + use
    return v.tag(e.LVID, location, body)


def file_set(v: Volume, root: bytes) -> bytes:
    """4/14.1 File Set Descriptor at block 0; ``root`` is the root directory's long_ad."""
    body = e.timestamp(v.date) + struct.pack("<HHIIII", 3, 3, 1, 1, 0, 0)
    body += e.OSTA_CS0 + e.dstring(v.volume_id, 128) + e.OSTA_CS0 + e.dstring(v.volume_id, 32)
    body += bytes(64) + root + v.domain + bytes(16 + 16 + 32)
    return v.tag(e.FSD, 0, body)


@dataclass(frozen=True, slots=True)
class Icb:
    """What a File Entry records about one file or directory."""

    file_type: int
    length: int  # Information Length in bytes
    blocks: int  # Logical Blocks Recorded
    links: int
    unique: int
    ad_type: int
    ads: bytes


def file_entry(v: Volume, location: int, icb: Icb) -> bytes:
    """4/14.9 File Entry (UDF 2.3.6): no extended attributes, strategy 4."""
    mode = DIR_PERMISSIONS if icb.file_type == e.DIRECTORY else FILE_PERMISSIONS
    stamp = e.timestamp(v.date)
    body = e.icb_tag(icb.file_type, icb.ad_type)
    body += struct.pack("<IIIHBBIQQ", e.UNSET, e.UNSET, mode, icb.links, 0, 0, 0, icb.length,
                        icb.blocks) + stamp * 3  # fmt: skip
    body += struct.pack("<I", 1) + bytes(16) + e.implementation()
    body += struct.pack("<QII", icb.unique, 0, len(icb.ads)) + icb.ads
    return v.tag(e.FE, location, body)


def extended_file_entry(v: Volume, location: int, icb: Icb) -> bytes:
    """4/14.17 Extended File Entry, for the Metadata File and its Mirror (UDF 2.2.13)."""
    stamp = e.timestamp(v.date)
    body = e.icb_tag(icb.file_type, icb.ad_type)
    body += struct.pack("<IIIHBBIQQQ", e.UNSET, e.UNSET, FILE_PERMISSIONS, icb.links, 0, 0, 0,
                        icb.length, icb.length, icb.blocks) + stamp * 4  # fmt: skip
    body += struct.pack("<II", 1, 0) + bytes(32) + e.implementation()
    body += struct.pack("<QII", icb.unique, 0, len(icb.ads)) + icb.ads
    return v.tag(e.EFE, location, body)


def identifier(name: str, characteristics: int, icb: bytes) -> bytes:
    """4/14.4 File Identifier Descriptor body (the tag is added by :func:`fid`)."""
    ident = e.identifier(name) if name else b""
    body = struct.pack("<HBB", 1, characteristics, len(ident)) + icb + b"\x00\x00" + ident
    return body + bytes(-(16 + len(body)) % 4)


def fid(v: Volume, location: int, body: bytes) -> bytes:
    return v.tag(e.FID, location, body)
