"""The burn desk through the browser (Playwright on Debian's chromium) against a real Orthanc:
search by patient ID, choose the study, build, follow the job, download the ISO image, which
``mediatool validate`` passes; the label page; a build from an uploaded zip; the mistakes (no
study chosen, a file that is not a zip, the same build twice, the PACS down, no PACS
configured); the desk closed to the reception role."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from factories import make_instance, write_instance
from retrieve_peers import RetrieveOrthanc
from station_peers import StationServer, csrf_of, mediatool, sign_in, wait_job

from mediatool.station.store import Store

pytestmark = pytest.mark.oracle

INSTANCES = 3


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetrieveOrthanc]:
    """Orthanc holding two studies of PID0001 (3 CT images, 1 MR image) and one of PID0002."""
    base = tmp_path_factory.mktemp("pacs-in")
    for n in range(INSTANCES):
        write_instance(base / f"ct{n}.dcm", make_instance(1, 1, 1, n))
    write_instance(base / "mr.dcm", make_instance(1, 2, 1, 0, Modality="MR", StudyDate="20230105"))
    write_instance(base / "other.dcm", make_instance(2, 1, 1, 0))
    server = RetrieveOrthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        assert server.upload(base) == INSTANCES + 2
        yield server
    finally:
        server.stop()


def _config(tmp_path: Path, pacs: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(
        f'[station]\nae_title = "MEDIATOOL"\n\n[[nodes]]\nname = "PACS1"\nrole = "pacs"\n'
        f'address = "{pacs}"\n\n[build]\nmedia = "cd"\nprofile = "STD-GEN-CD"\nweb = true\n',
        encoding="utf-8",
    )
    return path


def _server(tmp_path: Path, pacs: str) -> StationServer:
    server = StationServer(tmp_path / "data", config=_config(tmp_path, pacs))
    for role in ("admin", "reception", "burn"):
        server.add_user(role, role)
    return server


@pytest.fixture
def burn_station(orthanc: RetrieveOrthanc, tmp_path: Path) -> Iterator[StationServer]:
    server = _server(tmp_path, orthanc.peer).start()
    try:
        yield server
    finally:
        server.stop()


def _store(server: StationServer) -> Store:
    return Store(f"sqlite:///{server.data / 'station.db'}")


def _search(page: Any, server: StationServer, patient_id: str) -> None:
    page.goto(server.url + "/burn")
    page.get_by_label("Patient ID").fill(patient_id)
    page.get_by_role("button", name="Search").click()
    page.wait_for_selector("#studies-title")


def _fits_a_tablet(page: Any) -> None:
    """No sideways scrolling at 768x1024 (the page checks of test_pages, on a page with data)."""
    page.set_viewport_size({"width": 768, "height": 1024})
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert wide <= 2, f"{page.url}: {wide}px wider than a tablet"


def _job_id(page: Any) -> int:
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def _wait_done(page: Any, server: StationServer, job_id: int) -> dict[str, Any]:
    with closing(server.client("burn")) as client:
        state = wait_job(client, job_id)
    assert state["state"] == "done", state
    page.wait_for_selector("#discs", timeout=30_000)  # the page reloads itself once it ends
    return state


def test_burn_journey_search_build_download_validate(
    burn_station: StationServer, page: Any, orthanc: RetrieveOrthanc, tmp_path: Path
) -> None:
    sign_in(page, burn_station, "burn")
    _search(page, burn_station, "PID0001")
    rows = page.locator("table.studies tbody tr")
    assert rows.count() == 2
    ct = rows.filter(has_text="2024-03-12")
    assert "Test Patient1" in ct.inner_text() and str(INSTANCES) in ct.inner_text()
    _fits_a_tablet(page)
    ct.get_by_role("checkbox").check()
    page.get_by_label("Medium", exact=True).first.select_option("cd")
    page.get_by_label("Copies").first.select_option("2")
    page.get_by_role("button", name="Build the disc").click()
    job_id = _job_id(page)
    assert page.locator("#job-state").inner_text()  # the live progress is there
    _wait_done(page, burn_station, job_id)

    assert "2 copies to burn" in page.locator("#discs").inner_text()
    assert "download the ISO image and burn it" in page.locator("#discs").inner_text()
    retrieved = page.locator("#retrieved tbody tr")
    assert retrieved.count() == 1 and "yes" in retrieved.inner_text()
    assert page.locator("#partial").count() == 0 and page.locator("#disc-folder").count() == 0
    _fits_a_tablet(page)
    with page.expect_download() as info:
        page.locator("#download-iso").click()
    iso = tmp_path / "downloaded.iso"
    info.value.save_as(iso)
    checked = mediatool("validate", str(iso), "--profile", "STD-GEN-CD", "--json")
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr
    assert json.loads(checked.stdout)["inventory"]["counts"]["instances"] == INSTANCES

    page.locator("#label-page").click()
    page.wait_for_url(re.compile(r"/burn/jobs/\d+/label$"))
    assert "2 copies" in page.locator("#copies").inner_text()
    image = page.locator("figure.label img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    actions = {a["action"] for a in _store(burn_station).audit_rows(text="PID0001")}
    assert {"search PACS", "build requested", "build", "download disc.iso", "view label"} <= actions


def test_the_same_build_twice_is_refused_and_shown(burn_station: StationServer) -> None:
    with closing(burn_station.client("burn")) as client:
        query = {"patient_id": "PID0002", "name": "", "accession": ""}
        page = client.get("/burn", params=query)
        (uid,) = re.findall(r'name="study" value="([^"]+)"', page.text)
        form = query | {"csrf": csrf_of(page.text), "node": "PACS1", "study": uid, "media": "dvd",
                        "profile": "STD-GEN-DVD-JPEG", "copies": "1", "web": "1"}  # fmt: skip
        gone = client.post("/burn/build", data=form | {"study": [uid, "1.2.826.0.1.99"]})
        assert gone.status_code == 409 and "no longer at the PACS" in gone.text
        first = client.post("/burn/build", data=form)
        job_id = int(str(first.url).rsplit("/", 1)[1])
        second = client.post("/burn/build", data=form | {"copies": "3"})  # while the first runs
        assert second.status_code == 409
        assert f'href="/jobs/{job_id}"' in second.text and "already being made" in second.text
        assert [j.id for j in _store(burn_station).jobs()] == [job_id]
        assert wait_job(client, job_id)["state"] == "done"
        third = client.post("/burn/build", data=form)  # once it has ended, the same disc again
        assert third.status_code == 200 and str(third.url).endswith(f"/jobs/{job_id + 1}")


def test_no_study_chosen_is_said_and_no_job_made(burn_station: StationServer, page: Any) -> None:
    sign_in(page, burn_station, "burn")
    _search(page, burn_station, "PID0001")
    page.get_by_role("button", name="Build the disc").click()
    assert "Choose at least one study" in page.locator("#burn-error").inner_text()
    assert page.get_by_label("Patient ID").input_value() == "PID0001"  # the form keeps it
    assert page.locator("table.studies tbody tr").count() == 2
    assert _store(burn_station).jobs() == []


def _zip_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for path in sorted(folder.iterdir()):
            z.write(path, f"export/{path.name}")
    return buffer.getvalue()


def test_build_from_an_uploaded_zip(burn_station: StationServer, page: Any, tmp_path: Path) -> None:
    src = tmp_path / "src"
    for n in range(2):
        write_instance(src / f"im{n}.dcm", make_instance(3, 1, 1, n))
    upload = tmp_path / "export.zip"
    upload.write_bytes(_zip_of(src))
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("not a zip", encoding="utf-8")

    sign_in(page, burn_station, "burn")
    page.goto(burn_station.url + "/burn")
    page.locator("#upload-file").set_input_files(str(not_zip))
    page.get_by_role("button", name="Upload and build").click()
    assert "notes.txt is not a zip file" in page.locator("#upload-error").inner_text()
    assert not list((burn_station.data / "uploads").iterdir())  # the refused file is gone

    page.locator("#upload-file").set_input_files(str(upload))
    page.locator("#upload-media").select_option("usb")
    page.get_by_role("button", name="Upload and build").click()
    job_id = _job_id(page)
    assert "export.zip" in page.locator("h1").inner_text()
    _wait_done(page, burn_station, job_id)
    assert "images: 2" in page.locator("#discs").inner_text()
    assert page.locator("#retrieved").count() == 0
    with closing(burn_station.client("burn")) as client:
        iso = client.get(f"/jobs/{job_id}/files/disc.iso")
    assert iso.status_code == 200 and iso.content[32769:32774] == b"CD001"
    assert not list((burn_station.data / "uploads").iterdir())  # the worker removed the upload


def test_a_date_that_is_not_a_date_is_said(burn_station: StationServer) -> None:
    with closing(burn_station.client("burn")) as client:
        page = client.get("/burn", params={"patient_id": "PID0001", "date_from": "2024-02-30"})
    assert page.status_code == 200
    assert "A date is not right. Write dates as YYYY-MM-DD." in page.text
    assert 'value="PID0001"' in page.text and 'name="study"' not in page.text


def test_reception_may_not_burn(burn_station: StationServer) -> None:
    with closing(burn_station.client("reception")) as client:
        assert client.get("/burn").status_code == 403
        assert client.get("/burn", params={"patient_id": "PID0001"}).status_code == 403
        page = client.get("/")
        r = client.post("/burn/build", data={"csrf": csrf_of(page.text), "study": "1.2.3"})
        assert r.status_code == 403
    assert _store(burn_station).jobs() == []


def test_pacs_down_keeps_the_form_and_says_so(tmp_path: Path, page: Any) -> None:
    from ports import reserve_port

    server = _server(tmp_path, f"GONE@127.0.0.1:{reserve_port()}").start()
    try:
        sign_in(page, server, "burn")
        page.goto(server.url + "/burn")
        page.get_by_label("Patient ID").fill("PID0001")
        page.get_by_label("Study date from").fill("2024-01-01")
        page.get_by_role("button", name="Search").click()
        error = page.locator("#burn-error").inner_text()
        assert "The PACS PACS1 did not answer the search" in error
        assert page.get_by_label("Patient ID").input_value() == "PID0001"
        assert page.get_by_label("Study date from").input_value() == "2024-01-01"
    finally:
        server.stop()


def test_no_pacs_configured_says_so(station: StationServer, page: Any) -> None:
    sign_in(page, station, "admin")
    page.goto(station.url + "/burn")
    assert "No PACS is configured" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Add one in Administration.").count() == 1
    with closing(station.client("burn")) as client:
        assert "Ask an administrator to add one." in client.get("/burn").text


def test_a_build_larger_than_the_medium_says_how_many_discs(
    orthanc: RetrieveOrthanc, tmp_path: Path, page: Any
) -> None:
    """The desk offers real media only (a CD holds 700 MB), so the build kind runs here with a
    small capacity into the job folder of a station not yet started; the page then shows it."""
    import numpy as np
    from kinds_helpers import KindsContext

    from mediatool.station.jobs.kinds import describe, run_build

    src = tmp_path / "src"
    pixels = np.random.default_rng(14).integers(0, 4096, 128 * 128, dtype="<u2").tobytes()
    for n in range(12):  # 32 KB each: several volumes of 150 KB
        image = make_instance(4, 1, 1 + n // 4, n, Rows=128, Columns=128, PixelData=pixels)
        write_instance(src / f"im{n:02d}.dcm", image)
    server = _server(tmp_path, orthanc.peer)
    params: dict[str, Any] = {
        "sources": [str(src)], "capacity": 150_000, "web": False, "media": "cd",
        "profile": "STD-GEN-CD", "copies": 1,
    }  # fmt: skip
    store = _store(server)
    job_id = store.add_job(
        kind="build", title=describe("build", params), user_name="burn", params=params
    )
    folder = server.data / "jobs" / str(job_id)
    folder.mkdir(parents=True)
    (tmp_path / "scratch").mkdir()
    result = run_build(params, KindsContext(folder, tmp_path / "scratch"))
    store.update(job_id, state="done", result=json.loads(json.dumps(result)))
    n = len(result["volumes"])
    assert n >= 3
    server.start()
    try:
        sign_in(page, server, "burn")
        page.goto(f"{server.url}/jobs/{job_id}")
        assert f"This build needs {n} discs" in page.locator("#spanned").inner_text()
        rows = page.locator("#discs tbody tr")
        assert rows.count() == n and f"Disc {n} of {n}" in rows.nth(n - 1).inner_text()
        _fits_a_tablet(page)
        with closing(server.client("burn")) as client:
            for k in range(1, n + 1):
                iso = client.get(f"/jobs/{job_id}/files/disc_{k}.iso")
                assert iso.status_code == 200 and iso.content[32769:32774] == b"CD001"
        page.locator("#label-page").click()
        assert page.locator("figure.label img").count() == n
    finally:
        server.stop()


def test_the_pacs_down_during_the_retrieve_fails_the_job_with_its_reason(
    orthanc: RetrieveOrthanc, tmp_path: Path, page: Any
) -> None:
    """The PACS answered the search, then went away before the job retrieved: the job (queued
    here as the desk queues it, the PACS address now closed) fails and its page says why."""
    from ports import reserve_port

    from mediatool.station.jobs.kinds import describe

    gone = f"ORTHANC@127.0.0.1:{reserve_port()}"
    server = _server(tmp_path, orthanc.peer)
    params: dict[str, Any] = {
        "from_pacs": {
            "pacs": gone, "calling_aet": "MEDIATOOL", "timeout": 2, "patient_id": "PID0001",
            "accession": "", "study_uids": ["1.2.826.0.1.3680043.8.498.1"], "method": "get",
            "allow_partial": False,
        },
        "profile": "STD-GEN-CD", "media": "cd", "web": True, "site": None, "fileset_id": "",
        "copies": 1,
    }  # fmt: skip
    job_id = _store(server).add_job(
        kind="build", title=describe("build", params), user_name="burn", params=params,
        patient_id="PID0001", patient_name="Test^Patient1",
    )  # fmt: skip
    server.start()
    try:
        sign_in(page, server, "burn")
        page.goto(f"{server.url}/jobs/{job_id}")
        with closing(server.client("burn")) as client:
            state = wait_job(client, job_id)
        assert state["state"] == "failed" and gone.split("@")[1] in state["error"], state
        page.wait_for_selector("#job .problem", timeout=30_000)  # the page reloads itself
        problem = page.locator("#job .problem").inner_text()
        assert problem.startswith(state["error"]), (problem, state)
        assert page.locator("#discs").count() == 0
    finally:
        server.stop()


def test_the_pacs_sending_less_is_refused_then_said_prominently(tmp_path: Path, page: Any) -> None:
    """A PACS (pynetdicom) whose C-GET fails one of three sub-operations: the build is refused
    (the job fails, saying why); asked again with "make the disc with what arrived", the disc
    is made and its page says first that the PACS sent less, and what it sent."""
    from pydicom import dcmread
    from retrieve_peers import PartialQR

    files = []
    for n in range(3):
        files.append(write_instance(tmp_path / "in" / f"ct{n}.dcm", make_instance(5, 1, 1, n)))
    fail = {str(dcmread(files[1]).SOPInstanceUID)}
    peer = PartialQR(files, fail).start()
    server = _server(tmp_path, peer.peer).start()
    try:
        sign_in(page, server, "burn")
        for partial in (False, True):
            _search(page, server, "PID0005")
            page.locator("input[name=study]").check()
            page.get_by_label("If the PACS sends fewer images").set_checked(partial)
            page.get_by_role("button", name="Build the disc").click()
            job_id = _job_id(page)
            with closing(server.client("burn")) as client:
                state = wait_job(client, job_id)
            assert state["state"] == ("done" if partial else "failed"), state
            page.wait_for_selector("#job[data-final='yes']")  # the open page has shown the end
        assert "incomplete" in str(_store(server).job(job_id - 1).error)  # type: ignore[union-attr]
        page.wait_for_selector("#discs", timeout=30_000)
        assert page.locator("#partial").is_visible()
        _fits_a_tablet(page)
        assert page.locator("main section.card").nth(2).get_attribute("id") == "partial"
        row = page.locator("#retrieved tbody tr").inner_text()
        assert re.search(r"\b3\s+2\s+1\s+2\s+no\b", row), row  # expected, sent, failed, on disc
    finally:
        server.stop()
        peer.stop()
