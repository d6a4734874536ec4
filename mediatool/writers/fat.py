"""Pack a File-set folder into a FAT16 or FAT32 image for a USB stick (PS3.12 Annex R).

PS3.12 R.1.1 (profiles.md §5.5): the File-set on a USB mass-storage device is in a FAT16 or
FAT32 file system, in the first partition or on an unpartitioned device, and a File ID is the
file name (8 characters of the DICOM subset, at most 8 levels). The image written here is an
unpartitioned device (a "superfloppy", what ``dd`` puts on a stick as it is), FAT16 when the
content fits a FAT16 volume (up to 2 GiB), else FAT32.

Written with Debian's **dosfstools** (``mkfs.fat``: the file system) and **mtools** (``mcopy
-s``: the files, no mounting, no root; ``-b``, batch mode, fails here with "Streamcache
allocation problem", so it is not used). Names are the staging folder's, which the build made
8.3 upper case (checked again with the ISO 9660 Level 1 rules: the same names, depth and
single-DICOMDIR refusals), so every file has a plain 8.3 directory entry and no long name.
``mkfs.fat --invariant`` keeps the file system structures free of random and clock values
(volume serial 1234-ABCD); file dates are the staging files' times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mediatool import external as tools
from mediatool.writers import folder as staging
from mediatool.writers import iso as iso_writer

#: A FAT16 volume has at most 65,524 clusters of at most 32 KiB (Microsoft FAT specification
#: 1.03, "FAT type determination"): about 2 GiB; above it the image is FAT32.
FAT16_LIMIT: Final = 2000 * 2**20
#: FAT32 needs at least 65,525 clusters: mkfs.fat makes 512-byte clusters below 260 MiB.
_FAT32_MIN: Final = 40 * 2**20
#: mkfs.fat makes no FAT16 below about 9 MiB (fewer than 4,085 clusters)
_MIN: Final = 16 * 2**20
_CLUSTER: Final = 32 * 2**10  # the largest cluster either type uses: a safe estimate per file


@dataclass(frozen=True, slots=True)
class FatResult:
    image: Path
    size: int
    fat_type: int  # 16 or 32
    files: int
    directories: int
    label: str


def volume_label(volume_id: str) -> str:
    """The FAT volume label: the File-set ID's first 11 characters (``NO NAME`` if empty)."""
    return volume_id[:11] or "NO NAME"


def plan_size(content: int, entries: int) -> tuple[int, int]:
    """``(fat type, image bytes)`` for ``content`` bytes of files and ``entries`` files and
    folders: each rounded up to the largest cluster, plus a tenth and 4 MiB of headroom."""
    need = content + entries * _CLUSTER
    size = max(_MIN, need + need // 10 + 4 * 2**20)
    if size <= FAT16_LIMIT:
        return 16, -(-size // 2**20) * 2**20
    return 32, -(-max(size, _FAT32_MIN) // 2**20) * 2**20


def image_size(folder: Path) -> int | None:
    """Size in bytes of the image :func:`pack` would write (None: cannot be recorded)."""
    scan = iso_writer.scan_folder(Path(folder))
    if not scan.ok:
        return None
    files = [Path(folder).joinpath(*e.parts) for e in scan.entries if not e.is_dir]
    return plan_size(sum(f.stat().st_size for f in files), len(scan.entries))[1]


def _make(image: Path, fat_type: int, size: int, label: str) -> None:
    with image.open("r+b") as fp:
        fp.truncate(size)
    tools.run(
        ["mkfs.fat", "-F", str(fat_type), "-n", label, "--invariant", str(image)],
        f"making the FAT{fat_type} file system",
    )


def _populate(folder: Path, image: Path, scan: iso_writer.FolderScan) -> None:
    top = [folder / e.parts[0] for e in scan.entries if len(e.parts) == 1]
    tools.run(
        ["mcopy", "-i", str(image), "-s", "-p", "-m", "-Q", *map(str, top), "::/"],
        "copying the File-set into the FAT image",
        env=tools.MTOOLS_ENV,
    )


def pack(
    folder: Path,
    image: Path,
    *,
    volume_id: str,
    capacity: int | None = None,
    force: bool = False,
) -> FatResult:
    """Write ``folder`` (a File-set root) as a FAT16/FAT32 image at ``image`` (PS3.12 R.1.1).

    Raises
    ------
    PlanRejected
        A name, depth or file the File-set cannot hold (the same refusals as the ISO writer).
    OutputError
        ``image`` exists (without ``force``), does not fit ``capacity``, or dosfstools/mtools
        are missing or fail.
    """
    folder, image = Path(folder), Path(image)
    scan = iso_writer.packable(folder, image, force, "a USB File-set (PS3.12 R.1.1)")
    content = sum(folder.joinpath(*e.parts).stat().st_size for e in scan.entries if not e.is_dir)
    fat_type, size = plan_size(content, len(scan.entries))
    iso_writer.check_capacity(size, capacity)
    label = volume_label(volume_id)
    image.parent.mkdir(parents=True, exist_ok=True)
    with staging.replacing(image) as tmp:
        _make(tmp, fat_type, size, label)
        _populate(folder, tmp, scan)
    return FatResult(
        image,
        size,
        fat_type,
        sum(1 for e in scan.entries if not e.is_dir),
        sum(1 for e in scan.entries if e.is_dir),
        label,
    )
