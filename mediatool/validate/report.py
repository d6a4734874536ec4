"""``validate_media``: one pass over a medium, every check of validation-checklist.md that applies,
and a :class:`Report` (inventory plus findings). Pure data out; rendering is :mod:`.render`.

Order of work: container facts from the reader → locate the DICOMDIR (A01, A02) → parse it (B) →
structure from the offsets (C) → each record (C, D) → resolve Referenced File IDs (E01-E05) →
find unreferenced DICOM files (F01) → read each DICOM file's header once, comparing it with its
record (E06-E23, D03-D08) → cross-file checks (F, G). Each stage is guarded: a check that fails on
input nobody foresaw becomes a ``validate.check-failed`` finding, the others still run, and the
result is always a report.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from mediatool.dicom import dicomdir_raw, dicomdir_read, dicomdir_tree, fileids
from mediatool.dicom.sameness import same_file
from mediatool.findings import (
    Finding,
    Severity,
    apply_policy,
    count_by_severity,
    fails,
    finding,
    worst,
)
from mediatool.media.base import (
    DamagedMedia,
    MediaEntry,
    MediaReader,
    stored,
    strip_iso_version,
)
from mediatool.model import Progress
from mediatool.profiles import Profile
from mediatool.validate import files, medium, structure
from mediatool.validate.crosscheck import cross_check
from mediatool.validate.discfiles import expected_companion
from mediatool.validate.header import Header, check_header
from mediatool.validate.inventory import Inventory, build_inventory
from mediatool.validate.records import check_records
from mediatool.validate.specs import references

SCHEMA: Final = "mediatool.validate/1"


@dataclass(frozen=True, slots=True)
class MediaInfo:
    kind: str
    name: str
    volume_id: str | None
    dicomdir: str | None  # path on the media of the DICOMDIR read
    fileset_id: str | None
    fileset_uid: str | None
    profile: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "volume_id": self.volume_id,
            "dicomdir": self.dicomdir,
            "fileset_id": self.fileset_id,
            "fileset_uid": self.fileset_uid,
            "profile": self.profile,
        }


@dataclass(frozen=True)
class Report:
    media: MediaInfo
    inventory: Inventory
    findings: tuple[Finding, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """No ERROR finding."""
        return not fails(self.findings, Severity.ERROR)

    def passes(self, threshold: Severity) -> bool:
        return not fails(self.findings, threshold)

    def counts(self) -> dict[str, int]:
        return count_by_severity(self.findings)

    def as_dict(self, threshold: Severity = Severity.ERROR) -> dict[str, Any]:
        """The ``--json`` document (schema ``mediatool.validate/1``)."""
        level = worst(self.findings)
        return {
            "schema": SCHEMA,
            "ok": self.passes(threshold),
            "fail_on": str(threshold),
            "worst": str(level) if level is not None else None,
            "media": self.media.as_dict(),
            "summary": self.counts(),
            "inventory": self.inventory.as_dict(),
            "findings": [
                {k: v for k, v in f.as_dict().items() if k != "check"} | {"check": _check(f)}
                for f in self.findings
            ],
        }


def _check(f: Finding) -> str | None:
    from mediatool.findings import CODES

    code = CODES.get(f.code)
    return code.check if code else None


class _Run:
    """Collects findings; each stage's unexpected exception becomes a finding."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    @contextlib.contextmanager
    def stage(self, name: str, where: str | None = None) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            self.findings.append(
                finding(
                    "validate.check-failed",
                    f"{name} stopped early: {type(exc).__name__}: {exc}"[:300],
                    where,
                )
            )


def _is_dicomdir_name(path: str) -> bool:
    return strip_iso_version(path.rsplit("/", 1)[-1]).upper() == "DICOMDIR"


