"""Read a File-set from a zip archive; members are read through the reader, never extracted.

Members whose names leave the archive root (absolute, drive letter, ``..``), links, encrypted
members and members that would inflate beyond a limit (zip bombs) are reported and never opened
(checklist I02). Backslashes in member names (archives made on Windows) are read as separators.

These are the only zip rules: ``validate`` and ``import`` read media with :class:`ZipReader`,
``build`` lists its zip inputs with it and reads their members with :class:`ZipMembers` (issue
13: build and validate used to disagree about the same archive).
"""

from __future__ import annotations

import errno
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final, cast

from mediatool.errors import MediaError
from mediatool.findings import Finding, finding
from mediatool.limits import (
    ZIP_MEMBER_LIMIT,
    ZIP_RATIO_FLOOR,
    ZIP_RATIO_LIMIT,
    ZIP_SPOOL_LIMIT,
)
from mediatool.media.base import IndexedReader, MediaEntry, unsafe_component

#: A member inflating to more than this many bytes is not read.
MEMBER_LIMIT: Final = ZIP_MEMBER_LIMIT
#: A member inflating more than this ratio (and above RATIO_FLOOR) is not read.
RATIO_LIMIT: Final = ZIP_RATIO_LIMIT
RATIO_FLOOR: Final = ZIP_RATIO_FLOOR
SPOOL_LIMIT: Final = ZIP_SPOOL_LIMIT
_CHUNK: Final = 1024**2
_SUPPORTED: Final = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_NO_SPACE: Final = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_UNIX: Final = 3  # ZipInfo.create_system: external_attr carries st_mode in its high 16 bits
#: Local file header, and the end of central directory of an empty archive.
ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")


def looks_like_zip(path: str | Path) -> bool:
    """True when the file starts like a zip archive (magic bytes, not the name)."""
    try:
        with Path(path).open("rb") as fp:
            return fp.read(4) in ZIP_MAGIC
    except OSError:
        return False


