"""Instances → Patient / Study / Series / Instance tree, and the consistency checks on it.

Pure: values in, values and findings out. Grouping keys follow PS3.3 F.5.1-F.5.3 (Patient ID,
Study Instance UID, Series Instance UID); the order is :meth:`InstanceInfo.sort_key`, so the tree
is the same whatever order the inputs came in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from mediatool.dicom.recordtypes import ROOT_RECORD_TYPES
from mediatool.findings import Finding, finding
from mediatool.model import InstanceInfo


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


#: Per entity: the grouping attribute, the parent attribute (a UID under two parents is an
#: error), and the attributes every instance of the entity must agree on (a warning otherwise).
#: PS3.3 C.7.1.1, C.7.2.1, C.7.3.1; checklist F08, F10, F11, F12.
_ENTITIES: Final = (
    (
        "patient_id",
        None,
        "hierarchy.patient-conflict",
        "Patient ID {key!r} has conflicting {label}",
        (("names", "patient_name"), ("birth dates", "birth_date"), ("sexes", "sex")),
    ),
    (
        "study_uid",
        (
            "patient_id",
            "hierarchy.study-two-patients",
            "Study Instance UID {key} is under patients {values}",
        ),
        "hierarchy.study-inconsistent",
        "study {key} has different {label} values",
        (
            ("Study Date", "study_date"),
            ("Study Time", "study_time"),
            ("Study ID", "study_id"),
            ("Accession Number", "accession"),
        ),
    ),
    (
        "series_uid",
        (
            "study_uid",
            "hierarchy.series-two-studies",
            "Series Instance UID {key} is in studies {values}",
        ),
        "hierarchy.series-inconsistent",
        "series {key} has different {label} values",
        (("Modality", "modality"), ("Series Number", "series_number")),
    ),
)


def check_consistency(instances: Sequence[InstanceInfo]) -> list[Finding]:
    """Cross-file checks a single DICOMDIR cannot represent (checklist F08, F10, F11, F12)."""
    out: list[Finding] = []
    entity_instances = [i for i in instances if i.record_type not in ROOT_RECORD_TYPES]
    for key_attr, parent, code, message, attributes in _ENTITIES:
        groups: dict[str, list[InstanceInfo]] = defaultdict(list)
        for inst in entity_instances:
            groups[getattr(inst, key_attr)].append(inst)
        entity = key_attr.split("_")[0]
        for key, group in sorted(groups.items()):
            if parent is not None:
                parent_attr, parent_code, parent_message = parent
                parents = _distinct(getattr(i, parent_attr) for i in group)
                if len(parents) > 1:
                    text = parent_message.format(key=key, values=", ".join(map(repr, parents)))
                    out.append(finding(parent_code, text, group[0].source.display))
            for label, attr in attributes:
                values = _distinct(getattr(i, attr) for i in group)
                if len(values) > 1:
                    text = (
                        message.format(key=key, label=label)
                        + ": "
                        + ", ".join(repr(v) for v in values)
                    )
                    out.append(finding(code, text, f"{entity} {key}"))
    return out
