"""Pack a File-set folder into an ISO 9660 Level 1 image (PS3.12 Annex F), with pycdlib.

Written (PS3.12 F.1, F.2.2; profiles.md §5.1): one primary hierarchy, **Level 1**, and no
Joliet, Rock Ridge or UDF tree, so no second tree can show other names (profiles.md §5.6);
File ID ``C1\\...\\CN`` ↔ ``/C1/.../CN.;1`` (F.1.2.1), a name with an extension ↔
``/README.TXT;1``; Volume Identifier = File-set ID, space padded (F.1.1); System Identifier
blank (F.2.2.1); no Extended Attribute Records, File Flags bits 3 and 4 clear (F.1.3).

**Refusals.** Names Level 1 cannot carry, links, special files, directories below level 8,
files of 4 GiB or more, no DICOMDIR at the root or a second one are findings (``media.*``,
``dicomdir.*``; ``where`` = folder-relative path): :func:`pack` raises ``PlanRejected`` (exit 1)
carrying all of them. An image larger than the medium raises ``OutputError`` (exit 2: the
output cannot be made). Nothing is written in either case.

**Streaming, one pass.** pycdlib lays out the image and writes the descriptors and directory
records; each file is given to it as a placeholder of the right length, and its bytes are
copied by the kernel (:mod:`mediatool.writers.isodata`) one file at a time, so file
descriptors and memory do not grow with the files. An optional ``check`` (``mediatool iso``:
the full validation) runs while the bytes are copied; the image is published only when it has
passed and no file changed since the folder was listed (why this and not a journal of the
build: :mod:`mediatool.writers.isodata`). Entries are added in the order pycdlib assigns
extents (breadth first, children in identifier order), so the image is written front to back.

**Reproducibility.** pycdlib stamps ``time.time()`` (local time) into every directory record
and volume descriptor, and the Volume Modification Date inside ``record()`` while writing. We
replace the record and descriptor dates before writing and patch the 17 bytes of the Volume
Modification Date (ECMA-119 8.4.27, BP 831-847) after. Nothing else in a plain ISO 9660 image
from pycdlib varies (its UUIDs and random ids are for UDF and isohybrid only).
"""

from __future__ import annotations

import os
import re
import stat
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Final, cast

import pycdlib
from pycdlib.dates import DirectoryRecordDate, VolumeDescriptorDate
from pycdlib.pycdlibexception import PyCdlibException
from pycdlib.utils import encode_space_pad

from mediatool import __version__
from mediatool.dicom.fileids import is_level1_directory, is_level1_file
from mediatool.errors import MediaError, MediatoolError, OutputError, PlanRejected
from mediatool.findings import Finding, Severity, finding
from mediatool.model import Progress
from mediatool.writers import folder as staging
from mediatool.writers import isodata

SECTOR: Final = 2048
#: Usable capacity of each medium in bytes (user data, 2048-byte sectors).
#: cd: 80-minute CD-R, the one sold today, 360,000 sectors (737,280,000 bytes, "700 MB");
#: cd74: 74-minute CD-R, 333,000 sectors ("650 MB"), for the older drives that cannot read an
#: 80-minute disc (PS3.12 F.2.1.1 note 1; profiles.md §5.1).
#: dvd: 2,295,104 sectors, the smaller of single-layer DVD+R and DVD-R (2,298,496) ("4.7 GB";
#: profiles.md §5.2, informative). bd: single-layer BD-R, 12,219,392 sectors ("25 GB";
#: profiles.md §5.4, informative); bd-re: the same. dvd-ram: single-sided 4.7 GB DVD-RAM,
#: 2,236,704 sectors (ECMA-330; profiles.md §5.3). usb: no fixed size; the device decides.
MEDIA_CAPACITY: Final[Mapping[str, int | None]] = {
    "cd": 360_000 * SECTOR,
    "cd74": 333_000 * SECTOR,
    "dvd": 2_295_104 * SECTOR,
    "dvd-ram": 2_236_704 * SECTOR,
    "bd": 12_219_392 * SECTOR,
    "bd-re": 12_219_392 * SECTOR,
    "usb": None,
}
_MEDIA_NAMES: Final = {
    "cd": "a CD",
    "cd74": "a 74-minute CD",
    "dvd": "a DVD",
    "dvd-ram": "a DVD-RAM",
    "bd": "a BD",
    "bd-re": "a BD-RE",
}

