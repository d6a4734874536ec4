"""★ Burn a disc image onto optical media with xorriso, and verify each copy by reading it back.

The plan for each copy: acquire the drive and look at the medium (present, blank or erasable,
enough free space: all *before* writing), write the image as is from block 0, read the same
number of bytes back through the drive and compare SHA-256 digests. Nothing is half-claimed: a
copy counts as burned only when it was written and, if verification was asked, read back equal
(:attr:`CopyResult.ok`).

Pseudo-drives: ``stdio:PATH`` is xorriso's drive on a file, the real xorriso code path (tests,
and images for a robot). Each copy needs its own target there: ``{n}`` in the path is replaced by
the copy number (``stdio:/tmp/disc_{n}.iso``). Their capacity is the free space of the file
system the file lives on; ``capacity`` stands for the medium a pseudo-drive plays (a CD: 737,280,000
bytes) and also lowers what a real drive reports.

Callers (the CLI, a station job) get the results as data (:meth:`BurnResult.as_dict`), progress
through a :data:`mediatool.model.Progress` callable (called from the thread that reads
xorriso's messages: done/total in MB while writing, in blocks while reading back), and the
change of medium between copies on a real drive through ``next_medium`` (the CLI asks the
person at the drive).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from mediatool.errors import MediaError, MediatoolError
from mediatool.model import Progress
from mediatool.writers import xorriso
from mediatool.writers.iso import MEDIA_CAPACITY

PSEUDO: Final = "stdio:"
COPY_NUMBER: Final = "{n}"
#: xorrecord's default padding after the track (man xorrecord, padsize): Linux often cannot read
#: the last blocks of a CD track written TAO. Less when the medium has no room for it.
PAD: Final = 300 * 1024
_HASH_CHUNK: Final = 1 << 20
_NAMES: Final = {
    "dvd": "a DVD (4.7 GB)",
    "dvd-ram": "a DVD-RAM (4.7 GB)",
    "bd": "a BD (25 GB)",
    "bd-re": "a BD-RE (25 GB)",
}
DEVICE_HINT: Final = (
    "give the burner's device, e.g. /dev/sr0 (`xorriso -devices` lists the drives), "
    "or stdio:FILE to write to a file as a pseudo-drive"
)

#: Called before copy ``n`` of ``copies`` on a real drive, once the previous disc was ejected:
#: True when a blank medium is in ``device``, False to stop (the copy is reported not written).
NextMedium = Callable[[int, int, str], bool]


class DeviceError(MediatoolError):
    """The drive or its medium cannot take the image: no such device, not a drive, no medium,
    not blank, too small (exit 2; nothing was written)."""


@dataclass(frozen=True, slots=True)
class CopyResult:
    """One copy: where it went, and what is known about it."""

    copy: int
    copies: int
    device: str
    size: int  # bytes of the image
    sha256: str  # of the image
    written: bool
    verified: bool | None = None  # None: not read back
    read_sha256: str | None = None  # of what was read back
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.written and self.error is None and self.verified is not False

    def as_dict(self) -> dict[str, Any]:
        return {
            "copy": self.copy,
            "device": self.device,
            "bytes": self.size,
            "sha256": self.sha256,
            "written": self.written,
            "verified": self.verified,
            "read_sha256": self.read_sha256,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class BurnResult:
    image: Path
    size: int
    sha256: str
    copies: int  # asked for
    results: tuple[CopyResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return len(self.results) == self.copies and all(r.ok for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        """The outcome as plain data (a station job stores it; the CLI prints it)."""
        return {
            "ok": self.ok,
            "image": str(self.image),
            "bytes": self.size,
            "sha256": self.sha256,
            "copies": self.copies,
            "results": [r.as_dict() for r in self.results],
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        while chunk := fp.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def human(size: int) -> str:
    """Sizes as disc labels give them: "612 MB" (MiB) below 1 GB, "4.7 GB" (10^9) above."""
    if size >= 10**9:
        return f"{size / 10**9:.1f} GB"
    return f"{size / 2**20:.{1 if size < 10 * 2**20 else 0}f} MB"


def targets(device: str, copies: int) -> list[str]:
    """The device of each copy: ``{n}`` numbered on a pseudo-drive, the same drive otherwise.

    Raises
    ------
    DeviceError
        Several copies to one pseudo-drive file (they would overwrite each other).
    """
    if COPY_NUMBER in device:
        return [device.replace(COPY_NUMBER, str(n)) for n in range(1, copies + 1)]
    if device.startswith(PSEUDO) and copies > 1:
        raise DeviceError(
            f"--copies {copies} to the pseudo-drive {device!r} would write every copy to one file",
            hint="put {n} in the path for the copy number, e.g. stdio:/tmp/disc_{n}.iso",
        )
    return [device] * copies


def _check_address(device: str) -> None:
    """What can be said without xorriso: the device file or the pseudo-drive's folder exists."""
    if device.startswith(PSEUDO):
        path = Path(device.removeprefix(PSEUDO))
        if not path.name or path.is_dir():
            raise DeviceError(f"{device!r} is a folder; a pseudo-drive writes into a file")
        if not path.parent.is_dir():
            raise DeviceError(f"{device!r}: the folder {str(path.parent)!r} does not exist")
    elif not Path(device).exists():
        raise DeviceError(f"no such device {device!r}", hint=DEVICE_HINT)


