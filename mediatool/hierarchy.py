"""Instances → Patient / Study / Series / Instance tree, and the consistency checks on it.

Pure: values in, values and findings out. Grouping keys follow PS3.3 F.5.1-F.5.3 (Patient ID,
Study Instance UID, Series Instance UID); the order is :meth:`InstanceInfo.sort_key`, so the tree
is the same whatever order the inputs came in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mediatool.findings import Finding, finding
from mediatool.model import InstanceInfo
from mediatool.recordtypes import ROOT_RECORD_TYPES


@dataclass(slots=True)
class Series:
    uid: str
    instances: list[InstanceInfo] = field(default_factory=list)


@dataclass(slots=True)
class Study:
    uid: str
    series: list[Series] = field(default_factory=list)


@dataclass(slots=True)
class Patient:
    patient_id: str
    studies: list[Study] = field(default_factory=list)


@dataclass(slots=True)
class Tree:
    patients: list[Patient]
    root_instances: list[InstanceInfo]  # HANGING PROTOCOL, PALETTE, IMPLANT... (Table F.4-1)

    def instances(self) -> Iterable[InstanceInfo]:
        for patient in self.patients:
            for study in patient.studies:
                for series in study.series:
                    yield from series.instances
        yield from self.root_instances

    def counts(self) -> dict[str, int]:
        studies = [st for p in self.patients for st in p.studies]
        return {
            "patients": len(self.patients),
            "studies": len(studies),
            "series": sum(len(st.series) for st in studies),
            "instances": sum(1 for _ in self.instances()),
        }


def build_tree(instances: Sequence[InstanceInfo]) -> Tree:
    """Group instances (already deduplicated) into the four-level tree, deterministically."""
    ordered = sorted(instances, key=InstanceInfo.sort_key)
    patients: dict[str, Patient] = {}
    # Keyed by the parent too, so a UID wrongly shared by two parents (an error reported by
    # check_consistency) still gives a well-formed tree.
    studies: dict[tuple[str, str], Study] = {}
    series: dict[tuple[str, str, str], Series] = {}
    root: list[InstanceInfo] = []
    for inst in ordered:
        if inst.record_type in ROOT_RECORD_TYPES:
            root.append(inst)
            continue
        patient = patients.get(inst.patient_id)
        if patient is None:
            patient = patients[inst.patient_id] = Patient(inst.patient_id)
        study_key = (inst.patient_id, inst.study_uid)
        study = studies.get(study_key)
        if study is None:
            study = studies[study_key] = Study(inst.study_uid)
            patient.studies.append(study)
        series_key = (*study_key, inst.series_uid)
        ser = series.get(series_key)
        if ser is None:
            ser = series[series_key] = Series(inst.series_uid)
            study.series.append(ser)
        ser.instances.append(inst)
    return Tree(list(patients.values()), root)


def _distinct(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


def check_consistency(instances: Sequence[InstanceInfo]) -> list[Finding]:
    """Cross-file checks a single DICOMDIR cannot represent (checklist F08, F10, F11, F12)."""
    out: list[Finding] = []
    by_patient: dict[str, list[InstanceInfo]] = defaultdict(list)
    by_study: dict[str, list[InstanceInfo]] = defaultdict(list)
    by_series: dict[str, list[InstanceInfo]] = defaultdict(list)
    for inst in instances:
        if inst.record_type in ROOT_RECORD_TYPES:
            continue
        by_patient[inst.patient_id].append(inst)
        by_study[inst.study_uid].append(inst)
        by_series[inst.series_uid].append(inst)
    for pid, group in sorted(by_patient.items()):
        for label, attr in (
            ("names", "patient_name"),
            ("birth dates", "birth_date"),
            ("sexes", "sex"),
        ):
            values = _distinct(getattr(i, attr) for i in group)
            if len(values) > 1:
                out.append(
                    finding(
                        "hierarchy.patient-conflict",
                        f"Patient ID {pid!r} has conflicting {label}: "
                        + ", ".join(repr(v) for v in values),
                        f"patient {pid}",
                    )
                )
    for uid, group in sorted(by_study.items()):
        pids = _distinct(i.patient_id for i in group)
        if len(pids) > 1:
            out.append(
                finding(
                    "hierarchy.study-two-patients",
                    f"Study Instance UID {uid} is under patients "
                    + ", ".join(repr(p) for p in pids),
                    group[0].source.display,
                )
            )
        for label, attr in (
            ("Study Date", "study_date"),
            ("Study Time", "study_time"),
            ("Study ID", "study_id"),
            ("Accession Number", "accession"),
        ):
            values = _distinct(getattr(i, attr) for i in group)
            if len(values) > 1:
                out.append(
                    finding(
                        "hierarchy.study-inconsistent",
                        f"study {uid} has different {label} values: "
                        + ", ".join(repr(v) for v in values),
                        f"study {uid}",
                    )
                )
    for uid, group in sorted(by_series.items()):
        studies = _distinct(i.study_uid for i in group)
        if len(studies) > 1:
            out.append(
                finding(
                    "hierarchy.series-two-studies",
                    f"Series Instance UID {uid} is in studies " + ", ".join(studies),
                    group[0].source.display,
                )
            )
        for label, attr in (("Modality", "modality"), ("Series Number", "series_number")):
            values = _distinct(getattr(i, attr) for i in group)
            if len(values) > 1:
                out.append(
                    finding(
                        "hierarchy.series-inconsistent",
                        f"series {uid} has different {label} values: "
                        + ", ".join(repr(v) for v in values),
                        f"series {uid}",
                    )
                )
    return out
