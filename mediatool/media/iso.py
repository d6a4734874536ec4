"""Read a File-set from an ISO 9660 image in place, with pycdlib (no mounting, no extraction).

Only the primary ISO 9660 hierarchy is read (PS3.12 F.1.2.1: the File IDs map onto it; Joliet,
Rock Ridge and UDF trees are merely noted). An entry's ``path`` drops the version (``;1``) and the
trailing ``.`` (``DICOM/PT1/IM1.;1`` → ``DICOM/PT1/IM1``); ``raw_name`` keeps them.

Content is read straight from the image: :meth:`IsoReader.open` returns a buffered view of the
file's byte runs (``PyCdlib.get_file_byte_extents``), so memory does not grow with the image.
"""

from __future__ import annotations

import bisect
import io
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, cast

import pycdlib
from pycdlib.dr import DirectoryRecord
from pycdlib.pycdlibexception import PyCdlibException

from mediatool.dicom.fileids import is_level1_directory, is_level1_file
from mediatool.errors import MediaError
from mediatool.findings import Finding, finding
from mediatool.media.base import (
    DamagedMedia,
    IndexedReader,
    MediaEntry,
    strip_iso_version,
    unsafe_component,
)
from mediatool.media.iso9660 import Extents, directory_extents

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: Deepest directory level allowed, the root being level 1 (PS3.12 F.1.2.1; ISO 9660 §6.8.2.1).
MAX_LEVELS: Final = 8
#: ISO 9660 Level 1 (§10.1): d-characters, names 8.3, directory identifiers up to 8 characters.
#: PS3.12 F.2.2.1: System Identifier blank unless a CD-I application is present.
_CD_BRIDGE: Final = "CD-RTOS CD-BRIDGE"
#: File Flags (ISO 9660 §9.1.6)
_HIDDEN, _ASSOCIATED, _RECORD, _PROTECTION, _MULTI_EXTENT = 0x01, 0x04, 0x08, 0x10, 0x80


