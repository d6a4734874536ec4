"""The File-set as the web content sees it: a Patient/Study/Series/leaf tree of records.

Two ways in, one result. A build hands over its own tree (:func:`from_tree`): the records'
keys as the DICOMDIR writer encodes them, in its order, so the build never reads its DICOMDIR
back (issue 13). Any other File-set is read (:func:`read_tree`) by the one tolerant reader
(:mod:`mediatool.dicom.dicomdir_read`) and its offset walk (:mod:`mediatool.dicom.dicomdir_tree`,
PS3.3 F.3.2.2), as validate and import read it: only what the offsets reach is shown, in the
order they give; inactive records ((0004,1410) = 0000H) and what lies below them are skipped.
Pure: a tree or a :class:`~mediatool.dicom.dicomdir_raw.RawDirectory` in, plain dataclasses out.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset

from mediatool.dicom.dicomdir_raw import RawDirectory, RawRecord
from mediatool.dicom.dicomdir_tree import ROOT, DirTree, walk
from mediatool.dicom.elements import LONG_VRS
from mediatool.dicom.tree import TreeLike, first_of_patient, first_of_series, first_of_study
from mediatool.dicom.values import text
from mediatool.model import FileID, InstanceInfo, Level


@dataclass(slots=True)
class Leaf:
    """An instance record (IMAGE, SR DOCUMENT, ENCAP DOC, WAVEFORM, RT PLAN, ...)."""

    record_type: str
    file_id: tuple[str, ...]
    sop_class_uid: str
    sop_instance_uid: str
    instance_number: str


@dataclass(slots=True)
class SeriesNode:
    modality: str
    number: str
    uid: str
    leaves: list[Leaf] = field(default_factory=list)


@dataclass(slots=True)
class StudyNode:
    uid: str
    date: str
    time: str
    description: str
    study_id: str
    accession: str
    series: list[SeriesNode] = field(default_factory=list)


@dataclass(slots=True)
class PatientNode:
    name: str
    patient_id: str
    birth_date: str
    sex: str
    studies: list[StudyNode] = field(default_factory=list)


class _Records:
    """The active records the offsets reach, one parent's children at a time."""

    def __init__(self, directory: RawDirectory) -> None:
        self.records = directory.records
        self.tree: DirTree = walk(directory)[0]  # the walk's findings are validate's business

    def below(self, parent: int, record_type: str) -> list[tuple[int, Dataset]]:
        """(index, keys) of the children of ``parent`` of ``record_type``, in offset order."""
        out: list[tuple[int, Dataset]] = []
        for i in self.tree.children.get(parent, []):
            record = self.records[i]
            if self.tree.reached[i] and self.tree.active[i] and record.record_type == record_type:
                out.append((i, record.dataset()))
        return out

    def leaves(self, parent: int) -> list[Leaf]:
        out: list[Leaf] = []
        for i in self.tree.children.get(parent, []):
            if self.tree.reached[i] and self.tree.active[i]:
                leaf = _leaf(self.records[i])
                if leaf is not None:
                    out.append(leaf)
        return out


def _leaf(record: RawRecord) -> Leaf | None:
    file_id = record.file_id
    if file_id is None:
        return None
    keys = record.dataset()
    return Leaf(
        record_type=record.record_type or "",
        file_id=file_id,
        sop_class_uid=text(keys, "ReferencedSOPClassUIDInFile"),
        sop_instance_uid=text(keys, "ReferencedSOPInstanceUIDInFile"),
        instance_number=text(keys, "InstanceNumber"),
    )


def _patient(keys: Dataset) -> PatientNode:
    return PatientNode(
        name=text(keys, "PatientName"),
        patient_id=text(keys, "PatientID"),
        birth_date=text(keys, "PatientBirthDate"),
        sex=text(keys, "PatientSex"),
    )


def _study(keys: Dataset) -> StudyNode:
    return StudyNode(
        uid=text(keys, "StudyInstanceUID"),
        date=text(keys, "StudyDate"),
        time=text(keys, "StudyTime"),
        description=text(keys, "StudyDescription"),
        study_id=text(keys, "StudyID"),
        accession=text(keys, "AccessionNumber"),
    )


