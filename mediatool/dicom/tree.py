"""The shape of a Patient/Study/Series tree as the DICOMDIR writer and the File ID rules read it.

A read-only view (PS3.3 F.4, Figure F.4-1): the tree itself is built by
:mod:`mediatool.hierarchy`, a layer above; these Protocols let the floor use it without
importing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

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
