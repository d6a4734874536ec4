"""What is on the media (checklist I05): patients, studies, series, instances, by modality, record
type, SOP Class and Transfer Syntax. Kept per series (counts), never per instance, so the report
stays small whatever the number of files.

Names and descriptions are taken from the directory records when there are records (decoded by
pydicom with each record's own (0008,0005), PS3.3 F.5), else from the files. The patients,
studies and series are the project's one summary (:mod:`mediatool.dicom.tree`).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydicom.uid import UID

from mediatool.dicom.recordtypes import ROOT_RECORD_TYPES
from mediatool.dicom.tree import PatientSummary, SeriesSummary, StudySummary
from mediatool.model import InstanceInfo
from mediatool.validate.compare import KeySet
from mediatool.validate.files import FileResult


@dataclass(slots=True)
class Inventory:
    patients: dict[str, PatientSummary] = field(default_factory=dict)
    by_modality: Counter[str] = field(default_factory=Counter)
    by_record_type: Counter[str] = field(default_factory=Counter)
    by_sop_class: Counter[str] = field(default_factory=Counter)
    by_transfer_syntax: Counter[str] = field(default_factory=Counter)
    root_instances: int = 0
    files: int = 0
    dicom_files: int = 0
    other_files: int = 0
    web_files: int = 0  # of the other files: the disc's own pages, viewer, autorun (expected)
    referenced_missing: int = 0
    bytes: int = 0

    def counts(self) -> dict[str, int]:
        studies = [st for p in self.patients.values() for st in p.studies.values()]
        series = [se for st in studies for se in st.series.values()]
        return {
            "patients": len(self.patients),
            "studies": len(studies),
            "series": len(series),
            "instances": sum(se.instances for se in series) + self.root_instances,
            "files": self.files,
            "dicom_files": self.dicom_files,
            "other_files": self.other_files,
            "viewer_and_web_files": self.web_files,
            "referenced_missing": self.referenced_missing,
            "bytes": self.bytes,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "by_modality": dict(sorted(self.by_modality.items())),
            "by_record_type": dict(sorted(self.by_record_type.items())),
            "by_sop_class": dict(sorted(self.by_sop_class.items())),
            "by_transfer_syntax": dict(sorted(self.by_transfer_syntax.items())),
            "patients": [
                {
                    "patient_id": p.patient_id,
                    "name": p.name,
                    "birth_date": p.birth_date,
                    "sex": p.sex,
                    "studies": [
                        {
                            "study_instance_uid": st.uid,
                            "date": st.date,
                            "description": st.description,
                            "accession": st.accession,
                            "series": [
                                {
                                    "series_instance_uid": se.uid,
                                    "modality": se.modality,
                                    "number": se.number,
                                    "description": se.description,
                                    "instances": se.instances,
                                }
                                for se in _sorted(st.series)
                            ],
                        }
                        for st in _sorted(p.studies)
                    ],
                }
                for p in _sorted(self.patients)
            ],
        }


def _number(text: str) -> tuple[int, float, str]:
    try:
        return (0, float(text), text)
    except ValueError:
        return (1, 0.0, text)


def _sorted(items: dict[str, Any]) -> list[Any]:
    """Patients by ID, studies by date, series by number; then by UID (deterministic)."""

    def key(k: str) -> tuple[Any, ...]:
        item = items[k]
        if isinstance(item, SeriesSummary):
            return (_number(item.number), k)
        if isinstance(item, StudySummary):
            return (item.date, k)
        return (k,)

    return [items[k] for k in sorted(items, key=key)]


class _Decoded:
    """Record key values decoded once per record (PATIENT and STUDY records are shared)."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, str]] = {}

    def get(self, keys: KeySet | None, keywords: Sequence[str]) -> dict[str, str]:
        if keys is None:
            return {}
        hit = self._cache.get(keys.where)
        if hit is None:
            hit = {}
            ds = keys.dataset()
            with warnings.catch_warnings():  # reported by the record checks (D09, D10)
                warnings.simplefilter("ignore")
                for kw in keywords:
                    try:
                        value = ds.get(kw)
                    except Exception:
                        value = None
                    if value is not None and str(value).strip():
                        hit[kw] = str(value).strip()
            self._cache[keys.where] = hit
        return hit


_PATIENT_KEYS: Final = ("PatientName", "PatientBirthDate", "PatientSex")


def _level(result: FileResult, level: str) -> KeySet | None:
    spec = result.task.spec
    if spec is None:
        return None
    return next((k for k in spec.ancestors if k.level == level), None)


def build_inventory(
    instances: Sequence[tuple[FileResult, InstanceInfo]],
    *,
    files: int,
    other_files: int,
    missing: int,
    total_bytes: int,
    web_files: int = 0,
) -> Inventory:
    inv = Inventory(
        files=files,
        dicom_files=len(instances),
        other_files=other_files,
        web_files=web_files,
        referenced_missing=missing,
        bytes=total_bytes,
    )
    decoded = _Decoded()
    for result, info in instances:
        spec = result.task.spec
        rtype = spec.record_type if spec is not None else (info.record_type or "(none)")
        inv.by_record_type[rtype] += 1
        inv.by_modality[info.modality or "(none)"] += 1
        inv.by_sop_class[UID(info.sop_class_uid).name] += 1
        inv.by_transfer_syntax[UID(info.transfer_syntax).name] += 1
        if info.record_type in ROOT_RECORD_TYPES:
            inv.root_instances += 1
            continue
        _add(inv, result, info, decoded)
    return inv


def _add(inv: Inventory, result: FileResult, info: InstanceInfo, decoded: _Decoded) -> None:
    """Count ``info`` in its series; a new patient, study or series is summarised from it, with
    the names and descriptions its directory records give where they give them."""
    patient = inv.patients.get(info.patient_id)
    if patient is None:
        p = decoded.get(_level(result, "PATIENT"), _PATIENT_KEYS)
        patient = inv.patients[info.patient_id] = PatientSummary.of(info)
        patient.name = p.get("PatientName", patient.name)
        patient.birth_date = p.get("PatientBirthDate", patient.birth_date)
        patient.sex = p.get("PatientSex", patient.sex)
    study = patient.studies.get(info.study_uid)
    if study is None:
        study = patient.studies[info.study_uid] = StudySummary.of(info)
        s = decoded.get(_level(result, "STUDY"), ("StudyDescription",))
        study.description = s.get("StudyDescription", study.description)
    series = study.series.get(info.series_uid)
    if series is None:
        series = study.series[info.series_uid] = SeriesSummary.of(info)
        e = decoded.get(_level(result, "SERIES"), ("SeriesDescription",))
        series.description = e.get("SeriesDescription", series.description)
    series.instances += 1