class IsoReader(IndexedReader):
    """An ISO 9660 image as a medium.

    ``volume_id`` and ``system_id`` are the Primary Volume Descriptor's Volume Identifier and
    System Identifier with trailing spaces stripped.

    Raises
    ------
    MediaError
        When the image cannot be opened or pycdlib cannot parse it.
    """

    kind = "iso"

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path))
        self._image = _open_image(path, self.name)
        self._iso = pycdlib.PyCdlib()
        try:
            self._iso.open_fp(self._image)
            self._closed = False
            self._read()
        except Exception as exc:
            # pycdlib parses hostile bytes: any failure (PyCdlibException, OSError, KeyError,
            # struct.error, ...) means a damaged image, said in words
            damaged = _damaged(self._image, self.name, exc)
            self._image.close()
            raise damaged from exc

    def _read(self) -> None:
        pvd = self._iso.pvd
        self.volume_id: str | None = _text(pvd.volume_identifier).rstrip(" ")
        self.system_id: str = _text(pvd.system_identifier).rstrip(" ")
        self._findings.extend(self._volume_findings())
        self._block = int(pvd.logical_block_size())
        #: entry path → the file's byte runs in the image, as its directory record says
        self._runs: dict[str, list[tuple[int, int]]] = {}
        #: entry path → why it is never read (its extent leaves the image or overlaps another)
        self._refused: dict[str, str] = {}
        self._size = _image_size(self._image)
        self._extents: Extents = {}
        self._set_entries(self._walk())
        self._check_extents(self._size)

    # --- listing -------------------------------------------------------------------------------

    def _volume_findings(self) -> list[Finding]:
        out: list[Finding] = []
        if self.system_id.strip(" \x00") and self.system_id != _CD_BRIDGE:
            out.append(finding("media.iso-system-id", f"System Identifier is {self.system_id!r}"))
        trees = [
            name
            for present, name in (
                (self._iso.has_joliet(), "Joliet"),
                (self._iso.has_rock_ridge(), "Rock Ridge"),
                (self._iso.has_udf(), "UDF"),
            )
            if present
        ]
        if trees:
            out.append(
                finding(
                    "media.iso-extensions",
                    f"the image also carries {', '.join(trees)}; only ISO 9660 names are read",
                )
            )
        return out

    def _walk(self) -> list[MediaEntry]:
        root = self._iso.get_record(iso_path="/")
        if not isinstance(root, DirectoryRecord):  # pragma: no cover - pycdlib contract
            raise MediaError(f"cannot read ISO image {self.name!r}: no root directory")
        found: list[MediaEntry] = []
        pending: list[tuple[DirectoryRecord, str, int]] = [(root, "", 1)]
        while pending:
            directory, rel, level = pending.pop()
            self._extents = directory_extents(
                self._image,
                directory.extent_location(),
                directory.get_data_length(),
                self._block,
                self._size,
            )
            for child in directory.children:
                if child.is_dot() or child.is_dotdot() or child.file_flags & _ASSOCIATED:
                    continue  # associated files are resource forks of the file of that name
                identifier: bytes = child.file_identifier()
                raw = _name(identifier)
                if raw is None or unsafe_component(raw) or unsafe_component(strip_iso_version(raw)):
                    self._report(
                        "media.unsafe-name", f"identifier {identifier!r} is not usable", rel or None
                    )
                    continue
                where = f"{rel}/{raw}" if rel else raw
                if child.is_dir():
                    self._check_directory(raw, where, level + 1)
                    pending.append((child, where, level + 1))
                else:
                    entry = self._file(child, raw, rel)
                    if entry is not None:
                        found.append(entry)
        return found

    def _check_directory(self, raw: str, where: str, level: int) -> None:
        if not is_level1_directory(raw):
            self._report(
                "media.iso-not-level1",
                f"directory identifier {raw!r} is not 1-8 d-characters (A-Z 0-9 _)",
                where,
            )
        if level == MAX_LEVELS + 1:  # reported once, at the first level too deep
            self._report(
                "media.iso-too-deep",
                f"directory is at level {level} (root = 1, at most {MAX_LEVELS})",
                where,
            )

    def _file(self, record: DirectoryRecord, raw: str, rel: str) -> MediaEntry | None:
        path = f"{rel}/{strip_iso_version(raw)}" if rel else strip_iso_version(raw)
        if record.rock_ridge is not None and record.rock_ridge.is_symlink():
            self._report("media.link-not-followed", "Rock Ridge symbolic link", path)
            return None
        for code, message in _name_problems(raw) + _record_problems(record):
            self._report(code, message, path)
        raw_path = f"{rel}/{raw}" if rel else raw
        runs = self._extents.get(record.file_identifier()) or _record_runs(record, self._block)
        runs = [(offset, length) for offset, length in runs if length]
        self._runs.setdefault(path, runs)
        # the bytes the image holds (a Data Length past the end is refused, not counted)
        size = sum(max(0, min(offset + length, self._size) - offset) for offset, length in runs)
        return MediaEntry(path, raw_path, size)

    def _check_extents(self, image_size: int) -> None:
        """I02 for ISO images: a file is read only from its own extent, inside the image.

        An extent past the end would make the reader return whatever follows (or nothing); two
        files sharing bytes would give one patient's file another's content. Both are refused.
        """
        spans: list[tuple[int, int, str]] = []
        for entry in self._index:
            for offset, length in self._runs.get(entry.path, []):
                if offset + length > image_size:
                    self._refuse(
                        "media.iso-extent-outside",
                        entry.path,
                        f"the file's extent (bytes {offset}-{offset + length - 1}) ends beyond "
                        f"the image's {image_size} bytes",
                    )
                else:  # a claimed extent past the end is refused already, not compared
                    spans.append((offset, offset + length, entry.path))
        spans.sort()
        reach, owner = -1, ""
        for start, end, path in spans:
            if start < reach and path != owner:
                # also an extent recorded twice (a hard link, or a forged record): one file's
                # bytes would be read as another's, so neither is read
                message = f"the file's extent shares bytes {start}-{min(end, reach) - 1} with"
                self._refuse("media.iso-extent-overlap", path, f"{message} {owner!r}")
                self._refuse("media.iso-extent-overlap", owner, f"{message} {path!r}")
            if end > reach:
                reach, owner = end, path

    def _refuse(self, code: str, path: str, message: str) -> None:
        if path not in self._refused:
            self._refused[path] = message
            self._report(code, f"{message}; the file is not read", path)

    def _report(self, code: str, message: str, where: str | None) -> None:
        self._findings.append(finding(code, message, where))

    # --- reading -------------------------------------------------------------------------------

    def open(self, entry: MediaEntry) -> BinaryIO:
        """A seekable view of the file inside the image (nothing is copied).

        Raises ``OSError`` when the entry is not one of this image's or cannot be located.
        """
        if self._closed:
            raise OSError(f"ISO image {self.name!r} is closed")
        known = self._known(entry)
        refused = self._refused.get(known.path)
        if refused is not None:
            raise OSError(refused)
        runs = self._runs[known.path]
        # Not wrapped in io.BufferedReader: pydicom takes any BufferedReader for a file on disk
        # it may reopen by ``.name``. The image file underneath is buffered already.
        return cast(BinaryIO, _ExtentReader(self._image, runs))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._iso.close()
            self._image.close()


