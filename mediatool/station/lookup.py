"""Quick searches the desks make inside a request (bounded by the network's time-out): the
worklist for the local patient of a disc (reception), the PACS for studies to burn (burn desk).

Both return JSON-ready rows; a peer that cannot be asked raises :class:`LookupFailed` with a
sentence for the page. ``peer`` is ``AE@host:port`` (or a parsed
:class:`~mediatool.net.association.Peer`), ``net`` our AE title and time-out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediatool.errors import MediatoolError

if TYPE_CHECKING:
    from mediatool.net.association import Network, Peer


class LookupFailed(MediatoolError):
    """The worklist or PACS could not be asked (unreachable, refused, no answer in time)."""


def _peer(peer: str | Peer) -> Peer:
    from mediatool.net.association import parse_peer

    return parse_peer(peer) if isinstance(peer, str) else peer


def worklist_candidates(
    peer: str | Peer, net: Network, name: str, birth_date: str, accession: str
) -> list[dict[str, Any]]:
    """Local patients the Modality Worklist offers for a patient of the disc: by name and
    birth date (exact, then the family name with ``*``), or by accession number.

    Rows: ``{patient_id, issuer, name, birth_date, sex, accession, procedure, exact, label}``
    (``exact`` false: a wild-card match a person must confirm), sorted by Patient ID."""
    from mediatool.importer.worklist import find_patient
    from mediatool.net.association import PeerUnavailable

    where = _peer(peer)
    if not (name or birth_date or accession):
        raise LookupFailed("give a name, a birth date or an accession number to search for")
    try:
        found = find_patient(where, net, name=name, birth_date=birth_date, accession=accession)
    except PeerUnavailable as exc:
        raise LookupFailed(f"the worklist {where} cannot be queried: {exc}") from exc
    return [
        c.identity.as_dict()
        | {
            "accession": c.accession,
            "procedure": c.procedure,
            "exact": c.exact,
            "label": c.label(),
        }
        for c in found
    ]


def _dates(date_from: str, date_to: str) -> str:
    from mediatool.retrieve.dates import date_range

    if not (date_from or date_to):
        return ""
    try:
        return date_range(f"{date_from}..{date_to}")
    except ValueError as exc:
        raise LookupFailed(str(exc)) from exc


def pacs_studies(
    peer: str | Peer,
    net: Network,
    patient_id: str,
    name: str,
    accession: str,
    date_from: str,
    date_to: str,
) -> list[dict[str, Any]]:
    """Studies at the PACS (C-FIND, STUDY level) for the burn desk, by date then UID.

    Rows: ``{study_uid, patient_id, patient_name, date, description, accession, modalities,
    instances}`` (``instances`` None when the PACS does not count). Dates are YYYY-MM-DD or
    YYYYMMDD; either end may be empty."""
    from mediatool.net.association import PeerUnavailable
    from mediatool.retrieve.find import StudyQuery, find_studies

    where = _peer(peer)
    query = StudyQuery(
        patient_id=patient_id.strip(),
        accession=accession.strip(),
        study_date=_dates(date_from.strip(), date_to.strip()),
        patient_name=name.strip(),
    )
    if query.is_empty():
        raise LookupFailed("give a patient ID, a name, an accession number or dates to search")
    try:
        found = find_studies(where, net, query)
    except PeerUnavailable as exc:
        raise LookupFailed(f"the PACS {where} cannot be queried: {exc}") from exc
    return [m.as_dict() for m in found]
