"""Expand the inputs a user names (files, folders, zip archives) into :class:`SourceRef` values.

Folders are walked recursively in sorted order; zip archives are opened and their members listed
(never extracted). Foreign input is hostile input: zip member names that leave the archive root and
members that would inflate beyond a limit are reported and not read; symbolic links inside a
folder are not followed out of it.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from mediatool.errors import SourceError
from mediatool.findings import Finding, finding
from mediatool.limits import ZIP_MEMBER_LIMIT, ZIP_RATIO_LIMIT
from mediatool.model import SourceRef


def is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as fp:
            return fp.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def safe_member_name(name: str) -> bool:
    """Reject absolute names, drive letters and ``..`` components (zip path traversal)."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return bool(parts) and not posix.startswith("/") and ".." not in parts and ":" not in parts[0]


def _zip_members(path: Path) -> Iterator[SourceRef | Finding]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield finding("source.unreadable", f"cannot open zip archive: {exc}", str(path))
        return
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            if info.is_dir():
                continue
            where = f"{path}!{info.filename}"
            if not safe_member_name(info.filename):
                yield finding(
                    "source.zip-unsafe-member",
                    f"member name {info.filename!r} leaves the archive root",
                    where,
                )
            elif info.file_size > ZIP_MEMBER_LIMIT or (
                info.compress_size and info.file_size / info.compress_size > ZIP_RATIO_LIMIT
            ):
                yield finding(
                    "source.zip-too-large",
                    f"member inflates to {info.file_size} bytes from {info.compress_size}",
                    where,
                )
            else:
                yield SourceRef(str(path), info.filename)


def _walk(root: Path) -> Iterator[Path]:
    """Regular files below ``root`` in sorted order; links are not followed."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            yield Path(dirpath) / name


def collect(inputs: Iterable[str]) -> tuple[list[SourceRef], list[Finding]]:
    """Expand user inputs into sources, in a deterministic order.

    Raises
    ------
    SourceError
        When an input path does not exist at all (nothing to do with it).
    """
    refs: list[SourceRef] = []
    findings: list[Finding] = []
    for given in inputs:
        path = Path(given)
        if not path.exists():
            raise SourceError(f"input {given!r} does not exist")
        candidates = _walk(path) if path.is_dir() else [path]
        for file in candidates:
            try:
                mode = file.lstat().st_mode
            except OSError as exc:
                findings.append(finding("source.unreadable", str(exc), str(file)))
                continue
            if stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
                if file is not path:
                    continue  # links and special files inside a folder are not followed
                mode = file.stat().st_mode
                if not stat.S_ISREG(mode):
                    findings.append(finding("source.unreadable", "not a regular file", str(file)))
                    continue
            if file.suffix.lower() == ".zip" or (file is path and is_zip(file)):
                for item in _zip_members(file):
                    (refs if isinstance(item, SourceRef) else findings).append(item)  # type: ignore[arg-type]
            else:
                refs.append(SourceRef(str(file)))
    unique = sorted(set(refs), key=SourceRef.sort_key)
    return unique, findings
