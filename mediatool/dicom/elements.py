"""THE Little Endian encoder: Explicit VR elements, items, sequences (PS3.5 §7.1.2, §7.5), and
the Implicit VR element of DIMSE command sets (PS3.5 §7.1.3).

Every byte mediatool writes by hand goes through here: the File Meta Information
(:mod:`.filemeta`), the DICOMDIR (:mod:`.dicomdir_write`), the record keys (:mod:`.recordkeys`),
the icons, and the C-STORE request's command set (:func:`implicit`, :mod:`mediatool.net.dimse`).
Written by hand rather than through pydicom's writer because these are hot paths
(a pydicom ``Dataset`` per file cost a third of a 10,000-file build); ``tests/dicom`` checks the
bytes against pydicom's reading of them.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Final

#: VRs with a reserved 2 bytes and a 32-bit length in Explicit VR (PS3.5 §7.1.2, Table 7.1-1).
LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
ITEM: Final = 0xFFFEE000
ITEM_END: Final = 0xFFFEE00D
SEQUENCE_END: Final = 0xFFFEE0DD
UNDEFINED_LENGTH: Final = 0xFFFFFFFF
#: (0088,0200) Icon Image Sequence (PS3.3 F.7): the one sequence put into record keys by hand.
ICON_IMAGE_SEQUENCE: Final = 0x00880200

_SHORT: Final = struct.Struct("<HH2sH")
_LONG: Final = struct.Struct("<HH2sHL")
_ITEM: Final = struct.Struct("<HHL")


def header(tag: int, vr: bytes, length: int) -> bytes:
    """An element header: 8 bytes, or 12 for the VRs of :data:`LONG_VRS`."""
    if vr in LONG_VRS:
        return _LONG.pack(tag >> 16, tag & 0xFFFF, vr, 0, length)
    return _SHORT.pack(tag >> 16, tag & 0xFFFF, vr, length)


def element(tag: int, vr: bytes, value: bytes) -> bytes:
    """One element of explicit length (``value`` already of even length)."""
    if vr in LONG_VRS:  # header() written out: this runs for every element of every file
        return _LONG.pack(tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
    return _SHORT.pack(tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def implicit(tag: int, value: bytes) -> bytes:
    """One element in Implicit VR Little Endian (PS3.5 §7.1.3): tag and 32-bit length, no VR.
    The encoding of every DIMSE command set (PS3.7 §6.3.1), see :mod:`mediatool.net.dimse`."""
    return _ITEM.pack(tag >> 16, tag & 0xFFFF, len(value)) + value


def item(body: bytes) -> bytes:
    """One sequence item of explicit length."""
    return _ITEM.pack(0xFFFE, 0xE000, len(body)) + body


def sequence(tag: int, items: Iterable[bytes]) -> bytes:
    """A sequence (SQ) of explicit length holding the given item bodies."""
    return element(tag, b"SQ", b"".join(item(body) for body in items))


def padded(text: str, pad: bytes = b" ") -> bytes:
    """ASCII text padded to even length (PS3.5 §6.2: space, or NUL for UI)."""
    raw = text.encode("ascii")
    return raw + pad if len(raw) % 2 else raw


def uid(value: str) -> bytes:
    """A UI value: NUL padded (PS3.5 §6.2, §9.1)."""
    return padded(value, b"\x00")


def ul(value: int) -> bytes:
    return struct.pack("<L", value)


def us(value: int) -> bytes:
    return struct.pack("<H", value)


def _tag_length(blob: bytes, pos: int) -> tuple[int, int]:
    group, elem, length = _ITEM.unpack_from(blob, pos)
    return group << 16 | elem, length


def _skip_sequence(blob: bytes, pos: int) -> int:
    """Past the items of an undefined-length value and its (FFFE,E0DD)."""
    while pos + 8 <= len(blob):
        tag, length = _tag_length(blob, pos)
        if tag == SEQUENCE_END:
            return pos + 8
        if tag != ITEM:
            break
        pos = _skip_item(blob, pos + 8) if length == UNDEFINED_LENGTH else pos + 8 + length
    return len(blob)


def _skip_item(blob: bytes, pos: int) -> int:
    """Past the elements of an undefined-length item and its (FFFE,E00D)."""
    while pos + 8 <= len(blob):
        tag, _ = _tag_length(blob, pos)
        if tag == ITEM_END:
            return pos + 8
        pos = skip_element(blob, pos)
    return len(blob)


def skip_element(blob: bytes, pos: int) -> int:
    """The position after the Explicit VR LE element at ``pos`` (undefined lengths followed)."""
    if blob[pos + 4 : pos + 6] in LONG_VRS:
        long_length: int = struct.unpack_from("<L", blob, pos + 8)[0]
        pos += 12
        return _skip_sequence(blob, pos) if long_length == UNDEFINED_LENGTH else pos + long_length
    length: int = struct.unpack_from("<H", blob, pos + 6)[0]
    return pos + 8 + length


def insert_element(blob: bytes, encoded: bytes, tag: int) -> bytes:
    """Put an encoded element into encoded elements (Explicit VR LE) in ascending tag order."""
    pos = 0
    while pos + 8 <= len(blob):
        found, _ = _tag_length(blob, pos)
        if found > tag:
            break
        pos = skip_element(blob, pos)
    return blob[:pos] + encoded + blob[pos:]