#: ECMA-119 8.4.6: the Volume Identifier holds up to 32 d-characters.
VOLUME_ID: Final = re.compile(r"^[A-Z0-9_]{0,32}$")
#: PS3.12 F.1.2.1 / ECMA-119 6.8.2.1: at most 8 directory levels, the root being level 1.
MAX_LEVELS: Final = 8
#: Level 1: each file is a single extent, whose length is a 32-bit number.
MAX_FILE_SIZE: Final = 2**32 - 1
#: ECMA-119 8.4.27: Volume Modification Date at BP 831-847 of the PVD (sector 16).
_PVD_MODIFICATION_DATE: Final = 16 * SECTOR + 830
#: ECMA-119 8.4.6: the Volume Identifier at BP 41-72 of the PVD.
_PVD_VOLUME_ID: Final = 16 * SECTOR + 40
_COPY_BLOCK: Final = 1 << 20
DICOMDIR: Final = "DICOMDIR"


@dataclass(frozen=True, slots=True)
class Entry:
    """One directory or file to record: folder-relative components, e.g. ``("DICOM", "PT1")``."""

    parts: tuple[str, ...]
    is_dir: bool
    #: ``stat`` when listed (:func:`isodata.stamp`): the file must be the same when published
    stamp: isodata.Stamp = (0, 0, 0, 0, 0)

    @property
    def size(self) -> int:
        return self.stamp[0]

    @property
    def iso_path(self) -> str:
        """``/DICOM/PT000001`` for a directory, ``/DICOMDIR.;1``, ``/README.TXT;1`` for files."""
        return "/" + "/".join((*self.parts[:-1], _iso_identifier(self.parts[-1], self.is_dir)))

    @property
    def where(self) -> str:
        return "/".join(self.parts)


