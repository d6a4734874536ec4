"""The desks' quick searches against real peers: the worklist (DCMTK wlmscpfs) by name and
birth date or by accession number, the PACS (Orthanc) by patient ID, name, accession and dates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from factories import make_instance, write_instance
from pacs_peers import Worklist
from ports import reserve_port
from retrieve_peers import RetrieveOrthanc

from mediatool.net.association import Network
from mediatool.station.lookup import LookupFailed, pacs_studies, worklist_candidates

pytestmark = pytest.mark.oracle

NET = Network(calling_aet="MEDIATOOL", timeout=10, retries=1)
ENTRIES = [
    {"name": "Silva^Maria", "patient_id": "LOC-1", "issuer": "HOSP", "birth_date": "19700101",
     "sex": "F", "accession": "ACC-1"},
    {"name": "Silva^Maria", "patient_id": "LOC-1", "issuer": "HOSP", "birth_date": "19700101",
     "sex": "F", "accession": "ACC-2"},
    {"name": "Souza^Joao", "patient_id": "LOC-2", "issuer": "HOSP", "birth_date": "19800202",
     "sex": "M", "accession": "ACC-3"},
]  # fmt: skip


@pytest.fixture(scope="module")
def worklist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worklist]:
    server = Worklist(tmp_path_factory.mktemp("wlm"), ENTRIES).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetrieveOrthanc]:
    base = tmp_path_factory.mktemp("pacs")
    write_instance(base / "in" / "a.dcm", make_instance(1, 1, 1, 1))  # 2024-03-12, A11
    write_instance(base / "in" / "b.dcm", make_instance(1, 2, 1, 1, StudyDate="20230105"))
    write_instance(base / "in" / "c.dcm", make_instance(2, 1, 1, 1, Modality="MR"))
    server = RetrieveOrthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        assert server.upload(base / "in") == 3
        yield server
    finally:
        server.stop()


def test_worklist_by_name_and_birth_date(worklist: Worklist) -> None:
    (found,) = worklist_candidates(worklist.peer, NET, "Silva^Maria", "19700101", "")
    assert (found["patient_id"], found["issuer"], found["sex"]) == ("LOC-1", "HOSP", "F")
    assert found["exact"] is True and found["label"].startswith("LOC-1 (HOSP): Silva^Maria")


def test_worklist_by_family_name_is_a_guess_to_confirm(worklist: Worklist) -> None:
    (found,) = worklist_candidates(worklist.peer, NET, "Souza^J", "19800202", "")
    assert found["patient_id"] == "LOC-2" and found["exact"] is False


def test_worklist_by_accession(worklist: Worklist) -> None:
    (found,) = worklist_candidates(worklist.peer, NET, "", "", "ACC-2")
    assert (found["patient_id"], found["accession"]) == ("LOC-1", "ACC-2")
    assert worklist_candidates(worklist.peer, NET, "", "", "ACC-9") == []


def test_worklist_unreachable_or_empty_search_is_said(worklist: Worklist) -> None:
    with pytest.raises(LookupFailed, match="cannot be queried"):
        worklist_candidates(f"WL@127.0.0.1:{reserve_port()}", NET, "Silva^Maria", "", "")
    with pytest.raises(LookupFailed, match="give a name"):
        worklist_candidates(worklist.peer, NET, "", "", "")


def test_pacs_studies_by_patient_name_accession_and_dates(orthanc: RetrieveOrthanc) -> None:
    by_id = pacs_studies(orthanc.peer, NET, "PID0001", "", "", "", "")
    assert [s["date"] for s in by_id] == ["20230105", "20240312"]
    row = by_id[1]
    assert (row["patient_name"], row["accession"], row["modalities"]) == (
        "Test^Patient1", "A11", ["CT"],
    )  # fmt: skip
    assert row["instances"] == 1 and row["study_uid"]
    by_name = pacs_studies(orthanc.peer, NET, "", "Test^Patient2", "", "", "")
    assert [(s["patient_id"], s["modalities"]) for s in by_name] == [("PID0002", ["MR"])]
    by_accession = pacs_studies(orthanc.peer, NET, "", "", "A12", "", "")
    assert [s["date"] for s in by_accession] == ["20230105"]
    since = pacs_studies(orthanc.peer, NET, "PID0001", "", "", "2024-01-01", "")
    assert [s["date"] for s in since] == ["20240312"]
    until = pacs_studies(orthanc.peer, NET, "", "Test*", "", "", "2023-12-31")
    assert [s["date"] for s in until] == ["20230105"]


def test_pacs_search_mistakes_are_said(orthanc: RetrieveOrthanc) -> None:
    with pytest.raises(LookupFailed, match="not a calendar date"):
        pacs_studies(orthanc.peer, NET, "PID0001", "", "", "2024-02-30", "")
    with pytest.raises(LookupFailed, match="give a patient ID"):
        pacs_studies(orthanc.peer, NET, "", "", "", "", "")
    with pytest.raises(LookupFailed, match="cannot be queried"):
        pacs_studies(f"PACS@127.0.0.1:{reserve_port()}", NET, "PID0001", "", "", "", "")
