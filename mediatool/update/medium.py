"""★ The File-set as it is on the medium: its DICOMDIR (read with the one tolerant reader,
:mod:`mediatool.dicom.dicomdir_read` and :mod:`~mediatool.dicom.dicomdir_tree`) and the headers
of its instances (read with the build's scan, :func:`mediatool.scan.scan_all`).

Without ``--repair`` the instances are the files the in-use records reference; with it, every
DICOM file in the folder (the records are then rebuilt from the files present).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from mediatool import limits
from mediatool.dicom import dicomdir_read, dicomdir_tree
from mediatool.dicom.dicomdir_raw import (
    FILE_ID,
    FILESET_ID,
    REF_INSTANCE,
    RawDirectory,
    RawRecord,
)
from mediatool.dicom.elements import ICON_IMAGE_SEQUENCE, element
from mediatool.errors import MediaError
from mediatool.findings import Finding, finding
from mediatool.model import FileID, InstanceInfo, Progress, SourceRef
from mediatool.scan import ScanOptions, scan_all
from mediatool.web.content import OUTPUTS as WEB_OUTPUTS

CONSISTENCY_FLAG: Final = 0x00041212
DESCRIPTOR_ID: Final = 0x00041141
DESCRIPTOR_CHARSET: Final = 0x00041142
FILESET_UID: Final = 0x00020003


@dataclass
class Medium:
    """The File-set found at ``root``."""

    root: Path
    data: bytes  # the DICOMDIR as found
    directory: RawDirectory
    fileset_id: str
    fileset_uid: str
    descriptor: tuple[FileID, str | None] | None
    flag: int | None  # (0004,1212); None when absent
    #: SOP Instance UID → File ID of every in-use record that references a file.
    referenced: dict[str, FileID] = field(default_factory=dict)
    #: SOP Instance UID → the record's Icon Image Sequence, encoded (kept for its record).
    icons: dict[str, bytes] = field(default_factory=dict)
    #: SOP Instance UID → the icon of its SERIES record.
    series_icons: dict[str, bytes] = field(default_factory=dict)

    def path(self, file_id: FileID) -> Path:
        return self.root.joinpath(*file_id)


def _dicomdir_path(root: Path) -> Path:
    if not root.exists():
        raise MediaError(f"{str(root)!r} does not exist")
    if not root.is_dir():
        raise MediaError(
            f"{str(root)!r} is not a folder; update works on a File-set folder or a mounted "
            "USB stick",
            hint="an ISO image cannot be changed: build a new one with mediatool build",
        )
    path = root / "DICOMDIR"
    if path.is_file():
        return path
    raise MediaError(
        f"{str(root)!r} is not a File-set: it has no DICOMDIR at its root (PS3.10 8.6)",
        hint="make one with: mediatool build SOURCE... --out FOLDER",
    )


def _icon(record: RawRecord) -> bytes | None:
    """The record's Icon Image Sequence as an element to put back, when it can be taken whole."""
    el = record.elements.get(ICON_IMAGE_SEQUENCE)
    if el is None or el.undefined or record.encoding.implicit or not record.encoding.little:
        return None
    return element(ICON_IMAGE_SEQUENCE, b"SQ", el.value)


def read(root: Path) -> Medium:
    """Read ``root/DICOMDIR``. Raises :class:`MediaError` when it is not a readable File-set."""
    path = _dicomdir_path(root)
    try:
        if path.stat().st_size > limits.DICOMDIR_SIZE_LIMIT:
            raise MediaError(f"{str(path)!r} is larger than {limits.DICOMDIR_SIZE_LIMIT} bytes")
        data = path.read_bytes()
    except OSError as exc:
        raise MediaError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
    directory = dicomdir_read.parse(data, "DICOMDIR")
    if directory.encoding is None or not directory.has_sequence:
        raise MediaError(
            f"{str(path)!r} is not a DICOMDIR that can be read (no Directory Record Sequence)",
            hint="check it with mediatool validate",
        )
    descriptor_id = directory.text(DESCRIPTOR_ID)
    medium = Medium(
        root,
        data,
        directory,
        fileset_id=directory.text(FILESET_ID) or "",
        fileset_uid=directory.meta.text(FILESET_UID) or "",
        descriptor=(
            (tuple(descriptor_id.split("\\")), directory.text(DESCRIPTOR_CHARSET) or None)
            if descriptor_id
            else None
        ),
        flag=directory.uint(CONSISTENCY_FLAG),
    )
    _index(medium)
    return medium


