"""Issue 10 cases 6 and 7 and the retrieve items, against a real Orthanc: a refusal is never
called a time-out, an unknown move destination says what to configure, dates as people type
them, names as people read them, and instances counted once however often the PACS sends them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import make_instance, write_instance
from ports import reserve_port
from retrieve_peers import RetrieveOrthanc

from mediatool.cli import main

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetrieveOrthanc]:
    server = RetrieveOrthanc(tmp_path_factory.mktemp("orthanc")).start()
    folder = tmp_path_factory.mktemp("uploads")
    umlaut = {"SpecificCharacterSet": "ISO_IR 192", "PatientName": "Müller^Jürgen"}
    for n in range(1, 4):
        write_instance(folder / f"a{n}.dcm", make_instance(7, 1, 1, n, PatientID="P-7", **umlaut))
    for n in range(1, 3):  # the same SOP Instance UIDs filed under a second patient (case 2)
        twin = make_instance(8, 1, 1, n, PatientID="TWIN-A", StudyDate="20240401")
        write_instance(folder / f"b{n}.dcm", twin)
        twin.PatientID = "TWIN-B"
        write_instance(folder / f"c{n}.dcm", twin)
    try:
        assert server.upload(folder) == 7
        yield server
    finally:
        server.stop()


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("date", "studies"),
    [
        ("2024-03-12", 1),
        ("20240312", 1),
        ("2024-03-01..2024-03-31", 1),
        ("-2024-03-12", 1),
        ("2024-03-12-", 3),  # from that day on: the study of 2024-04-01 (two patients) too
        ("2024-03-13..", 2),
    ],
)
def test_find_takes_dates_as_people_type_them(
    pacs: RetrieveOrthanc, date: str, studies: int
) -> None:
    result = cli("find", pacs.peer, "--study-date", date)
    assert result.exit_code == 0, result.output
    assert f"{studies} studies at" in result.stderr
    raw = json.loads(cli("find", pacs.peer, "--study-date", date, "--json").stdout)
    assert len(raw["studies"]) == studies
    if date != "2024-03-13..":
        assert "Müller, Jürgen" in result.stdout and "Müller^Jürgen" not in result.stdout
        assert "2024-03-12  P-7" in result.stdout
        assert "Müller^Jürgen" in [s["patient_name"] for s in raw["studies"]]


def test_find_says_which_filter_is_needed(pacs: RetrieveOrthanc) -> None:
    none = cli("find", pacs.peer)
    assert none.exit_code == 2
    assert "give --patient-id, --accession or --study-date (or --all" in none.stderr
    bad = cli("find", pacs.peer, "--study-date", "12.03.2024")
    assert bad.exit_code == 2 and "2024-03-12 or 20240312" in bad.stderr
    everything = cli("find", pacs.peer, "--all", "--json")
    assert everything.exit_code == 0
    assert {s["patient_id"] for s in json.loads(everything.stdout)["studies"]} == {
        "P-7",
        "TWIN-A",
        "TWIN-B",
    }
    help_text = cli("find", "--help").stdout
    assert "Give at least one of --patient-id, --accession or --study-date" in help_text


def test_find_refused_for_our_ae_is_not_a_time_out(pacs: RetrieveOrthanc) -> None:
    """Case 6: Orthanc aborts a C-FIND from an AE title it does not know, at once."""
    result = cli("find", pacs.peer, "--patient-id", "P-7", "--calling-aet", "STRANGER")
    assert result.exit_code == 2
    assert "(aborted, not a time-out)" in result.stderr
    assert "our AE title 'STRANGER'" in result.stderr
    assert "stopped answering" not in result.stderr


def test_echo_to_nothing_is_a_refused_connection() -> None:
    result = cli("echo", f"PACS@127.0.0.1:{reserve_port()}", "--json")
    assert result.exit_code == 1
    message = json.loads(result.stdout)["message"]
    assert "connection refused" in message and "check that the PACS is running" in message


def test_move_to_unknown_destination_says_what_to_configure(
    pacs: RetrieveOrthanc, tmp_path: Path
) -> None:
    """Case 6: a move destination the PACS does not know: nothing arrived, so no
    --allow-partial; the message says the move AE must be configured on the PACS."""
    result = cli(
        "build", "--from-pacs", pacs.peer, "--patient-id", "P-7", "--retrieve", "move",
        "--move-aet", "UNKNOWNAE", "--port", str(reserve_port()), "--listen-host", "127.0.0.1",
        "--out", str(tmp_path / "d"), "--timeout", "10", "--no-web",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "allow-partial" not in result.stderr
    assert "'UNKNOWNAE'" in result.stderr and "must be configured on the PACS" in result.stderr
    assert not (tmp_path / "d").exists()


def test_retrieve_counts_distinct_instances(pacs: RetrieveOrthanc, tmp_path: Path) -> None:
    """Case 2 afterwards: the PACS holds the same SOP Instance UIDs under two patients and
    sends both copies for the study; every distinct instance arrived, so the build goes on."""
    out = tmp_path / "d"
    result = cli("build", "--from-pacs", pacs.peer, "--patient-id", "TWIN-A", "--out",
                 str(out), "--timeout", "10", "--no-web", "--jobs", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "instances sent" not in result.stderr
    assert "also under another Patient ID" in result.stderr or "TWIN-B" in result.stderr
    from pydicom import dcmread

    kept = [dcmread(p) for p in (out / "DICOM").rglob("*") if p.is_file()]
    assert sorted(str(ds.PatientID) for ds in kept) == ["TWIN-A", "TWIN-A"]
