"""The File-set as the web content sees it: DICOMDIR records → Patient/Study/Series/leaf tree.

Reads the Basic Directory (PS3.3 Annex F) by following the record offsets: (0004,1200) Offset
of the First Directory Record of the Root Directory Entity, (0004,1400) Offset of the Next
Directory Record and (0004,1420) Offset of Referenced Lower-Level Directory Entity. Records keep
the order the DICOMDIR gives them (ours is deterministic); inactive records ((0004,1410) = 0000H)
are skipped. Pure: a parsed ``Dataset`` in, plain dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from pydicom.dataset import Dataset

_INACTIVE: Final = 0x0000


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


def _text(record: Dataset, keyword: str) -> str:
    try:
        value = record.get(keyword)
    except Exception:  # a value pydicom cannot decode is shown as missing
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def _children(first: int | None, by_offset: dict[int, Dataset], seen: set[int]) -> list[Dataset]:
    """The records of one directory entity, following (0004,1400) from ``first``."""
    records: list[Dataset] = []
    offset = first
    while offset and offset in by_offset and offset not in seen:
        seen.add(offset)
        record = by_offset[offset]
        if int(record.get("RecordInUseFlag", 0xFFFF)) != _INACTIVE:
            records.append(record)
        offset = int(record.get("OffsetOfTheNextDirectoryRecord", 0) or 0)
    return records


def _lower(record: Dataset, by_offset: dict[int, Dataset], seen: set[int]) -> list[Dataset]:
    offset = int(record.get("OffsetOfReferencedLowerLevelDirectoryEntity", 0) or 0)
    return _children(offset, by_offset, seen)


def _leaf(record: Dataset) -> Leaf | None:
    file_id = record.get("ReferencedFileID")
    if file_id is None:
        return None
    parts = (file_id,) if isinstance(file_id, str) else tuple(str(p) for p in file_id)
    return Leaf(
        record_type=_text(record, "DirectoryRecordType"),
        file_id=parts,
        sop_class_uid=_text(record, "ReferencedSOPClassUIDInFile"),
        sop_instance_uid=_text(record, "ReferencedSOPInstanceUIDInFile"),
        instance_number=_text(record, "InstanceNumber"),
    )


def read_tree(dicomdir: Dataset) -> list[PatientNode]:
    """The Patient → Study → Series → leaf tree of a parsed DICOMDIR."""
    sequence = dicomdir.get("DirectoryRecordSequence") or []
    by_offset = {int(item.seq_item_tell): item for item in sequence}
    seen: set[int] = set()
    first = int(dicomdir.get("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity", 0) or 0)
    patients: list[PatientNode] = []
    for p_rec in _children(first, by_offset, seen):
        if _text(p_rec, "DirectoryRecordType") != "PATIENT":
            continue
        patient = PatientNode(
            name=_text(p_rec, "PatientName"),
            patient_id=_text(p_rec, "PatientID"),
            birth_date=_text(p_rec, "PatientBirthDate"),
            sex=_text(p_rec, "PatientSex"),
        )
        for s_rec in _lower(p_rec, by_offset, seen):
            if _text(s_rec, "DirectoryRecordType") != "STUDY":
                continue
            study = StudyNode(
                uid=_text(s_rec, "StudyInstanceUID"),
                date=_text(s_rec, "StudyDate"),
                time=_text(s_rec, "StudyTime"),
                description=_text(s_rec, "StudyDescription"),
                study_id=_text(s_rec, "StudyID"),
                accession=_text(s_rec, "AccessionNumber"),
            )
            for se_rec in _lower(s_rec, by_offset, seen):
                if _text(se_rec, "DirectoryRecordType") != "SERIES":
                    continue
                series = SeriesNode(
                    modality=_text(se_rec, "Modality"),
                    number=_text(se_rec, "SeriesNumber"),
                    uid=_text(se_rec, "SeriesInstanceUID"),
                )
                for i_rec in _lower(se_rec, by_offset, seen):
                    leaf = _leaf(i_rec)
                    if leaf is not None:
                        series.leaves.append(leaf)
                study.series.append(series)
            patient.studies.append(study)
        patients.append(patient)
    return patients
