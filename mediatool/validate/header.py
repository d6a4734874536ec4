"""The DICOMDIR as a Part 10 file and its File-set Identification (PS3.10 §8.6, PS3.3 F.3.2):
checklist B01-B11. File Meta checks are :func:`mediatool.dicom.filemeta.check`, as for every
file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from mediatool.dicom import fileids, filemeta
from mediatool.dicom.dicomdir_raw import EXPLICIT_LE, FILESET_ID, RawDirectory
from mediatool.dicom.uids import MEDIA_STORAGE_DIRECTORY
from mediatool.dicom.values import DEFINED_CHARSETS, text_values
from mediatool.findings import Finding, finding
from mediatool.media.base import MediaReader

DESCRIPTOR_ID: Final = 0x00041141
DESCRIPTOR_CHARSET: Final = 0x00041142
CONSISTENCY: Final = 0x00041212
_DESCRIPTOR_MAX: Final = 1 << 20


@dataclass(slots=True)
class Header:
    fileset_id: str | None = None
    fileset_uid: str | None = None
    descriptor: tuple[str, ...] | None = None  # File ID components
    descriptor_path: str | None = None  # entry path, when found
    findings: list[Finding] = field(default_factory=list)


def check_header(directory: RawDirectory, reader: MediaReader, prefix: tuple[str, ...]) -> Header:
    """B01-B11 on a parsed DICOMDIR."""
    where = directory.where
    head = Header(findings=list(directory.findings))
    out = head.findings
    if directory.limit is not None:  # not read: nothing more to say than which limit
        return head
    meta = directory.meta
    actual = directory.encoding.uid if directory.encoding else None
    out += filemeta.check(
        meta, sop_class_uid=None, sop_instance_uid=None, encoding_ts=actual, where=where
    )
    if directory.encoding is None or (not directory.top and not directory.records):
        out.append(finding("dicomdir.unreadable", "no data set could be read", where))
        return head
    sop_class = meta.text(0x00020002)
    if sop_class and sop_class != MEDIA_STORAGE_DIRECTORY:
        out.append(
            finding(
                "dicomdir.sop-class",
                f"(0002,0002) Media Storage SOP Class UID is {sop_class!r}, not "
                f"{MEDIA_STORAGE_DIRECTORY!r} (Media Storage Directory Storage)",
                where,
            )
        )
    head.fileset_uid = meta.text(0x00020003)
    declared = meta.text(0x00020010)
    if declared not in (None, EXPLICIT_LE) or actual != EXPLICIT_LE:
        out.append(
            finding(
                "dicomdir.transfer-syntax",
                f"the DICOMDIR declares {declared!r} and is encoded in {actual!r}; it must be "
                f"Explicit VR Little Endian ({EXPLICIT_LE}); read anyway",
                where,
            )
        )
    out += _identification(directory, head, reader, prefix)
    out += _information(directory)
    return head


def _identification(
    directory: RawDirectory, head: Header, reader: MediaReader, prefix: tuple[str, ...]
) -> list[Finding]:
    """B06-B08."""
    where = directory.where
    out: list[Finding] = []
    head.fileset_id = directory.text(FILESET_ID)
    if head.fileset_id is None:
        out.append(
            finding("dicomdir.fileset-id-missing", "(0004,1130) File-set ID is absent", where)
        )
    else:
        out += fileids.check_fileset_id(head.fileset_id, where)
    return out + _descriptor(directory, head, reader, prefix)


def _descriptor(
    directory: RawDirectory, head: Header, reader: MediaReader, prefix: tuple[str, ...]
) -> list[Finding]:
    """B07, B08: the File-set Descriptor File names a file on the media, and is read."""
    where = directory.where
    out: list[Finding] = []
    descriptor = directory.text(DESCRIPTOR_ID)
    if descriptor is None:
        return out
    components = tuple(c.strip(" ") for c in descriptor.split("\\"))
    head.descriptor = components
    problems = fileids.check_file_id(components, where)
    entry, _ = reader.resolve(prefix + components)
    if problems or entry is None:
        why = "is not a valid File ID" if problems else "names no file on the media"
        out.append(
            finding(
                "dicomdir.descriptor",
                f"(0004,1141) File-set Descriptor File ID {descriptor!r} {why}",
                where,
            )
        )
    if entry is None:
        return out
    head.descriptor_path = entry.path
    try:
        with reader.open(entry) as fp:
            data = fp.read(_DESCRIPTOR_MAX)
    except OSError:
        return out
    return out + _descriptor_content(directory, entry.path, data)


def _descriptor_content(directory: RawDirectory, path: str, data: bytes) -> list[Finding]:
    """B08: the descriptor is text, not DICOM, in the character set (0004,1142) names."""
    where = directory.where
    out: list[Finding] = []
    if data[128:132] == b"DICM":
        out.append(
            finding(
                "dicomdir.descriptor-is-dicom",
                f"the File-set Descriptor File {path!r} is a DICOM file",
                where,
            )
        )
    charset = directory.text(DESCRIPTOR_CHARSET)
    if charset is not None and not all(
        v in DEFINED_CHARSETS for v in text_values(charset.encode())
    ):
        out.append(
            finding(
                "dicomdir.descriptor-charset",
                f"(0004,1142) {charset!r} is not a defined term of (0008,0005)",
                where,
            )
        )
    elif charset is None and any(b > 0x7F or b == 0x1B for b in data):
        out.append(
            finding(
                "dicomdir.descriptor-charset",
                f"the File-set Descriptor File {path!r} has non-ASCII bytes but "
                "(0004,1142) is absent",
                where,
            )
        )
    return out


def _information(directory: RawDirectory) -> list[Finding]:
    """B09-B11."""
    where = directory.where
    out: list[Finding] = []
    if not directory.records:
        state = "empty" if directory.has_sequence else "absent"
        out.append(
            finding(
                "dicomdir.no-records",
                f"(0004,1220) Directory Record Sequence is {state}",
                where,
            )
        )
    flag = directory.uint(CONSISTENCY)
    if flag is None:
        out.append(
            finding(
                "dicomdir.consistency-flag",
                "(0004,1212) File-set Consistency Flag is absent",
                where,
            )
        )
    elif flag == 0xFFFF:
        out.append(
            finding(
                "dicomdir.consistency-flag-set",
                "(0004,1212) File-set Consistency Flag is FFFFH",
                where,
            )
        )
    elif flag:
        out.append(
            finding(
                "dicomdir.consistency-flag",
                f"(0004,1212) File-set Consistency Flag is {flag:04X}H, not 0000H",
                where,
            )
        )
    group2 = sorted(t for t in directory.top if t >> 16 == 0x0002)
    if group2:
        out.append(
            finding(
                "meta.group-in-dataset",
                f"{len(group2)} group 0002 elements inside the DICOMDIR data set",
                where,
            )
        )
    common = [t for t in (0x00080016, 0x00080018) if t in directory.top]
    if common:
        out.append(
            finding(
                "dicomdir.sop-common",
                "the DICOMDIR data set has (0008,0016)/(0008,0018), which Basic Directory lacks",
                where,
            )
        )
    return out
