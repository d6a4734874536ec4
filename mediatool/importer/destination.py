"""What the destination already holds for the studies of the media, and under which Patient ID.

Asked before anything is sent (issue 10), so that an import can never file a patient's images
twice or under a second patient:

* a PACS is asked with C-FIND (Study Root, PS3.4 C.4.1): at STUDY level for each Study Instance
  UID of the media (which Patient IDs hold it), then at IMAGE level for each series of the media
  under each of those Patient IDs (which SOP Instance UIDs are there);
* an archive folder is its own index: ``<Patient ID>/<study>/<series>/<SOP Instance UID>.dcm``
  (:mod:`.archive`).

:func:`decide` is pure: the instances already there under the reconciled patient are "already
there"; a study the destination holds under **another** Patient ID stops the import before
anything is sent (both IDs named). The journal of earlier runs never decides "already there".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mediatool.dicom.uids import STUDY_ROOT_FIND
from mediatool.importer.select import Work
from mediatool.net.association import (
    NATIVE,
    Network,
    Peer,
    PeerUnavailable,
    associate,
    discard,
    make_ae,
)
from mediatool.net.find import c_find


@dataclass
class Holdings:
    """Per Study Instance UID, the Patient IDs holding it; per SOP Instance UID, the same."""

    studies: dict[str, set[str]] = field(default_factory=dict)
    instances: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A study of the media that the destination holds under other Patient IDs."""

    study_uid: str
    ours: str
    theirs: tuple[str, ...]
    label: str  # date and description, for people


@dataclass
class Decision:
    present: list[Work] = field(default_factory=list)
    todo: list[Work] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    refused: list[Work] = field(default_factory=list)  # works of conflicting studies


def patient_of(work: Work) -> str:
    """The Patient ID the instance has at the destination (reconciled, or as on the media)."""
    return work.identity.patient_id if work.identity is not None else work.info.patient_id


def _label(work: Work) -> str:
    info = work.info
    date = info.study_date
    shown = f"{date[:4]}-{date[4:6]}-{date[6:]}" if len(date) == 8 else "undated"
    desc = getattr(info, "study_description", "") or ""
    return f"{shown} {desc}".strip()


def decide(works: Sequence[Work], held: Holdings) -> Decision:
    """Sort ``works`` into already there, to send, and refused (pure)."""
    out = Decision()
    by_study: dict[str, list[Work]] = {}
    for w in works:
        by_study.setdefault(w.info.study_uid, []).append(w)
    for study, items in by_study.items():
        ours = {patient_of(w) for w in items}
        theirs = held.studies.get(study, set()) | {
            p for w in items for p in held.instances.get(w.info.sop_instance_uid, set())
        }
        other = theirs - ours
        if other:
            out.conflicts.append(
                Conflict(study, sorted(ours)[0], tuple(sorted(other)), _label(items[0]))
            )
            out.refused.extend(items)
            continue
        for w in items:
            if patient_of(w) in held.instances.get(w.info.sop_instance_uid, set()):
                out.present.append(w)
            else:
                out.todo.append(w)
    return out


def archive_holdings(index: dict[str, set[str]], works: Iterable[Work]) -> Holdings:
    """From the archive's own index (file stem → patient folders) for the works' instances."""
    from mediatool.importer.archive import file_stem, safe_component

    held = Holdings()
    for w in works:
        folders = index.get(file_stem(w.info.sop_instance_uid), set())
        if folders:
            # a folder name is the safe form of a Patient ID: compare in that form
            ours = safe_component(patient_of(w))
            mapped = {patient_of(w) if f == ours else f for f in folders}
            held.instances[w.info.sop_instance_uid] = mapped
    return held


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword) if ds is not None else None
    return "" if value is None else str(value).strip()


def _study_query(uid: str) -> Any:
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.StudyInstanceUID = uid
    ds.PatientID = ""
    return ds


def _image_query(study: str, series: str, patient: str) -> Any:
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.PatientID = patient
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.SOPInstanceUID = ""
    return ds


def pacs_holdings(peer: Peer, net: Network, works: Sequence[Work]) -> Holdings:
    """Ask ``peer`` what it holds of the works' studies (C-FIND STUDY, then IMAGE level).

    Raises
    ------
    PeerUnavailable
        The PACS cannot be queried (not reachable, C-FIND not offered or not allowed for our AE
        title, a failure status, no answer).
    """
    ae = make_ae(net)
    ae.add_requested_context(STUDY_ROOT_FIND, list(NATIVE))
    assoc, reason = associate(ae, peer, net)
    if assoc is None:
        raise PeerUnavailable(reason)
    series: dict[str, set[str]] = {}
    for w in works:
        series.setdefault(w.info.study_uid, set()).add(w.info.series_uid)
    held = Holdings()
    try:
        if STUDY_ROOT_FIND not in {cx.abstract_syntax for cx in assoc.accepted_contexts}:
            raise PeerUnavailable(f"{peer} does not offer Study Root C-FIND to our AE title")
        for study in sorted(series):
            pids = {
                _text(ds, "PatientID")
                for ds in c_find(assoc, peer, net, _study_query(study), STUDY_ROOT_FIND)
            }
            if not pids:
                continue
            held.studies[study] = pids
            for pid in sorted(pids):
                for uid in sorted(series[study]):
                    for ds in c_find(
                        assoc, peer, net, _image_query(study, uid, pid), STUDY_ROOT_FIND
                    ):
                        sop = _text(ds, "SOPInstanceUID")
                        if sop:
                            held.instances.setdefault(sop, set()).add(_text(ds, "PatientID") or pid)
    finally:
        if assoc.is_established:
            assoc.release()
        discard(assoc)
    return held