@dataclass(frozen=True, slots=True)
class FolderScan:
    """What :func:`scan_folder` found: entries in recording order, and the refusals."""

    entries: tuple[Entry, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return all(f.severity < Severity.ERROR for f in self.findings)


@dataclass(frozen=True, slots=True)
class PackResult:
    iso: Path
    size: int  # bytes of the image
    files: int
    directories: int
    volume_id: str
    date: datetime


def _iso_identifier(name: str, is_dir: bool) -> str:
    """The identifier as recorded, which is also pycdlib's sort key within a directory."""
    return name if is_dir else name + ("" if "." in name else ".") + ";1"


def _name_findings(name: str, parts: tuple[str, ...], is_dir: bool) -> list[Finding]:
    if is_dir and not is_level1_directory(name):
        rule = "1 to 8 of A-Z 0-9 _ for a directory"
    elif not is_dir and not is_level1_file(name):
        rule = "1 to 8 of A-Z 0-9 _, optionally '.' and up to 3 more"
    else:
        return []
    message = f"{name!r} cannot be recorded in ISO 9660 Level 1 ({rule})"
    return [finding("media.iso-not-level1", message, "/".join(parts))]


def _entry_findings(parts: tuple[str, ...], st: os.stat_result) -> list[Finding]:
    where, is_dir, is_file = "/".join(parts), stat.S_ISDIR(st.st_mode), stat.S_ISREG(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return [finding("media.special-file", "symbolic link; Level 1 has no links", where)]
    if not (is_file or is_dir):
        return [finding("media.special-file", "not a regular file or folder", where)]
    out = _name_findings(parts[-1], parts, is_dir)
    if is_dir and len(parts) + 1 > MAX_LEVELS:
        level = f"folder at directory level {len(parts) + 1} (root = level 1; 8 allowed)"
        out.append(finding("media.iso-too-deep", level, where))
    if is_file and st.st_size > MAX_FILE_SIZE:
        size = f"{st.st_size} bytes: Level 1 records a file as one extent of < 4 GiB"
        out.append(finding("media.iso-not-level1", size, where))
    if is_file and parts[-1] == DICOMDIR and len(parts) > 1:
        out.append(finding("dicomdir.several", "a second DICOMDIR below the root", where))
    return out


def _children(folder: Path, parts: tuple[str, ...]) -> Iterator[tuple[str, os.stat_result]]:
    with os.scandir(folder.joinpath(*parts)) as it:
        for item in it:
            yield item.name, item.stat(follow_symlinks=False)


def _list_directory(folder: Path, parts: tuple[str, ...]) -> tuple[list[Entry], list[Finding]]:
    """The recordable children of one directory, in identifier order, and the refusals."""
    try:
        listing = list(_children(folder, parts))
    except OSError as exc:
        where = "/".join(parts) or "."
        return [], [finding("media.unreadable", f"cannot list: {exc.strerror}", where)]
    keyed: list[tuple[bytes, Entry]] = []
    found: list[Finding] = []
    for name, st in listing:
        problems = _entry_findings((*parts, name), st)
        found.extend(problems)
        if not any(f.severity >= Severity.ERROR for f in problems):
            is_dir = stat.S_ISDIR(st.st_mode)
            entry = Entry((*parts, name), is_dir, isodata.stamp(st))
            keyed.append((_iso_identifier(name, is_dir).encode(), entry))
    return [entry for _, entry in sorted(keyed, key=lambda k: k[0])], found


def scan_folder(folder: Path) -> FolderScan:
    """List ``folder`` breadth first, children in ISO identifier order, and check each name.

    The order is the one pycdlib uses to assign extents, so adding in this order makes the
    image be written front to back.
    """
    entries: list[Entry] = []
    found: list[Finding] = []
    queue: deque[tuple[str, ...]] = deque([()])
    while queue:
        children, problems = _list_directory(folder, queue.popleft())
        entries += children
        found += problems
        queue.extend(e.parts for e in children if e.is_dir)
    has_dicomdir = any(e.parts == (DICOMDIR,) and not e.is_dir for e in entries)
    if not has_dicomdir and not any(f.where == DICOMDIR for f in found):
        found.insert(0, finding("dicomdir.missing", "no DICOMDIR file in the root of the folder"))
    return FolderScan(tuple(entries), tuple(found))


def resolve_date(date: datetime | None) -> datetime:
    """The moment recorded everywhere: ``date``, else ``SOURCE_DATE_EPOCH``, else now.

    A naive ``date`` is taken as UTC. The result is timezone-aware, whole seconds.
    """
    if date is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        if epoch:
            try:
                date = datetime.fromtimestamp(int(epoch), UTC)
            except (ValueError, OverflowError, OSError) as exc:
                raise MediatoolError(
                    f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds since 1970"
                ) from exc
        else:
            date = datetime.now(UTC)
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    offset = date.utcoffset() or timedelta(0)
    quarters, rest = divmod(offset, timedelta(minutes=15))
    if rest or not -48 <= quarters <= 52:  # ECMA-119 8.4.26.1: offset in 15-minute units
        date = date.astimezone(UTC)
    date = date.replace(microsecond=0)
    if not 1900 <= date.year <= 2155:  # ECMA-119 9.1.5: years since 1900 in one byte
        raise MediatoolError(f"the date {date.isoformat()} cannot be recorded (1900 to 2155)")
    return date


def _gmt_quarters(date: datetime) -> int:
    return (date.utcoffset() or timedelta(0)) // timedelta(minutes=15)


def _volume_date(date: datetime | None) -> VolumeDescriptorDate:
    """ECMA-119 8.4.26.1 date, or the all-zero "not specified" date for ``None``."""
    vd = VolumeDescriptorDate()
    if date is None:
        vd.parse(VolumeDescriptorDate.EMPTY_STRING)
    else:
        text = date.strftime("%Y%m%d%H%M%S").encode() + b"00"
        vd.parse(text + _gmt_quarters(date).to_bytes(1, "little", signed=True))
    return vd


def _record_date(date: datetime) -> DirectoryRecordDate:
    """ECMA-119 9.1.5 date of a directory record."""
    dr = DirectoryRecordDate()
    dr.parse(
        bytes([date.year - 1900, date.month, date.day, date.hour, date.minute, date.second])
        + _gmt_quarters(date).to_bytes(1, "little", signed=True)
    )
    return dr


def _stamp(image: pycdlib.PyCdlib, date: datetime) -> None:
    """Replace pycdlib's wall-clock dates (all records, the PVD) by ``date``."""
    pvd = image.pvd
    pvd.volume_creation_date = _volume_date(date)
    pvd.volume_modification_date = _volume_date(date)
    pvd.volume_effective_date = _volume_date(date)
    pvd.volume_expiration_date = _volume_date(None)
    stack = [pvd.root_directory_record()]
    while stack:
        record = stack.pop()
        record.date = _record_date(date)
        # The root's identifier is 00H like a "." record's: test is_root first.
        if record.is_root or (record.is_dir() and not (record.is_dot() or record.is_dotdot())):
            stack.extend(record.children)


def _human(size: int) -> str:
    """Disc labels' units: "650 MB" (MiB) below 1 GB, "4.7 GB" (10^9) above."""
    return f"{size / 2**20:.0f} MB" if size < 10**9 else f"{size / 10**9:.1f} GB"


def check_capacity(size: int, capacity: int | None) -> None:
    """Raise :class:`OutputError` when an image of ``size`` bytes exceeds ``capacity``."""
    if capacity is None or size <= capacity:
        return
    medium = next((k for k, v in MEDIA_CAPACITY.items() if v == capacity), None)
    holds = f"{_MEDIA_NAMES[medium]} holds" if medium in _MEDIA_NAMES else "the medium holds"
    need, have = _human(size), _human(capacity)
    if need == have or capacity < 2**20:  # "needs 1 MB; holds 0 MB" would say nothing
        need, have = f"{size} bytes", f"{capacity} bytes"
    # the media a refusal suggests, smallest first (cd74 is a choice for old drives, not advice)
    sized = sorted(
        (v, k)
        for k, v in MEDIA_CAPACITY.items()
        if v is not None and k not in ("cd74", "dvd-ram", "bd-re")
    )
    bigger = [k for v, k in sized if v >= size]
    advice = (
        f": use --media {bigger[0]}" if bigger else ": split the studies over several File-sets"
    )
    raise OutputError(f"the File-set needs {need}; {holds} {have}{advice}")


def application_id() -> str:
    """ECMA-119 8.4.14 a-characters only (no lower case): ``MEDIATOOL 0.1.0``."""
    return "MEDIATOOL " + re.sub(r"[^A-Z0-9_ .+-]", "_", __version__.upper())


def _master(folder: Path, scan: FolderScan, volume_id: str, date: datetime) -> pycdlib.PyCdlib:
    image = pycdlib.PyCdlib()
    image.new(
        interchange_level=1, sys_ident="", vol_ident=volume_id, app_ident_str=application_id()
    )
    for entry in scan.entries:
        if entry.is_dir:
            image.add_directory(iso_path=entry.iso_path)
        else:  # the bytes are copied by isodata.fill (module docstring)
            # pycdlib only calls seek() and read() on it
            blank = cast(BinaryIO, isodata.Placeholder(entry))
            image.add_fp(blank, entry.size, iso_path=entry.iso_path)
    _stamp(image, date)
    image.force_consistency()  # assigns the extents: the image size is now exact
    return image


def _check_volume_id(volume_id: str) -> None:
    if not VOLUME_ID.match(volume_id):
        raise MediatoolError(
            f"volume identifier {volume_id!r} is not 0-32 of A-Z 0-9 _ (ECMA-119 8.4.6)"
        )


def _name(fp: BinaryIO, volume_id: VolumeId) -> str:
    """Record the Volume Identifier in the image written with a blank one, as
    ``new(vol_ident=...)`` would have: a fixed field of the PVD (ECMA-119 8.4.6), on which
    nothing else in the image depends. Returns it."""
    name = volume_id if isinstance(volume_id, str) else volume_id()
    _check_volume_id(name)
    fp.seek(_PVD_VOLUME_ID)
    fp.write(encode_space_pad(name.encode(), 32, "ascii"))
    return name


def _extents(folder: Path, image: pycdlib.PyCdlib) -> list[isodata.Extent]:
    """Where each file's bytes go in the image (from pycdlib's inodes), in image order."""
    root = os.fspath(folder)
    out = []
    for ino in image.inodes:
        blank = ino.data_fp
        if isinstance(blank, isodata.Placeholder) and isinstance(blank.entry, Entry):
            entry = blank.entry
            out.append(
                isodata.Extent(
                    f"{root}/{entry.where}",
                    entry.where,
                    ino.extent_location() * SECTOR,
                    entry.size,
                    entry.stamp,
                )
            )
    return sorted(out, key=lambda e: e.offset)


def _temporary(iso: Path) -> tuple[int, Path]:
    """A new file beside ``iso`` (same file system: publishing is a rename), umask applied,
    after the stale leftovers of interrupted runs are cleared (:mod:`mediatool.writers.folder`)."""
    staging.sweep(iso)
    return staging.open_file(iso)


@dataclass(slots=True)
class _Layout:
    """What the copying thread learns when it has mastered the image."""

    size: int = 0  # bytes of the image
    data: int = 0  # bytes of file data in it
    volume_id: str = ""
    fp: BinaryIO | None = None  # the image being written, beside its final name
    tmp: Path | None = None


def _progress_adapter(progress: Progress | None, layout: _Layout) -> Callable[[int], None] | None:
    """Bytes of file data copied → our sink in bytes of the image, at most ~200 calls a run
    (the descriptors and directory records are written before the first call)."""
    if progress is None:
        return None
    last = -1

    def on_progress(copied: int) -> None:
        nonlocal last
        done, size = layout.size - layout.data + copied, layout.size
        step = max(size // 200, 1)
        if done == size or done // step != last:
            last = done // step
            progress(done, size, "Writing ISO image")

    return on_progress


#: The Volume Identifier, or how to learn it: called when the check has passed and the files
#: are copied, so nothing waits for whatever finds it (``mediatool iso``: the check process
#: reads the File-set ID).
VolumeId = str | Callable[[], str]


@dataclass(frozen=True, slots=True)
class _Job:
    folder: Path
    scan: FolderScan
    volume_id: VolumeId
    date: datetime
    capacity: int | None


def _write(
    job: _Job, iso: Path, progress: Progress | None, check: Callable[[], object] | None
) -> _Layout:
    """Master and write the image at ``iso``. The copying thread lays it out, refuses it when
    it does not fit (then nothing was created; ``check``'s refusal is raised first), writes
    pycdlib's part, then the files' bytes, while ``check`` runs here; then the Volume
    Identifier is recorded (:func:`_name`)."""
    layout = _Layout()

    def prepare() -> tuple[int, list[isodata.Extent]]:  # in the copying thread
        image = _master(job.folder, job.scan, "", job.date)
        layout.size = image.pvd.space_size * SECTOR
        check_capacity(layout.size, job.capacity)
        iso.parent.mkdir(parents=True, exist_ok=True)
        fd, layout.tmp = _temporary(iso)
        layout.fp = fp = os.fdopen(fd, "wb")
        image.write_fp(fp, blocksize=_COPY_BLOCK)  # all but the files' bytes
        # pycdlib takes the Volume Modification Date from the clock in record().
        fp.seek(_PVD_MODIFICATION_DATE)
        fp.write(_volume_date(job.date).record())
        fp.flush()
        fp.truncate(layout.size)  # the last extent may be a file's
        extents = _extents(job.folder, image)
        layout.data = sum(e.size for e in extents)
        return fp.fileno(), extents

    try:
        isodata.fill(prepare, check, _progress_adapter(progress, layout))
        assert layout.fp is not None and layout.tmp is not None
        layout.volume_id = _name(layout.fp, job.volume_id)
        layout.fp.close()
        layout.tmp.replace(iso)
    except BaseException:
        if layout.fp is not None:
            layout.fp.close()
        if layout.tmp is not None:
            layout.tmp.unlink(missing_ok=True)
        raise
    return layout


def check_target(folder: Path, iso: Path, force: bool) -> None:
    """Refuse an image inside the folder it packs, a folder, or an existing file (no --force)."""
    if iso.resolve().is_relative_to(folder.resolve()):
        raise OutputError(
            f"the image {str(iso)!r} would be inside the folder it packs; write it elsewhere"
        )
    if iso.is_dir():
        raise OutputError(f"{str(iso)!r} is a folder; give the name of the image file")
    if iso.exists() and not force:
        raise OutputError(f"{str(iso)!r} exists", hint="use --force to replace it")


def image_size(folder: Path, volume_id: str = "") -> int | None:
    """Exact size in bytes of the image :func:`pack` would write (None: not recordable)."""
    scan = scan_folder(Path(folder))
    if not scan.ok:
        return None
    try:
        image = _master(Path(folder), scan, volume_id, resolve_date(None))
    except PyCdlibException:
        return None
    return int(image.pvd.space_size) * SECTOR


def _packable(
    folder: Path, iso: Path, volume_id: VolumeId, force: bool, scan: FolderScan | None
) -> FolderScan:
    """The checks before anything is written: the volume identifier (when known), the folder,
    the target, names Level 1 can record (:func:`pack` says what each raises)."""
    if isinstance(volume_id, str):
        _check_volume_id(volume_id)
    return packable(folder, iso, force, "an ISO 9660 Level 1 File-set (PS3.12 F.2.2)", scan)


def packable(
    folder: Path, image: Path, force: bool, as_what: str, scan: FolderScan | None = None
) -> FolderScan:
    """The checks every image writer makes before writing (ISO 9660, UDF, FAT): ``folder``
    exists, ``image`` may be written, every name fits the File-set (``as_what`` says which,
    in the refusal)."""
    if not folder.is_dir():
        raise MediaError(f"{str(folder)!r} is not a folder")
    check_target(folder, image, force)
    scan = scan_folder(folder) if scan is None else scan
    if not scan.ok:
        raise PlanRejected(
            f"{str(folder)!r} cannot be recorded as {as_what}; nothing was written",
            scan.findings,
        )
    return scan


def pack(  # noqa: PLR0913 - keyword options of one call
    folder: Path,
    iso: Path,
    *,
    volume_id: VolumeId,
    date: datetime | None,
    capacity: int | None,
    progress: Progress | None = None,
    force: bool = False,
    scan: FolderScan | None = None,
    check: Callable[[], object] | None = None,
) -> PackResult:
    """Write ``folder`` (a File-set root) as an ISO 9660 Level 1 image at ``iso``.

    ``volume_id`` is the File-set ID (PS3.12 F.1.1), or a function that returns it (called once
    the check has passed and the files are copied; what it raises is raised here); ``date``
    goes into every date field (``None``: ``SOURCE_DATE_EPOCH``, else now); ``capacity`` is
    what the medium holds in bytes (:data:`MEDIA_CAPACITY`, ``None``: no limit); ``force``
    replaces an existing ``iso``. The image is written beside ``iso`` and renamed into place
    when complete. ``scan`` is
    :func:`scan_folder`'s result when the caller has it. ``check`` runs while the files are
    copied (it refuses by raising; it also runs, first, when the image does not fit, so that
    its refusal wins), and the image is published only when it returns.

    Raises
    ------
    PlanRejected
        The folder holds something Level 1 cannot record (the findings name every path).
    OutputError
        The image does not fit ``capacity``; ``iso`` exists (without ``force``), lies inside
        ``folder`` or cannot be written.
    MediaError
        A file of ``folder`` changed while the image was made.
    """
    folder, iso = Path(folder), Path(iso)
    moment = resolve_date(date)
    scan = _packable(folder, iso, volume_id, force, scan)
    try:
        layout = _write(_Job(folder, scan, volume_id, moment, capacity), iso, progress, check)
    except PyCdlibException as exc:
        raise OutputError(f"pycdlib refused the image: {exc}") from exc
    except OSError as exc:
        raise OutputError(f"writing {str(iso)!r} failed: {exc}") from exc
    return PackResult(
        iso=iso,
        size=layout.size,
        files=sum(1 for e in scan.entries if not e.is_dir),
        directories=sum(1 for e in scan.entries if e.is_dir),
        volume_id=layout.volume_id,
        date=moment,
    )
