"""File IDs for instances added to an existing File-set, continuing the scheme found on it.

PS3.10 §8.2 gives File IDs no meaning, so an updater may choose any conformant free name; but a
medium is easier to read (and to compare with its earlier state) when additions look like what
is there. The rule, for each added instance:

1. Its *template* is the File ID of an instance already on the medium, as close to it in the
   tree as exists: the last one of its series, else of its study, else of its patient, else of
   the medium (on an empty medium, our own layout, :mod:`mediatool.dicom.fileids`).
2. Each directory component of the template belongs to a level of the tree: the coarsest of
   root, patient, study, series whose entities each keep one value there (found from the File
   IDs on the medium); a component named like ours (``PTnnnnnn``, ``STnnnnnn``, ``SEnnnnnn``)
   belongs to its level by name, since one series alone cannot show the structure.
3. A component of a level the instance shares with the template is copied; one of a level that
   is new on the medium gets the next free name in its folder, numbered like its template
   (``SE000002`` after ``SE000001``); the file name is the next free one in its folder.

Names already taken in a folder (on disk, by any case: FAT and ISO 9660 readers ignore case)
are never reused, and a File ID keeps its template's number of components (at most 8).
Pure: the caller passes what the folders hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from mediatool.dicom import fileids
from mediatool.errors import OutputError
from mediatool.hierarchy import Tree
from mediatool.model import FileID

#: What a folder of the medium holds, upper-cased (``()`` is the root).
Listing = Callable[[FileID], Iterable[str]]

ROOT, PATIENT, STUDY, SERIES = 0, 1, 2, 3
_OURS: Final = {"PT": PATIENT, "ST": STUDY, "SE": SERIES}
_NAME: Final = re.compile(r"([A-Z_]*?)([0-9]*)")
#: Our layout, for a medium with no instance left to copy from.
_EMPTY: Final[FileID] = (fileids.ROOT_DIR, "PT000000", "ST000000", "SE000000", "IM000000")
_EMPTY_ROOT_LEVEL: Final[FileID] = (fileids.ROOT_DIR, "OTHER", "OB000000")

#: An instance's place in the tree: (patient, study, series) keys, "" above its level.
Place = tuple[str, str, str]


def places(tree: Tree) -> dict[str, Place]:
    """SOP Instance UID → (patient, study, series) of the tree; root-level objects get ``""``."""
    out: dict[str, Place] = {}
    for p, patient in enumerate(tree.patients):
        for study in patient.studies:
            for series in study.series:
                for inst in series.instances:
                    out[inst.sop_instance_uid] = (str(p), study.uid, series.uid)
    for inst in tree.root_instances:
        out[inst.sop_instance_uid] = ("", "", "")
    return out


def _pattern(template: str) -> tuple[str, int]:
    """A name's prefix and number width: ``IM000001`` → (``IM``, 6), ``IMAGE`` → (``IMAG``, 4)."""
    match = _NAME.fullmatch(template.upper())
    if match is None or not match.group(2):
        prefix = re.sub(r"[^A-Z_]", "", template.upper())[:4] or "F"
        return prefix, 8 - len(prefix)
    return match.group(1), len(match.group(2))


def next_name(template: str, taken: Iterable[str]) -> str:
    """The next free name numbered like ``template`` among ``taken`` (upper-cased names)."""
    prefix, width = _pattern(template)
    used = set(taken)
    numbers = [
        int(name[len(prefix) :])
        for name in used
        if name.startswith(prefix) and name[len(prefix) :].isdigit()
    ]
    number = max(numbers, default=0) + 1
    while True:
        name = f"{prefix}{number:0{width}d}"
        if len(name) > 8:
            prefix, width = prefix[:-1], width + 1
            if not prefix and len(name) > 8:
                raise OutputError(f"no free File ID name left like {template!r} in its folder")
            continue
        if name not in used:
            return name
        number += 1


