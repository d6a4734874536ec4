"""The interface every media reader offers (folder, ISO 9660 image, zip archive).

Foreign media are hostile input: readers expose only entries inside the media root, with names
normalised to POSIX paths relative to it; nothing outside can be named or opened.

Besides the :class:`MediaReader` Protocol this module holds what the three readers share: the
name rules (:func:`unsafe_component`, :func:`strip_iso_version`), the File ID index with DCMTK-like
tolerance (:class:`EntryIndex`, part10.md §4 "Reader tolerance") and :class:`IndexedReader`, the
base class that answers ``entries``/``resolve``/``container_findings`` from that index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final, Protocol, Self

from mediatool.dicom.sameness import Stored
from mediatool.errors import MediaError
from mediatool.findings import Finding, finding
from mediatool.model import InstanceInfo


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
    #: ISO 9660 Volume Identifier (PVD BP 41-72, trailing spaces stripped); None for a folder or
    #: a zip archive, which have no volume label we can read
    volume_id: str | None

    def entries(self) -> Iterator[MediaEntry]:
        """Every regular file on the media, in sorted order of ``path``."""
        ...

    def open(self, entry: MediaEntry) -> BinaryIO:
        """A binary stream of the entry's content (seekable).

        Raises ``OSError`` when this one entry cannot be read (I/O error, corrupt member, a
        link that now leaves the root); the other entries stay readable.
        """
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


class DamagedMedia(MediaError):
    """The container is damaged beyond reading (an ISO image pycdlib cannot parse).

    ``finding`` says the same in words, so ``validate`` can report the medium as failing (a
    fact about the media) while other commands stop with the message (exit 2)."""

    def __init__(
        self, message: str, found: Finding, *, hint: str | None = None, kind: str = "iso"
    ) -> None:
        super().__init__(message, hint=hint)
        self.finding = found
        self.kind = kind  # the reader that could not read it: "iso", "udf", "fat"


# --- names ----------------------------------------------------------------------------------

_VERSION: Final = re.compile(r";[0-9]*\Z")
_FORBIDDEN_IN_NAME: Final = ("/", "\\", "\x00")


def stored(reader: MediaReader, entry: MediaEntry, info: InstanceInfo | None = None) -> Stored:
    """A file of the media as :mod:`mediatool.dicom.sameness` compares it (checklist F04); with
    the header scan's ``info``, where its data set starts and how it is encoded."""
    if info is None:
        return Stored(lambda: reader.open(entry), entry.size)
    return Stored(lambda: reader.open(entry), entry.size, info.dataset_offset, info.transfer_syntax)


def unsafe_component(name: str) -> bool:
    """True for a path component that could name something outside the root or is ambiguous:
    empty, ``.``, ``..``, or containing ``/``, ``\\`` or NUL (I02)."""
    # spelled out: a generator over _FORBIDDEN_IN_NAME cost more than the listing's stat
    return name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name


def strip_iso_version(name: str) -> str:
    """``IM1.;1`` → ``IM1``; ``README.TXT;1`` → ``README.TXT``; ``IM1.`` → ``IM1``.

    ISO 9660 §7.5: the version number and the separators are not part of the name a File ID
    maps to (PS3.12 F.1.2.1). A lone ``.`` or ``..`` is left alone (it is rejected elsewhere).
    """
    if ";" not in name and not name.endswith("."):  # most names: nothing to strip, no regex
        return name
    name = _VERSION.sub("", name)
    if name.endswith(".") and name.strip("."):
        name = name[:-1]
    return name


