"""The File-set as the web content sees it: DICOMDIR records → Patient/Study/Series/leaf tree.

The DICOMDIR is read by the one tolerant reader (:mod:`mediatool.dicom.dicomdir_read`) and its
offset walk (:mod:`mediatool.dicom.dicomdir_tree`, PS3.3 F.3.2.2), as validate and import read
it. Only what the offsets reach is shown, in the order they give (ours is deterministic);
inactive records ((0004,1410) = 0000H) and what lies below them are skipped. Pure: a
:class:`~mediatool.dicom.dicomdir_raw.RawDirectory` in, plain dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from mediatool.dicom.dicomdir_raw import RawDirectory, RawRecord
from mediatool.dicom.dicomdir_tree import ROOT, DirTree, walk
from mediatool.dicom.values import text


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