def acquire(device: str) -> xorriso.MediumInfo:
    """The drive at ``device`` and the medium in it.

    Raises
    ------
    DeviceError
        No such device, or not a drive xorriso can use.
    XorrisoError
        xorriso is not installed.
    """
    _check_address(device)
    info, why = xorriso.probe(xorriso.address(device))
    if info is None:
        raise DeviceError(f"{device!r} is not a drive xorriso can use: {why}", hint=DEVICE_HINT)
    if not info.present:
        raise DeviceError(f"no medium in {device!r}", hint="insert a blank disc")
    return info


def _advice(size: int, free: int) -> str:
    """A bigger medium that holds the image, or spanning over media of this size."""
    sizes = {k: v for k in ("cd", "dvd", "bd") if (v := MEDIA_CAPACITY[k]) is not None}
    bigger = next((k for k in ("dvd", "bd") if sizes[k] >= size and sizes[k] > free), None)
    fitting = max((k for k in sizes if sizes[k] <= free), key=sizes.__getitem__, default=None)
    span = f"--media {fitting}" if fitting else f"--capacity {free}"
    first = f"use {_NAMES[bigger]}, or " if bigger else ""
    return (
        f"{first}span the studies over several discs: `mediatool build SOURCE {span} "
        "--iso FILE` writes one image per disc"
    )


def free_space(info: xorriso.MediumInfo, capacity: int | None, erasing: bool) -> int | None:
    """Bytes the image may take: what the drive reports (not known before erasing a written
    rewritable medium), lowered to ``capacity``."""
    reported = None if erasing else info.free
    known = [v for v in (reported, capacity) if v is not None]
    return min(known) if known else None


def check_medium(
    info: xorriso.MediumInfo, device: str, size: int, *, blank: bool, capacity: int | None
) -> int | None:
    """Refuse a medium that is written (and not to be erased) or too small; the free bytes.

    Raises
    ------
    DeviceError
        Not blank (not erasable, or ``blank`` not asked), or smaller than ``size``.
    """
    what = f"the medium in {device!r} ({info.medium}: {info.status})"
    if not info.blank and not blank:
        raise DeviceError(
            f"{what} is not blank",
            hint="insert a blank disc"
            + (", or add --blank to erase this rewritable one" if info.erasable else ""),
        )
    if not info.blank and not info.erasable:
        raise DeviceError(f"{what} is written and cannot be erased", hint="insert a blank disc")
    free = free_space(info, capacity, erasing=not info.blank)
    if free is not None and size > free:
        raise DeviceError(
            f"the image needs {human(size)} ({size} bytes); {what} has {human(free)} "
            f"({free} bytes) free; nothing was written",
            hint=_advice(size, free),
        )
    return free


def _pacifier(progress: Progress | None, label: str) -> xorriso.Pacifier | None:
    if progress is None:
        return None

    def report(done: int, total: int, unit: str) -> None:
        progress(done, total, f"{label} ({unit})")

    return report


def _compare(copy: CopyResult, addr: str, progress: Progress | None, label: str) -> CopyResult:
    """``copy`` with the outcome of reading ``copy.size`` bytes back from ``addr``."""
    read, got, why = xorriso.read_sha256(addr, copy.size, _pacifier(progress, label))
    if got < copy.size:
        error = f"reading back stopped after {got} of {copy.size} bytes: {why}"
        return _replace(copy, verified=False, error=error)
    if read != copy.sha256:
        error = (
            f"the data read back differ from the image (SHA-256 {read} on the medium, "
            f"{copy.sha256} in the image)"
        )
        return _replace(copy, verified=False, read_sha256=read, error=error)
    return _replace(copy, verified=True, read_sha256=read)


def _replace(copy: CopyResult, **changes: Any) -> CopyResult:
    return dataclasses.replace(copy, **changes)


def verify(
    device: str,
    image: Path,
    *,
    progress: Progress | None = None,
    copy: int = 1,
    copies: int = 1,
    sha256: str | None = None,
) -> CopyResult:
    """Read ``image``'s size back from the medium in ``device`` and compare SHA-256 digests.

    Raises
    ------
    MediaError
        ``image`` is not a file or is empty.
    DeviceError
        No such device, not a drive, no medium, a blank medium.
    """
    image = Path(image)
    size = image_size(image)
    if acquire(device).blank:
        raise DeviceError(f"the medium in {device!r} is blank: nothing to compare with the image")
    result = CopyResult(copy, copies, device, size, sha256 or file_sha256(image), written=True)
    return _compare(
        result, xorriso.address(device), progress, f"Copy {copy} of {copies}: verifying"
    )


