"""The station's DICOM node against real peers (issue 15): DCMTK echoscu/storescu/movescu,
pynetdicom as a hostile Storage SCU, and Orthanc as a C-MOVE source whose destination is the
station. Each test reads the result where a hospital would find it: the files under
DATA/inbox, the ``inbox`` table and the audit trail of the running ``mediatool serve``."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pydicom
import pytest
import sqlalchemy as sa
from factories import make_instance, uid, write_instance
from pacs_peers import Orthanc
from ports import LOCALHOST, reserve_port
from pydicom.dataset import Dataset
from pydicom.uid import MRImageStorage
from pynetdicom import AE, StoragePresentationContexts
from station_peers import StationServer

from mediatool.station.node.inbox import patient_folder
from mediatool.station.store import Store, inbox

ECHOSCU: Final = "/usr/bin/echoscu"
STORESCU: Final = "/usr/bin/storescu"
MOVESCU: Final = "/usr/bin/movescu"
MOVE_AET: Final = "MOVESCU"  # the AE title movescu calls Orthanc with (known to Orthanc)


@dataclass
class Node:
    """A running station with its DICOM node on ``port`` (AE title ``aet``)."""

    server: StationServer
    port: int
    aet: str = "MEDIATOOL"

    @property
    def data(self) -> Path:
        return self.server.data

    def store(self) -> Store:
        return Store(f"sqlite:///{self.data / 'station.db'}")

    def rows(self, **where: str) -> list[dict[str, Any]]:
        store = self.store()
        try:
            q = inbox.select().where(*(inbox.c[k] == v for k, v in where.items()))
            with store.begin() as conn:
                return [dict(r) for r in conn.execute(q).mappings()]
        finally:
            store.close()

    def audit(
        self, patient_id: str, count: int, action: str = "dicom-store", timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """The node's audit rows of this patient, once there are ``count`` (written when the
        association ends, which the SCU does not wait for)."""
        deadline = time.monotonic() + timeout
        while True:
            store = self.store()
            try:
                with store.begin() as conn:
                    rows = conn.execute(
                        sa.text(
                            "SELECT * FROM audit WHERE action = :a AND patient_id = :p ORDER BY id"
                        ),
                        {"a": action, "p": patient_id},
                    ).mappings()
                    found = [dict(r) for r in rows]
            finally:
                store.close()
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def refusals_of(self, calling: str, count: int) -> list[dict[str, Any]]:
        """The audit rows of associations refused to ``calling``, once there are ``count``."""
        deadline = time.monotonic() + 10
        while True:
            rows = self.audit("", 0, action="dicom-association")
            mine = [r for r in rows if r["user_name"] == f"DICOM {calling}"]
            if len(mine) >= count or time.monotonic() > deadline:
                return mine
            time.sleep(0.1)

    def echo(self, calling: str = "PACS1", called: str | None = None) -> Any:
        return dcmtk(ECHOSCU, "-aet", calling, "-aec", called or self.aet, LOCALHOST, self.port)

    def send(self, *datasets: Dataset, calling: str = "PACS1", **kw: Any) -> list[Dataset]:
        """C-STORE each data set with pynetdicom; the response statuses."""
        ae = AE(ae_title=calling)
        ae.requested_contexts = StoragePresentationContexts[:120]
        assoc = ae.associate(LOCALHOST, self.port, ae_title=self.aet)
        assert assoc.is_established
        try:
            return [assoc.send_c_store(ds, **kw) for ds in datasets]
        finally:
            assoc.release()


def dcmtk(tool: str, *args: Any) -> subprocess.CompletedProcess[str]:
    assert Path(tool).exists(), f"{tool} is missing: apt-get install dcmtk"
    return subprocess.run(
        [tool, *(str(a) for a in args)], capture_output=True, text=True, timeout=60
    )


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def start_node(folder: Path, config: str, node_keys: str = "") -> Node:
    """``mediatool serve`` with this configuration and a ``[node]`` of a reserved port and
    ``node_keys``."""
    port = reserve_port()
    path = write_config(folder / "station.toml", f"{config}\n[node]\nport = {port}\n{node_keys}")
    server = StationServer(folder / "data", config=path)
    server.start()
    return Node(server, port)


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """An Orthanc that knows movescu's AE title (its modality ``mediatool``), so it answers
    C-MOVE from it (not conftest's: its modality has the station's AE title)."""
    server = Orthanc(tmp_path_factory.mktemp("orthanc"), scu_aet=MOVE_AET).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, orthanc: Orthanc) -> Iterator[Node]:
    """A station whose configuration names two PACS (PACS1 and the Orthanc) and no ``accept``:
    it accepts their AE titles (:meth:`StationConfig.accepted_callers`)."""
    started = start_node(
        tmp_path_factory.mktemp("node"),
        f"""
