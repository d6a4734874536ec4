"""The station's Media Creation Management SCP (PS3.4 Annex S) against a real ``mediatool serve``:
a PACS stores instances with DCMTK's storescu, then asks for a disc with our pynetdicom MCM SCU
(tests/mcm_scu.py): N-CREATE, N-ACTION Initiate / Cancel, N-GET until DONE, and the disc the
burn desk's build job wrote (DICOMDIR read with pydicom, ISO, label, ``mediatool validate``).
The rules one by one, without the network: test_mcm_rules.py."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import numpy as np
import pydicom
import pytest
import sqlalchemy as sa
from factories import make_instance, uid, write_instance
from mcm_scu import McmRefused, McmScu
from pacs_peers import wait_port
from PIL import Image
from ports import LOCALHOST, reserve_port
from pydicom.uid import CTImageStorage, generate_uid
from station_peers import StationServer, wait_job

from mediatool.station.store import Job, Store, jobs

STORESCU: Final = "/usr/bin/storescu"  # DCMTK's (a pynetdicom app shadows it on PATH)
MAX_COPIES: Final = 3
HELD: Final = [(CTImageStorage, uid(1, 1, 1, n)) for n in (1, 2, 3)]
LATE: Final = (CTImageStorage, uid(1, 1, 1, 4))  # stored only in test_instances_not_received


@dataclass
class Node:
    server: StationServer
    port: int  # the DICOM node's
    data: Path
    src: Path

    @cached_property
    def store(self) -> Store:
        """The station's job store (SQLite in its data folder), read beside the server."""
        return Store(f"sqlite:///{self.data / 'station.db'}")

    def jobs_of(self, request_uid: str) -> list[Job]:
        """The build jobs a media creation request became (one at most)."""
        return [
            j
            for j in self.store.jobs(kinds=["build"])
            if (j.params.get("media_request") or {}).get("uid") == request_uid
        ]

    def job_of(self, request_uid: str) -> Job:
        (job,) = self.jobs_of(request_uid)
        return job

    def priority(self, job_id: int) -> int:
        """A job's priority (not in :class:`Job`: only the claim reads it)."""
        with self.store.begin() as conn:
            return int(conn.execute(sa.select(jobs.c.priority).where(jobs.c.id == job_id)).one()[0])

    def scu(self, **kw: Any) -> McmScu:
        return McmScu(self.port, **kw)


