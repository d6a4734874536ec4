"""Write a File-set straight onto a mounted USB stick (PS3.12 Annex R), then read it back.

``build --usb PATH``: ``PATH`` must be the mount point of a FAT file system (R.1.1: FAT16 or
FAT32; R.1: the File-set at the root of the device or of its first partition). The file system
is read from ``/proc/self/mountinfo`` (the kernel's own table: the ``vfat``/``msdos`` type of the
mount whose mount point is the longest prefix of ``PATH``); anything else is refused with its
type named (``exfat``, ``ntfs3``, ``fuseblk``, ``ext4``...) before anything is written.

Each file is copied from the build's staging folder (in 8.3 upper-case names, which FAT stores
as plain short entries; checked with the ISO 9660 Level 1 rules first, as the images are),
``fsync``-ed, and every folder ``fsync``-ed after its files, so the data is on the device before
the stick is reported written. Then every file is read back (its page cache dropped first with
``posix_fadvise(DONTNEED)``, best effort) and compared by SHA-256 with what was meant; a
difference is an error naming the files.

**Test hook** (documented): the environment variable ``MEDIATOOL_MOUNTINFO`` names another file
in mountinfo format to read instead of ``/proc/self/mountinfo``. Tests use it to present a plain
folder as a FAT mount point, since mounting a FAT image needs root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mediatool.errors import OutputError, PlanRejected
from mediatool.writers import iso as iso_writer

MOUNTINFO_ENV: Final = "MEDIATOOL_MOUNTINFO"
#: Linux file system types of a FAT12/16/32 volume (PS3.12 R.1.1)
FAT_TYPES: Final = frozenset({"vfat", "msdos", "fat"})
_BLOCK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class Mount:
    point: Path
    fstype: str
    source: str


@dataclass(frozen=True, slots=True)
class StickResult:
    stick: Path
    fstype: str
    files: int
    bytes: int


def _unescape(field: str) -> str:
    """mountinfo writes a space as ``\\040`` (and tab, newline, backslash likewise)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a ``/proc/self/mountinfo`` text (proc(5)): mount point, type, source."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            continue
        mounts.append(Mount(Path(_unescape(fields[4])), tail[0], _unescape(tail[1])))
    return mounts


def mount_of(path: Path, mountinfo: Path | None = None) -> Mount:
    """The mount holding ``path`` (the last-mounted of the longest mount point that is a prefix)."""
    source = mountinfo or Path(os.environ.get(MOUNTINFO_ENV) or "/proc/self/mountinfo")
    try:
        mounts = parse_mountinfo(source.read_text(errors="replace"))
    except OSError as exc:
        raise OutputError(f"cannot read the mount table {str(source)!r}: {exc.strerror}") from exc
    target = path.resolve()
    found = [m for m in mounts if target == m.point or target.is_relative_to(m.point)]
    if not found:
        raise OutputError(f"{str(path)!r} is on no mounted file system ({str(source)!r})")
    longest = max(len(m.point.parts) for m in found)
    return [m for m in found if len(m.point.parts) == longest][-1]


def check_stick(path: Path, mountinfo: Path | None = None) -> Mount:
    """Refuse (``OutputError``, exit 2) a target that is not the root of a FAT file system."""
    if not path.is_dir():
        raise OutputError(f"the USB stick {str(path)!r} is not a mounted folder")
    mount = mount_of(path, mountinfo)
    if mount.fstype not in FAT_TYPES:
        raise OutputError(
            f"the stick at {str(path)!r} is {mount.fstype} ({mount.source}); PS3.12 Annex R "
            "needs FAT16 or FAT32",
            hint="reformat it as FAT32 (e.g. mkfs.fat -F 32 on its partition), then build again",
        )
    if path.resolve() != mount.point:
        raise OutputError(
            f"{str(path)!r} is a folder inside the {mount.fstype} file system mounted at "
            f"{str(mount.point)!r}; PS3.12 Annex R puts the File-set at the root of the stick",
            hint=f"give --usb {mount.point}",
        )
    return mount


def _files(root: Path) -> Iterator[Path]:
    """Folder-relative paths, folders before their content, in sorted order."""
    for current, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(current).relative_to(root)
        for name in dirs:
            yield here / name
        for name in sorted(files):
            yield here / name


def _collisions(staging: Path, stick: Path, force: bool) -> None:
    """Names at the stick's root the File-set would write over (case-insensitively, as FAT
    compares): refused, or with ``force`` removed first. Other files on the stick stay."""
    ours = {p.name.upper() for p in staging.iterdir()}
    there = [p for p in stick.iterdir() if p.name.upper() in ours]
    if there and not force:
        names = ", ".join(sorted(p.name for p in there)[:5])
        raise OutputError(
            f"the stick {str(stick)!r} already holds {names}; a stick carries one File-set "
            "(PS3.12 R.1)",
            hint="use --force to replace them (other files on the stick are kept)",
        )
    for p in there:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def _copy(source: Path, dest: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src, dest.open("wb") as out:
        while block := src.read(_BLOCK):
            digest.update(block)
            out.write(block)
            size += len(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_back(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        if hasattr(os, "posix_fadvise"):  # read the device, not the page cache (best effort)
            os.posix_fadvise(fp.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while block := fp.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def write_to_stick(
    staging: Path, stick: Path, *, force: bool = False, mountinfo: Path | None = None
) -> StickResult:
    """Copy the File-set in ``staging`` to the root of the FAT stick ``stick``, fsync, then read
    every file back and compare. Raises ``OutputError`` (exit 2) on refusal or a difference."""
    mount = check_stick(stick, mountinfo)
    scan = iso_writer.scan_folder(staging)  # FAT-safe: 8.3 upper case, 8 levels, one DICOMDIR
    if not scan.ok:
        raise PlanRejected(
            "the File-set has names or folders a USB File-set cannot hold (PS3.12 R.1.1); "
            "nothing was written to the stick",
            scan.findings,
        )
    try:
        _collisions(staging, stick, force)
        meant: dict[Path, str] = {}
        total = 0
        folders = [stick]
        for rel in _files(staging):
            if (staging / rel).is_dir():
                (stick / rel).mkdir()
                folders.append(stick / rel)
            else:
                meant[rel], size = _copy(staging / rel, stick / rel)
                total += size
        for folder in reversed(folders):  # the deepest first: each entry before its parent's
            _fsync_dir(folder)
        differ = [str(rel) for rel, digest in meant.items() if _read_back(stick / rel) != digest]
    except OSError as exc:
        raise OutputError(f"writing to the stick {str(stick)!r} failed: {exc}") from exc
    if differ:
        raise OutputError(
            f"{len(differ)} of {len(meant)} files read back from {str(stick)!r} differ from "
            f"what was written: {', '.join(differ[:5])}",
            hint="the stick may be failing: use another stick",
        )
    return StickResult(stick, mount.fstype, len(meant), total)
