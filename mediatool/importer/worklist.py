"""Find the local patient in a Modality Worklist (C-FIND, PS3.4 K.6; IHE RAD-5 for IRWF).

The query matches on Patient's Name and Patient's Birth Date of the patient on the media and
asks for the local Patient ID, Issuer of Patient ID, Patient's Sex and Accession Number (return
keys are zero-length, PS3.4 C.2.2.1). An exact name is tried first; when nothing matches, the
family name followed by ``*`` (wild card matching, PS3.4 C.2.2.2.4), whose answers the user must
always confirm. Worklist items are per procedure, so candidates are merged by (Patient ID,
Issuer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from mediatool.dicom.uids import MODALITY_WORKLIST_FIND
from mediatool.dicom.values import text as _text  # the one tolerant value -> text
from mediatool.importer.reconcile import LocalIdentity
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

MWL_FIND: Final = MODALITY_WORKLIST_FIND


@dataclass(frozen=True, slots=True)
class Candidate:
    """A local patient the worklist offers; ``exact`` when name and birth date matched as given."""

    identity: LocalIdentity
    accession: str
    procedure: str
    exact: bool

    def label(self) -> str:
        i = self.identity
        issuer = f" ({i.issuer})" if i.issuer else ""
        extra = ", ".join(
            x for x in (self.accession and f"accession {self.accession}", self.procedure) if x
        )
        return (
            f"{i.patient_id}{issuer}: {i.name or '?'}, born {i.birth_date or '?'}, "
            f"sex {i.sex or '?'}" + (f" [{extra}]" if extra else "")
        )


def _query(name: str, birth_date: str, accession: str = "") -> Dataset:
    ds = Dataset()
    ds.PatientName = name
    ds.PatientBirthDate = birth_date
    ds.PatientID = ""
    ds.IssuerOfPatientID = ""
    ds.PatientSex = ""
    ds.AccessionNumber = accession
    ds.RequestedProcedureDescription = ""
    step = Dataset()
    step.Modality = ""
    step.ScheduledProcedureStepStartDate = ""
    step.ScheduledStationAETitle = ""
    ds.ScheduledProcedureStepSequence = DicomSequence([step])
    return ds


def _find(peer: Peer, net: Network, query: Dataset) -> list[Dataset]:
    ae = make_ae(net)
    ae.add_requested_context(MWL_FIND, list(NATIVE))
    assoc, reason = associate(ae, peer, net)
    if assoc is None:
        raise PeerUnavailable(reason)
    try:
        found: list[Dataset] = c_find(
            assoc, peer, net, query, MWL_FIND, service="worklist", doing="the worklist query"
        )
    finally:
        if assoc.is_established:
            assoc.release()
        discard(assoc)
    return found


def _candidates(found: list[Dataset], exact: bool) -> list[Candidate]:
    merged: dict[tuple[str, str], Candidate] = {}
    for ds in found:
        identity = LocalIdentity(
            patient_id=_text(ds, "PatientID"),
            issuer=_text(ds, "IssuerOfPatientID") or None,
            name=_text(ds, "PatientName") or None,
            birth_date=_text(ds, "PatientBirthDate") or None,
            sex=_text(ds, "PatientSex") or None,
        )
        if not identity.patient_id:
            continue
        key = (identity.patient_id, identity.issuer or "")
        merged.setdefault(
            key,
            Candidate(
                identity,
                _text(ds, "AccessionNumber"),
                _text(ds, "RequestedProcedureDescription"),
                exact,
            ),
        )
    return [merged[k] for k in sorted(merged)]


def find_patient(
    peer: Peer, net: Network, *, name: str, birth_date: str, accession: str = ""
) -> list[Candidate]:
    """Local patients the worklist has for ``name`` born ``birth_date``, sorted by Patient ID;
    with ``accession``, only its procedures (then an empty name or birth date matches any, and
    no wild card is tried: the accession number is the person's choice already).

    Raises
    ------
    PeerUnavailable
        The worklist cannot be reached or refuses the query.
    """
    found = _candidates(_find(peer, net, _query(name, birth_date, accession)), exact=True)
    family = name.split("^", 1)[0].split("=", 1)[0].strip()
    if found or not family or accession:
        return found
    return _candidates(_find(peer, net, _query(family + "*", birth_date)), exact=False)
