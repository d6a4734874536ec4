"""The job runner under a real ``mediatool serve``: a server killed in the middle of an import
shows the job interrupted, resumes it when started again and ends with the same accounting as
an import that was never interrupted; a running job is cancelled; a job's worker never
outlives its station."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from factories import study_folder
from pacs_peers import Orthanc, build_fileset
from station_peers import StationServer, sign_in, wait_job

from mediatool.station.store import Store

pytestmark = pytest.mark.oracle

INSTANCES = 800


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One patient, 4 series of 200 CT images: an import that lasts a few seconds, so that a
    kill or a cancel made once a tenth of it is at the PACS (:func:`_wait_sending`) lands before
    the end even on a loaded machine (a worker sees a cancel within PROGRESS_EVERY)."""
    base = tmp_path_factory.mktemp("disc")
    return build_fileset(
        study_folder(base / "src", patients=1, series=4, instances=INSTANCES // 4), base / "disc"
    )


def _station(tmp_path: Path, orthanc: Orthanc) -> StationServer:
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nae_title = "{orthanc.scu_aet}"\nworkers = 1\n'
        f'[[nodes]]\nname = "PACS1"\nrole = "pacs"\naddress = "{orthanc.peer}"\n'
    )
    server = StationServer(tmp_path / "data", config=config)
    server.add_user("reception", "reception")
    return server


def _queue_import(server: StationServer, disc: Path, orthanc: Orthanc) -> int:
    store = Store(f"sqlite:///{(server.data / 'station.db').resolve()}")
    return store.add_job(
        kind="import", title="Import disc -> PACS1", user_name="reception",
        patient_id="", patient_name="",
        params={
            "media": str(disc), "pacs": orthanc.peer, "calling_aet": orthanc.scu_aet,
            "timeout": 10, "commit": False, "listen_port": orthanc.report_port,
            "state_folder": str(server.data / "import-state"), "studies": [],
            "identities": {}, "accession": "", "no_pacs_check": False,
        },
    )  # fmt: skip


def _workers(job_id: int, data: Path) -> list[int]:
    """Live worker processes of job ``job_id`` of the station whose data folder is ``data``."""
    found = []
    store = str((data / "station.db").resolve()).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        ours = b"mediatool.station.jobs.worker" in args and str(job_id).encode() in args
        ours = ours and any(store in a for a in args)
        if ours and state != "Z":
            found.append(int(entry.name))
    return found


def _wait_sending(server: StationServer, job_id: int, orthanc: Orthanc) -> dict[str, Any]:
    """The job's state once the PACS holds some of the disc but not a tenth of it."""
    with server.client("reception") as c:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            s: dict[str, Any] = c.get(f"/jobs/{job_id}/state").json()
            assert not s["final"], s
            if 0 < len(orthanc.sop_uids()) < INSTANCES // 10:
                return s
            time.sleep(0.02)
    raise TimeoutError("the import never got under way")


def test_server_killed_mid_import_resumes_to_the_same_accounting(
    tmp_path: Path, orthanc: Orthanc, disc: Path, page: Any
) -> None:
    orthanc.reset()
    server = _station(tmp_path, orthanc).start()
    job_id = _queue_import(server, disc, orthanc)
    sign_in(page, server, "reception")
    page.goto(f"{server.url}/jobs/{job_id}")  # a receptionist watching the job's live page
    under_way = _wait_sending(server, job_id, orthanc)
    server.kill()
    deadline = time.monotonic() + 10
    while _workers(job_id, server.data) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _workers(job_id, server.data) == [], "the job's worker outlived its station"
    sent_before = len(orthanc.sop_uids())
    assert 0 < sent_before < INSTANCES, (sent_before, under_way)

    server.start()
    try:
        # the open page reconnects by itself and shows the end without a reload by hand
        page.locator("#job-state.state-done").wait_for(timeout=120_000)
        with server.client("reception") as c:
            final = wait_job(c, job_id)
            page = c.get(f"/jobs/{job_id}").text
        assert final["state"] == "done", final
        assert "interrupted: the station stopped while this job ran" in page
        assert "resumed: queued again after a restart of the station" in page
        job = Store(f"sqlite:///{(server.data / 'station.db').resolve()}").job(job_id)
        assert job is not None and job.result is not None and job.attempts == 2
        summary = job.result["summary"]
    finally:
        server.stop()
    assert len(orthanc.sop_uids()) == INSTANCES
    # the same accounting as one uninterrupted run: every instance at the PACS, none twice,
    # none lost; what the first run sent is "already there" for the second
    assert summary["not_imported"] == 0 and summary["sent_not_confirmed"] == 0, summary
    assert summary["imported"] + summary["already_present"] == INSTANCES, summary
    # every file and the DICOMDIR
    assert summary["files"] == INSTANCES + 1 and summary["skipped"] == 1, summary
    assert summary["already_present"] >= sent_before - 1, (summary, sent_before)


def test_a_running_job_is_cancelled_and_its_worker_ends(
    tmp_path: Path, orthanc: Orthanc, disc: Path
) -> None:
    orthanc.reset()
    server = _station(tmp_path, orthanc).start()
    try:
        job_id = _queue_import(server, disc, orthanc)
        _wait_sending(server, job_id, orthanc)
        with server.client("reception") as c:
            page = c.get(f"/jobs/{job_id}")
            from station_peers import csrf_of

            r = c.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf_of(page.text)})
            assert r.status_code == 200
            final = wait_job(c, job_id, timeout=30)
        assert final["state"] == "cancelled", final
        deadline = time.monotonic() + 5
        while _workers(job_id, server.data) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _workers(job_id, server.data) == []
        # nothing arrives at the PACS once the job says it is cancelled
        at_cancel = orthanc.sop_uids()
        time.sleep(2)
        assert orthanc.sop_uids() == at_cancel
    finally:
        server.stop()
