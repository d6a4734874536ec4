"""ECMA-167 3rd edition structures as OSTA UDF 1.50/2.50/2.60 profile them (2048-byte blocks).

Every function returns the bytes of one structure; :func:`tag` finishes a descriptor (CRC and
checksum, ECMA-167 3/7.2). References: "3/10.1" is ECMA-167 part 3 section 10.1, "UDF 2.2.6"
is the OSTA UDF 2.60 section (UDF 1.50 numbers the same structures alike).
"""

from __future__ import annotations

import binascii
import struct
from datetime import datetime, timedelta
from typing import Final

BLOCK: Final = 2048
#: 3/7.2.1 Tag Identifiers
PVD, AVDP, IUVD, PD, LVD, USD, TD, LVID = 1, 2, 4, 5, 6, 7, 8, 9
FSD, FID, FE, EFE = 256, 257, 261, 266
#: 4/14.6.6 File Type
DIRECTORY, FILE, METADATA, MIRROR = 4, 5, 250, 251
#: 4/14.6.8 ICB flags, bits 0-2: how the allocation descriptors are recorded
SHORT_AD, LONG_AD = 0, 1
#: 4/14.4.3 File Characteristics
IS_DIRECTORY, IS_PARENT = 0x02, 0x08
#: 1/7.2.1 CS0 as OSTA profiles it (UDF 2.1.2)
OSTA_CS0: Final = b"\x00" + b"OSTA Compressed Unicode".ljust(63, b"\x00")
DOMAIN: Final = "*OSTA UDF Compliant"
IMPLEMENTATION: Final = "*mediatool"
#: "not specified" for a Uid, Gid, or the Metadata Bitmap File Location (UDF 2.2.10)
UNSET: Final = 0xFFFFFFFF


def tag(ident: int, version: int, serial: int, location: int, body: bytes) -> bytes:
    """3/7.2: the 16-byte tag followed by ``body``; the CRC (CRC-ITU, ``crc_hqx`` from 0)
    covers the whole body, the checksum the tag's other 15 bytes."""
    crc = binascii.crc_hqx(body, 0)
    head = struct.pack("<HHBBHHHI", ident, version, 0, 0, serial, crc, len(body), location)
    checksum = (sum(head) - head[4]) & 0xFF
    return head[:4] + bytes([checksum]) + head[5:] + body


def tag_ok(data: bytes, location: int) -> str | None:
    """What is wrong with the descriptor tag at the start of ``data`` (None: checksum, CRC
    and Tag Location are right), ECMA-167 3/7.2."""
    if len(data) < 16:
        return "shorter than a tag"
    if not any(data[:16]):
        return "no descriptor (zeros)"
    if (sum(data[:16]) - data[4]) & 0xFF != data[4]:
        return "bad tag checksum"
    crc, length, where = struct.unpack_from("<HHI", data, 8)
    if 16 + length > len(data) or binascii.crc_hqx(data[16 : 16 + length], 0) != crc:
        return "bad descriptor CRC"
    if where != location:
        return f"Tag Location {where}, recorded at {location}"
    return None


def dstring(text: str, size: int) -> bytes:
    """1/7.2.12 d-string of ``size`` bytes: CS0 compression ID 8 (UDF 2.1.1), Latin-1 text, the
    recorded length in the last byte; an empty string is all zeros."""
    if not text:
        return bytes(size)
    data = b"\x08" + text.encode("latin-1")[: size - 2]
    return data.ljust(size - 1, b"\x00") + bytes([len(data)])


def identifier(text: str) -> bytes:
    """4/14.4.8 File Identifier: CS0 compression ID 8 then the characters (no length byte)."""
    return b"\x08" + text.encode("latin-1")


def timestamp(moment: datetime) -> bytes:
    """1/7.3 timestamp, type 1 (local time with its offset from UTC in minutes)."""
    offset = int((moment.utcoffset() or timedelta(0)) // timedelta(minutes=1))
    kind = (1 << 12) | (offset & 0x0FFF)
    return struct.pack(
        "<HH8B",
        kind,
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        0,
        0,
        0,
    )


def regid(ident: str, suffix: bytes, flags: int = 0) -> bytes:
    """1/7.4 Entity Identifier: flags, 23-byte identifier, 8-byte suffix (UDF 2.1.5)."""
    return bytes([flags]) + ident.encode("ascii").ljust(23, b"\x00") + suffix.ljust(8, b"\x00")


def domain_suffix(revision: int) -> bytes:
    """UDF 2.1.5.3 Domain Identifier Suffix: the UDF revision, no write protection."""
    return struct.pack("<HB", revision, 0)


def udf_suffix(revision: int) -> bytes:
    """UDF 2.1.5.3 UDF Identifier Suffix: revision, OS class 4 (UNIX), OS identifier 0."""
    return struct.pack("<HBB", revision, 4, 0)


def implementation() -> bytes:
    """UDF 2.1.5.3 Implementation Identifier: ``*mediatool``, OS class 4 (UNIX)."""
    return regid(IMPLEMENTATION, b"\x04\x00")


def extent_ad(length: int, location: int) -> bytes:
    """3/7.1 extent_ad: length in bytes, first sector."""
    return struct.pack("<II", length, location)


def short_ad(length: int, block: int) -> bytes:
    """4/14.14.1 short_ad: recorded and allocated (type 0), within the ICB's partition."""
    return struct.pack("<II", length, block)


def long_ad(length: int, block: int, partition: int, unique: int = 0) -> bytes:
    """4/14.14.2 long_ad; the Implementation Use holds the UDF Unique ID (UDF 2.3.10.1)."""
    return struct.pack("<IIHHI", length, block, partition, 0, unique & 0xFFFFFFFF)


def icb_tag(file_type: int, ad_type: int) -> bytes:
    """4/14.6 ICB tag: strategy 4, one entry, no parent ICB."""
    return struct.pack("<IHHHBB6sH", 0, 4, 0, 1, 0, file_type, bytes(6), ad_type)


def volume_structure(ident: bytes) -> bytes:
    """2/9.1 a Volume Structure Descriptor (BEA01, NSR02/NSR03, TEA01), one sector."""
    return (b"\x00" + ident + b"\x01").ljust(BLOCK, b"\x00")


def anchor(version: int, location: int, main: int, reserve: int, length: int) -> bytes:
    """3/10.2 Anchor Volume Descriptor Pointer."""
    body = extent_ad(length, main) + extent_ad(length, reserve)
    return tag(AVDP, version, 1, location, body.ljust(496, b"\x00"))


def terminating(version: int, location: int, ident: int = TD) -> bytes:
    """3/10.9 Terminating Descriptor (also ends the integrity sequence)."""
    return tag(ident, version, 1, location, bytes(496))