def _prepare(device: str, size: int, *, blank: bool, capacity: int | None) -> int:
    """Check the medium in ``device``; the padding that fits after the image."""
    info = acquire(device)
    free = check_medium(info, device, size, blank=blank, capacity=capacity)
    room = PAD if free is None else min(PAD, free - size)
    return room - room % xorriso.BLOCK


def _write_copy(
    pending: CopyResult, image: Path, options: BurnOptions, pad: int, progress: Progress | None
) -> CopyResult:
    """Write one copy, then (if asked) read it back."""
    addr = xorriso.address(pending.device)
    label = f"Copy {pending.copy} of {pending.copies}"
    why = xorriso.record(
        addr,
        image,
        blank=options.blank,
        pad=pad,
        on_progress=_pacifier(progress, label + ": writing"),
    )
    if why is not None:
        return _replace(pending, error=f"writing failed: {why}")
    written = _replace(pending, written=True)
    if not options.verify:
        return written
    return _compare(written, addr, progress, label + ": verifying")


def volume_standard(image: Path) -> str | None:
    """The first Volume Structure Descriptor at sector 16 (ECMA-119 8.1 and ECMA-167 2/9.1:
    ``CD001`` ISO 9660, ``BEA01`` a UDF volume recognition sequence), or None."""
    with image.open("rb") as fp:
        fp.seek(16 * xorriso.BLOCK + 1)
        ident = fp.read(5)
    return {b"CD001": "ISO 9660", b"BEA01": "UDF"}.get(ident)


def image_size(image: Path) -> int:
    """Bytes of the disc image to burn.

    Raises
    ------
    MediaError
        Not a file, empty, or no disc image (no ISO 9660 or UDF volume at sector 16).
    """
    if not image.is_file():
        reason = "does not exist" if not image.exists() else "is not a file"
        raise MediaError(f"{str(image)!r} {reason}; give a disc image or a File-set folder")
    size = image.stat().st_size
    if size == 0:
        raise MediaError(f"{str(image)!r} is empty; there is nothing to burn")
    if volume_standard(image) is None:
        raise MediaError(
            f"{str(image)!r} is not a disc image (no ISO 9660 or UDF volume descriptor at "
            "sector 16); nothing was written",
            hint="give the .iso that `mediatool build --iso` wrote, or the File-set folder",
        )
    return size


@dataclass(frozen=True, slots=True)
class BurnOptions:
    """How to burn: copies, read-back, eject at the end, erase rewritable media, capacity."""

    copies: int = 1
    verify: bool = False
    eject: bool = False
    blank: bool = False
    capacity: int | None = None


def _next_copy(
    pending: CopyResult,
    image: Path,
    options: BurnOptions,
    progress: Progress | None,
    next_medium: NextMedium | None,
) -> CopyResult:
    """Copy 2 and on: change the disc (a real drive), check it, write, verify; a refused disc
    is this copy's failure (the copies before it stand)."""
    device = pending.device
    if not device.startswith(PSEUDO):
        xorriso.eject(xorriso.address(device))
        if next_medium is not None and not next_medium(pending.copy, pending.copies, device):
            return _replace(pending, error="stopped: no blank disc was put in for this copy")
    try:
        pad = _prepare(device, pending.size, blank=options.blank, capacity=options.capacity)
    except DeviceError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return _replace(pending, error=f"{exc}{hint}")
    return _write_copy(pending, image, options, pad, progress)


def burn(
    image: Path,
    device: str,
    options: BurnOptions | None = None,
    *,
    progress: Progress | None = None,
    next_medium: NextMedium | None = None,
) -> BurnResult:
    """Write ``image`` as is onto ``options.copies`` media in ``device``, each verified on ask.

    Stops at the first copy that fails (written or not, its result says why); the caller
    decides what to tell. ``next_medium`` is called before each further copy on a real drive,
    after the previous disc was ejected.

    Raises
    ------
    MediaError
        ``image`` is not a file or is empty.
    DeviceError
        The first copy cannot start: no such device, not a drive, no medium, not blank, too
        small; several copies to one pseudo-drive file; several copies on a real drive without
        ``next_medium``.
    XorrisoError
        xorriso is not installed.
    """
    options = options or BurnOptions()
    image = Path(image)
    size = image_size(image)
    xorriso.executable()
    devices = targets(device, options.copies)
    if options.copies > 1 and not device.startswith(PSEUDO) and next_medium is None:
        raise DeviceError(f"{options.copies} copies on {device!r} need a person to change discs")
    # the first disc is checked before the image is read: a refusal costs no hashing time
    pad = _prepare(devices[0], size, blank=options.blank, capacity=options.capacity)
    sha = file_sha256(image)
    first = CopyResult(1, options.copies, devices[0], size, sha, written=False)
    results = [_write_copy(first, image, options, pad, progress)]
    for n, dev in enumerate(devices[1:], 2):
        if not results[-1].ok:
            break
        pending = CopyResult(n, options.copies, dev, size, sha, written=False)
        results.append(_next_copy(pending, image, options, progress, next_medium))
    if options.eject:
        xorriso.eject(xorriso.address(results[-1].device))
    return BurnResult(image, size, sha, options.copies, tuple(results))
