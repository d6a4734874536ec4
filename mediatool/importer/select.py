"""Plan an import (pure): which files are sent, and the outcome of every other file.

Decided here, before any destination is touched: not DICOM, the DICOMDIR, unreadable or damaged
files, identical and conflicting copies of one SOP Instance UID, instances outside the chosen
studies or patient (IHE PDI RAD-47: "lets the user select patients/studies"), and patients with
no local identity when reconciling. What is left is the work, in the deterministic order of
:meth:`mediatool.model.InstanceInfo.sort_key`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from mediatool.errors import MediatoolError
from mediatool.importer.accounting import FileOutcome, outcome_for
from mediatool.importer.reconcile import LocalIdentity
from mediatool.importer.survey import Kind, MediaFile, Survey
from mediatool.model import InstanceInfo

SameContent = Callable[[MediaFile, MediaFile], bool]

_KIND_REASON: Final = {
    Kind.NOT_DICOM: ("import.not-dicom", "not a DICOM file"),
    Kind.DICOMDIR: ("import.dicomdir", "the DICOMDIR (the disc's index), not an image"),
    Kind.UNREADABLE: ("import.unreadable", "the file cannot be read from the media"),
    Kind.DAMAGED: ("import.damaged", "the DICOM file is damaged"),
}


class SelectionError(MediatoolError):
    """``--study``/``--patient`` name nothing on the media (exit 2)."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Part of a disc: studies by Study Instance UID and/or one patient by Patient ID."""

    studies: frozenset[str] = frozenset()
    patient: str | None = None

    def chooses(self, info: InstanceInfo) -> bool:
        if self.studies and info.study_uid not in self.studies:
            return False
        return self.patient is None or info.patient_id == self.patient


@dataclass(frozen=True, slots=True)
class Work:
    """One instance to send, and the local identity it gets (None: as on the media)."""

    file: MediaFile
    info: InstanceInfo
    identity: LocalIdentity | None


@dataclass(frozen=True, slots=True)
class ImportPlan:
    work: tuple[Work, ...]
    decided: tuple[FileOutcome, ...]
    files_seen: tuple[str, ...]
    listed_missing: tuple[str, ...] = field(default=())
    reconciled: bool = False


def check_selection(survey: Survey, selection: Selection) -> None:
    """Raises :class:`SelectionError` when a study or the patient asked for is not on the media."""
    infos = [f.info for f in survey.files if f.info is not None]
    studies = {i.study_uid for i in infos}
    unknown = sorted(selection.studies - studies)
    if unknown:
        raise SelectionError(
            f"no study {', '.join(repr(u) for u in unknown)} on the media",
            hint="see the studies with: mediatool import MEDIA --list",
        )
    if selection.patient is not None and selection.patient not in {i.patient_id for i in infos}:
        raise SelectionError(
            f"no patient with Patient ID {selection.patient!r} on the media",
            hint="see the patients with: mediatool import MEDIA --list",
        )
    chosen = [i for i in infos if selection.chooses(i)]
    if infos and not chosen:
        raise SelectionError("the chosen patient has none of the chosen studies")


def selected(survey: Survey, selection: Selection) -> list[MediaFile]:
    return [f for f in survey.files if f.info is not None and selection.chooses(f.info)]


def _first_copies(
    instances: list[MediaFile], same: SameContent
) -> tuple[list[MediaFile], list[FileOutcome]]:
    """Keep the first file of each SOP Instance UID (sorted by path); account for the rest."""
    first: dict[str, MediaFile] = {}
    kept: list[MediaFile] = []
    out: list[FileOutcome] = []
    for f in instances:
        assert f.info is not None
        uid = f.info.sop_instance_uid
        earlier = first.setdefault(uid, f)
        if earlier is f:
            kept.append(f)
            continue
        try:
            identical = same(earlier, f)
        except OSError:
            identical = False
        if identical:
            out.append(
                outcome_for(f.path, "import.duplicate", f"identical copy of {earlier.path!r}", uid)
            )
        else:
            out.append(
                outcome_for(
                    f.path,
                    "import.duplicate-conflict",
                    f"same SOP Instance UID as {earlier.path!r} but different content; only "
                    "that file is imported",
                    uid,
                )
            )
    return kept, out


def plan_import(
    survey: Survey,
    selection: Selection,
    identities: Mapping[str, LocalIdentity] | None,
    same_content: SameContent,
) -> ImportPlan:
    """Decide every file's fate that does not depend on the destination.

    ``identities`` maps a Patient ID of the media to its local identity; ``None`` imports
    without reconciliation.
    """
    decided: list[FileOutcome] = []
    instances: list[MediaFile] = []
    for f in survey.files:
        if f.kind is Kind.INSTANCE:
            instances.append(f)
            continue
        code, text = _KIND_REASON[f.kind]
        message = f"{text}: {f.problem}" if f.problem else text
        decided.append(outcome_for(f.path, code, message))
    kept, copies = _first_copies(instances, same_content)
    decided += copies
    work: list[Work] = []
    for f in kept:
        info = f.info
        assert info is not None
        uid = info.sop_instance_uid
        if not selection.chooses(info):
            decided.append(outcome_for(f.path, "import.not-selected", "not selected", uid))
        elif identities is not None and info.patient_id not in identities:
            decided.append(
                outcome_for(
                    f.path,
                    "import.no-local-patient",
                    f"no local patient given for Patient ID {info.patient_id!r} of the media",
                    uid,
                )
            )
        else:
            identity = identities.get(info.patient_id) if identities is not None else None
            work.append(Work(f, info, identity))
    work.sort(key=lambda w: w.info.sort_key())
    return ImportPlan(
        work=tuple(work),
        decided=tuple(decided),
        files_seen=tuple(f.path for f in survey.files),
        listed_missing=survey.listed_missing,
        reconciled=identities is not None,
    )
