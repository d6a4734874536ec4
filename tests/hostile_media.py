"""Hostile media made by test code (issue 12): small, deterministic, from synthetic instances."""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
from pathlib import Path
from typing import IO

from factories import make_instance, study_folder, write_instance

from mediatool.dicom.dicomdir_read import parse

#: Directory Record (ISO 9660 §9.1): Location of Extent at byte 2, Data Length at byte 10, both
#: recorded twice (little-endian, then big-endian); File Identifier length at 32, the name at 33.
_EXTENT, _LENGTH, _NAME_AT = 2, 10, 32


def mediatool(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user does (a process: exit code, stdout, stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "mediatool", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def built_iso(tmp: Path, *, patients: int = 2) -> Path:
    """A mediatool-made ISO of ``patients`` patients, one series of two CT images each."""
    source = study_folder(tmp / "src", patients=patients, series=1, instances=2)
    iso = tmp / "disc.iso"
    done = mediatool("build", source, "--iso", iso, "--jobs", "1", "--no-web")
    assert done.returncode == 0, done.stderr
    return iso


def record_offset(image: bytes, identifier: bytes, nth: int = 0) -> int:
    """Byte offset of the ``nth`` directory record whose File Identifier is ``identifier``."""
    needle = bytes([len(identifier)]) + identifier
    at = -1
    for _ in range(nth + 1):
        at = image.index(needle, at + 1)
    return at - _NAME_AT


def both_endian(value: int) -> bytes:
    return struct.pack("<I", value) + struct.pack(">I", value)


def patch_record(
    iso: Path, identifier: bytes, *, length: int | None = None, extent: int | None = None
) -> tuple[int, int]:
    """Rewrite one file's Data Length and/or Location of Extent in place; returns the old
    (extent, length)."""
    image = bytearray(iso.read_bytes())
    at = record_offset(bytes(image), identifier)
    old = (
        struct.unpack_from("<I", image, at + _EXTENT)[0],
        struct.unpack_from("<I", image, at + _LENGTH)[0],
    )
    if length is not None:
        image[at + _LENGTH : at + _LENGTH + 8] = both_endian(length)
    if extent is not None:
        image[at + _EXTENT : at + _EXTENT + 8] = both_endian(extent)
    iso.write_bytes(bytes(image))
    return old


def built_folder(tmp: Path, *, patients: int = 2, instances: int = 2) -> Path:
    """A mediatool-made File-set folder (no web content), as :func:`built_iso`."""
    source = study_folder(tmp / "src", patients=patients, series=1, instances=instances)
    out = tmp / "disc"
    done = mediatool("build", source, "--out", out, "--jobs", "1", "--no-web")
    assert done.returncode == 0, done.stderr
    return out


def _file_id_element(data: bytes, nth: int) -> tuple[int, int]:
    records = [r for r in parse(data).records if 0x00041500 in r.elements]
    element = records[nth].elements[0x00041500]
    return element.value_pos, len(element.value)


def file_id(dicomdir: Path, nth: int) -> str:
    """The Referenced File ID (0004,1500) of the ``nth`` record that has one, as a path."""
    data = dicomdir.read_bytes()
    pos, length = _file_id_element(data, nth)
    return data[pos : pos + length].decode().strip(" \x00").replace("\\", "/")


def set_file_id(dicomdir: Path, nth: int, value: bytes) -> None:
    """Overwrite that File ID, space padded (no length changes)."""
    data = bytearray(dicomdir.read_bytes())
    pos, length = _file_id_element(bytes(data), nth)
    assert len(value) <= length
    data[pos : pos + length] = value.ljust(length, b" ")
    dicomdir.write_bytes(bytes(data))


#: a private OB element, after its creator (0011,0010): the huge element of issue 12
TAG = 0x00111010


def big_element_parts(tmp: Path) -> tuple[bytes, bytes]:
    """The Part 10 bytes before and after the value of one huge OB element (issue 12)."""
    ds = make_instance(1, 1, 1, 1)
    ds.private_block(0x0011, "MEDIATOOL TEST", create=True).add_new(0x10, "OB", b"\xab" * 16)
    data = write_instance(tmp / "small.dcm", ds).read_bytes()
    header = struct.pack("<HH", TAG >> 16, TAG & 0xFFFF) + b"OB\0\0"
    at = data.index(header + struct.pack("<I", 16))
    return data[: at + len(header)], data[at + len(header) + 4 + 16 :]


def write_big_element(out: IO[bytes], head: bytes, tail: bytes, size: int, *, sparse: bool) -> None:
    out.write(head + struct.pack("<I", size))
    if sparse:  # zeros that take no disk space
        out.seek(size, os.SEEK_CUR)
    else:  # compressible about 40:1, like the zip in the issue
        rng = random.Random(12)
        chunk = bytes(rng.getrandbits(8) if i % 48 == 0 else 0 for i in range(1 << 20))
        for start in range(0, size, len(chunk)):
            out.write(chunk[: min(len(chunk), size - start)])
    out.write(tail)