def _series(keys: Dataset) -> SeriesNode:
    return SeriesNode(
        modality=text(keys, "Modality"),
        number=text(keys, "SeriesNumber"),
        uid=text(keys, "SeriesInstanceUID"),
    )


def read_tree(directory: RawDirectory) -> list[PatientNode]:
    """The Patient → Study → Series → leaf tree of a DICOMDIR read by the tolerant reader."""
    records = _Records(directory)
    patients: list[PatientNode] = []
    for p, p_keys in records.below(ROOT, "PATIENT"):
        patient = _patient(p_keys)
        for s, s_keys in records.below(p, "STUDY"):
            study = _study(s_keys)
            for se, se_keys in records.below(s, "SERIES"):
                series = _series(se_keys)
                series.leaves = records.leaves(se)
                study.series.append(series)
            patient.studies.append(study)
        patients.append(patient)
    return patients


def _keys(inst: InstanceInfo, level: Level) -> Dataset:
    """A record's keys as the DICOMDIR writer places them (Explicit VR Little Endian elements,
    values decoded on access with the record's own character set, as the reader's are)."""
    return read_dataset(io.BytesIO(inst.keys[level]), False, True)


#: An Instance Number that pydicom shows as it is, without a warning (IS, PS3.5 6.2).
_PLAIN_IS: Final = re.compile(rb" *[+-]?[0-9]{1,9} *")
_INSTANCE_NUMBER: Final = (0x0020, 0x0013)


def _plain_instance_number(keys: bytes) -> str | None:
    """(0020,0013) of a record's keys as :func:`text` shows it, read from the bytes the build
    encoded (ascending tags, Explicit VR Little Endian) when it is a plain number ("" when
    absent); None when pydicom has to decode it (then it may warn: a finding)."""
    at = 0
    while at + 8 <= len(keys):
        group, elem, vr = struct.unpack_from("<HH2s", keys, at)
        if vr in LONG_VRS:
            (length,), start = struct.unpack_from("<I", keys, at + 8), at + 12
        else:
            (length,), start = struct.unpack_from("<H", keys, at + 6), at + 8
        if (group, elem) > _INSTANCE_NUMBER or length == 0xFFFFFFFF:
            return "" if (group, elem) > _INSTANCE_NUMBER else None
        if (group, elem) == _INSTANCE_NUMBER:
            value = keys[start : start + length].rstrip(b" \x00")
            if not value.strip():
                return ""
            return value.strip().decode("ascii") if _PLAIN_IS.fullmatch(value) else None
        at = start + length
    return ""


def _instance_leaf(inst: InstanceInfo, file_id: FileID) -> Leaf:
    number = _plain_instance_number(inst.keys[Level.LEAF])
    if number is None:
        number = text(_keys(inst, Level.LEAF), "InstanceNumber")
    return Leaf(
        record_type=inst.record_type or "",
        file_id=tuple(file_id),
        sop_class_uid=inst.sop_class_uid,
        sop_instance_uid=inst.sop_instance_uid,
        instance_number=number,
    )


def from_tree(tree: TreeLike, file_ids: Mapping[str, FileID]) -> list[PatientNode]:
    """What :func:`read_tree` would read from the DICOMDIR the build writes of ``tree``.

    Each PATIENT, STUDY and SERIES record takes the keys of its first instance
    (:func:`mediatool.dicom.tree.first_of_patient` ..., the rule
    :func:`mediatool.dicom.dicomdir_write.encode` uses too); records at the root that are not
    PATIENT records (HANGING PROTOCOL, PALETTE...) are not shown, as :func:`read_tree` skips them.
    """
    patients: list[PatientNode] = []
    for p in tree.patients:
        patient = _patient(_keys(first_of_patient(p), Level.PATIENT))
        for st in p.studies:
            study = _study(_keys(first_of_study(st), Level.STUDY))
            for se in st.series:
                series = _series(_keys(first_of_series(se), Level.SERIES))
                series.leaves = [
                    _instance_leaf(i, file_ids[i.sop_instance_uid]) for i in se.instances
                ]
                study.series.append(series)
            patient.studies.append(study)
        patients.append(patient)
    return patients