def _without_extension(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


# --- File ID index ---------------------------------------------------------------------------

#: Ranks of a tolerant match, best first (used to pick one of several candidates).
_CASE, _SUFFIX, _EXTENSION = 1, 2, 3


class EntryIndex:
    """Entries by exact path plus a case-folded index for tolerant File ID resolution.

    Built once; every lookup is a dict access (O(1) per File ID). The case-folded index is
    made at the first File ID that is not found exactly (on a correct medium: never; it was
    half the cost of listing a disc of 50,000 files, issue 17).
    """

    __slots__ = ("_by_path", "_folded_index", "_sorted")

    def __init__(self, entries: Iterable[MediaEntry]) -> None:
        self._by_path: dict[str, MediaEntry] = {}
        for entry in entries:
            self._by_path.setdefault(entry.path, entry)
        self._sorted = sorted(self._by_path.values(), key=lambda e: e.path)
        self._folded_index: dict[str, list[tuple[int, MediaEntry]]] | None = None

    @property
    def _folded(self) -> dict[str, list[tuple[int, MediaEntry]]]:
        if self._folded_index is None:
            folded: dict[str, list[tuple[int, MediaEntry]]] = {}
            for entry in self._sorted:
                for key, rank in _tolerant_keys(entry.path):
                    folded.setdefault(key, []).append((rank, entry))
            self._folded_index = folded
        return self._folded_index

    def __len__(self) -> int:
        return len(self._sorted)

    def __iter__(self) -> Iterator[MediaEntry]:
        return iter(self._sorted)

    def get(self, path: str) -> MediaEntry | None:
        return self._by_path.get(path)

    def resolve(self, components: tuple[str, ...]) -> tuple[MediaEntry | None, bool]:
        """See :meth:`MediaReader.resolve`. Never raises."""
        if not components or any(unsafe_component(c) for c in components):
            return None, False
        path = "/".join(components)
        exact = self._by_path.get(path)
        if exact is not None:
            return exact, True
        folded = path.lower()
        candidates = self._folded.get(folded) or self._folded.get(strip_iso_version(folded))
        if not candidates:
            return None, False
        # Several entries can fold to one key (IM1 and im1.dcm): take the closest form, then
        # the first path in sorted order, so the answer is deterministic.
        best = min(candidates, key=lambda c: (c[0], c[1].path))
        return best[1], False


def _tolerant_keys(path: str) -> list[tuple[str, int]]:
    """Lower-case keys under which ``path`` is found tolerantly, with the rank of each.

    ``DICOM/IM1.DCM;1`` is found as ``dicom/im1.dcm;1`` (case), ``dicom/im1.dcm`` (version and
    trailing dot dropped) and ``dicom/im1`` (one extension dropped).
    """
    head, _, last = path.lower().rpartition("/")
    prefix = f"{head}/" if head else ""
    stem = strip_iso_version(last)
    keys = {prefix + last: _CASE}
    keys.setdefault(prefix + stem, _SUFFIX)
    keys.setdefault(prefix + _without_extension(stem), _EXTENSION)
    return list(keys.items())


def build_index(candidates: Iterable[MediaEntry]) -> tuple[EntryIndex, list[Finding]]:
    """Index the entries a reader found; a second entry with the same ``path`` is reported
    (``media.duplicate-name``) and dropped, the first one (in the order given) is kept."""
    kept: list[MediaEntry] = []
    seen: dict[str, MediaEntry] = {}
    findings: list[Finding] = []
    for entry in candidates:
        first = seen.setdefault(entry.path, entry)
        if first is entry:
            kept.append(entry)
        else:
            findings.append(
                finding(
                    "media.duplicate-name",
                    f"{entry.raw_name!r} has the same name as {first.raw_name!r}; "
                    "only the first is read",
                    entry.path,
                )
            )
    return EntryIndex(kept), findings


# --- shared reader behaviour -----------------------------------------------------------------


class IndexedReader:
    """What every reader does the same way once it has listed its entries."""

    kind: str = ""
    name: str = ""
    volume_id: str | None = None

    def __init__(self, name: str) -> None:
        self.name = name
        self._index = EntryIndex(())
        self._findings: list[Finding] = []

    def _set_entries(self, candidates: Iterable[MediaEntry]) -> None:
        self._index, duplicates = build_index(candidates)
        self._findings.extend(duplicates)

    def entries(self) -> Iterator[MediaEntry]:
        return iter(self._index)

    def resolve(self, components: tuple[str, ...]) -> tuple[MediaEntry | None, bool]:
        return self._index.resolve(components)

    def container_findings(self) -> list[Finding]:
        """Sorted: volume-wide facts (``where`` None) first, then by ``where`` and code."""
        return sorted(self._findings, key=lambda f: (f.where is not None, f.where or "", f.code))

    def _known(self, entry: MediaEntry) -> MediaEntry:
        """The reader's own entry for ``entry.path``; refuses anything it did not list."""
        known = self._index.get(entry.path)
        if known is None or known.raw_name != entry.raw_name:
            raise OSError(f"{entry.path!r} is not an entry of {self.name!r}")
        return known

    def close(self) -> None:
        """Release the container (subclasses extend this)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
