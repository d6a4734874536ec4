"""The record's references (0004,1510-1512) against a file's File Meta Information (E18-E20).

validate reads a plain header (Explicit VR Little Endian) without pydicom's second parse of
the File Meta (issue 17): the references are compared with mediatool's raw parse of it. These
files have a File Meta that differs from the data set, holds an element twice, or has an
invalid Transfer Syntax UID, and must be reported as when pydicom read the File Meta itself.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from validate_helpers import codes, small_fileset, validate

from mediatool.validate import Report

IMAGE1 = "DICOM/PT000001/ST000001/SE000001/IM000001"
INSTANCE, TRANSFER_SYNTAX = 0x00020003, 0x00020010
MetaElements = list[tuple[int, bytes, bytes]]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_fileset(tmp_path_factory.mktemp("base"))


def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    if vr in (b"OB", b"UN"):  # long header (PS3.5 7.1.2)
        return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def _meta(data: bytes) -> tuple[MetaElements, int]:
    """The File Meta elements as (tag, VR, value), and where the data set starts."""
    pos, out = 132, []
    while struct.unpack_from("<H", data, pos)[0] == 0x0002:
        group, number, vr = struct.unpack_from("<HH2s", data, pos)
        if vr in (b"OB", b"UN"):
            length, start = struct.unpack_from("<L", data, pos + 8)[0], pos + 12
        else:
            length, start = struct.unpack_from("<H", data, pos + 6)[0], pos + 8
        out.append(((group << 16) | number, vr, data[start : start + length]))
        pos = start + length
    return out, pos


def _rewrite(root: Path, change: Callable[[MetaElements], MetaElements]) -> Report:
    """Write IMAGE1 with the File Meta ``change`` makes (its group length recomputed)."""
    path = root / IMAGE1
    data = path.read_bytes()
    elements, end = _meta(data)
    kept = [e for e in elements if e[0] != 0x00020000]
    body = b"".join(_element(*e) for e in change(kept))
    length = _element(0x00020000, b"UL", struct.pack("<L", len(body)))
    path.write_bytes(data[:132] + length + body + data[end:])
    return validate(root)


def _set(tag: int, value: bytes) -> Callable[[MetaElements], MetaElements]:
    return lambda elements: [(t, vr, value if t == tag else v) for t, vr, v in elements]


@pytest.fixture
def fileset(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "media"))


def test_unchanged_meta_is_clean(fileset: Path) -> None:
    assert _rewrite(fileset, lambda elements: elements).findings == ()


def test_meta_instance_differs(fileset: Path) -> None:
    report = _rewrite(fileset, _set(INSTANCE, b"1.2.3.4\0"))
    assert {"file.sop-instance-mismatch", "meta.sop-instance-mismatch"} <= codes(report)
    mismatch = [f for f in report.findings if f.code == "file.sop-instance-mismatch"]
    assert "'1.2.3.4'" in mismatch[0].message


def test_meta_instance_twice_the_last_counts(fileset: Path) -> None:
    """pydicom keeps the last of two elements with one tag; the raw parse is read the same way."""

    def twice(elements: MetaElements) -> MetaElements:
        at = next(i for i, e in enumerate(elements) if e[0] == INSTANCE)
        return [*elements[: at + 1], (INSTANCE, b"UI", b"1.2.3.4\0"), *elements[at + 1 :]]

    report = _rewrite(fileset, twice)
    assert {"file.sop-instance-mismatch", "meta.encoding"} <= codes(report)


def test_meta_transfer_syntax_invalid(fileset: Path) -> None:
    """An invalid Transfer Syntax UID: E20, meta.bad-uid, and pydicom's warning on the value."""
    report = _rewrite(fileset, _set(TRANSFER_SYNTAX, b"1.2.840.10008.1.2.x"))
    expected = {"file.transfer-syntax-mismatch", "meta.bad-uid", "read.pydicom-warning"}
    assert expected <= codes(report)


def test_meta_transfer_syntax_too_long(fileset: Path) -> None:
    report = _rewrite(fileset, _set(TRANSFER_SYNTAX, b"1." + b"1" * 70))
    warnings = [f.message for f in report.findings if f.code == "read.pydicom-warning"]
    assert any("exceeds the maximum length of 64" in m for m in warnings)
