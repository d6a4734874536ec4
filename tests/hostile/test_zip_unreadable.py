"""Issue 12: a zip member that cannot be read is an error in validate and in import, named as
unreadable (never "non-DICOM": bad CRC, lying compressed size, no space to spool it)."""

from __future__ import annotations

import json
import struct
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_instance, write_instance
from hostile_media import mediatool

from mediatool.media import ZipReader
from mediatool.validate import validate_media

VICTIM = "incoming/IM2.dcm"
_LOCAL_HEADER = 30


def _archive(tmp: Path) -> Path:
    """Three CT images in a zip without a DICOMDIR (each member is sniffed, then read)."""
    dest = tmp / "export.zip"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in (1, 2, 3):
            path = write_instance(tmp / f"IM{n}.dcm", make_instance(1, 1, 1, n))
            archive.write(path, f"incoming/IM{n}.dcm")
    return dest


def _member(dest: Path) -> zipfile.ZipInfo:
    with zipfile.ZipFile(dest) as archive:
        return archive.getinfo(VICTIM)


def _bad_crc(dest: Path) -> None:
    """The stored CRC-32 no longer matches (central directory and local header)."""
    info = _member(dest)
    data = bytearray(dest.read_bytes())
    wrong = struct.pack("<I", info.CRC ^ 0xFFFF)
    data[info.header_offset + 14 : info.header_offset + 18] = wrong
    at = _central_record(data, VICTIM)
    data[at + 16 : at + 20] = wrong
    dest.write_bytes(bytes(data))


def _lying_size(dest: Path) -> None:
    """The central directory says the member is compressed into 10 bytes fewer than it is."""
    info = _member(dest)
    data = bytearray(dest.read_bytes())
    at = _central_record(data, VICTIM)
    data[at + 20 : at + 24] = struct.pack("<I", info.compress_size - 10)
    dest.write_bytes(bytes(data))


def _garbled(dest: Path) -> None:
    """The deflated data is overwritten in the middle."""
    info = _member(dest)
    data = bytearray(dest.read_bytes())
    start = info.header_offset + _LOCAL_HEADER + len(VICTIM) + 40
    data[start : start + 40] = b"\xff" * 40
    dest.write_bytes(bytes(data))


def _central_record(data: bytearray, name: str) -> int:
    """Offset of the central directory record of ``name``."""
    at = -1
    while True:
        at = data.index(b"PK\x01\x02", at + 1)
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == name.encode():
            return at


@pytest.mark.parametrize("damage", [_bad_crc, _lying_size, _garbled])
def test_an_unreadable_member_is_an_error_in_validate_and_import(
    damage: object, tmp_path: Path
) -> None:
    dest = _archive(tmp_path)
    assert callable(damage)
    damage(dest)
    done = mediatool("validate", dest, "--json")
    assert done.returncode == 1, done.stdout
    report = json.loads(done.stdout)
    unreadable = [f for f in report["findings"] if f["code"] == "media.unreadable"]
    assert [f["where"] for f in unreadable] == [VICTIM]
    assert unreadable[0]["severity"] == "error"
    assert f"cannot read: zip member {VICTIM!r} is damaged: " in unreadable[0]["message"]
    assert report["inventory"]["counts"]["other_files"] == 0

    done = mediatool("import", dest, "--into", tmp_path / "archive", "--json", "--jobs", "1")
    assert done.returncode == 1
    (lost,) = [o for o in json.loads(done.stdout)["files"] if o["outcome"] != "imported"]
    assert lost["path"] == VICTIM and lost["outcome"] == "not-imported"
    assert lost["code"] == "import.unreadable"


@pytest.fixture
def tiny_tmp(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs as the temporary folder (tests run as root, as CI does)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    saved = tempfile.tempdir
    tempfile.tempdir = str(mount)
    try:
        yield mount
    finally:
        tempfile.tempdir = saved
        subprocess.run(["umount", str(mount)], check=True)


def test_no_space_to_spool_a_member_is_an_unreadable_error(tmp_path: Path, tiny_tmp: Path) -> None:
    ds = make_instance(1, 1, 1, 1)
    ds.PixelData = bytes(range(256)) * 8192  # 2 MiB, more than the temporary folder holds
    ds.Rows, ds.Columns = 1024, 1024
    path = write_instance(tmp_path / "big.dcm", ds)
    dest = tmp_path / "big.zip"
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "IM1")
    with ZipReader(dest, spool_limit=64 * 1024) as reader:
        report = validate_media(reader, jobs=1)
    unreadable = [f for f in report.findings if f.code == "media.unreadable"]
    assert [f.where for f in unreadable] == ["IM1"]
    assert "No space left on device" in unreadable[0].message
    assert str(tiny_tmp) in unreadable[0].message
    assert not list(tiny_tmp.iterdir())  # the spool file is gone
