"""The reception desk's receipt of an import: per patient and study, what was imported, what
was already there, what was refused and why, and whether the disc is safe to give back.

Pure: the library's :class:`~mediatool.importer.run.ImportReport` and the media's survey in,
a JSON object out. "Safe to return" means every DICOM instance chosen is at the destination
and, when Storage Commitment was asked, the PACS has committed to keep every one.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Final

from mediatool.importer.accounting import FileOutcome, Outcome

if TYPE_CHECKING:
    from mediatool.importer.run import ImportReport
    from mediatool.importer.survey import Survey
    from mediatool.model import InstanceInfo

#: The study's word for the desk, by what happened to its instances (first that applies)
REFUSED: Final = "refused"
NOT_IMPORTED: Final = "not imported"
NOT_CONFIRMED: Final = "sent, not confirmed"
NOT_CHOSEN: Final = "not chosen"
ALREADY_THERE: Final = "already there"
IMPORTED: Final = "imported"


def safe_to_return(report: ImportReport, *, commit: bool) -> bool:
    """Every DICOM instance is at the destination (and committed, when asked): nothing more."""
    if report.dry_run or not report.ok:
        return False
    return report.committed is True if commit else True


def receipt(report: ImportReport, survey: Survey, *, commit: bool) -> dict[str, Any]:
    """``{safe_to_return, committed, destination, patients: [{patient_id, name, birth_date,
    local_patient_id, outcome, studies: [{study_instance_uid, date, description, status,
    counts, reasons, safe_to_return}]}], other_files}``."""
    infos = {f.path: f.info for f in survey.files if f.info is not None}
    by_study: dict[str, list[FileOutcome]] = {}
    for o in report.outcomes:
        info = infos.get(o.path)
        if info is not None:
            by_study.setdefault(info.study_uid, []).append(o)
    first: dict[str, InstanceInfo] = {}
    for info in infos.values():
        first.setdefault(info.study_uid, info)
    conflicts = {c.study_uid: c for c in report.conflicts}
    safe = safe_to_return(report, commit=commit)
    patients: dict[str, dict[str, Any]] = {}
    for uid in sorted(by_study, key=lambda u: (first[u].patient_id, first[u].study_date, u)):
        info = first[uid]
        row = _study(info, by_study[uid], conflicts.get(uid), report, commit)
        patient = patients.setdefault(info.patient_id, _patient(info, report))
        patient["studies"].append(row)
    for p in patients.values():
        p["outcome"] = _patient_outcome(p["studies"])
    other = [o for o in report.outcomes if o.path not in infos]
    return {
        "safe_to_return": safe,
        "committed": report.committed,
        "commit_asked": commit,
        "destination": report.destination,
        "patients": list(patients.values()),
        "other_files": dict(Counter(str(o.outcome) for o in other)),
    }


def _patient(info: InstanceInfo, report: ImportReport) -> dict[str, Any]:
    local = (report.identities or {}).get(info.patient_id)
    return {
        "patient_id": info.patient_id,
        "name": info.patient_name,
        "birth_date": info.birth_date,
        "local_patient_id": local.patient_id if local else None,
        "local_issuer": local.issuer if local else None,
        "studies": [],
    }


def _study(
    info: InstanceInfo,
    outcomes: list[FileOutcome],
    conflict: Any,
    report: ImportReport,
    commit: bool,
) -> dict[str, Any]:
    """One study's line of the receipt; ``safe_to_return``: all of it at the destination
    (committed, when asked: an instance not confirmed is not "at the destination")."""
    counts = Counter(str(o.outcome) for o in outcomes)
    chosen = [o for o in outcomes if o.outcome is not Outcome.SKIPPED]  # not chosen, 2nd copy
    reasons = sorted(
        {o.message or o.code or "" for o in chosen if o.outcome is not Outcome.IMPORTED} - {""}
    )
    if conflict is not None:
        status = REFUSED
        theirs = " and ".join(repr(t) for t in conflict.theirs)
        reasons = [
            f"{report.destination} already holds this study under Patient ID {theirs}, "
            f"not {conflict.ours!r}: nothing of it was sent"
        ]
    else:
        status = _status(chosen)
    at_destination = all(o.outcome in (Outcome.IMPORTED, Outcome.ALREADY_PRESENT) for o in chosen)
    return {
        "study_instance_uid": info.study_uid,
        "date": info.study_date,
        "description": info.study_description,
        "accession": info.accession,
        "status": status,
        "counts": dict(counts),
        "reasons": reasons if status != IMPORTED and status != ALREADY_THERE else [],
        "at_destination": bool(chosen) and at_destination and conflict is None,
        "safe_to_return": bool(chosen)
        and at_destination
        and conflict is None
        and not report.dry_run
        and (report.committed is not None or not commit),
    }


def _status(chosen: list[FileOutcome]) -> str:
    kinds = {o.outcome for o in chosen}
    if not chosen:
        return NOT_CHOSEN
    if Outcome.NOT_IMPORTED in kinds:
        return NOT_IMPORTED
    if Outcome.NOT_CONFIRMED in kinds:
        return NOT_CONFIRMED
    if kinds == {Outcome.ALREADY_PRESENT}:
        return ALREADY_THERE
    return IMPORTED


def _patient_outcome(studies: list[dict[str, Any]]) -> str:
    states = {s["status"] for s in studies} - {NOT_CHOSEN}
    if not states:
        return NOT_CHOSEN
    for word in (REFUSED, NOT_IMPORTED, NOT_CONFIRMED):
        if word in states:
            return word
    return IMPORTED if IMPORTED in states else ALREADY_THERE