#: pycdlib's messages (a part of each) → what is wrong with the image, in words.
_PLAIN: Final = (
    ("padding", "a volume descriptor has bytes where ISO 9660 requires zeros"),
    ("not zero", "a volume descriptor has bytes where ISO 9660 requires zeros"),
    ("endian", "a number recorded in both byte orders has two different values"),
    ("volume descriptor", "a volume descriptor is damaged or missing"),
    ("path table", "the path table (the list of folders) is damaged"),
    ("directory record", "a directory record is damaged"),
    ("extent", "a directory or file points to a place that does not exist"),
)
_ASK: Final = "Ask the sender for a new disc, or copy the original disc again."
_PVD: Final = 16 * 2048


def _damaged(image: BinaryIO, name: str, exc: Exception) -> DamagedMedia:
    """The error for an image that cannot be parsed: what is wrong, in words, and what to do."""
    shown = str(exc) or type(exc).__name__
    plain = _truncation(image)
    if plain is None:
        lowered = shown.lower()
        plain = next(
            (words for key, words in _PLAIN if key in lowered),
            "its ISO 9660 structures (volume descriptors, path table, directories) are damaged",
        )
    kind = type(exc)
    detail = (
        shown
        if isinstance(exc, (PyCdlibException, OSError))
        else f"{kind.__module__}.{kind.__qualname__}: {shown}"
    )
    message = f"{plain} (pycdlib: {detail})"
    found = finding("media.iso-damaged", f"the image cannot be read: {message}")
    return DamagedMedia(
        f"cannot read ISO image {name!r}: the image is damaged: {message}", found, hint=_ASK
    )


def _truncation(image: BinaryIO) -> str | None:
    """ "the image is truncated" when it is shorter than its Primary Volume Descriptor says
    (Volume Space Size x Logical Block Size, ISO 9660 8.4.8 and 8.4.12)."""
    try:
        size = _image_size(image)
        image.seek(_PVD)
        pvd = image.read(2048)
    except OSError:
        return None
    if len(pvd) < 130:
        return f"the image ends before its volume descriptor ({size} bytes): it is truncated"
    blocks = int.from_bytes(pvd[80:84], "little")
    block = int.from_bytes(pvd[128:130], "little")
    if blocks != int.from_bytes(pvd[84:88], "big") or block != int.from_bytes(pvd[130:132], "big"):
        return None  # the sizes themselves are damaged: not evidence of a truncation
    expected = blocks * block
    if size < expected:
        return (
            f"the image has {size} of the {expected} bytes its volume descriptor declares: "
            "it is truncated"
        )
    return None


