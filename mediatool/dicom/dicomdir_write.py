"""Write the DICOMDIR: Basic Directory IOD (PS3.3 Annex F) in a Part 10 file (PS3.10 §8.6).

Records are laid out depth first (PATIENT, its STUDYs, their SERIES, their instance records,
then root-level records) as items of explicit length. Every offset is the byte position of the
record's Item tag counted from the first byte of the file, preamble included (PS3.3 F.3.2.2).

The record items are assembled by hand rather than through pydicom's ``FileSet``: the instance
keys arrive already encoded (see :mod:`mediatool.scan`), the group 0004 elements have fixed
sizes, so positions are known before writing and a single pass produces the file. ``FileSet``
re-reads every instance and re-assigns File IDs (design.md, "How much of pydicom we reuse").
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from mediatool.dicom import filemeta
from mediatool.dicom.elements import (
    ICON_IMAGE_SEQUENCE,
    element,
    insert_element,
    item,
    padded,
    ul,
    us,
)
from mediatool.dicom.elements import uid as _uid
from mediatool.dicom.tree import TreeLike, first_of_patient, first_of_series, first_of_study
from mediatool.dicom.uids import EXPLICIT_VR_LITTLE_ENDIAN, MEDIA_STORAGE_DIRECTORY
from mediatool.model import FileID, InstanceInfo, Level

_NEXT_AT: Final = 16  # (0004,1400) value: item header 8 + element header 8
_LOWER_AT: Final = 38  # (0004,1420) value: + UL 12 + US 10 + element header 8
_RECORD_HEAD: Final = 12 + 10 + 12  # (0004,1400) UL, (0004,1410) US, (0004,1420) UL


def _element(group: int, elem: int, vr: bytes, value: bytes) -> bytes:
    return element(group << 16 | elem, vr, value)


def _pad(text: str, pad: bytes = b" ") -> bytes:
    return padded(text, pad)


@dataclass(frozen=True, slots=True)
class Icons:
    """The icons a DICOMDIR carries (PS3.3 F.7): an encoded Icon Image Sequence per SOP Instance
    UID, written into the records of the types in ``records`` (IMAGE: its own; SERIES: its
    middle image's)."""

    images: Mapping[str, bytes]
    records: Sequence[str]


@dataclass(slots=True)
class _Record:
    body: bytes  # everything after the three offset elements
    children: list[_Record] = field(default_factory=list)


@functools.lru_cache(maxsize=256)
def _repeated(group: int, elem: int, vr: bytes, value: str) -> bytes:
    """An element whose value repeats from record to record (a record type, a SOP Class, a
    Transfer Syntax): encoded once (issue 17: the DICOMDIR is encoded in the build's single
    parent process, 10,000 records and more)."""
    return _element(group, elem, vr, _uid(value) if vr == b"UI" else _pad(value))


def _record(record_type: str, keys: bytes, refs: bytes = b"") -> _Record:
    return _Record(_repeated(0x0004, 0x1430, b"CS", record_type) + refs + keys)


def _instance_refs(inst: InstanceInfo, file_id: FileID, ts: str) -> bytes:
    refs = _element(0x0004, 0x1500, b"CS", _pad("\\".join(file_id)))
    refs += _repeated(0x0004, 0x1510, b"UI", inst.sop_class_uid)
    refs += _element(0x0004, 0x1511, b"UI", _uid(inst.sop_instance_uid))
    refs += _repeated(0x0004, 0x1512, b"UI", ts)
    if inst.related_general_sop_classes:
        refs += _element(0x0004, 0x151A, b"UI", _uid(inst.related_general_sop_classes))
    return refs


def _with_icon(keys: bytes, icon: bytes | None) -> bytes:
    return keys if icon is None else insert_element(keys, icon, ICON_IMAGE_SEQUENCE)


def _series_icon(series: Sequence[InstanceInfo], icons: Icons) -> bytes | None:
    """A SERIES record's icon: the icon of the middle image of the series."""
    if "SERIES" not in icons.records:
        return None
    with_icon = [i for i in series if i.sop_instance_uid in icons.images]
    return icons.images[with_icon[len(with_icon) // 2].sop_instance_uid] if with_icon else None


def _records(
    tree: TreeLike,
    file_ids: Mapping[str, FileID],
    ts: Mapping[str, str],
    icons: Icons,
) -> list[_Record]:
    roots: list[_Record] = []
    for patient in tree.patients:
        prec = _record("PATIENT", first_of_patient(patient).keys[Level.PATIENT])
        for study in patient.studies:
            strec = _record("STUDY", first_of_study(study).keys[Level.STUDY])
            for series in study.series:
                series_keys = first_of_series(series).keys[Level.SERIES]
                serec = _record(
                    "SERIES",
                    _with_icon(series_keys, _series_icon(series.instances, icons)),
                )
                for inst in series.instances:
                    assert inst.record_type is not None
                    uid = inst.sop_instance_uid
                    refs = _instance_refs(inst, file_ids[uid], ts[uid])
                    leaf_icon = icons.images.get(uid) if inst.record_type in icons.records else None
                    keys = _with_icon(inst.keys[Level.LEAF], leaf_icon)
                    serec.children.append(_record(inst.record_type, keys, refs))
                strec.children.append(serec)
            prec.children.append(strec)
        roots.append(prec)
    for inst in tree.root_instances:
        assert inst.record_type is not None
        uid = inst.sop_instance_uid
        refs = _instance_refs(inst, file_ids[uid], ts[uid])
        roots.append(_record(inst.record_type, inst.keys[Level.LEAF], refs))
    return roots


def _flatten(entity: Sequence[_Record], out: list[tuple[_Record, int, int]]) -> None:
    """Depth-first list of (record, index of next in entity, index of first child); -1 = none."""
    indices: list[int] = []
    for rec in entity:
        indices.append(len(out))
        out.append((rec, -1, -1))
        if rec.children:
            child_start = len(out)
            _flatten(rec.children, out)
            r, nxt, _ = out[indices[-1]]
            out[indices[-1]] = (r, nxt, child_start)
    for a, b in itertools.pairwise(indices):
        r, _, low = out[a]
        out[a] = (r, b, low)


def _head(fileset_id: str, descriptor: tuple[FileID, str | None] | None) -> bytes:
    """(0004,1130) File-set ID and the optional File-set Descriptor File ID and its charset."""
    head = _element(0x0004, 0x1130, b"CS", _pad(fileset_id))
    if descriptor is not None:
        head += _element(0x0004, 0x1141, b"CS", _pad("\\".join(descriptor[0])))
        if descriptor[1]:
            head += _element(0x0004, 0x1142, b"CS", _pad(descriptor[1]))
    return head


def _items(
    flat: Sequence[tuple[_Record, int, int]], first_item: int
) -> tuple[list[bytes], list[int]]:
    """Each record as an item with its offsets filled in, and the file position of each item."""
    positions: list[int] = []
    pos = first_item
    for rec, _, _ in flat:
        positions.append(pos)
        pos += 8 + _RECORD_HEAD + len(rec.body)
    items: list[bytes] = []
    in_use = _element(0x0004, 0x1410, b"US", b"\xff\xff")  # the same in every record
    for rec, nxt, low in flat:
        body = (
            _element(0x0004, 0x1400, b"UL", ul(positions[nxt] if nxt >= 0 else 0))
            + in_use
            + _element(0x0004, 0x1420, b"UL", ul(positions[low] if low >= 0 else 0))
            + rec.body
        )
        items.append(item(body))
    return items, positions


def _root_chain(
    flat: Sequence[tuple[_Record, int, int]], positions: Sequence[int]
) -> tuple[int, int]:
    """(0004,1200) and (0004,1202): the first and the last record of the root entity."""
    if not flat:
        return 0, 0
    first = last = 0
    n = 0
    while n >= 0:
        last = n
        n = flat[n][1]
    return positions[first], positions[last]


def encode(
    tree: TreeLike,
    file_ids: Mapping[str, FileID],
    transfer_syntaxes: Mapping[str, str],
    *,
    fileset_uid: str,
    fileset_id: str = "",
    descriptor: tuple[FileID, str | None] | None = None,
    icons: Icons | None = None,
) -> bytes:
    """The complete DICOMDIR file as bytes.

    ``transfer_syntaxes`` maps SOP Instance UID → the Transfer Syntax of the file as written
    ((0004,1512)); ``descriptor`` is the File-set Descriptor File ID and its character set;
    ``icons`` the icons of the records (:class:`Icons`).
    """
    meta = filemeta.encode(MEDIA_STORAGE_DIRECTORY, fileset_uid, EXPLICIT_VR_LITTLE_ENDIAN)
    head = _head(fileset_id, descriptor)
    flat: list[tuple[_Record, int, int]] = []
    _flatten(_records(tree, file_ids, transfer_syntaxes, icons or Icons({}, ())), flat)
    # (0004,1200) UL, (0004,1202) UL, (0004,1212) US, then the sequence header (12 bytes).
    items, positions = _items(flat, len(meta) + len(head) + 12 + 12 + 10 + 12)
    first, last = _root_chain(flat, positions)
    return (
        meta
        + head
        + _element(0x0004, 0x1200, b"UL", ul(first))
        + _element(0x0004, 0x1202, b"UL", ul(last))
        + _element(0x0004, 0x1212, b"US", us(0))
        + element(0x00041220, b"SQ", b"".join(items))
    )
