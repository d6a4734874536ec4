"""Pack a File-set folder into the UDF image of a DVD, DVD-RAM or BD (PS3.12 Annex P, J, X).

**Which UDF, and why** (profiles.md §5.2-5.4):

- DVD, Annex P: a creator writes any one of UDF 1.02, 1.5, 2.0, 2.01 (or ISO 9660), one volume,
  one partition, UDF Interchange Level 2; readers must read all of them. Written with
  ``genisoimage -udf`` (Debian's genisoimage): **UDF 1.02** (Domain Identifier revision 0x0102,
  one partition, Interchange Level = Maximum Interchange Level = 2; checked by
  :mod:`mediatool.media.udf` and ``udfinfo``) bridged with an ISO 9660 Level 1 tree of the same
  names, so a CD-only reader still finds the File-set.
- DVD-RAM, Annex J: **UDF 1.50** and nothing from a later revision; BD, Annex X: **UDF 2.50**
  (BD-RE) or **2.60** (BD-R), with a Metadata Partition, no VAT and no sparing table. No
  maintained tool we can drive writes these populated without mounting them: mkudffs (udftools
  2.3) refuses ``--udfrev`` above 2.01 for a hard disk image and makes only an *empty* BD-R
  volume with a VAT (which Annex X forbids), ``newfs_udf`` (udfclient) writes 2.01 only, pycdlib
  records 1.02 whatever it is asked. So these three are written by :mod:`mediatool.udf`, our
  own writer (the one place the project writes a file system by hand: no library does it).
  They carry no ISO 9660 bridge (Annex J and X name UDF only).

The ISO 9660 side of a DVD is written without Rock Ridge or Joliet and without genisoimage's
relaxing options (profiles.md §5.6), so every tree shows the same 8.3 names.

**Reproducible.** Our writer records only the build's date and identifiers derived from the
File-set. genisoimage 1.1.11 stamps the clock into its descriptors and ignores
``SOURCE_DATE_EPOCH``: it runs under Debian's ``faketime`` with the clock stopped at the build's
date (UTC), and the second half of its UDF Volume Set Identifier (a process CPU-time counter,
which faketime does not fix) is replaced by ours, the Primary Volume Descriptors' tags
recomputed. genisoimage also records each file's modification time (PS3.12 F.1.3: the file's
creation date): the build made every file of the folder, so they are given the build's date
first (``os.utime``; the folder is the build's output, never a user's source). Without
``faketime`` the DVD image is still written, and stderr says once that it is not reproducible
(a missing helper is no reason to refuse a disc).
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from mediatool import external as tools
from mediatool.errors import MediatoolError, OutputError
from mediatool.udf import ecma167 as e
from mediatool.udf import write as udf_write
from mediatool.writers import folder as staging
from mediatool.writers import iso as iso_writer
from mediatool.writers.iso import FolderScan

#: The UDF revision written for each medium.
REVISION: Final = {"dvd": "1.02", "dvd-ram": "1.50", "bd-re": "2.50", "bd": "2.60"}
#: What refusals name the File-set of each medium (PS3.12 annex).
_AS: Final = {
    "dvd": "a DVD File-set (PS3.12 P.1.3)",
    "dvd-ram": "a DVD-RAM File-set (PS3.12 Annex J)",
    "bd-re": "a BD File-set (PS3.12 Annex X)",
    "bd": "a BD File-set (PS3.12 Annex X)",
}
_warned: list[bool] = []


@dataclass(frozen=True, slots=True)
class UdfResult:
    image: Path
    size: int
    revision: str
    files: int
    directories: int


def _arguments(volume_id: str) -> list[str]:
    return [
        "genisoimage",
        "-udf",  # UDF 1.02 beside the ISO 9660 tree
        "-iso-level",
        "1",
        "-V",
        volume_id,  # PS3.12 F.1.1 on the ISO side; the UDF Logical Volume Identifier too
        "-sysid",
        "",  # PS3.12 F.2.2.1
        "-A",
        iso_writer.application_id(),
        "-input-charset",
        "ascii",
        "-quiet",
    ]


def _sectors(folder: Path, volume_id: str) -> int:
    sized = tools.run([*_arguments(volume_id), "-print-size", str(folder)], "sizing the UDF image")
    return int(sized.split()[-1])


def image_size(folder: Path, volume_id: str = "", medium: str = "dvd") -> int | None:
    """Exact size in bytes of the image :func:`pack` would write (None: the folder cannot be
    recorded); laid out without writing (genisoimage ``-print-size`` for a DVD)."""
    scan = iso_writer.scan_folder(Path(folder))
    if not scan.ok:
        return None
    if medium == "dvd":
        return _sectors(Path(folder), volume_id) * iso_writer.SECTOR
    return udf_write.plan(scan, REVISION[medium]).sectors * e.BLOCK


def _clock(date: datetime) -> tuple[list[str], dict[str, str]]:
    """The prefix that runs genisoimage at ``date`` (faketime, clock stopped), or none."""
    if shutil.which("faketime") is None:
        if not _warned:
            _warned.append(True)
            sys.stderr.write(
                "mediatool: faketime is not installed: the DVD image records the clock and is "
                "not reproducible (Debian: apt install faketime)\n"
            )
        return [], {}
    moment = date.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return ["faketime", "-f", moment], {"TZ": "UTC"}


def _fix_set_identifier(image: Path, set_id: str) -> None:
    """Replace the Volume Set Identifier of both Primary Volume Descriptors (ECMA-167 3/10.1,
    BP 72) found through the Anchor (sector 256), and recompute their tags."""
    with image.open("r+b") as fp:
        fp.seek(256 * e.BLOCK + 16)
        main, reserve = struct.unpack("<4xI4xI", fp.read(16))
        for start in (main, reserve):
            fp.seek(start * e.BLOCK)
            sector = fp.read(e.BLOCK)
            ident, version, serial, length = struct.unpack_from("<HH2xH2xH", sector)
            if ident != e.PVD or e.tag_ok(sector, start) is not None:
                raise OutputError(f"genisoimage wrote no Primary Volume Descriptor at {start}")
            body = bytearray(sector[16 : 16 + length])
            body[56:184] = e.dstring(set_id, 128)
            fp.seek(start * e.BLOCK)
            fp.write(e.tag(ident, version, serial, start, bytes(body)))


def _dated(folder: Path, scan: FolderScan, date: datetime) -> None:
    """Give every file and folder of the File-set the build's date (what genisoimage records)."""
    moment = date.timestamp()
    for entry in (*scan.entries, None):
        path = folder.joinpath(*entry.parts) if entry is not None else folder
        os.utime(path, (moment, moment), follow_symlinks=False)


