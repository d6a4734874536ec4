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
