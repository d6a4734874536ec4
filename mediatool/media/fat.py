"""Read a File-set from a FAT image of a USB stick (PS3.12 Annex R).

The boot sector is read here (a few fields, pure): an unpartitioned device ("superfloppy") or a
master boot record whose **first** partition holds the file system (R.1: the File-set is in the
first partition); the FAT type follows from the count of clusters, as the Microsoft FAT
specification (1.03, "FAT type determination") defines it: below 4,085 FAT12, below 65,525
FAT16, else FAT32. exFAT and NTFS are named and refused (R.1.1 lists FAT16 and FAT32 only).

The files are listed and copied out with Debian's **mtools** (``mcopy -s``, no mounting, no
root) into a private temporary folder, which is then read as a folder
(:class:`~mediatool.media.folder.FolderReader`: the same name and link rules) and removed on
:meth:`close`. mtools rather than a FAT reader of our own: it is the maintained reader of FAT
images on Debian (pyfatfs is not packaged); the cost is one copy of a stick's content.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mediatool import external as tools
from mediatool.errors import OutputError
from mediatool.findings import finding
from mediatool.media.base import DamagedMedia
from mediatool.media.folder import FolderReader

_SIGNATURE: Final = b"\x55\xaa"
_SECTOR: Final = 512
_PARTITION_TABLE: Final = 446
#: Other file systems a stick may carry, by their OEM name (boot sector bytes 3-10)
_OTHERS: Final = {b"EXFAT   ": "exFAT", b"NTFS    ": "NTFS"}
_ANNEX_R: Final = "PS3.12 Annex R needs FAT16 or FAT32"


@dataclass(frozen=True, slots=True)
class FatVolume:
    """What the boot sector says: FAT type (12, 16, 32), where the volume starts (bytes), and
    whether it sits in the first partition of a partition table (None: no partition table)."""

    fat_type: int
    offset: int
    partition: int | None
    label: str
    size: int  # bytes the boot sector declares (total sectors x bytes per sector)

    @property
    def name(self) -> str:
        where = "no partition table" if self.partition is None else "in the first partition"
        return f"FAT{self.fat_type} ({where})"


def _is_boot_sector(sector: bytes) -> bool:
    if len(sector) < _SECTOR or sector[510:512] != _SIGNATURE or sector[0] not in (0xEB, 0xE9):
        return False
    per_sector = struct.unpack_from("<H", sector, 11)[0]
    return per_sector in (512, 1024, 2048, 4096) and sector[13] != 0


def fat_type(sector: bytes) -> int:
    """FAT12, 16 or 32 by the count of clusters (Microsoft FAT specification 1.03)."""
    per_sector, per_cluster, reserved, fats, root_entries, total16 = struct.unpack_from(
        "<HBHBHH", sector, 11
    )
    fat16_size, total32, fat32_size = (
        struct.unpack_from("<H", sector, 22)[0],
        struct.unpack_from("<I", sector, 32)[0],
        struct.unpack_from("<I", sector, 36)[0],
    )
    root_sectors = (root_entries * 32 + per_sector - 1) // per_sector
    fat_size = fat16_size or fat32_size
    total = total16 or total32
    clusters = (total - (reserved + fats * fat_size + root_sectors)) // per_cluster
    if clusters < 4085:
        return 12
    return 16 if clusters < 65525 else 32


_WRONG, _NOT_FIRST = "media.wrong-filesystem", "media.fat-not-first-partition"


def read_volume(head: bytes, first_partition: bytes | None = None) -> FatVolume | tuple[str, str]:
    """The FAT volume of a device whose first sector is ``head`` (``first_partition``: the first
    sector of its first partition, when ``head`` is a master boot record); else the finding
    code and the words saying why not (R.1.1: the file system; R.1: the first partition)."""
    if head[3:11] in _OTHERS:
        return _WRONG, f"the file system is {_OTHERS[head[3:11]]}; {_ANNEX_R}"
    if _is_boot_sector(head):
        return FatVolume(fat_type(head), 0, None, _label(head), _declared(head))
    if len(head) < _SECTOR or head[510:512] != _SIGNATURE:
        return _WRONG, f"neither a FAT boot sector nor a partition table; {_ANNEX_R}"
    kind, start = (
        head[_PARTITION_TABLE + 4],
        struct.unpack_from("<I", head, _PARTITION_TABLE + 8)[0],
    )
    if kind == 0 or start == 0:
        return _NOT_FIRST, "the partition table has no first partition"
    if first_partition is None or len(first_partition) < _SECTOR:
        return _NOT_FIRST, f"the first partition (type {kind:#04x}) cannot be read"
    if first_partition[3:11] in _OTHERS:
        return _WRONG, f"the first partition is {_OTHERS[first_partition[3:11]]}; {_ANNEX_R}"
    if not _is_boot_sector(first_partition):
        return _NOT_FIRST, f"the first partition (type {kind:#04x}) holds no FAT file system"
    volume = first_partition
    return FatVolume(fat_type(volume), start * _SECTOR, 1, _label(volume), _declared(volume))


def _declared(sector: bytes) -> int:
    total: int = struct.unpack_from("<H", sector, 19)[0] or struct.unpack_from("<I", sector, 32)[0]
    per_sector: int = struct.unpack_from("<H", sector, 11)[0]
    return total * per_sector


def _label(sector: bytes) -> str:
    at = 71 if struct.unpack_from("<H", sector, 22)[0] == 0 else 43  # FAT32 BPB is longer
    return sector[at : at + 11].decode("ascii", "replace").rstrip(" ")


def is_fat_image(head: bytes) -> bool:
    """A FAT (or exFAT/NTFS) boot sector or a partition table: what :class:`FatReader` opens."""
    return len(head) >= _SECTOR and head[510:512] == _SIGNATURE


def _volume(path: Path, name: str) -> FatVolume:
    with path.open("rb") as fp:
        head = fp.read(_SECTOR)
        first = None
        if not _is_boot_sector(head) and len(head) == _SECTOR:
            start = struct.unpack_from("<I", head, _PARTITION_TABLE + 8)[0]
            fp.seek(start * _SECTOR)
            first = fp.read(_SECTOR)
    volume = read_volume(head, first)
    if isinstance(volume, FatVolume):
        return volume
    code, why = volume
    raise DamagedMedia(
        f"cannot read {name!r} as a USB File-set: {why}", finding(code, why), kind="fat"
    )


def _damaged(name: str, why: str) -> DamagedMedia:
    return DamagedMedia(
        f"cannot read the FAT image {name!r}: {why}",
        finding("media.fat-damaged", why),
        hint="Ask the sender for a new copy of the stick.",
        kind="fat",
    )


class FatReader(FolderReader):
    """A FAT image as a medium (its files copied out with mtools, read as a folder)."""

    kind = "fat"

    def __init__(self, path: str | Path) -> None:
        shown = str(path)
        self.volume = _volume(Path(path), shown)
        have = Path(path).stat().st_size - self.volume.offset
        if have < self.volume.size:
            why = f"the image has {have} of the {self.volume.size} bytes its boot sector declares"
            raise _damaged(shown, f"{why}: it is truncated")
        tools.find("mcopy")  # missing: exit 2 naming the package (not a judgement on the media)
        self._copy = tempfile.mkdtemp(prefix="mediatool-fat-")
        try:
            image = f"{path}@@{self.volume.offset}" if self.volume.offset else str(path)
            try:
                tools.run(
                    ["mcopy", "-s", "-n", "-m", "-i", image, "::*", self._copy],
                    "copying the files out",
                    env=tools.MTOOLS_ENV,
                )
            except OutputError as exc:  # mtools cannot read its structures: a damaged image
                raise _damaged(shown, str(exc)) from exc
            super().__init__(self._copy)
        except BaseException:
            shutil.rmtree(self._copy, ignore_errors=True)
            raise
        self.name = shown
        self.volume_id = self.volume.label or None
        self._findings.append(finding("media.filesystem", self.volume.name))
        if self.volume.fat_type == 12:
            self._findings.append(finding("media.wrong-filesystem", f"FAT12; {_ANNEX_R}"))

    def close(self) -> None:
        super().close()
        shutil.rmtree(self._copy, ignore_errors=True)
