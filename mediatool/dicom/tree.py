"""The shape of a Patient/Study/Series tree, and the one summary of it every listing prints.

A read-only view (PS3.3 F.4, Figure F.4-1): the tree itself is built by
:mod:`mediatool.hierarchy`, a layer above; these Protocols let the floor use it without
importing it.

What a parent record holds is the keys of its first instance (:func:`first_of_patient`,
:func:`first_of_study`, :func:`first_of_series`): the DICOMDIR writer, the web content and the
summaries all take it from here. :class:`PatientSummary`, :class:`StudySummary` and
:class:`SeriesSummary` are the one Patient/Study/Series summary (names, dates, descriptions,
instance counts, never the instances): validate's and import's inventory
(:mod:`mediatool.validate.inventory`) fills them file by file, a build's "what each disc holds"
(:func:`mediatool.build.volumes.describe`) and plan summary take them from the tree
(:func:`summarise`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, Self

from mediatool.model import InstanceInfo


class SeriesLike(Protocol):
    @property
    def instances(self) -> Sequence[InstanceInfo]: ...


class StudyLike(Protocol):
    @property
    def series(self) -> Sequence[SeriesLike]: ...


class PatientLike(Protocol):
    @property
    def studies(self) -> Sequence[StudyLike]: ...


class TreeLike(Protocol):
    @property
    def patients(self) -> Sequence[PatientLike]: ...

    @property
    def root_instances(self) -> Sequence[InstanceInfo]: ...


def first_of_series(series: SeriesLike) -> InstanceInfo:
    """The instance whose keys the SERIES record takes: the series' first, in the tree's order.

    The one rule for every parent record (PS3.3 F.5.1-F.5.3 keys come from the instances; the
    tree is ordered by :meth:`InstanceInfo.sort_key`, so "first" is deterministic): the DICOMDIR
    writer encodes these keys and the web content shows them, so both agree by construction.
    """
    return series.instances[0]


def first_of_study(study: StudyLike) -> InstanceInfo:
    """The instance whose keys the STUDY record takes (see :func:`first_of_series`)."""
    return first_of_series(study.series[0])


def first_of_patient(patient: PatientLike) -> InstanceInfo:
    """The instance whose keys the PATIENT record takes (see :func:`first_of_series`)."""
    return first_of_study(patient.studies[0])


@dataclass(slots=True)
class SeriesSummary:
    uid: str
    modality: str = ""
    number: str = ""
    description: str = ""
    instances: int = 0

    @classmethod
    def of(cls, inst: InstanceInfo) -> Self:
        """The series as its instance ``inst`` describes it (no instance counted yet)."""
        return cls(inst.series_uid, inst.modality, inst.series_number, inst.series_description)


@dataclass(slots=True)
class StudySummary:
    uid: str
    date: str = ""
    description: str = ""
    accession: str = ""
    series: dict[str, SeriesSummary] = field(default_factory=dict)  # by Series Instance UID

    @classmethod
    def of(cls, inst: InstanceInfo) -> Self:
        """The study as its instance ``inst`` describes it (no series yet)."""
        return cls(inst.study_uid, inst.study_date, inst.study_description, inst.accession)


@dataclass(slots=True)
class PatientSummary:
    patient_id: str
    name: str = ""
    birth_date: str = ""
    sex: str = ""
    studies: dict[str, StudySummary] = field(default_factory=dict)  # by Study Instance UID

    @classmethod
    def of(cls, inst: InstanceInfo) -> Self:
        """The patient as its instance ``inst`` describes it (no study yet)."""
        return cls(inst.patient_id, inst.patient_name, inst.birth_date, inst.sex)


def summarise(tree: TreeLike) -> list[PatientSummary]:
    """The summary of ``tree``, in its order: each parent as its first instance describes it."""
    out: list[PatientSummary] = []
    for p in tree.patients:
        patient = PatientSummary.of(first_of_patient(p))
        for st in p.studies:
            study = StudySummary.of(first_of_study(st))
            for se in st.series:
                series = SeriesSummary.of(first_of_series(se))
                series.instances = len(se.instances)
                study.series[series.uid] = series
            patient.studies[study.uid] = study
        out.append(patient)
    return out
