"""Expand the inputs a user names (files, folders, zip archives) into :class:`SourceRef` values.

Folders and zip archives are listed by the media readers (:class:`~mediatool.media.FolderReader`,
:class:`~mediatool.media.ZipReader`), the same readers ``validate`` and ``import`` use, so one set
of rules decides which files are read (issue 13): names that leave the root, links that leave it
or point to folders, special files, encrypted members and zip bombs (limits in
:mod:`mediatool.limits`) are reported and not read. Zip members are never extracted.

What the readers report keeps their codes and words, except the two build codes older than the
shared readers, which stay stable: an unsafe zip member name is ``source.zip-unsafe-member`` and
a member beyond the size limits ``source.zip-too-large`` (both warnings: the member is left out).
"""

from __future__ import annotations

import dataclasses
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from mediatool.errors import MediaError, SourceError
from mediatool.findings import Finding, finding
from mediatool.media.base import MediaReader
from mediatool.media.folder import FolderReader
from mediatool.media.zip import ZipReader, looks_like_zip
from mediatool.model import SourceRef

#: Reader codes reported under build's own, older code for a zip input.
_ZIP_CODES: Final = {
    "media.unsafe-name": "source.zip-unsafe-member",
    "media.zip-too-large": "source.zip-too-large",
}

Listed = tuple[list[SourceRef], list[Finding]]


def _container_findings(reader: MediaReader, given: str, *, zipped: bool) -> list[Finding]:
    """The reader's findings, ``where`` named as the user gave the input (``in/a/LINK``,
    ``export.zip!../evil.dcm``)."""
    out: list[Finding] = []
    for found in reader.container_findings():
        if not found.where:
            where = given
        else:
            where = f"{given}!{found.where}" if zipped else str(Path(given, found.where))
        code = _ZIP_CODES.get(found.code) if zipped else None
        if code is None:
            out.append(dataclasses.replace(found, where=where))
        else:
            out.append(finding(code, found.message, where))
    return out


def _zip_members(path: Path) -> Listed:
    try:
        reader = ZipReader(path)
    except MediaError as exc:
        return [], [finding("source.unreadable", str(exc), str(path))]
    with reader:
        refs = [SourceRef(str(path), entry.raw_name) for entry in reader.entries()]
        return refs, _container_findings(reader, str(path), zipped=True)


def _folder(path: Path) -> Listed:
    """The files of a folder (one walk, by the media reader); zip archives in it are opened."""
    try:
        reader = FolderReader(path)
    except MediaError as exc:
        return [], [finding("source.unreadable", str(exc), str(path))]
    refs: list[SourceRef] = []
    with reader:
        findings = _container_findings(reader, str(path), zipped=False)
        for entry in reader.entries():
            file = path / entry.path
            if file.suffix.lower() == ".zip":
                more, notes = _zip_members(file)
                refs += more
                findings += notes
            else:
                refs.append(SourceRef(str(file)))
    return refs, findings


def _file(path: Path) -> Listed:
    """A file named on the command line (a link to one is followed: the user chose it)."""
    try:
        regular = stat.S_ISREG(path.stat().st_mode)
    except OSError as exc:
        return [], [finding("source.unreadable", str(exc), str(path))]
    if not regular:
        return [], [finding("source.unreadable", "not a regular file", str(path))]
    if path.suffix.lower() == ".zip" or looks_like_zip(path):
        return _zip_members(path)
    return [SourceRef(str(path))], []


def collect(inputs: Iterable[str]) -> Listed:
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
        more, notes = _folder(path) if path.is_dir() else _file(path)
        refs += more
        findings += notes
    unique = sorted(set(refs), key=SourceRef.sort_key)
    return unique, findings
