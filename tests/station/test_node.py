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

    def audit(self, patient_id: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The node's audit rows of this patient, once there are ``count`` (written when the
        association ends, which the SCU does not wait for)."""
        deadline = time.monotonic() + timeout
        while True:
            store = self.store()
            try:
                with store.begin() as conn:
                    rows = conn.execute(
                        sa.text(
                            "SELECT * FROM audit WHERE action = 'dicom-store' AND patient_id = :p "
                            "ORDER BY id"
                        ),
                        {"p": patient_id},
                    ).mappings()
                    found = [dict(r) for r in rows]
            finally:
                store.close()
            if len(found) >= count or time.monotonic() > deadline:
                return found
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
        assert held.SOPInstanceUID == sop_uid and held.file_meta.MediaStorageSOPInstanceUID
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
    assert "different data set" in conflict.ErrorComment
    assert again.Status == 0x0000  # the same instance in another transfer syntax
    assert path.read_bytes() == content and path.stat().st_mtime_ns == mtime
    assert not node.rows(sop_uid=no_study.SOPInstanceUID)
    assert len(node.rows(patient_id="PID0021")) == 1

    refused = [r for r in node.audit("", 1) if "refused" in r["outcome"]]
    outcomes = {r["outcome"] for r in refused}
    assert "1 refused: missing or not a valid UID: StudyInstanceUID" in outcomes, outcomes
    assert any(o.startswith("1 refused: the station already holds") for o in outcomes), outcomes
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
    assert status.ErrorComment.startswith(f"the data set's SOP Class UID {MRImageStorage}")
    assert not node.rows(sop_uid=ds.SOPInstanceUID)


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
