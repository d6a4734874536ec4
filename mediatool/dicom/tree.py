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
