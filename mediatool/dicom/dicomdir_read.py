"""Raw, tolerant parse of a DICOMDIR file: every Directory Record with the position of its Item tag.

The offsets of PS3.3 F.3.2.2 count bytes from the first byte of the file (preamble included) to the
Item tag (FFFE,E000) of a record, so the structure checks need the exact position of every item.
pydicom's reader silently repairs or gives up on exactly the damage we must report (wrong item
lengths, a Big Endian or Implicit VR data set, a truncated file), so the walk is done here, by
hand, bounded by the size of the file: every loop advances, nesting is capped, a length that
points past its container is clipped and reported. The keys of each record become a pydicom
:class:`~pydicom.dataset.Dataset` of raw elements, decoded lazily (with the record's own
(0008,0005), PS3.3 F.5) only when a check asks for a value.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO, Protocol

from mediatool import limits
from mediatool.dicom import filemeta
from mediatool.dicom.dicomdir_raw import EXPLICIT_BE, VR_CODES, Encoding, RawDirectory
from mediatool.dicom.dicomdir_walk import LimitReached, Walker, read_data_set
from mediatool.findings import finding


class Entry(Protocol):
    """What :func:`load` needs of a medium's entry (:class:`mediatool.media.base.MediaEntry`)."""

    @property
    def path(self) -> str: ...

    @property
    def size(self) -> int: ...


class Opener(Protocol):
    """What :func:`load` needs of a medium (:class:`mediatool.media.base.MediaReader`)."""

    def open(self, entry: Any) -> BinaryIO: ...


def _sniff(data: bytes, pos: int, declared: str | None) -> Encoding | None:
    """The encoding of the data set starting at ``pos``, from its first element header."""
    if pos + 8 > len(data):
        return None
    le_group = struct.unpack_from("<H", data, pos)[0]
    be_group = struct.unpack_from(">H", data, pos)[0]
    little = declared != EXPLICIT_BE if le_group == be_group else le_group < be_group
    explicit = data[pos + 4 : pos + 6] in VR_CODES
    return Encoding(implicit=not explicit, little=little)


def parse(data: bytes, where: str = "DICOMDIR") -> RawDirectory:
    """Parse a DICOMDIR file's bytes; facts about damage are in ``findings``. Never raises.

    Time is linear in ``len(data)`` and the objects made are bounded by :mod:`mediatool.limits`;
    beyond a limit, ``limit`` says which and the records are left out.
    """
    meta = filemeta.parse(data)
    start = meta.end if meta.has_prefix else 0
    declared = meta.text(0x00020010) if meta.has_prefix else None
    enc = _sniff(data, start, declared)
    directory = RawDirectory(len(data), meta, enc, where=where)
    if enc is None:
        return directory
    walker = Walker(data, enc, where)
    try:
        read_data_set(walker, directory, start)
    except LimitReached as exc:
        _over_limit(directory, str(exc))
    directory.findings = walker.findings + walker.overflow() + directory.findings
    directory.damage_at = walker.damage_at
    return directory


def _over_limit(directory: RawDirectory, why: str) -> None:
    directory.limit = why
    directory.records = []
    directory.findings = [
        finding(
            "dicomdir.limit",
            f"the DICOMDIR has {why}; it is not read further and its records are not checked",
            directory.where,
        )
    ]


def load(reader: Opener, entry: Entry) -> RawDirectory:
    """Read and parse the DICOMDIR ``entry`` within the size limit. ``OSError`` propagates."""
    if entry.size > limits.DICOMDIR_SIZE_LIMIT:
        directory = RawDirectory(entry.size, filemeta.parse(b""), None, where=entry.path)
        _over_limit(
            directory,
            f"{entry.size} bytes, more than {limits.DICOMDIR_SIZE_LIMIT} "
            "(limits.DICOMDIR_SIZE_LIMIT)",
        )
        return directory
    with reader.open(entry) as fp:
        data = fp.read(limits.DICOMDIR_SIZE_LIMIT + 1)
    return parse(data, entry.path)