def _levels(existing: Mapping[str, FileID], where: Mapping[str, Place], length: int) -> list[int]:
    """For each directory component of File IDs of ``length`` components: its level (rule 2)."""
    same = [
        (fid, where[uid]) for uid, fid in existing.items() if len(fid) == length and uid in where
    ]
    levels: list[int] = []
    for i in range(length - 1):
        level = SERIES
        for candidate in (ROOT, PATIENT, STUDY):
            seen: dict[tuple[str, ...], str] = {}
            key_len = candidate  # ROOT: (), PATIENT: (p,), ...
            if all(seen.setdefault(place[:key_len], fid[i]) == fid[i] for fid, place in same):
                level = candidate
                break
        by_name = _OURS.get(same[0][0][i][:2]) if same else None
        if by_name is not None and re.fullmatch(r"[A-Z]{2}[0-9]{6}", same[0][0][i]):
            level = by_name
        levels.append(level)
    return levels


@dataclass
class Namer:
    """Gives the added instances their File IDs (see the module's rules)."""

    existing: Mapping[str, FileID]  # SOP Instance UID → File ID, on the medium
    where: Mapping[str, Place]  # of every instance, existing and added
    listing: Listing
    _made: dict[tuple[FileID, tuple[str, ...], int], str] = field(default_factory=dict)
    _taken: dict[FileID, set[str]] = field(default_factory=dict)
    _levels: dict[int, list[int]] = field(default_factory=dict)
    #: The last File ID (in name order) under each (patient, study, series) prefix.
    _last: dict[tuple[str, ...], FileID] = field(default_factory=dict)
    #: The names each folder holds through the File IDs on the medium.
    _names: dict[FileID, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for uid, fid in self.existing.items():
            place = self.where.get(uid)  # None: removed (its names are not given again)
            keys = [] if place is None else [place[:n] for n in range(4)]
            for key in [("root",)] if place is not None and place[0] == "" else keys:
                if key not in self._last or fid > self._last[key]:
                    self._last[key] = fid
            for n in range(len(fid)):
                self._names.setdefault(tuple(fid[:n]), set()).add(fid[n].upper())

    def _folder(self, folder: FileID) -> set[str]:
        if folder not in self._taken:
            names = {n.upper() for n in self.listing(folder)}
            self._taken[folder] = names | self._names.get(folder, set())
        return self._taken[folder]

    def _template(self, place: Place) -> tuple[FileID, int]:
        """The template File ID and the deepest level it shares with ``place`` (rule 1)."""
        if place == ("", "", ""):
            return self._last.get(("root",), _EMPTY_ROOT_LEVEL), SERIES
        for level in (SERIES, STUDY, PATIENT, ROOT):
            near = self._last.get(place[:level])
            if near is not None:
                return near, level
        return _EMPTY, ROOT

    def name(self, uid: str) -> FileID:
        place = self.where[uid]
        template, shared = self._template(place)
        if place == ("", "", ""):
            levels = [ROOT] * (len(template) - 1)
        else:
            if len(template) not in self._levels:
                self._levels[len(template)] = _levels(self.existing, self.where, len(template))
            levels = self._levels[len(template)]
        out: list[str] = []
        for i, level in enumerate(levels):
            if level <= shared:
                out.append(template[i])
                continue
            key = (tuple(out), place[:level] + ("",) * (3 - level), i)
            if key not in self._made:
                made = next_name(template[i], self._folder(tuple(out)))
                self._folder(tuple(out)).add(made)
                self._made[key] = made
            out.append(self._made[key])
        folder = tuple(out)
        file_name = next_name(template[-1], self._folder(folder))
        self._folder(folder).add(file_name)
        return (*folder, file_name)


def assign(
    added: Sequence[str],
    existing: Mapping[str, FileID],
    where: Mapping[str, Place],
    listing: Listing,
) -> dict[str, FileID]:
    """File IDs for the ``added`` SOP Instance UIDs (in the order given: the tree's)."""
    namer = Namer(existing, where, listing)
    return {uid: namer.name(uid) for uid in added}