def _locate(reader: MediaReader, entries: Sequence[MediaEntry], run: _Run) -> MediaEntry | None:
    """A01/A02: the DICOMDIR to read (root first, else the shallowest), and the others."""
    named = [e for e in entries if _is_dicomdir_name(e.path)]
    root, exact = reader.resolve(("DICOMDIR",))
    chosen = root
    if root is not None and not exact:
        run.findings.append(
            finding(
                "dicomdir.name-case", f"the DICOMDIR is recorded as {root.raw_name!r}", root.path
            )
        )
    if chosen is None and named:
        chosen = min(named, key=lambda e: (e.path.count("/"), e.path))
        run.findings.append(
            finding(
                "dicomdir.not-at-root",
                f"no DICOMDIR in the root; the one in {chosen.path!r} is read and its folder "
                "taken as the File-set root",
                chosen.path,
            )
        )
    elif chosen is None:
        run.findings.append(
            finding(
                "dicomdir.missing",
                "no DICOMDIR on the media; every file was read to make the inventory",
                "DICOMDIR",
            )
        )
    for e in named:
        if chosen is None or e.path != chosen.path:
            run.findings.append(
                finding("dicomdir.several", f"{e.path!r} is another DICOMDIR on the medium", e.path)
            )
    return chosen


def _volume_id(reader: MediaReader, head: Header) -> list[Finding]:
    """A05: on an ISO 9660 image the Volume Identifier is the File-set ID (PS3.12 F.1.1)."""
    volume = getattr(reader, "volume_id", None)
    if getattr(reader, "kind", "") != "iso" or volume is None or not head.fileset_id:
        return []
    if volume.rstrip(" ") == head.fileset_id:
        return []
    return [
        finding(
            "dicomdir.volume-id",
            f"the Volume Identifier is {volume!r}, the File-set ID {head.fileset_id!r}",
        )
    ]


def _same_content(reader: MediaReader) -> Callable[[files.FileTask, files.FileTask], bool]:
    """Byte-identical files (checklist F04; why bytes here: :mod:`mediatool.dicom.sameness`)."""
    return lambda a, b: same_file(stored(reader, a.entry), stored(reader, b.entry))


def _read_directory(
    reader: MediaReader, entry: MediaEntry, run: _Run
) -> dicomdir_raw.RawDirectory | None:
    try:
        return dicomdir_read.load(reader, entry)
    except OSError as exc:
        run.findings.append(finding("dicomdir.unreadable", f"cannot read: {exc}", entry.path))
        return None


def damaged_report(media: str, exc: DamagedMedia, profile: str | None) -> Report:
    """The report on a medium whose container cannot be read at all (an ISO image that does
    not parse): its one finding, a judgement on the media (FAIL)."""
    info = MediaInfo(exc.kind, media, None, None, None, None, profile)
    return Report(info, Inventory(), (exc.finding,))