def safe_member_name(name: str) -> bool:
    """Reject absolute names, drive letters and ``..`` components (zip path traversal)."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return bool(parts) and not posix.startswith("/") and ".." not in parts and ":" not in parts[0]


class ZipReader(IndexedReader):
    """A zip archive as a medium.

    Raises
    ------
    MediaError
        When the archive cannot be opened or its central directory is corrupt.
    """

    kind = "zip"

    def __init__(
        self,
        path: str | Path,
        *,
        member_limit: int = MEMBER_LIMIT,
        ratio_limit: float = RATIO_LIMIT,
        ratio_floor: int = RATIO_FLOOR,
        spool_limit: int = SPOOL_LIMIT,
    ) -> None:
        super().__init__(str(path))
        self._spool_limit = spool_limit
        self._member_limit = member_limit
        self._ratio_limit = ratio_limit
        self._ratio_floor = ratio_floor
        self._archive = _open_archive(path, self.name)
        #: entry path → the member it was listed from (the first one of that name)
        self._members: dict[str, zipfile.ZipInfo] = {}
        self._set_entries(self._list())

    def _list(self) -> list[MediaEntry]:
        found: list[MediaEntry] = []
        for info in self._archive.infolist():  # archive order: of two equal names the first wins
            if info.is_dir():
                continue
            refusal = self._refusal(info)
            if refusal is not None:
                self._findings.append(refusal)
                continue
            path = info.filename.replace("\\", "/")
            self._members.setdefault(path, info)
            found.append(MediaEntry(path, info.filename, info.file_size))
        return found

    def _refusal(self, info: zipfile.ZipInfo) -> Finding | None:
        """Why a member is not read, or None."""
        return member_refusal(
            info,
            member_limit=self._member_limit,
            ratio_limit=self._ratio_limit,
            ratio_floor=self._ratio_floor,
        )

    def open(self, entry: MediaEntry) -> BinaryIO:
        """The member's content, read (within the limit) into a seekable stream.

        Raises ``OSError`` when the member is corrupt, grows past the limit, or is not listed.
        """
        known = self._known(entry)
        info = self._members[known.path]
        return spool_member(
            self._archive, info, member_limit=self._member_limit, spool_limit=self._spool_limit
        )

    def close(self) -> None:
        self._archive.close()


class ZipMembers:
    """Members of zip archives opened by archive path and member name, each archive opened once
    while this is open (a central directory is parsed once, not once per member). The same
    rules as :class:`ZipReader`: a member it would refuse is refused here too.
    """

    def __init__(self) -> None:
        #: archive path → the open archive and its members by name (the first of equal names,
        #: as :class:`ZipReader` lists them; ``ZipFile.getinfo`` would give the last)
        self._archives: dict[str, tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]] = {}

    def _archive(self, path: str) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
        known = self._archives.get(path)
        if known is None:
            try:
                archive = _open_archive(path, path)
            except MediaError as exc:
                raise OSError(str(exc)) from exc
            members: dict[str, zipfile.ZipInfo] = {}
            for info in archive.infolist():
                members.setdefault(info.filename, info)
            known = self._archives[path] = (archive, members)
        return known

    def open(self, path: str, name: str) -> BinaryIO:
        """The member ``name`` (as recorded) of the archive at ``path``, spooled.

        Raises ``OSError`` when the archive or the member cannot be read or is refused.
        """
        archive, members = self._archive(path)
        info = members.get(name)
        if info is None:
            raise OSError(f"zip archive {path!r} has no member {name!r}")
        refusal = member_refusal(info)
        if refusal is not None:
            raise OSError(f"zip member {name!r} is not read: {refusal.message}")
        return spool_member(archive, info)

    def close(self) -> None:
        archives, self._archives = self._archives, {}
        for archive, _ in archives.values():
            archive.close()

    def __enter__(self) -> ZipMembers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def member_refusal(
    info: zipfile.ZipInfo,
    *,
    member_limit: int = MEMBER_LIMIT,
    ratio_limit: float = RATIO_LIMIT,
    ratio_floor: int = RATIO_FLOOR,
) -> Finding | None:
    """Why a member is not read (unsafe name, link, special file, encrypted or unsupported
    compression, inflating beyond a limit), or None."""
    name = info.filename
    path = name.replace("\\", "/")
    if not safe_member_name(name) or any(unsafe_component(c) for c in path.split("/")):
        return finding("media.unsafe-name", f"member name {name!r} leaves the archive root", name)
    kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == _UNIX else 0
    if kind == stat.S_IFLNK:
        return finding("media.link-not-followed", "member is a symbolic link", path)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return finding("media.special-file", f"member has file type {kind:#o}", path)
    if info.flag_bits & 0x1 or info.compress_type not in _SUPPORTED:
        return finding(
            "media.zip-member-unsupported",
            f"member is encrypted or compressed with method {info.compress_type}",
            path,
        )
    size, compressed = info.file_size, info.compress_size
    problem = None
    if size > member_limit:
        problem = f"member inflates to {size} bytes, more than the limit of {member_limit}"
    elif size > ratio_floor and size > ratio_limit * max(compressed, 1):
        problem = (
            f"member inflates to {size} bytes from {compressed}, "
            f"a ratio above the limit of {ratio_limit:g}"
        )
    return None if problem is None else finding("media.zip-too-large", problem, path)


def spool_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    *,
    member_limit: int = MEMBER_LIMIT,
    spool_limit: int = SPOOL_LIMIT,
) -> BinaryIO:
    """The member's content, inflated (at most ``member_limit`` bytes, whatever its header
    says) into a seekable stream: in memory up to ``spool_limit``, else a temporary file.

    Raises ``OSError`` when the member is corrupt, grows past the limit or cannot be spooled.
    """
    # returned open to the caller, who closes it; closed here only on failure
    spool = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115 - see above
    try:
        _copy_member(archive, info, spool, member_limit)
        spool.seek(0)
    except OSError as exc:
        spool.close()
        if exc.errno not in _NO_SPACE:
            raise
        raise OSError(
            f"cannot spool zip member {info.filename!r} into the temporary folder "
            f"{tempfile.gettempdir()!r}: {exc.strerror} (set TMPDIR to a folder with space)"
        ) from exc
    except Exception as exc:
        # zipfile and its decompressors raise many types on corrupt data (BadZipFile,
        # zlib.error, EOFError, LZMAError, ...): all mean "this member cannot be read"
        spool.close()
        raise OSError(f"zip member {info.filename!r} is damaged: {exc}") from exc
    return cast(BinaryIO, spool)


def _copy_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    out: tempfile.SpooledTemporaryFile[bytes],
    member_limit: int,
) -> None:
    total = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            total += len(chunk)
            if total > member_limit:
                raise OSError(f"zip member {info.filename!r} inflates past the limit")
            out.write(chunk)


def _open_archive(path: str | Path, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except OSError as exc:
        raise MediaError(f"cannot read zip archive {name!r}: {exc.strerror or exc}") from exc
    except Exception as exc:
        # BadZipFile for a damaged central directory; hostile archives can also make zipfile
        # raise ValueError, EOFError or struct.error
        raise MediaError(f"cannot read zip archive {name!r}: {exc}") from exc
