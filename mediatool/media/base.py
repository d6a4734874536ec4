"""The interface every media reader offers (folder, ISO 9660 image, zip archive).

Foreign media are hostile input: readers expose only entries inside the media root, with names
normalised to POSIX paths relative to it; nothing outside can be named or opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from mediatool.findings import Finding


@dataclass(frozen=True, slots=True)
class MediaEntry:
    """One regular file on the media.

    ``path`` is the name as recorded on the media, POSIX separators, relative to the root, with
    ISO 9660 version suffixes (``;1``) and a trailing ``.`` removed (``DICOM/PT1/IM1``).
    ``raw_name`` is the name exactly as recorded (``DICOM/PT1/IM1.;1`` in an ISO image).
    """

    path: str
    raw_name: str
    size: int


class MediaReader(Protocol):
    """Read-only access to the files of one medium."""

    #: "folder", "iso" or "zip"
    kind: str
    #: what the user gave (path of the folder, image or archive)
    name: str

    def entries(self) -> Iterator[MediaEntry]:
        """Every regular file on the media, in sorted order of ``path``."""
        ...

    def open(self, entry: MediaEntry) -> BinaryIO:
        """A binary stream of the entry's content (seekable)."""
        ...

    def resolve(self, components: tuple[str, ...]) -> tuple[MediaEntry | None, bool]:
        """Find the entry for a File ID (its components).

        Returns ``(entry, exact)``: ``exact`` is False when the entry was found only tolerantly
        (case-insensitively, or with a trailing ``.``, ``;1`` or an added extension such as
        ``.dcm``); ``(None, False)`` when there is none. Components that would leave the root
        (``..``, absolute, empty) never resolve.
        """
        ...

    def container_findings(self) -> list[Finding]:
        """Facts about the container itself (ISO 9660 level, Volume Identifier, unsafe zip
        members, links leaving the root, ...), found while opening it."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> MediaReader: ...

    def __exit__(self, *exc: object) -> None: ...