def _record_runs(record: DirectoryRecord, block: int) -> list[tuple[int, int]]:
    """The (byte offset, length) runs of a file, following multi-extent continuations (as
    ``PyCdlib.get_file_byte_extents`` does, without a path lookup per file)."""
    runs: list[tuple[int, int]] = []
    rec: DirectoryRecord | None = record
    while rec is not None and rec.data_length:
        start = rec.inode.extent_location() if rec.inode is not None else rec.extent_location()
        runs.append(((start + rec.data_extent_offset) * block, rec.data_length))
        rec = rec.data_continuation
    return runs


def _image_size(image: BinaryIO) -> int:
    image.seek(0, io.SEEK_END)
    return image.tell()


def _open_image(path: str | Path, name: str) -> BinaryIO:
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise MediaError(f"cannot read ISO image {name!r}: {exc.strerror}") from exc


def _text(value: bytes) -> str:
    """Volume Descriptor text: a-/d-characters in theory, anything in the wild."""
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _name(identifier: bytes) -> str | None:
    """A directory record's File Identifier as text; None when it is not UTF-8 (hostile)."""
    try:
        return identifier.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _name_problems(raw: str) -> list[tuple[str, str]]:
    """A03 (Level 1 8.3 d-characters) and A04 (``NAME.EXT;1`` form) for one file identifier."""
    stem, semicolon, version = raw.rpartition(";")
    if not semicolon:
        stem, version = raw, ""
    dot = "." in stem
    out: list[tuple[str, str]] = []
    form = []
    if not dot:
        form.append("no '.' separator")
    if not semicolon:
        form.append("no version ';1'")
    elif version != "1":
        form.append(f"version {version!r} instead of 1")
    if form:
        out.append(("media.iso-name-form", f"file identifier {raw!r} has {' and '.join(form)}"))
    if not is_level1_file(stem):
        out.append(
            ("media.iso-not-level1", f"file identifier {raw!r} is not 8.3 d-characters (A-Z 0-9 _)")
        )
    return out


def _record_problems(record: DirectoryRecord) -> list[tuple[str, str]]:
    """A03 (single extent), A07 (no Extended Attribute Record, flag bits 3/4 clear), I03."""
    flags: int = record.file_flags
    out: list[tuple[str, str]] = []
    if flags & _MULTI_EXTENT:
        out.append(("media.iso-not-level1", "file is recorded in more than one extent"))
    if record.xattr_len or flags & (_RECORD | _PROTECTION):
        out.append(
            (
                "media.iso-file-attributes",
                f"Extended Attribute Record length {record.xattr_len}, File Flags {flags:#04x}",
            )
        )
    if flags & _HIDDEN:
        out.append(("media.hidden-file", "file is recorded as hidden (File Flags bit 0)"))
    return out


class _ExtentReader(io.RawIOBase):
    """Read-only, seekable view of a file's byte runs inside the image file.

    Each read seeks the shared image file first, so several views can be open at once.
    """

    def __init__(self, image: BinaryIO, runs: list[tuple[int, int]]) -> None:
        super().__init__()
        self._image = image
        self._runs = runs
        self._starts = [0, *accumulate(length for _, length in runs)]
        self._length = self._starts[-1]
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise ValueError(f"invalid whence {whence!r}")
        base = (0, self._pos, self._length)[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Fill ``buffer`` as far as the file goes (across runs), so reads are never short
        before the end of the file, unless the image itself is truncated."""
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._length:
            index = bisect.bisect_right(self._starts, self._pos) - 1
            offset, length = self._runs[index]
            within = self._pos - self._starts[index]
            self._image.seek(offset + within)
            data = self._image.read(min(len(view) - done, length - within))
            if not data:
                break  # the image ends before the file does
            view[done : done + len(data)] = data
            done += len(data)
            self._pos += len(data)
        return done
