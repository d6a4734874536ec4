"""The pure parts of the retrieve: query identifier, response accounting, findings, notes."""

from __future__ import annotations

from pydicom.dataset import Dataset

from mediatool.findings import CODES, Severity, apply_policy
from mediatool.retrieve.accounting import (
    ALLOW_PARTIAL,
    RetrieveResult,
    StudyOutcome,
    record_response,
)
from mediatool.retrieve.find import StudyQuery, study_query, to_match


def _status(code: int, **counts: int) -> Dataset:
    ds = Dataset()
    ds.Status = code
    for k, v in counts.items():
        setattr(ds, f"NumberOf{k}Suboperations", v)
    return ds


def test_study_query_keys() -> None:
    ds = study_query(StudyQuery(patient_id="P1", study_date="20240101-20240131"))
    assert ds.QueryRetrieveLevel == "STUDY"
    assert ds.PatientID == "P1" and ds.StudyDate == "20240101-20240131"
    for kw in ("StudyInstanceUID", "ModalitiesInStudy", "NumberOfStudyRelatedInstances"):
        assert kw in ds and ds[kw].value in ("", None)
    ds.StudyInstanceUID = "1.2.3"
    ds.ModalitiesInStudy = ["CT", "SR"]
    ds.NumberOfStudyRelatedInstances = 7
    m = to_match(ds)
    assert m is not None and m.modalities == ("CT", "SR") and m.instances == 7


def test_failed_sub_operations_are_counted_and_reported() -> None:
    s = StudyOutcome("1.2.3", "20240101 CT", written={"a", "b"})
    record_response(s, _status(0xFF00, Remaining=2, Completed=1), None)
    ident = Dataset()
    ident.FailedSOPInstanceUIDList = ["9.8", "9.9"]
    record_response(s, _status(0xB000, Remaining=1, Completed=2, Failed=2, Warning=0), ident)
    assert (s.remaining, s.completed, s.failed) == (0, 2, 2)  # Remaining only when Pending/Cancel
    assert s.failed_uids == ("9.8", "9.9") and not s.complete
    result = RetrieveResult("PACS@h:1", "get", [s])
    assert result.partial
    codes = {f.code: f for f in result.findings()}
    assert codes["retrieve.sub-operations-failed"].severity == Severity.ERROR
    assert all(f.severity is CODES[f.code].severity for f in result.findings())
    assert all(
        f.severity <= Severity.WARNING for f in apply_policy(result.findings(), ALLOW_PARTIAL)
    )
    assert all(c in CODES for c in codes)
    notes = " ".join(result.notes())
    assert "2 instance(s) failed" in notes and "9.8, 9.9" in notes


def test_complete_and_interrupted() -> None:
    ok = StudyOutcome("1", written={"a"})
    record_response(ok, _status(0x0000, Completed=1), None)
    assert ok.complete and not RetrieveResult("p", "get", [ok]).findings()
    gone = StudyOutcome("2")
    record_response(gone, Dataset(), None)
    assert not gone.complete
    assert [f.code for f in RetrieveResult("p", "move", [gone]).findings()] == [
        "retrieve.interrupted"
    ]