[[nodes]]
name = "PACS1"
role = "pacs"
address = "PACS1@{LOCALHOST}:{reserve_port()}"

[[nodes]]
name = "Orthanc"
role = "pacs"
address = "{orthanc.peer}"
""",
    )
    try:
        yield started
    finally:
        started.server.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A station called BURNER2 that accepts PACS1 alone and keeps a reserve of 10 TB free
    disk (more than any test machine has)."""
    started = start_node(
        tmp_path_factory.mktemp("strict"),
        '[station]\nae_title = "BURNER2"\n',
        'accept = ["PACS1"]\nreserve_mb = 10000000\n',
    )
    started.aet = "BURNER2"
    try:
        yield started
    finally:
        started.server.stop()


# --- Verification and association acceptance -------------------------------------------------


def test_echo_answers_the_configured_pacs_and_rejects_strangers(node: Node) -> None:
    done = node.echo("PACS1")
    assert done.returncode == 0, done.stdout + done.stderr
    done = node.echo("ORTHANC")  # the other [[nodes]] entry
    assert done.returncode == 0, done.stdout + done.stderr

    stranger = node.echo("STRANGER")
    said = stranger.stdout + stranger.stderr
    assert stranger.returncode != 0
    assert "Association Rejected" in said and "Calling AE Title Not Recognized" in said, said

    wrong = node.echo("PACS1", called="NOTTHESTATION")
    said = wrong.stdout + wrong.stderr
    assert wrong.returncode != 0
    assert "Association Rejected" in said and "Called AE Title Not Recognized" in said, said


def test_the_accept_list_replaces_the_nodes_and_the_station_ae_title_is_the_called_one(
    strict: Node,
) -> None:
    assert strict.echo("PACS1").returncode == 0
    assert strict.echo("ORTHANC").returncode != 0  # not in its accept list
    refused = strict.echo("PACS1", called="MEDIATOOL")  # its AE title is BURNER2
    assert "Called AE Title Not Recognized" in refused.stdout + refused.stderr


# --- Storage ---------------------------------------------------------------------------------


def two_patients(root: Path, first: int) -> dict[str, Path]:
    """Patient ``first``: two studies; patient ``first + 1``: one study (one of its instances
    an MR in implicit VR); two series of two instances each. The files by SOP Instance UID."""
    files: dict[str, Path] = {}
    for patient, studies in ((first, (1, 2)), (first + 1, (1,))):
        for study in studies:
            for series in (1, 2):
                for number in (1, 2):
                    ds = make_instance(patient, study, series, number)
                    implicit = (patient, series, number) == (first + 1, 2, 2)
                    if implicit:
                        ds.SOPClassUID = MRImageStorage
                        ds.Modality = "MR"
                    name = f"p{patient}/s{study}/{series}-{number}.dcm"
                    files[ds.SOPInstanceUID] = write_instance(root / name, ds, implicit=implicit)
    return files


def inbox_files(data: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (data / "inbox").rglob("*") if p.is_file()}


