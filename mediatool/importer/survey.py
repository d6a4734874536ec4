"""What each file on the media is, read once: the per-file facts an import needs.

Every regular file on the media is looked at, not only those a DICOMDIR references: broken
discs have no DICOMDIR, lower-case names, ``.dcm`` files, or a DICOMDIR that lists files the disc
lacks, and nothing may be lost (IHE PDI RAD-47: report what is not imported). The header of each
file is read through the same code ``validate`` and ``build`` use
(:func:`mediatool.validate.files.read_all` → :func:`mediatool.scan.scan_stream`), in worker
processes when there are many files.

The DICOMDIR, when there is one, is only used to find files it lists that are not on the media
(PS3.10 §8.6, Referenced File ID resolved with the reader's tolerant lookup).
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Final

from mediatool.dicom import dicomdir_read, dicomdir_tree
from mediatool.media.base import MediaEntry, MediaReader, strip_iso_version
from mediatool.model import InstanceInfo, Progress
from mediatool.validate import specs
from mediatool.validate.files import FileResult, FileTask, read_all, resolve

#: Findings of the header read (validate's checks E23) that mean the file ends too soon.
_TRUNCATED: Final = frozenset({"file.pixel-data-truncated", "read.truncated"})


class Kind(enum.StrEnum):
    INSTANCE = "instance"
    DICOMDIR = "dicomdir"
    NOT_DICOM = "not-dicom"
    UNREADABLE = "unreadable"
    DAMAGED = "damaged"


@dataclass(frozen=True, slots=True)
class MediaFile:
    """One file of the media: its path, what it is, and the header facts of an instance."""

    path: str
    size: int
    kind: Kind
    info: InstanceInfo | None = None
    problem: str = ""  # why an unreadable or damaged file is so, in one sentence


@dataclass(frozen=True, slots=True)
class Survey:
    """Every file of one medium, in sorted path order, plus what its DICOMDIR lists but lacks."""

    name: str
    kind: str
    files: tuple[MediaFile, ...]
    entries: dict[str, MediaEntry]
    listed_missing: tuple[str, ...] = ()

    def instances(self) -> list[MediaFile]:
        return [f for f in self.files if f.info is not None]


def _classify(result: FileResult) -> MediaFile:
    entry = result.task.entry
    if result.info is not None:
        cut = [f for f in result.info.findings if f.code in _TRUNCATED]
        if cut:  # the header reads, but the file ends too soon: copying it would lose data
            return MediaFile(entry.path, entry.size, Kind.DAMAGED, problem=cut[0].message)
        return MediaFile(entry.path, entry.size, Kind.INSTANCE, result.info)
    if result.dicomdir:
        return MediaFile(entry.path, entry.size, Kind.DICOMDIR)
    if _is_dicomdir_name(entry.path) and not any(
        f.code == "media.unreadable" for f in result.findings
    ):
        # A damaged DICOMDIR loses no instance: the files are read without it.
        problem = result.findings[0].message if result.findings else "not a DICOM file"
        return MediaFile(entry.path, entry.size, Kind.DICOMDIR, problem=problem)
    unreadable = [f for f in result.findings if f.code == "media.unreadable"]
    if unreadable:
        return MediaFile(entry.path, entry.size, Kind.UNREADABLE, problem=unreadable[0].message)
    if result.findings:
        return MediaFile(entry.path, entry.size, Kind.DAMAGED, problem=result.findings[0].message)
    return MediaFile(entry.path, entry.size, Kind.NOT_DICOM)


def _is_dicomdir_name(path: str) -> bool:
    return strip_iso_version(path.rsplit("/", 1)[-1]).upper() == "DICOMDIR"


@dataclass(slots=True)
class _References:
    """What the DICOMDIRs reference: File IDs lost, and the entries found (by path)."""

    lost: set[str] = field(default_factory=set)
    found: dict[str, str] = field(default_factory=dict)  # entry path → record location


def _references(reader: MediaReader, dicomdirs: Iterable[MediaEntry]) -> _References:
    """The active records' references, resolved by validate's own code (one survey, one
    answer): ``import --list`` and the import count the same files as missing."""
    out = _References()
    for entry in dicomdirs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # damage is validate's business, not the import's
                directory = dicomdir_read.load(reader, entry)  # bounded (mediatool/limits.py)
        except OSError:
            continue  # the file itself is reported as unreadable
        prefix = tuple(entry.path.split("/")[:-1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # damage is validate's business, not the import's
            tree, _ = dicomdir_tree.walk(directory)
            resolution = resolve(
                reader, specs.references(directory, tree, None), prefix, [("DICOMDIR",)]
            )
        out.lost.update(resolution.lost)
        for task in resolution.tasks:
            out.found.setdefault(task.entry.path, task.record_where or entry.path)
    return out


def _lost_instance(f: MediaFile, record: str) -> MediaFile:
    """A file a DICOMDIR record lists as an instance that is not one (empty, or not DICOM):
    an instance the disc promised is lost, so it is damaged, not "not DICOM" (issue 12)."""
    what = "is empty (0 bytes)" if f.size == 0 else "is not a DICOM file"
    problem = f"{record} lists it as an instance, but it {what}"
    return replace(f, kind=Kind.DAMAGED, problem=problem)


def survey_media(
    reader: MediaReader, *, progress: Progress | None = None, jobs: int | None = None
) -> Survey:
    """Read the header of every file on ``reader`` once. Never raises for what a file contains
    (an unreadable or damaged file becomes a :class:`MediaFile` saying so)."""
    entries = list(reader.entries())
    tasks = [FileTask(e, e.path) for e in entries]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # per-file warnings are validate's findings
        results = read_all(reader, tasks, jobs=jobs, progress=progress)
    files = [_classify(r) for r in results]
    dicomdirs = [e for e, f in zip(entries, files, strict=True) if f.kind is Kind.DICOMDIR]
    # after the workers, not while they read (read_all's meanwhile): the DICOMDIR's records in
    # this process beside the workers' memory raised the peak by 19 MB at 1,000 files (issue 17)
    refs = _references(reader, dicomdirs)
    files = [
        _lost_instance(f, refs.found[f.path])
        if f.kind is Kind.NOT_DICOM and f.path in refs.found
        else f
        for f in files
    ]
    return Survey(
        name=getattr(reader, "name", ""),
        kind=getattr(reader, "kind", ""),
        files=tuple(files),
        entries={e.path: e for e in entries},
        listed_missing=tuple(sorted(refs.lost)),
    )
