"""C-FIND at STUDY level (PS3.4 C.4.1): Study Root, or Patient Root when Study Root is refused.

The query dataset is pure (:func:`study_query`); :func:`find_studies` is the network edge.
Return keys are sent zero-length (PS3.4 C.2.2.1); a date range is ``YYYYMMDD-YYYYMMDD``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Final

from pydicom.dataset import Dataset

from mediatool.dicom.uids import PATIENT_ROOT_FIND, STUDY_ROOT_FIND
from mediatool.dicom.values import text as _text  # the one tolerant value -> text
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

_KEYS: Final = (
    "PatientID",
    "PatientName",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedInstances",
    "SOPClassesInStudy",
)


@dataclass(frozen=True, slots=True)
class StudyQuery:
    patient_id: str = ""
    accession: str = ""
    study_date: str = ""  # YYYYMMDD or a range YYYYMMDD-YYYYMMDD
    modality: str = ""
    study_uids: tuple[str, ...] = ()
    patient_name: str = ""  # PN matching, ``*`` wild cards allowed (PS3.4 C.2.2.2.4)

    def is_empty(self) -> bool:
        return not (
            self.patient_id
            or self.accession
            or self.study_date
            or self.study_uids
            or self.patient_name
        )


@dataclass(frozen=True, slots=True)
class StudyMatch:
    study_uid: str
    patient_id: str = ""
    patient_name: str = ""
    date: str = ""
    description: str = ""
    accession: str = ""
    modalities: tuple[str, ...] = ()
    instances: int | None = None
    sop_classes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid,
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "date": self.date,
            "description": self.description,
            "accession": self.accession,
            "modalities": list(self.modalities),
            "instances": self.instances,
        }


def study_query(q: StudyQuery) -> Dataset:
    """The C-FIND identifier for ``q`` at STUDY level (pure)."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    for keyword in _KEYS:
        setattr(ds, keyword, "")
    ds.PatientID = q.patient_id
    ds.PatientName = q.patient_name
    ds.AccessionNumber = q.accession
    ds.StudyDate = q.study_date.replace("/", "")
    ds.ModalitiesInStudy = q.modality
    if q.study_uids:
        ds.StudyInstanceUID = list(q.study_uids) if len(q.study_uids) > 1 else q.study_uids[0]
    return ds


def _multi(ds: Dataset, keyword: str) -> tuple[str, ...]:
    with contextlib.suppress(Exception):
        value = ds.get(keyword)
        if value is None or value == "":
            return ()
        values = [value] if isinstance(value, str) else list(value)
        return tuple(str(v).strip() for v in values if str(v).strip())
    return ()


def to_match(ds: Dataset) -> StudyMatch | None:
    """One C-FIND answer → :class:`StudyMatch` (None without a Study Instance UID)."""
    uid = _text(ds, "StudyInstanceUID")
    if not uid:
        return None
    count = _text(ds, "NumberOfStudyRelatedInstances")
    return StudyMatch(
        study_uid=uid,
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        date=_text(ds, "StudyDate"),
        description=_text(ds, "StudyDescription"),
        accession=_text(ds, "AccessionNumber"),
        modalities=_multi(ds, "ModalitiesInStudy"),
        instances=int(count) if count.isdigit() else None,
        sop_classes=_multi(ds, "SOPClassesInStudy"),
    )


def _matches(answers: list[Dataset], q: StudyQuery) -> list[StudyMatch]:
    """Merge by Study Instance UID and Patient ID (a PACS may hold one study under two patients:
    both are shown), keep the modality filter (a PACS may ignore it), sort by date then UID."""
    out: dict[tuple[str, str], StudyMatch] = {}
    for ds in answers:
        m = to_match(ds)
        if m is None or (q.study_uids and m.study_uid not in q.study_uids):
            continue
        if q.modality and m.modalities and q.modality.upper() not in m.modalities:
            continue
        out.setdefault((m.study_uid, m.patient_id), m)
    return sorted(out.values(), key=lambda m: (m.date, m.study_uid, m.patient_id))


def find_studies(peer: Peer, net: Network, q: StudyQuery) -> list[StudyMatch]:
    """Studies at ``peer`` matching ``q``.

    Raises
    ------
    PeerUnavailable
        The peer cannot be reached, accepts neither information model, refuses the query
        or stops answering in time.
    """
    ae = make_ae(net)
    ae.add_requested_context(STUDY_ROOT_FIND, list(NATIVE))
    ae.add_requested_context(PATIENT_ROOT_FIND, list(NATIVE))
    assoc, reason = associate(ae, peer, net)
    if assoc is None:
        raise PeerUnavailable(reason)
    try:
        accepted = {cx.abstract_syntax for cx in assoc.accepted_contexts}
        if STUDY_ROOT_FIND in accepted:
            model = STUDY_ROOT_FIND
        elif PATIENT_ROOT_FIND in accepted:
            model = PATIENT_ROOT_FIND
        else:
            raise PeerUnavailable(f"{peer} offers no Study Root or Patient Root C-FIND")
        answers: list[Dataset] = c_find(assoc, peer, net, study_query(q), model)
    finally:
        if assoc.is_established:
            assoc.release()
        discard(assoc)
    return _matches(answers, q)