def test_storescu_lands_every_instance_once_and_again_writes_nothing(
    node: Node, tmp_path: Path
) -> None:
    sent = two_patients(tmp_path / "send", 11)
    done = dcmtk(STORESCU, "-aet", "PACS1", "-aec", "MEDIATOOL", "+sd", "+r", LOCALHOST,
                 node.port, tmp_path / "send")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    for sop_uid, path in sent.items():
        ds = pydicom.dcmread(path)
        [row] = node.rows(sop_uid=sop_uid)
        where = node.data / "inbox" / patient_folder(ds.PatientID) / ds.StudyInstanceUID
        assert row["path"] == str((where / f"{sop_uid}.dcm").relative_to(node.data))
        assert row["calling_ae"] == "PACS1" and row["patient_id"] == ds.PatientID
        held = pydicom.dcmread(node.data / row["path"])
        assert held.SOPInstanceUID == held.file_meta.MediaStorageSOPInstanceUID == sop_uid
        assert held == ds  # the same data set, element for element
        assert held.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
    before = inbox_files(node.data)
    mine = [p for p in before if "PID0011" in str(p) or "PID0012" in str(p)]
    assert len(mine) == len(sent) == 12

    again = dcmtk(STORESCU, "-aet", "PACS1", "-aec", "MEDIATOOL", "+sd", "+r", LOCALHOST,
                  node.port, tmp_path / "send")  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert inbox_files(node.data) == before  # nothing written, not even touched
    assert len(node.rows(patient_id="PID0011")) == 8

    first, second = node.audit("PID0011", 2)
    assert (first["user_name"], first["outcome"]) == ("DICOM PACS1", "8 received")
    assert second["outcome"] == "8 received (8 already in the inbox)"
    assert first["patient_name"] == "Test^Patient11"
    assert [r["outcome"] for r in node.audit("PID0012", 2)] == [
        "4 received",
        "4 received (4 already in the inbox)",
    ]


def part10(folder: Path, ds: Dataset, *, implicit: bool = False) -> Dataset:
    """``ds`` as read back from a Part 10 file (so it has the File Meta pynetdicom needs)."""
    name = f"{ds.get('SOPInstanceUID', 'none')}-{'i' if implicit else 'e'}.dcm"
    return pydicom.dcmread(write_instance(folder / name, ds, implicit=implicit))


def test_bad_data_sets_are_refused_with_a_status_and_the_node_keeps_running(
    node: Node, tmp_path: Path
) -> None:
    no_study = part10(tmp_path, make_instance(21, 1, 1, 1, StudyInstanceUID=None))
    held = part10(tmp_path, make_instance(21, 2, 1, 1))
    other = make_instance(21, 2, 1, 1, PixelData=bytes(32))  # same UID, other pixels
    other = part10(tmp_path / "other", other)
    implicit = part10(tmp_path / "implicit", make_instance(21, 2, 1, 1), implicit=True)
    assert implicit.file_meta.TransferSyntaxUID != held.file_meta.TransferSyntaxUID

    [missing, stored] = node.send(no_study, held)
    assert missing.Status == 0xC000
    assert "StudyInstanceUID" in missing.ErrorComment
    assert stored.Status == 0x0000
    [row] = node.rows(sop_uid=held.SOPInstanceUID)
    path = node.data / row["path"]
    content, mtime = path.read_bytes(), path.stat().st_mtime_ns

    [conflict, again] = node.send(other, implicit)
    assert conflict.Status == 0xC001, conflict
    assert conflict.ErrorComment == "another data set is held under this SOP Instance UID"
    assert again.Status == 0x0000  # the same instance in another transfer syntax
    assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime
    assert not node.rows(sop_uid=no_study.SOPInstanceUID)
    assert len(node.rows(patient_id="PID0021")) == 1

    unnamed = [r["outcome"] for r in node.audit("", 1)]  # no patient: not read that far
    assert "1 refused: missing or not a valid UID: StudyInstanceUID" in unnamed, unnamed
    assert [(r["user_name"], r["outcome"]) for r in node.audit("PID0021", 3)] == [
        ("DICOM PACS1", "1 received"),
        ("DICOM PACS1", "1 received (1 already in the inbox)"),
        ("DICOM PACS1", "1 refused: another data set is held under this SOP Instance UID"),
    ]
    assert node.echo().returncode == 0