def validate_media(
    reader: MediaReader,
    profile: Profile | None = None,
    progress: Progress | None = None,
    *,
    jobs: int | None = None,
) -> Report:
    """Validate the File-set on ``reader``; never raises for anything the media contains."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # a ResourceWarning comes from the garbage collector, about objects of the caller
        # (e.g. an unclosed temporary directory), never about the media
        warnings.simplefilter("ignore", ResourceWarning)
        report = _validate(reader, profile, progress, jobs)
    if caught:
        extra = tuple(
            finding("read.pydicom-warning", str(w.message).splitlines()[0][:300] or "warning")
            for w in caught[:20]
        )
        report = Report(report.media, report.inventory, _order(report.findings + extra))
    return report


@dataclass
class _Directory:
    """What the chosen DICOMDIR gave: its header, the parsed records and their tree (freed before
    the cross-file checks), and the files its records reference."""

    chosen: MediaEntry | None = None
    head: Header = field(default_factory=Header)
    resolution: files.Resolution = field(default_factory=files.Resolution)
    directory: dicomdir_raw.RawDirectory | None = None
    tree: dicomdir_tree.DirTree | None = None


def _validate(
    reader: MediaReader, profile: Profile | None, progress: Progress | None, jobs: int | None
) -> Report:
    run = _Run()
    entries: list[MediaEntry] = []
    with run.stage("reading the media"):
        run.findings += reader.container_findings()
        run.findings += medium.check(reader, profile)
        entries = list(reader.entries())
    found = _Directory()
    with run.stage("locating the DICOMDIR"):
        found.chosen = _locate(reader, entries, run)
    if found.chosen is not None:
        _read_dicomdir(reader, found, found.chosen, profile, run)
    results, other = _read_files(reader, entries, found, profile, run, progress, jobs)
    has_directory = found.directory is not None and bool(found.directory.records)
    damaged = found.directory is not None and found.directory.damage_at is not None
    # the parsed DICOMDIR (a few KB a record) is not needed any more: free it before the
    # cross-file checks, which keep one small summary per instance
    found.directory = found.tree = None
    instances = _cross_checks(reader, results, profile, run, has_directory, damaged)
    if other:
        sample = ", ".join(repr(p) for p in other[:5]) + (", ..." if len(other) > 5 else "")
        run.findings.append(
            finding("file.non-dicom", f"{len(other)} non-DICOM files on the media: {sample}")
        )
    inventory = _inventory(instances, entries, other, found.resolution, run)
    if not instances:
        run.findings.append(_empty(run.findings))
    policy = profile.severity if profile is not None else None
    return Report(
        _media_info(reader, found, profile), inventory, _order(apply_policy(run.findings, policy))
    )


def _read_dicomdir(
    reader: MediaReader, found: _Directory, chosen: MediaEntry, profile: Profile | None, run: _Run
) -> None:
    """B, C, E01-E05: parse the DICOMDIR, check its header, follow its offsets, resolve the
    files its records reference. Fills ``found``."""
    prefix = tuple(chosen.path.split("/")[:-1])
    with run.stage("reading the DICOMDIR", chosen.path):
        found.directory = _read_directory(reader, chosen, run)
    directory = found.directory
    if directory is not None and directory.limit is not None:
        run.findings += directory.findings
        found.directory = directory = None
    if directory is None:
        return
    with run.stage("checking the DICOMDIR", chosen.path):
        found.head = check_header(directory, reader, prefix)
        run.findings += found.head.findings
        run.findings += _volume_id(reader, found.head)
    with run.stage("following the offsets", chosen.path):
        found.tree, located = dicomdir_tree.walk(directory)
        run.findings += located
        run.findings = _with_context(run.findings, structure.describe(directory, found.tree))
        reserved = [("DICOMDIR",)] + ([found.head.descriptor] if found.head.descriptor else [])
        found.resolution = files.resolve(
            reader, references(directory, found.tree, profile), prefix, reserved
        )
        run.findings += found.resolution.findings


def _read_files(
    reader: MediaReader,
    entries: Sequence[MediaEntry],
    found: _Directory,
    profile: Profile | None,
    run: _Run,
    progress: Progress | None,
    jobs: int | None,
) -> tuple[list[files.FileResult], list[str]]:
    """Read every referenced and every orphan DICOM file (E06-E23, F01, A08, A15); the records
    are checked meanwhile. Returns the results and the paths of the non-DICOM files."""
    results: list[files.FileResult] = []
    other: list[str] = []

    def record_checks() -> None:
        """Run while the workers read the files (nothing here depends on them)."""
        if found.directory is None or found.tree is None or found.chosen is None:
            return
        with run.stage("checking the directory records", found.chosen.path):
            run.findings += structure.check_hierarchy(found.directory, found.tree)
            run.findings += check_records(found.directory, found.tree, profile)

    def orphans() -> list[files.FileTask]:
        """Run while the workers read the referenced files: the other DICOM files (F01)."""
        nonlocal other
        found_orphans: list[MediaEntry] = []
        with run.stage("reading the files"):
            skip = set(found.resolution.referenced)
            skip |= {e.path for e in entries if _is_dicomdir_name(e.path)}
            skip |= {found.head.descriptor_path} if found.head.descriptor_path else set()
            found_orphans, other = files.sniff(reader, (e for e in entries if e.path not in skip))
            for e in found_orphans:  # A08, A15: names of DICOM files no record names
                run.findings += fileids.check_file_id(tuple(e.path.split("/")), e.path)
        return [files.FileTask(e, e.path) for e in found_orphans]

    with run.stage("reading the files"):
        results = files.read_all(
            reader,
            found.resolution.tasks,
            jobs=jobs,
            progress=progress,
            meanwhile=record_checks,
            more=orphans,
        )
    return results, other


def _cross_checks(
    reader: MediaReader,
    results: list[files.FileResult],
    profile: Profile | None,
    run: _Run,
    has_directory: bool,
    damaged: bool,
) -> list[Any]:
    """F, G: checks across files; returns one summary per instance."""
    instances: list[Any] = []
    with run.stage("cross-file checks"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # UID names of broken values; reported per file
        cross = cross_check(
            results,
            has_directory=has_directory,
            profile=profile,
            same_content=_same_content(reader),
        )
        run.findings += _echoes(cross.findings, damaged)
        instances = cross.instances
    return instances


def _inventory(
    instances: list[Any],
    entries: Sequence[MediaEntry],
    other: Sequence[str],
    resolution: files.Resolution,
    run: _Run,
) -> Inventory:
    inventory = Inventory()
    with run.stage("making the inventory"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inventory = build_inventory(
            instances,
            files=len(entries),
            other_files=len(other),
            web_files=sum(1 for path in other if expected_companion(path)),
            missing=resolution.missing,
            total_bytes=sum(e.size for e in entries),
        )
    return inventory


def _media_info(reader: MediaReader, found: _Directory, profile: Profile | None) -> MediaInfo:
    return MediaInfo(
        kind=getattr(reader, "kind", ""),
        name=getattr(reader, "name", ""),
        volume_id=getattr(reader, "volume_id", None),
        dicomdir=found.chosen.path if found.chosen is not None else None,
        fileset_id=found.head.fileset_id,
        fileset_uid=found.head.fileset_uid,
        profile=profile.id if profile is not None else None,
    )


def _with_context(findings: list[Finding], located: dict[str, str]) -> list[Finding]:
    """Findings made before the hierarchy was known, located like the later ones."""
    return [replace(f, where=located[f.where]) if f.where in located else f for f in findings]


def _echoes(findings: Sequence[Finding], damaged: bool) -> list[Finding]:
    """Files not referenced because the damaged DICOMDIR lost their records are echoes of that
    damage (issue 11): notices, not more errors."""
    if not damaged:
        return list(findings)
    return [
        replace(
            f,
            severity=Severity.INFO,
            message=f"{f.message}; the DICOMDIR is damaged (see above), its record may be lost",
        )
        if f.code == "file.not-referenced"
        else f
        for f in findings
    ]


def _empty(findings: Sequence[Finding]) -> Finding:
    """``inventory.empty``: an error on its own; a notice when errors above already say why
    (issue 11: a consequence is not an extra error)."""
    empty = finding("inventory.empty", "no DICOM instance was found on the media")
    if not fails(findings, Severity.ERROR):
        return empty
    return replace(
        empty,
        severity=Severity.INFO,
        message=f"{empty.message}, a consequence of the errors above",
    )


def _order(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Deterministic: most severe first, then by code, location and message; exact repeats once."""
    unique = dict.fromkeys(findings)
    return tuple(
        sorted(unique, key=lambda f: (-int(f.severity), f.code, _natural(f.where), f.message))
    )


def _natural(where: str | None) -> tuple[tuple[int, str], ...]:
    """'record 4' before 'record 11': digit runs compare as numbers."""
    parts = re.split(r"(\d+)", where or "")
    return tuple((int(p), "") if p.isdigit() else (-1, p) for p in parts)
