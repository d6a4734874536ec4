"""``--worklist``: find the local patient in DCMTK's wlmscpfs (Modality Worklist C-FIND)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import make_instance, write_instance
from pacs_peers import Worklist
from pydicom import dcmread

from mediatool.cli import main
from mediatool.importer.worklist import find_patient
from mediatool.net.association import Network, parse_peer

pytestmark = pytest.mark.oracle

ENTRIES = [
    # patient 1 of the disc: one exact match
    {"name": "Test^Patient1", "patient_id": "LOC-1", "issuer": "HOSP", "birth_date": "19700101",
     "sex": "O", "accession": "ACC-1"},
    {"name": "Test^Patient1", "patient_id": "LOC-1", "issuer": "HOSP", "birth_date": "19700101",
     "sex": "O", "accession": "ACC-2"},  # a second procedure of the same patient
    # patient 2: two local patients with the same name and birth date
    {"name": "Test^Patient2", "patient_id": "LOC-2A", "issuer": "HOSP", "birth_date": "19700101",
     "sex": "F"},
    {"name": "Test^Patient2", "patient_id": "LOC-2B", "issuer": "HOSP", "birth_date": "19700101",
     "sex": "M"},
    # an unrelated patient
    {"name": "Other^Person", "patient_id": "LOC-9", "birth_date": "19800101"},
]  # fmt: skip


@pytest.fixture(scope="module")
def worklist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worklist]:
    server = Worklist(tmp_path_factory.mktemp("wlm"), ENTRIES).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    for p in (1, 2):
        for i in (1, 2):
            write_instance(root / f"p{p}" / f"im{i}.dcm", make_instance(p, 1, 1, i))
    write_instance(root / "p3" / "im1.dcm", make_instance(3, 1, 1, 1, PatientBirthDate="19991231"))
    return root


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["import", *args], input=stdin)


def test_candidates_are_merged_per_patient(worklist: Worklist) -> None:
    net = Network(timeout=5)
    found = find_patient(
        parse_peer(worklist.peer), net, name="Test^Patient1", birth_date="19700101"
    )
    assert [(c.identity.patient_id, c.identity.issuer, c.exact) for c in found] == [
        ("LOC-1", "HOSP", True)
    ]
    loose = find_patient(parse_peer(worklist.peer), net, name="Test^Nobody", birth_date="19700101")
    assert [c.identity.patient_id for c in loose] == ["LOC-1", "LOC-2A", "LOC-2B"]
    assert not any(c.exact for c in loose)


def test_single_match_reconciles(worklist: Worklist, media: Path, tmp_path: Path) -> None:
    result = run(str(media), "--into", str(tmp_path / "a"), "--patient", "PID0001",
                 "--worklist", worklist.peer, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["identities"]["PID0001"]["patient_id"] == "LOC-1"
    [first, *_] = sorted((tmp_path / "a").rglob("*.dcm"))
    ds = dcmread(first)
    assert (ds.PatientID, ds.IssuerOfPatientID) == ("LOC-1", "HOSP")
    assert ds.OtherPatientIDsSequence[0].PatientID == "PID0001"


def test_several_matches_without_a_terminal_are_refused(
    worklist: Worklist, media: Path, tmp_path: Path
) -> None:
    result = run(str(media), "--into", str(tmp_path / "a"), "--patient", "PID0002",
                 "--worklist", worklist.peer)  # fmt: skip
    assert result.exit_code == 1
    assert "offers 2 possible local patients" in result.stderr
    assert "1. LOC-2A (HOSP): Test^Patient2, born 19700101, sex F" in result.stderr
    assert "2. LOC-2B (HOSP)" in result.stderr
    assert not (tmp_path / "a").exists()


def test_several_matches_with_a_person_to_choose(
    worklist: Worklist, media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mediatool.cli.importer.interactive", lambda: True)
    result = run(str(media), "--into", str(tmp_path / "a"), "--patient", "PID0002",
                 "--worklist", worklist.peer, "--json", stdin="2\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Which local patient is Test, Patient2" in result.stderr
    assert json.loads(result.stdout)["identities"]["PID0002"]["patient_id"] == "LOC-2B"


def test_no_match_is_refused(worklist: Worklist, media: Path, tmp_path: Path) -> None:
    result = run(str(media), "--into", str(tmp_path / "a"), "--patient", "PID0003",
                 "--worklist", worklist.peer)  # fmt: skip
    assert result.exit_code == 1
    assert "has no local patient for Test, Patient3" in result.stderr


def test_unreachable_worklist_exits_2(media: Path, tmp_path: Path) -> None:
    from ports import reserve_port

    result = run(str(media), "--into", str(tmp_path / "a"), "--patient", "PID0001",
                 "--worklist", f"WL@127.0.0.1:{reserve_port()}", "--timeout", "2")  # fmt: skip
    assert result.exit_code == 2
    assert "cannot be queried" in result.stderr