def storescu(port: int, *paths: Path) -> None:
    assert Path(STORESCU).exists(), "DCMTK is missing: apt-get install dcmtk"
    done = subprocess.run(
        [STORESCU, "-aec", "MEDIATOOL", "-aet", "PACS1", "+sd", "+r", LOCALHOST, str(port)]
        + [str(p) for p in paths],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A station with one worker and a DICOM node accepting PACS1, holding three CT images of
    patient 1 (sent with storescu); a fourth is written in ``src/late`` but not sent."""
    base = tmp_path_factory.mktemp("mcm")
    port = reserve_port()
    config = base / "station.toml"
    config.write_text(
        f'[station]\nworkers = 1\n\n[node]\nport = {port}\naccept = ["PACS1"]\n'
        f"reserve_mb = 0\nmax_copies = {MAX_COPIES}\n",
        encoding="utf-8",
    )
    server = StationServer(base / "data", config=config)
    server.add_user("burn", "burn")
    server.start()
    try:
        wait_port(port, 30, server.proc)
        src = base / "src"
        for n in (1, 2, 3):
            write_instance(src / "sent" / f"ct{n}.dcm", make_instance(1, 1, 1, n))
        write_instance(src / "late" / "ct4.dcm", make_instance(1, 1, 1, 4))
        storescu(port, src / "sent")
        node = Node(server, port, base / "data", src)
        yield node
        if "store" in vars(node):
            node.store.engine.dispose()
    finally:
        server.stop()


def created(scu: McmScu, refs: Any, **attributes: Any) -> str:
    status, uid_, _attrs = scu.create(refs, **attributes)
    assert status.Status == 0x0000, status
    return uid_


def after_pending(scu: McmScu, request: str, timeout: float = 120) -> str:
    """The first Execution Status after PENDING (N-GET of it alone, every 50 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        _status, got = scu.get(request, [0x21000020])
        assert got is not None
        if got.ExecutionStatus != "PENDING" or time.monotonic() > deadline:
            return str(got.ExecutionStatus)
        time.sleep(0.05)


def label_pixels(path: Path) -> np.ndarray[Any, Any]:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


# --- a disc asked for over DICOM ----------------------------------------------------------------
def test_a_pacs_asks_for_a_disc_and_gets_it(node: Node) -> None:
    fileset_uid = generate_uid("1.2.826.0.1.3680043.10.1137.34.")
    refs = [(c, u, "STD-GEN-CD") for c, u in HELD]
    with node.scu() as scu:
        status, request, attrs = scu.create(
            refs, StorageMediaFileSetID="OB5512", StorageMediaFileSetUID=fileset_uid,
            LabelText="For Dr. Souza",
        )  # fmt: skip
        assert status.Status == 0x0000 and attrs is not None
        assert attrs.SOPInstanceUID == request and attrs.SOPClassUID == "1.2.840.10008.5.1.1.33"
        assert (attrs.ExecutionStatus, attrs.ExecutionStatusInfo) == ("IDLE", "NORMAL")
        status, got = scu.get(request)
        assert status.Status == 0x0000 and got is not None
        assert (got.ExecutionStatus, got.ExecutionStatusInfo) == ("IDLE", "NORMAL")
        assert got.TotalNumberOfPiecesOfMediaCreated == 0 and got.LabelText == "For Dr. Souza"

        assert scu.initiate(request, copies=2, priority="HIGH").Status == 0x0000
        final = scu.wait(request, 180)
        seen = scu.seen[request]
        status, some = scu.get(request, [0x21000020, 0x2200000B])  # Attribute Identifier List
    assert seen[0] in ("PENDING/QUEUED", "CREATING/NORMAL") and seen[-1] == "DONE/NORMAL", seen
    assert (final.NumberOfCopies, final.RequestPriority) == (2, "HIGH")
    assert final.TotalNumberOfPiecesOfMediaCreated == 2  # one volume, two copies
    (medium,) = final.ReferencedStorageMediaSequence
    assert (medium.StorageMediaFileSetID, medium.StorageMediaFileSetUID) == ("OB5512", fileset_uid)
    assert list(final.FailedSOPSequence) == []
    assert status.Status == 0x0000 and some is not None
    assert sorted(e.keyword for e in some) == [
        "ExecutionStatus", "TotalNumberOfPiecesOfMediaCreated",
    ]  # fmt: skip
    check_the_job_and_its_disc(node, request, fileset_uid)


def check_the_job_and_its_disc(node: Node, request: str, fileset_uid: str) -> None:
    job = node.job_of(request)
    assert job.state == "done" and node.priority(job.id) == 1 and job.user_name == "DICOM PACS1"
    assert job.title == "Build a CD of 3 instances asked for by PACS1, 2 copies"
    assert (job.patient_id, job.patient_name) == ("PID0001", "Test^Patient1")
    with node.server.client("burn") as burn:  # the burn desk sees it
        assert wait_job(burn, job.id)["state"] == "done"
        page = burn.get(f"/jobs/{job.id}")
        assert page.status_code == 200 and job.title in page.text
    folder = node.data / "jobs" / str(job.id)
    dicomdir = pydicom.dcmread(folder / "disc" / "DICOMDIR")
    assert dicomdir.FileSetID == "OB5512"
    assert dicomdir.file_meta.MediaStorageSOPInstanceUID == fileset_uid
    images = [r for r in dicomdir.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    assert sorted(r.ReferencedSOPInstanceUIDInFile for r in images) == [u for _c, u in HELD]
    assert (folder / "disc.iso").stat().st_size > 0 and (folder / "label.png").is_file()
    done = subprocess.run(
        [sys.executable, "-m", "mediatool", "validate", str(folder / "disc")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_scp_chooses_the_uid_when_the_scu_does_not(node: Node) -> None:
    with node.scu() as scu:
        status, request, attrs = scu.create(HELD, uid=None)
        assert status.Status == 0x0000 and attrs is not None
        assert request.startswith(("1.", "2.")) and attrs.SOPInstanceUID == request
        status, got = scu.get(request)
        assert status.Status == 0x0000 and got is not None and got.ExecutionStatus == "IDLE"
        assert scu.cancel(request).Status == 0x0000  # leaves nothing behind


def test_the_label_text_is_printed_on_the_label(node: Node) -> None:
    """Three builds of the same instances on the same day: the labels with the same Label Text
    are identical, the one without differs."""
    labels = []
    with node.scu() as scu:
        for text in ("Para o Dr. Souza", "", "Para o Dr. Souza"):
            attributes = {"LabelText": text} if text else {}
            request = created(scu, HELD, StorageMediaFileSetID="LABEL", **attributes)
            assert scu.initiate(request).Status == 0x0000
            assert scu.wait(request, 180).ExecutionStatus == "DONE"
            labels.append(node.data / "jobs" / str(node.job_of(request).id) / "label.png")
    with_text, without, again = (label_pixels(p) for p in labels)
    assert np.array_equal(with_text, again)
    assert not np.array_equal(with_text, without)


def test_no_non_dicom_objects_is_a_disc_without_web_content(node: Node) -> None:
    with node.scu() as scu:
        request = created(scu, HELD, IncludeNonDICOMObjects="NO")
        assert scu.initiate(request).Status == 0x0000
        assert scu.wait(request, 180).ExecutionStatus == "DONE"
    job = node.job_of(request)
    assert job.params["web"] is False
    disc = node.data / "jobs" / str(job.id) / "disc"
    assert (disc / "DICOMDIR").is_file() and not (disc / "INDEX.HTM").exists()
    assert sorted(p.name for p in disc.iterdir()) == ["DICOM", "DICOMDIR"]


# --- what cannot be built: Execution Status FAILURE ------------------------------------------
def test_instances_not_received_then_sent(node: Node) -> None:
    with node.scu() as scu:
        request = created(scu, [*HELD, LATE])
        status = scu.initiate(request)
        assert status.Status == 0x0110
        assert status.ErrorComment == "1 of 4 instances not received"
        _status, got = scu.get(request)
        assert got is not None
        assert (got.ExecutionStatus, got.ExecutionStatusInfo) == ("FAILURE", "NO_INSTANCE")
        (failed,) = got.FailedSOPSequence
        assert (failed.ReferencedSOPClassUID, failed.ReferencedSOPInstanceUID) == LATE
        assert failed.FailureReason == 0x0112
        assert node.jobs_of(request) == []  # no job for a request that failed

        storescu(node.port, node.src / "late")
        assert scu.initiate(request).Status == 0x0000  # initiated again, now it can be built
        final = scu.wait(request, 180)
    assert (final.ExecutionStatus, final.ExecutionStatusInfo) == ("DONE", "NORMAL")
    assert list(final.FailedSOPSequence) == []
    assert node.job_of(request).title == "Build a CD of 4 instances asked for by PACS1"


@pytest.mark.parametrize(
    ("refs", "info"),
    [
        ([(c, u, "STD-FOO-CD") for c, u in HELD], "NOT_SUPPORTED"),
        ([(*HELD[0], "STD-GEN-CD"), (*HELD[1], "STD-GEN-DVD-JPEG")], "INST_AP_CONFLICT"),
        ([HELD[0], HELD[1], HELD[0]], "DUPL_REF_INST"),
    ],
)
def test_a_request_that_cannot_be_built_fails_at_initiate(node: Node, refs: Any, info: str) -> None:
    with node.scu() as scu:
        request = created(scu, refs)
        status = scu.initiate(request)
        assert status.Status == 0x0110 and status.ErrorComment
        _status, got = scu.get(request)
    assert got is not None
    assert (got.ExecutionStatus, got.ExecutionStatusInfo) == ("FAILURE", info)
    assert list(got.FailedSOPSequence) == []


# --- refused requests: N-CREATE and N-ACTION statuses ----------------------------------------
@pytest.mark.parametrize(
    ("refs", "attributes", "status"),
    [
        (None, {}, 0x0120),
        ([], {}, 0x0120),
        (HELD, {"AllowMediaSplitting": "MAYBE"}, 0x0106),
        (HELD, {"StorageMediaFileSetID": "ob-5512"}, 0x0106),
    ],
)
def test_a_malformed_n_create_is_refused(
    node: Node, refs: Any, attributes: dict[str, str], status: int
) -> None:
    with node.scu() as scu:
        answer, request, _attrs = scu.create(refs, **attributes)
        assert answer.Status == status and answer.ErrorComment
        assert scu.get(request)[0].Status == 0x0112  # nothing was created


def test_a_sop_instance_uid_is_created_once(node: Node) -> None:
    with node.scu() as scu:
        request = created(scu, HELD)
        status, _uid, _attrs = scu.create(HELD, uid=request)
        assert status.Status == 0x0111
        assert scu.cancel(request).Status == 0x0000


def test_n_action_statuses(node: Node) -> None:
    with node.scu() as scu:
        assert scu.initiate("1.2.826.0.1.3680043.10.1137.33.404").Status == 0x0112
        request = created(scu, HELD)
        assert scu.action(request, 7).Status == 0x0123
        assert scu.initiate(request, copies=0).Status == 0x0115
        assert scu.initiate(request, copies=MAX_COPIES + 1).Status == 0x0115
        assert scu.initiate(request, priority="URGENT").Status == 0x0115
        _status, got = scu.get(request)
        assert got is not None and got.ExecutionStatus == "IDLE"  # refused: still idle
        assert scu.initiate(request, copies=MAX_COPIES, priority="LOW").Status == 0x0000
        assert scu.initiate(request).Status == 0xA510  # a second Initiate
        final = scu.wait(request, 180)
        assert final.ExecutionStatus == "DONE"
        assert final.TotalNumberOfPiecesOfMediaCreated == MAX_COPIES
        assert scu.cancel(request).Status == 0xC201  # already completed
    assert node.priority(node.job_of(request).id) == -1


def test_initiates_arriving_together_make_one_job(node: Node) -> None:
    """Four associations send Initiate for one request at the same moment: one is taken, the
    others hear A510, and the request became one build job (a compare-and-set, not a read
    then a write)."""
    import threading

    with node.scu() as scu:
        request = created(scu, HELD)
    start = threading.Barrier(4)
    answers: list[int] = []

    def initiate() -> None:
        with node.scu() as mine:
            start.wait(30)
            answers.append(int(mine.initiate(request).Status))

    threads = [threading.Thread(target=initiate) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers) == [0x0000, 0xA510, 0xA510, 0xA510]
    assert len(node.jobs_of(request)) == 1
    with node.scu() as scu:
        assert scu.wait(request, 180).ExecutionStatus == "DONE"


def test_cancel_an_idle_request(node: Node) -> None:
    with node.scu() as scu:
        request = created(scu, HELD)
        assert scu.cancel(request).Status == 0x0000
        assert scu.get(request)[0].Status == 0x0112
        assert scu.initiate(request).Status == 0x0112


def test_cancel_a_queued_request(node: Node) -> None:
    """One worker: the first request (HIGH) builds, the second (LOW) waits and is cancelled."""
    with node.scu() as scu:
        first, second = created(scu, HELD), created(scu, HELD)
        assert scu.initiate(first, priority="HIGH").Status == 0x0000
        assert scu.initiate(second, priority="LOW").Status == 0x0000
        status = scu.cancel(second)
        done = scu.wait(first, 180)
        assert scu.get(second)[0].Status == 0x0112
    assert status.Status == 0x0000 and done.ExecutionStatus == "DONE"
    job = node.job_of(second)
    with node.server.client("burn") as burn:
        assert wait_job(burn, job.id)["state"] == "cancelled"
    assert not (node.data / "jobs" / str(job.id) / "disc.iso").exists()


def test_cancel_a_running_request(node: Node) -> None:
    """A build is interrupted (its job ends cancelled), not refused with C202."""
    big = node.src / "big"
    rng = np.random.default_rng(15)
    refs = []
    for n in range(30):  # 128 KB each: long enough a build to see it CREATING
        pixels = rng.integers(0, 4096, 256 * 256, dtype="<u2").tobytes()
        ds = make_instance(2, 1, 1, n + 1, Rows=256, Columns=256, PixelData=pixels)
        write_instance(big / f"ct{n:02d}.dcm", ds)
        refs.append((CTImageStorage, uid(2, 1, 1, n + 1)))
    storescu(node.port, big)
    with node.scu() as scu:
        request = created(scu, refs, IncludeNonDICOMObjects="FOR_PATIENT")
        assert scu.initiate(request).Status == 0x0000
        assert after_pending(scu, request) == "CREATING"  # caught while it runs
        status = scu.cancel(request)
        assert status.Status in (0x0000, 0xC201), status
    job = node.job_of(request)
    with node.server.client("burn") as burn:
        ended = wait_job(burn, job.id)["state"]
    assert (status.Status, ended) in ((0x0000, "cancelled"), (0xC201, "done"))


@pytest.mark.parametrize("titles", [{"calling": "CT99"}, {"called": "OTHER"}])
def test_an_ae_not_accepted_is_rejected(node: Node, titles: dict[str, str]) -> None:
    with pytest.raises(McmRefused) as refused, node.scu(**titles):
        pass
    assert refused.value.rejected  # A-ASSOCIATE-RJ, not an abort
    with node.scu() as scu:  # PACS1 calling MEDIATOOL is accepted
        assert scu.get("1.2.826.0.1.3680043.10.1137.33.404")[0].Status == 0x0112


@pytest.mark.parametrize("bad", ["1.2.x", "1.2..3"])  # (pynetdicom sends none over 64)
def test_an_affected_sop_instance_uid_that_is_no_uid_is_refused(node: Node, bad: str) -> None:
    with node.scu() as scu, pytest.warns(UserWarning, match="VR UI"):  # pydicom agrees
        status, _uid, _attrs = scu.create(HELD, uid=bad)
        assert status.Status == 0x0117 and "not a UID" in status.ErrorComment
        assert scu.get(bad)[0].Status == 0x0112


def test_instances_the_profile_does_not_allow_are_listed(node: Node) -> None:
    """CT images on an X-ray angiography CD (STD-XABC-CD): the build would refuse them all."""
    with node.scu() as scu:
        request = created(scu, [(c, u, "STD-XABC-CD") for c, u in HELD])
        status = scu.initiate(request)
        assert status.Status == 0x0110
        assert status.ErrorComment == "3 of 3 instances: SOP Class not in STD-XABC-CD"
        _status, got = scu.get(request)
    assert got is not None
    assert (got.ExecutionStatus, got.ExecutionStatusInfo) == ("FAILURE", "INST_AP_CONFLICT")
    failed = [(f.ReferencedSOPInstanceUID, f.FailureReason) for f in got.FailedSOPSequence]
    assert failed == [(u, 0x0122) for _c, u in HELD]