def test_a_data_set_of_another_sop_class_than_the_request_is_refused(
    node: Node, tmp_path: Path
) -> None:
    """The request's Affected SOP Class UID comes from the File Meta when pynetdicom sends a
    file as it is (chunked): a data set that says MR inside a CT request."""
    from pynetdicom import _config

    path = write_instance(tmp_path / "ct.dcm", make_instance(22, 1, 1, 1), implicit=True)
    ds = pydicom.dcmread(path)
    ds.SOPClassUID = MRImageStorage  # the data set says MR, its File Meta still CT
    pydicom.dcmwrite(path, ds)  # as read: its File Meta kept as it is
    assert pydicom.dcmread(path).file_meta.MediaStorageSOPClassUID != MRImageStorage
    chunked = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True
    try:
        [status] = node.send(path)  # type: ignore[arg-type]
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = chunked
    assert status.Status == 0xA900, status
    assert status.ErrorComment == f"SOP Class UID not the request's: {MRImageStorage}"
    assert not node.rows(sop_uid=ds.SOPInstanceUID)
    [row] = node.audit("PID0022", 1)
    assert row["outcome"] == "1 refused: " + status.ErrorComment


@pytest.mark.parametrize("patient_id", ["../../etc", "a/b", "", "/abs\\olute\x00"])
def test_a_hostile_patient_id_stays_inside_the_inbox(
    node: Node, tmp_path: Path, patient_id: str
) -> None:
    number = 30 + len(patient_id)  # a patient (and UIDs) of its own per case
    ds = part10(tmp_path, make_instance(number, 1, 1, 1, PatientID=patient_id))
    [status] = node.send(ds)
    assert status.Status == 0x0000
    [row] = node.rows(sop_uid=ds.SOPInstanceUID)
    path = (node.data / row["path"]).resolve()
    assert path.is_file()
    assert path.is_relative_to((node.data / "inbox").resolve())
    as_read = patient_id.rstrip("\x00")  # pydicom drops a text value's trailing NUL
    assert row["patient_id"] == as_read  # "\\": as written (LO values), not a Python list
    assert path.parent.parent.name == patient_folder(as_read)
    assert pydicom.dcmread(path).PatientID == ds.PatientID


def test_a_store_that_would_fill_the_disk_is_refused_out_of_resources(
    strict: Node, tmp_path: Path
) -> None:
    ds = part10(tmp_path, make_instance(40, 1, 1, 1))
    [status] = strict.send(ds)
    assert status.Status == 0xA700, status
    assert status.ErrorComment == "disk nearly full: the station keeps 10000000 MB free"
    assert not strict.rows()
    assert not [p for p in (strict.data / "inbox").rglob("*") if p.is_file()]
    [row] = strict.audit("PID0040", 1)  # the patient whose images did not arrive
    assert (row["user_name"], row["patient_name"]) == ("DICOM PACS1", "Test^Patient40")
    assert row["outcome"] == "1 refused: " + status.ErrorComment
    assert strict.echo().returncode == 0


# --- Orthanc as a C-MOVE source --------------------------------------------------------------