def _index(medium: Medium) -> None:
    """The records that reference files, and their icons (those of SERIES records too)."""
    tree, _ = dicomdir_tree.walk(medium.directory)
    records = medium.directory.records
    for index in tree.order:
        record = records[index]
        uid, file_id = record.text(REF_INSTANCE), record.file_id
        if not tree.active[index] or not uid or not file_id or not record.has(FILE_ID):
            continue
        medium.referenced[uid] = file_id
        icon = _icon(record)
        if icon is not None:
            medium.icons[uid] = icon
        parent = tree.parent[index]
        if parent >= 0 and dicomdir_tree.record_type(records[parent]) == "SERIES":
            series_icon = _icon(records[parent])
            if series_icon is not None:
                medium.series_icons[uid] = series_icon


#: Names at the root that are not instances: the DICOMDIR, web content, our staging folders.
def _skipped(name: str) -> bool:
    return name.upper() == "DICOMDIR" or name in WEB_OUTPUTS or name.startswith(".")


def files_present(root: Path, descriptor: FileID | None) -> Iterator[FileID]:
    """Every file of the folder that may be an instance (``--repair``), in name order."""
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).parts
        if not rel:
            dirs[:] = [d for d in dirs if not _skipped(d)]
            files = [f for f in files if not _skipped(f)]
        else:
            dirs[:] = [d for d in dirs if not d.startswith(".")]
        dirs.sort()
        for name in sorted(files):
            file_id = (*rel, name)
            if file_id != descriptor and not name.startswith("."):
                yield file_id


@dataclass
class Instances:
    """The instances on the medium as scanned, and what reading them found."""

    by_uid: dict[str, InstanceInfo]
    file_ids: dict[str, FileID]
    findings: list[Finding]


def scan_medium(
    medium: Medium,
    options: ScanOptions,
    *,
    repair: bool,
    jobs: int | None,
    progress: Progress | None,
) -> Instances:
    """Read the headers of the instances on the medium. A referenced file that is missing or
    unreadable is an error (its record could not be kept); with ``repair``, files that are not
    DICOM are passed over and unreadable ones left out (a warning each)."""
    if repair:
        candidates = list(files_present(medium.root, medium.descriptor and medium.descriptor[0]))
    else:
        candidates = list(medium.referenced.values())
    findings: list[Finding] = []
    present = []
    for file_id in candidates:
        if medium.path(file_id).is_file():
            present.append(file_id)
        else:
            findings.append(
                finding(
                    "update.missing-file",
                    "a directory record refers to this file, which is not on the medium",
                    "/".join(file_id),
                )
            )
    refs = [SourceRef(str(medium.path(fid))) for fid in present]
    scanned = scan_all(refs, options, jobs=jobs, progress=progress)
    by_path = {ref.path: fid for ref, fid in zip(refs, present, strict=True)}
    found = {i.source.path: i for i in scanned.instances}
    out = Instances({}, {}, findings)
    for ref in refs:
        file_id = by_path[ref.path]
        inst = found.get(ref.path)
        if inst is None:
            _unreadable(out, scanned.findings, ref, file_id, repair)
            continue
        if inst.sop_instance_uid in out.by_uid:  # a second copy (repair only): keep the first
            continue
        out.by_uid[inst.sop_instance_uid] = inst
        out.file_ids[inst.sop_instance_uid] = file_id
    return out


def _unreadable(
    out: Instances, scanned: tuple[Finding, ...], ref: SourceRef, file_id: FileID, repair: bool
) -> None:
    own = [f for f in scanned if f.where == ref.display]
    if repair and all(f.code == "source.not-dicom" for f in own):
        return  # not DICOM: not an instance, nothing to say on a repair
    reason = own[0].message if own else "it is not a DICOM instance"
    out.findings.append(
        finding(
            "update.left-out" if repair else "update.unreadable-file",
            f"cannot be read as an instance ({reason})",
            "/".join(file_id),
        )
    )
