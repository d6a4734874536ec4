"""Import into a real PACS, Orthanc, checked through its REST API; Storage Commitment with it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import make_instance, study_folder, write_instance
from pacs_peers import Orthanc, build_fileset, tree_digest

from mediatool.cli import main

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pacs(orthanc: Orthanc) -> Orthanc:
    orthanc.reset()
    return orthanc


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("disc")
    return build_fileset(study_folder(base / "src", patients=1, series=2, instances=3), base / "d")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["import", *args])


def test_echo(pacs: Orthanc) -> None:
    ok = CliRunner().invoke(main, ["echo", pacs.peer, "--json"])
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["ok"] is True
    down = CliRunner().invoke(main, ["echo", f"X@127.0.0.1:{pacs.http_port}", "--timeout", "2"])
    assert down.exit_code == 1
    assert "Error:" in down.stderr


def test_every_instance_arrives_reconciled(pacs: Orthanc, disc: Path, tmp_path: Path) -> None:
    before = tree_digest(disc)
    result = run(
        str(disc), "--to-pacs", pacs.peer, "--state", str(tmp_path / "state"),
        "--patient-id", "LOCAL-42", "--issuer", "OUR-HOSP", "--patient-name", "Local^Patient",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["summary"]["imported"] == 6
    sent = {f["sop_instance_uid"] for f in d["files"] if f["outcome"] == "imported"}
    stored = pacs.instances()
    assert {i["SOPInstanceUID"] for i in stored} == sent
    for tags in stored:
        assert tags["PatientID"] == "LOCAL-42"
        assert tags["IssuerOfPatientID"] == "OUR-HOSP"
        assert tags["PatientName"] == "Local^Patient"
        [other] = tags["OtherPatientIDsSequence"]
        assert (other["PatientID"], other["TypeOfPatientID"]) == ("PID0001", "TEXT")
        [original] = tags["OriginalAttributesSequence"]
        assert original["ReasonForTheAttributeModification"] == "COERCE"
        [old] = original["ModifiedAttributesSequence"]
        assert (old["PatientID"], old["PatientName"]) == ("PID0001", "Test^Patient1")
    assert tree_digest(disc) == before
    # the journal makes the next run send nothing
    again = run(str(disc), "--to-pacs", pacs.peer, "--state", str(tmp_path / "state"),
                "--patient-id", "LOCAL-42", "--json")  # fmt: skip
    assert again.exit_code == 0
    assert json.loads(again.stdout)["summary"]["already_present"] == 6
    assert len(pacs.get("/instances")) == 6


def test_four_associations_each_instance_once(pacs: Orthanc, tmp_path: Path) -> None:
    """Sent over four associations side by side (issue 17): Orthanc holds every instance, the
    journal names each exactly once as stored, and a second run sends nothing."""
    media = tmp_path / "media"
    uids = set()
    for n in range(1, 41):
        ds = make_instance(1, 1, 1 + n % 3, n)
        write_instance(media / f"s{n % 3}" / f"im{n}.dcm", ds)
        uids.add(str(ds.SOPInstanceUID))
    state = tmp_path / "state"
    args = [str(media), "--to-pacs", pacs.peer, "--state", str(state), "--json"]
    result = run(*args, "--associations", "4")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["imported"] == 40
    assert pacs.sop_uids() == uids
    [journal] = state.glob("sent-*.jsonl")
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(line["sop"] for line in lines) == sorted(uids)
    assert {line["state"] for line in lines} == {"stored"}
    again = json.loads(run(*args).stdout)["summary"]
    assert (again["imported"], again["already_present"]) == (0, 40)


def test_storage_commitment(pacs: Orthanc, disc: Path, tmp_path: Path) -> None:
    args = [str(disc), "--to-pacs", pacs.peer, "--calling-aet", pacs.scu_aet, "--state",
            str(tmp_path / "state"), "--commit", "--listen-port", str(pacs.report_port),
            "--commit-timeout", "20"]  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "Safely imported: the PACS has committed to keep every instance." in result.stdout
    d = json.loads(run(*args, "--json").stdout)
    assert d["committed"] is True and d["summary"]["already_present"] == 6


def test_commitment_without_a_report_is_not_safe(pacs: Orthanc, disc: Path, tmp_path: Path) -> None:
    """No listener for the report (wrong port): stored, but not confirmed; the rerun asks again
    without sending the instances a second time."""
    state = str(tmp_path / "state")
    base = [str(disc), "--to-pacs", pacs.peer, "--calling-aet", pacs.scu_aet, "--state", state,
            "--commit", "--commit-timeout", "1", "--json"]  # fmt: skip
    first = run(*base)
    assert first.exit_code == 1
    d = json.loads(first.stdout)
    assert d["committed"] is False
    assert d["summary"]["by_reason"]["import.not-committed"] == 6
    assert len(pacs.get("/instances")) == 6
    port = str(pacs.report_port)
    second = run(*base[:-1], "--commit-timeout", "20", "--listen-port", port, "--json")
    assert second.exit_code == 0, second.output
    d2 = json.loads(second.stdout)
    assert d2["committed"] is True and d2["summary"]["already_present"] == 6


def test_refused_sop_class_is_reported(pacs: Orthanc, tmp_path: Path) -> None:
    """Orthanc refuses SOP Classes it does not know (UnknownSopClassAccepted is false)."""
    media = tmp_path / "media"
    write_instance(media / "ct.dcm", make_instance(1, 1, 1, 1))
    private = make_instance(1, 1, 1, 2, SOPClassUID="1.2.826.0.1.3680043.10.1137.999.1")
    write_instance(media / "private.dcm", private)
    result = run(str(media), "--to-pacs", pacs.peer, "--state", str(tmp_path / "s"), "--json")
    assert result.exit_code == 1
    files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
    assert files["ct.dcm"]["outcome"] == "imported"
    assert files["private.dcm"]["outcome"] == "not-imported"
    assert files["private.dcm"]["code"] == "import.sop-class-refused"
    assert len(pacs.get("/instances")) == 1


def test_pacs_that_does_not_answer_exits_2(tmp_path: Path, disc: Path) -> None:
    from ports import reserve_port

    result = run(str(disc), "--to-pacs", f"NOBODY@127.0.0.1:{reserve_port()}", "--timeout", "2")
    assert result.exit_code == 2
    assert "Error: the PACS does not answer" in result.stderr
    assert "Hint: check it with: mediatool echo" in result.stderr


def test_many_queries_on_one_association_all_answered(pacs: Orthanc) -> None:
    """pynetdicom's send_c_find trusts a reactor "paused" flag that can be stale, and the reactor
    then takes the response off the queue (a 30 s time-out); before net.dimse.hold_reactor held
    the reactor before each query, 1,500 queries met it in about half the runs (issue 17)."""
    from mediatool.dicom.uids import STUDY_ROOT_FIND
    from mediatool.importer.destination import _study_query
    from mediatool.net import association as net
    from mediatool.net.find import c_find

    how = net.Network(timeout=3)
    peer = net.parse_peer(pacs.peer)
    ae = net.make_ae(how)
    ae.add_requested_context(STUDY_ROOT_FIND, list(net.NATIVE))
    assoc, why = net.associate(ae, peer, how)
    assert assoc is not None, why
    try:
        for n in range(1000):
            assert c_find(assoc, peer, how, _study_query(f"1.2.3.{n}"), STUDY_ROOT_FIND) == []
    finally:
        assoc.release()
        net.discard(assoc)