def upload(orthanc: Orthanc, files: dict[str, Path]) -> None:
    for path in files.values():
        request = urllib.request.Request(
            f"http://{LOCALHOST}:{orthanc.http_port}/instances", data=path.read_bytes(),
            method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["Status"] in ("Success", "AlreadyStored")


def move(orthanc: Orthanc, study_uid: str, destination: str) -> subprocess.CompletedProcess[str]:
    """movescu asks Orthanc to send a study to ``destination`` (an AE title it knows)."""
    return dcmtk(MOVESCU, "-v", "-aet", MOVE_AET, "-aec", orthanc.aet, "-aem", destination,
                 "-S", "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
                 LOCALHOST, orthanc.dicom_port)  # fmt: skip


def register(orthanc: Orthanc, name: str, station: Node) -> None:
    orthanc._call("PUT", f"/modalities/{name}",
                  {"AET": station.aet, "Host": LOCALHOST, "Port": station.port})  # fmt: skip


def test_orthanc_moves_a_study_to_the_station(
    node: Node, strict: Node, orthanc: Orthanc, tmp_path: Path
) -> None:
    files = two_patients(tmp_path / "pacs", 51)
    upload(orthanc, files)
    register(orthanc, "station", node)
    study = uid(51, 2)  # patient 51's second study: 4 instances
    done = move(orthanc, study, "MEDIATOOL")
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    rows = node.rows(study_uid=study)
    assert {r["sop_uid"] for r in rows} == {s for s in files if s.startswith(study + ".")}
    assert {r["calling_ae"] for r in rows} == {"ORTHANC"}  # accepted as a [[nodes]] entry
    for r in rows:
        assert pydicom.dcmread(node.data / r["path"]) == pydicom.dcmread(files[r["sop_uid"]])
    [audit] = node.audit("PID0051", 1)
    assert (audit["user_name"], audit["outcome"]) == ("DICOM ORTHANC", "4 received")

    register(orthanc, "strict", strict)  # accepts PACS1 alone
    before = len(strict.refusals_of("ORTHANC", 0))  # the echo test's, if it ran
    refused = move(orthanc, study, "BURNER2")
    said = refused.stdout + refused.stderr
    # Orthanc cannot open the association (A-ASSOCIATE-RJ): it fails the whole C-MOVE
    assert "Received Final Move Response (Failed" in said, said
    assert not strict.rows()
    why = strict.refusals_of("ORTHANC", before + 1)[-1]
    assert why["outcome"].endswith("calling AE title 'ORTHANC' is not accepted (accepted: PACS1)")
    assert move(orthanc, study, "MEDIATOOL").returncode == 0  # the first station still works


# --- configuration and the command line ------------------------------------------------------


def config_of(tmp_path: Path, text: str) -> Any:
    from mediatool.station import config as cfg

    return cfg.load(write_config(tmp_path / "station.toml", text))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("port = 0", "`port` 0 is outside 1-65535"),
        ("port = 65536", "`port` 65536 is outside 1-65535"),
        ('port = "104"', "`port` must be a whole number"),
        ("port = true", "`port` must be a whole number"),
        ("reserve_mb = -1", "`reserve_mb` -1 is outside 0-10000000"),
        ("max_copies = 0", "`max_copies` 0 is outside 1-1000"),
        ("max_copies = 1001", "`max_copies` 1001 is outside 1-1000"),
        ('accept = "PACS1"', "`accept` must be list"),
        ('accept = ["PACS1", "A\\\\B"]', "is not a valid AE title"),
        ('accept = ["SEVENTEEN-LETTERS"]', "is not a valid AE title"),
        ('accept = [""]', "is not a valid AE title"),
        ("host = 7", "`host` must be str"),
    ],
)
def test_a_bad_node_section_says_what_and_where(tmp_path: Path, text: str, said: str) -> None:
    from mediatool.station.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        config_of(tmp_path, f"[node]\n{text}\n")
    assert said in str(raised.value)
    assert "[node]" in str(raised.value) and "station.toml" in str(raised.value)


def test_an_unknown_node_key_gets_a_did_you_mean(tmp_path: Path) -> None:
    from mediatool.station.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        config_of(tmp_path, '[node]\nport = 11112\naccepts = ["PACS1"]\n')
    assert "unknown key `accepts`" in str(raised.value)
    assert raised.value.hint == "did you mean `accept`?"


