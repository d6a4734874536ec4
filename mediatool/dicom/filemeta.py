"""Part 10 File Meta Information: read it raw, check it, write ours (PS3.10 §7.1, Table 7.1-1).

One checker (:func:`check`) serves both ``build`` (which then writes a corrected meta and reports
what it corrected) and ``validate`` (which reports the same facts as errors).

The raw parser is written by hand on purpose: pydicom parses the meta into a dataset and hides
where it ends, how it was encoded (explicit or implicit VR), its element order and whether
(0002,0000) is right, which are exactly the facts PS3.10 §7.1 asks us to check.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Final

from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID

from mediatool import __version__
from mediatool.dicom.elements import LONG_VRS, element, padded
from mediatool.dicom.uids import (
    IMPLEMENTATION_CLASS_UID,
    implementation_version_name,
)
from mediatool.dicom.values import UID_PATTERN
from mediatool.findings import Finding, finding

PREAMBLE_LEN: Final = 128
PREFIX: Final = b"DICM"
_VERSION_NAME_RE: Final = re.compile(r"^[A-Z0-9_]{1,16}$")
#: Executable signatures that must never sit in a preamble (PS3.10 §7.5; checklist E07).
_EXEC_MAGIC: Final = (b"MZ", b"\x7fELF", b"#!")
_TIFF_MAGIC: Final = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_TYPE1: Final = {
    0x00020002: "(0002,0002) Media Storage SOP Class UID",
    0x00020003: "(0002,0003) Media Storage SOP Instance UID",
    0x00020010: "(0002,0010) Transfer Syntax UID",
    0x00020012: "(0002,0012) Implementation Class UID",
}
_KNOWN: Final = frozenset(
    {
        0x00020000,
        0x00020001,
        0x00020013,
        0x00020016,
        0x00020017,
        0x00020018,
        0x00020026,
        0x00020027,
        0x00020028,
        0x00020100,
        0x00020102,
        *_TYPE1,
    }
)


@dataclass(frozen=True, slots=True)
class MetaElement:
    tag: int
    vr: str | None  # None when the meta was (wrongly) encoded implicit VR
    value: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class RawMeta:
    """The File Meta Information exactly as found in the file."""

    has_prefix: bool
    preamble: bytes
    elements: tuple[MetaElement, ...]
    end: int  # first byte of the data set
    explicit: bool
    truncated: bool

    def text(self, tag: int) -> str | None:
        for el in self.elements:
            if el.tag == tag:
                return el.value.decode("ascii", "replace").rstrip("\x00 ")
        return None

    def get(self, tag: int) -> MetaElement | None:
        return next((el for el in self.elements if el.tag == tag), None)


def parse(data: bytes) -> RawMeta:
    """Parse the preamble, prefix and group 0002 at the start of ``data``; never raises.

    ``data`` needs to hold only the start of the file (the meta is rarely over a few hundred
    bytes); if it ends inside the meta, ``truncated`` is set.
    """
    if len(data) < PREAMBLE_LEN + 4 or data[PREAMBLE_LEN : PREAMBLE_LEN + 4] != PREFIX:
        return RawMeta(False, b"", (), 0, True, False)
    pos = PREAMBLE_LEN + 4
    elements: list[MetaElement] = []
    explicit = True
    truncated = False
    while pos + 8 <= len(data):
        group, elem = struct.unpack_from("<HH", data, pos)
        if group != 0x0002:
            break
        vr_bytes = data[pos + 4 : pos + 6]
        if pos == PREAMBLE_LEN + 4 and not vr_bytes.isalpha():
            explicit = False
        if explicit:
            if vr_bytes in LONG_VRS:
                if pos + 12 > len(data):
                    truncated = True
                    break
                length = struct.unpack_from("<L", data, pos + 8)[0]
                start = pos + 12
            else:
                length = struct.unpack_from("<H", data, pos + 6)[0]
                start = pos + 8
            vr: str | None = vr_bytes.decode("ascii", "replace")
        else:
            length = struct.unpack_from("<L", data, pos + 4)[0]
            start = pos + 8
            vr = None
        if start + length > len(data):
            truncated = True
            break
        elements.append(MetaElement((group << 16) | elem, vr, data[start : start + length], pos))
        pos = start + length
    else:
        truncated = bool(elements) and pos < len(data) and pos + 8 > len(data)
    return RawMeta(True, data[:PREAMBLE_LEN], tuple(elements), pos, explicit, truncated)


def is_valid_uid(value: str) -> bool:
    """UID syntax of PS3.5 §9.1: 1-64 characters, digits and dots, no leading zeros."""
    return 0 < len(value) <= 64 and bool(UID_PATTERN.match(value))


def check(
    meta: RawMeta,
    *,
    sop_class_uid: str | None,
    sop_instance_uid: str | None,
    encoding_ts: str | None,
    where: str | None,
) -> list[Finding]:
    """Check a file's meta against PS3.10 §7.1 and against its own data set.

    ``encoding_ts`` is the Transfer Syntax the data set was actually found to be encoded in
    (``None`` if unknown). Returns findings; the caller decides what they mean (design rule 3).
    """
    if not meta.has_prefix:
        return [finding("meta.no-preamble", "no 128-byte preamble and 'DICM' prefix", where)]
    out = _check_encoding(meta, where)
    out += _check_preamble(meta.preamble, where)
    for tag, name in _TYPE1.items():
        value = meta.text(tag)
        if not value:
            out.append(finding("meta.missing-type1", f"{name} is missing or empty", where))
        elif not is_valid_uid(value):
            out.append(finding("meta.bad-uid", f"{name} {value!r} is not a valid UID", where))
    out += _check_version(meta, where)
    out += _check_consistency(meta, sop_class_uid, sop_instance_uid, encoding_ts, where)
    unknown = [el.tag for el in meta.elements if el.tag not in _KNOWN]
    if unknown:
        tags = ", ".join(f"({t >> 16:04X},{t & 0xFFFF:04X})" for t in unknown)
        out.append(finding("meta.unknown-element", f"unknown File Meta elements {tags}", where))
    return out


def _check_encoding(meta: RawMeta, where: str | None) -> list[Finding]:
    out: list[Finding] = []
    if meta.truncated:
        out.append(finding("meta.encoding", "the File Meta Information is truncated", where))
    if not meta.explicit:
        out.append(finding("meta.encoding", "File Meta Information is not Explicit VR", where))
    tags = [el.tag for el in meta.elements]
    if tags != sorted(tags) or len(set(tags)) != len(tags):
        out.append(finding("meta.encoding", "File Meta elements are not in ascending order", where))
    for el in meta.elements:
        if el.vr == "UN" or len(el.value) % 2:
            out.append(
                finding(
                    "meta.encoding",
                    f"({el.tag >> 16:04X},{el.tag & 0xFFFF:04X}) has VR UN or an odd length",
                    where,
                )
            )
    first = meta.get(0x00020000)
    if first is None or len(first.value) != 4:
        out.append(
            finding(
                "meta.group-length",
                "(0002,0000) File Meta Information Group Length is missing",
                where,
            )
        )
    else:
        declared = struct.unpack("<L", first.value)[0]
        actual = meta.end - (first.offset + 12)
        if declared != actual:
            out.append(
                finding(
                    "meta.group-length",
                    f"(0002,0000) File Meta Information Group "
                    f"Length is {declared}, the group holds {actual} bytes",
                    where,
                )
            )
    if meta.get(0x00020102) is not None and meta.get(0x00020100) is None:
        out.append(
            finding(
                "meta.encoding",
                "(0002,0102) Private Information present without "
                "(0002,0100) Private Information Creator UID",
                where,
            )
        )
    return out


def _check_preamble(preamble: bytes, where: str | None) -> list[Finding]:
    if not preamble.strip(b"\x00") or preamble.startswith(_TIFF_MAGIC):
        return []
    if preamble.startswith(_EXEC_MAGIC):
        return [
            finding(
                "meta.preamble-executable",
                "the preamble starts with an executable signature",
                where,
            )
        ]
    return [
        finding(
            "meta.preamble-not-zero", "the preamble is not all zero and is not a TIFF header", where
        )
    ]


def _check_version(meta: RawMeta, where: str | None) -> list[Finding]:
    out: list[Finding] = []
    version = meta.get(0x00020001)
    if version is None or version.value != b"\x00\x01":
        got = "missing" if version is None else repr(version.value)
        out.append(
            finding(
                "meta.version",
                f"(0002,0001) File Meta Information Version is {got}, not 00H 01H",
                where,
            )
        )
    name = meta.text(0x00020013)
    if name is not None and not _VERSION_NAME_RE.match(name):
        out.append(
            finding(
                "meta.version-name",
                f"(0002,0013) Implementation Version Name "
                f"{name!r} is not 1-16 characters of A-Z 0-9 _",
                where,
            )
        )
    return out


def _check_consistency(
    meta: RawMeta,
    sop_class_uid: str | None,
    sop_instance_uid: str | None,
    encoding_ts: str | None,
    where: str | None,
) -> list[Finding]:
    out: list[Finding] = []
    pairs = (
        (
            0x00020002,
            sop_class_uid,
            "meta.sop-class-mismatch",
            "(0002,0002) Media Storage SOP Class UID",
            "(0008,0016) SOP Class UID",
        ),
        (
            0x00020003,
            sop_instance_uid,
            "meta.sop-instance-mismatch",
            "(0002,0003) Media Storage SOP Instance UID",
            "(0008,0018) SOP Instance UID",
        ),
        (
            0x00020010,
            encoding_ts,
            "meta.transfer-syntax-mismatch",
            "(0002,0010) Transfer Syntax UID",
            "the encoding of the data set",
        ),
    )
    for tag, expected, code, name, other in pairs:
        value = meta.text(tag)
        if value and expected and value != expected:
            out.append(finding(code, f"{name} is {value!r} but {other} is {expected!r}", where))
    return out


_VERSION_NAME: Final = padded(implementation_version_name(__version__), b" ")
_TAIL: Final = element(0x00020012, b"UI", padded(IMPLEMENTATION_CLASS_UID, b"\x00")) + element(
    0x00020013, b"SH", _VERSION_NAME
)


_META_VERSION: Final = element(0x00020001, b"OB", b"\x00\x01")
_PREAMBLE: Final = b"\x00" * PREAMBLE_LEN + PREFIX


def encode(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str) -> bytes:
    """Preamble, prefix and our File Meta Information, ready to put before a data set.

    Preamble is 128 zero bytes (PS3.10 §7.5); (0002,0012)/(0002,0013) name mediatool.
    Encoded by hand (Explicit VR Little Endian, PS3.10 §7.1): building a pydicom
    ``FileMetaDataset`` for every file cost half a millisecond each, a third of a 10,000-file
    build. ``tests/test_filemeta.py`` checks the bytes against pydicom's encoder.
    """
    body = (
        _META_VERSION
        + element(0x00020002, b"UI", padded(sop_class_uid, b"\x00"))
        + element(0x00020003, b"UI", padded(sop_instance_uid, b"\x00"))
        + element(0x00020010, b"UI", padded(transfer_syntax, b"\x00"))
        + _TAIL
    )
    length = element(0x00020000, b"UL", struct.pack("<L", len(body)))
    return _PREAMBLE + length + body


def encode_with_pydicom(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str) -> bytes:
    """The same bytes through pydicom's encoder (the reference for :func:`encode`'s test)."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = implementation_version_name(__version__)
    fp = DicomBytesIO()
    fp.write(b"\x00" * PREAMBLE_LEN + PREFIX)
    write_file_meta_info(fp, meta, enforce_standard=True)
    return fp.getvalue()