def _genisoimage(folder: Path, image: Path, volume_id: str, set_id: str, date: datetime) -> None:
    prefix, env = _clock(date)
    with staging.replacing(image) as tmp:
        argv = [*prefix, *_arguments(volume_id), "-o", str(tmp), str(folder)]
        tools.run(argv, "writing the UDF image", env=env)
        _fix_set_identifier(tmp, set_id)


def pack(
    folder: Path,
    image: Path,
    *,
    medium: str,
    volume_id: str,
    date: datetime | None,
    capacity: int | None,
    force: bool = False,
) -> UdfResult:
    """Write ``folder`` (a File-set root) as the UDF image of ``medium`` at ``image``.

    Raises
    ------
    OutputError
        The image does not fit ``capacity``; ``image`` exists (without ``force``); genisoimage
        is missing or fails (DVD); the image cannot be written.
    PlanRejected
        A name, depth or file the File-set cannot hold (the ISO writer's refusals).
    MediaError
        A file changed while it was copied.
    """
    revision = REVISION[medium]
    folder, image = Path(folder), Path(image)
    if not iso_writer.VOLUME_ID.match(volume_id):
        raise MediatoolError(f"volume identifier {volume_id!r} is not 0-32 of A-Z 0-9 _")
    moment = iso_writer.resolve_date(date)
    scan = iso_writer.packable(folder, image, force, _AS[medium])
    if medium == "dvd":
        iso_writer.check_capacity(_sectors(folder, volume_id) * iso_writer.SECTOR, capacity)
        image.parent.mkdir(parents=True, exist_ok=True)
        set_id = udf_write.set_identifier(folder, scan, volume_id)
        _dated(folder, scan, moment)
        _genisoimage(folder, image, volume_id, set_id, moment)
    else:
        layout = udf_write.plan(scan, revision)
        iso_writer.check_capacity(layout.sectors * e.BLOCK, capacity)
        try:
            volume = udf_write.volume(folder, scan, revision, volume_id, moment)
            udf_write.write(folder, scan, image, volume, layout)
        except OSError as exc:
            raise OutputError(f"writing {str(image)!r} failed: {exc}") from exc
    return UdfResult(
        image,
        image.stat().st_size,
        revision,
        sum(1 for x in scan.entries if not x.is_dir),
        sum(1 for x in scan.entries if x.is_dir),
    )