def test_the_node_section_is_read_and_written_back_unchanged(tmp_path: Path) -> None:
    import tomllib

    from mediatool.station import config as cfg

    config = config_of(
        tmp_path,
        '[node]\nport = 11112\nhost = "0.0.0.0"\naccept = ["PACS1", "CT01"]\n'
        "reserve_mb = 0\nmax_copies = 3\n",
    )
    assert (config.dicom_port, config.dicom_host, config.accept) == (
        11112, "0.0.0.0", ("PACS1", "CT01"),
    )  # fmt: skip
    assert (config.reserve_mb, config.max_copies) == (0, 3)
    again = cfg.parse(tomllib.loads(cfg.to_toml(config)), config.path)
    assert again == config
    defaults = config_of(tmp_path, "[node]\nport = 104\n")
    assert (defaults.dicom_host, defaults.accept, defaults.reserve_mb) == ("", (), 1024)
    assert cfg.parse(tomllib.loads(cfg.to_toml(defaults)), defaults.path) == defaults
    assert "[node]" not in cfg.to_toml(cfg.DEFAULT)  # no port: no node, no section


def test_accepted_callers_the_accept_list_else_the_nodes_else_anyone(tmp_path: Path) -> None:
    nodes = (
        '[[nodes]]\nname = "Main"\nrole = "pacs"\naddress = "PACS1@10.0.0.5:104"\n'
        '[[nodes]]\nname = "Backup"\nrole = "pacs"\naddress = "PACS1@10.0.0.6:104"\n'
        '[[nodes]]\nname = "RIS"\nrole = "worklist"\naddress = "RIS@10.0.0.7:104"\n'
    )
    assert config_of(tmp_path, "[node]\nport = 104\n").accepted_callers() == ()
    assert config_of(tmp_path, nodes).accepted_callers() == ("PACS1", "RIS")
    chosen = config_of(tmp_path, nodes + '[node]\naccept = ["CT01"]\n')
    assert chosen.accepted_callers() == ("CT01",)


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    from station_peers import mediatool

    return mediatool("serve", *args)


def test_serve_refuses_a_bad_dicom_port_or_ae_title_clearly(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    for args, said in (
        (("--dicom-port", "0"), "Invalid value for '--dicom-port'"),
        (("--dicom-port", "70000"), "Invalid value for '--dicom-port'"),
        (("--dicom-port", "11112", "--ae-title", "TOO-LONG-AE-TITLE"), "--ae-title"),
        (("--ae-title", "A\\B"), "is not a valid AE title"),
    ):
        done = serve("--data", data, "--port", str(reserve_port()), *args)
        assert done.returncode == 2, done.stderr
        assert said in done.stderr
        assert "Traceback" not in done.stderr


def test_serve_says_when_the_dicom_port_is_taken_and_leaves_the_web_port_free(
    tmp_path: Path,
) -> None:
    import socket

    web, dicom = reserve_port(), reserve_port()
    with socket.socket() as taken:
        taken.bind((LOCALHOST, dicom))
        taken.listen()
        done = serve("--data", str(tmp_path / "data"), "--port", str(web),
                     "--dicom-port", str(dicom))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"cannot open the DICOM port {dicom} on 127.0.0.1" in done.stderr
    assert "--dicom-port" in done.stderr and "Traceback" not in done.stderr
    with socket.socket() as free:
        free.bind((LOCALHOST, web))  # nothing holds the web port


def test_a_refused_association_leaves_an_audit_row_saying_why(node: Node) -> None:
    assert node.echo("INTRUDER").returncode != 0
    assert node.echo("PACS1", called="ELSEWHERE").returncode != 0
    expected = {
        ("DICOM INTRUDER", "refused (127.0.0.1): calling AE title 'INTRUDER' is not accepted "
         "(accepted: ORTHANC, PACS1)"),
        ("DICOM PACS1", "refused (127.0.0.1): called AE title 'ELSEWHERE' is not this "
         "station's (MEDIATOOL)"),
    }  # fmt: skip
    deadline = time.monotonic() + 10  # written as the association is refused: may lag
    while True:
        rows = node.audit("", 0, action="dicom-association")  # the echo test's too, if run
        said = {(r["user_name"], r["outcome"]) for r in rows}
        if expected <= said or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert expected <= said, said


def test_the_serve_output_says_where_the_node_listens_and_whom_it_accepts(
    node: Node, strict: Node
) -> None:
    from mediatool.station import config as cfg
    from mediatool.station.serve import node_line, node_open

    said = node.server.log.read_text(encoding="utf-8")
    assert (
        f"DICOM node: AE title MEDIATOOL on 127.0.0.1 (this computer only: [node] host) port "
        f"{node.port} (C-ECHO, C-STORE into the inbox, Media Creation Management), accepting "
        "calling AE titles ORTHANC, PACS1 (the configured nodes; [node] accept)"
    ) in said
    assert "accepting calling AE titles PACS1 ([node] accept)" in strict.server.log.read_text()
    everywhere = cfg.merge(cfg.DEFAULT, dicom_port=104, dicom_host="0.0.0.0")
    assert "(every interface) port 104" in node_line(everywhere)
    assert "accepting any calling AE title (to choose: [node] accept)" in node_line(everywhere)
    assert node_line(cfg.DEFAULT).startswith("DICOM node: off")
    assert node_open(everywhere)  # the network, anyone: serve warns
    assert not node_open(cfg.merge(everywhere, accept=("PACS1",)))
    assert not node_open(cfg.merge(everywhere, dicom_host="127.0.0.1"))
    assert not node_open(cfg.DEFAULT)


@pytest.mark.parametrize(
    ("name", "propose"),
    [("SC_rgb_jpeg_gdcm.dcm", "-xs"), ("JPEG2000.dcm", "-xw")],  # JPEG lossless, JPEG 2000
)
def test_compressed_instances_are_kept_in_their_transfer_syntax(
    node: Node, name: str, propose: str
) -> None:
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name)
    assert path is not None
    sent = pydicom.dcmread(path)
    done = dcmtk(STORESCU, propose, "-aet", "PACS1", "-aec", "MEDIATOOL", LOCALHOST, node.port,
                 path)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [row] = node.rows(sop_uid=sent.SOPInstanceUID)
    held = pydicom.dcmread(node.data / row["path"])
    assert held.file_meta.TransferSyntaxUID == sent.file_meta.TransferSyntaxUID
    assert held.PixelData == sent.PixelData  # not decoded, not re-encoded


def test_a_cut_data_set_is_refused_and_an_aborted_association_is_still_audited(
    node: Node, tmp_path: Path
) -> None:
    """The data set cut after its first elements, then one that claims 1 GiB: pydicom reads
    what is there, and the node refuses it for the identifying UIDs it lacks."""
    import struct

    from pynetdicom import _config

    from mediatool.net.store import dataset_offset

    path = write_instance(tmp_path / "ok.dcm", make_instance(23, 1, 1, 1), implicit=True)
    raw = path.read_bytes()
    cut = dataset_offset(raw) + 200  # after the SOP UIDs, before Study Instance UID
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(raw[:cut] + struct.pack("<HHI", 0x0010, 0x0010, 1 << 30) + b"AB")
    chunked = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = True  # the file's bytes as they are
    ae = AE(ae_title="PACS1")
    ae.requested_contexts = StoragePresentationContexts[:120]
    assoc = ae.associate(LOCALHOST, node.port, ae_title=node.aet)
    assert assoc.is_established
    try:
        bad = assoc.send_c_store(broken)
        good = assoc.send_c_store(path)
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = chunked
        assoc.abort()  # not released: the audit rows are still written
    assert bad.Status == 0xC000, bad
    assert bad.ErrorComment == "missing or not a valid UID: StudyInstanceUID, SeriesInstanceUID"
    assert good.Status == 0x0000
    assert [r["outcome"] for r in node.audit("PID0023", 1)] == ["1 received"]
    assert node.echo().returncode == 0
