"""The reception desk as a receptionist uses it, in Debian's chromium (Playwright) against a
real station process, a real Orthanc (the PACS, with Storage Commitment) and DCMTK's wlmscpfs
(the worklist): an uploaded ISO looked at, the patient found in the worklist, imported under
the local Patient ID, the receipt; and the mistakes (a study the PACS files under another ID,
the PACS down then up again, an empty or missing drive, a zip that is not a disc, a double
click on Import, no worklist, the wrong role)."""

from __future__ import annotations

import importlib
import re
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from click.testing import CliRunner
from factories import study_folder
from pacs_peers import Orthanc, Worklist, build_fileset
from ports import LOCALHOST
from station_peers import StationServer, csrf_of, sign_in, wait_job

from mediatool.cli import main
from mediatool.station.desks import reception
from mediatool.station.store import Store

pytestmark = pytest.mark.oracle

DISC_ID = "PID0001"  # tests/factories.py's first patient
LOCAL_ID = "LOC-7"
WORKLIST = [
    {"name": "Test^Patient1", "patient_id": LOCAL_ID, "issuer": "HOSP", "birth_date": "19700101",
     "sex": "F", "accession": "ACC-7"},
]  # fmt: skip
JOB_URL = re.compile(r".*/jobs/\d+$")


@pytest.fixture(scope="module")
def worklist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worklist]:
    server = Worklist(tmp_path_factory.mktemp("wlm"), WORKLIST).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One patient, one study of two series of two CT images: the source folder, the disc as
    a folder (File-set) and as an ISO image with its web pages."""
    base = tmp_path_factory.mktemp("disc")
    src = study_folder(base / "src", patients=1, series=2, instances=2)
    iso = base / "disc.iso"
    done = CliRunner().invoke(main, ["build", str(src), "--iso", str(iso), "-q", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    return {"src": src, "iso": iso, "folder": build_fileset(src, base / "fileset")}


def _config(path: Path, pacs: Orthanc, worklist: Worklist | None, drives: dict[str, Path]) -> Path:
    wl = ""
    if worklist is not None:
        wl = f'[[nodes]]\nname = "WL"\nrole = "worklist"\naddress = "{worklist.peer}"\n'
    lines = [
        f'[station]\nae_title = "{pacs.scu_aet}"\n',
        f'[[nodes]]\nname = "PACS1"\nrole = "pacs"\naddress = "{pacs.peer}"\n',
        wl,
        f"[import]\ncommit = true\nlisten_port = {pacs.report_port}\n",
        *(f'[[drives]]\nname = "{k}"\npath = "{v}"\n' for k, v in drives.items()),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _station(tmp_path: Path, pacs: Orthanc, worklist: Worklist | None) -> StationServer:
    (tmp_path / "empty-drive").mkdir()
    drives = {"Empty drive": tmp_path / "empty-drive", "Gone drive": tmp_path / "no-such-drive"}
    config = _config(tmp_path / "station.toml", pacs, worklist, drives)
    server = StationServer(tmp_path / "data", config=config)
    for role in ("reception", "burn"):
        server.add_user(role, role)
    return server.start()


@pytest.fixture
def desk(tmp_path: Path, orthanc: Orthanc, worklist: Worklist) -> Iterator[StationServer]:
    orthanc.reset()
    server = _station(tmp_path, orthanc, worklist)
    try:
        yield server
    finally:
        server.stop()


def _jobs(server: StationServer, kind: str) -> list[Any]:
    return Store(f"sqlite:///{server.data / 'station.db'}").jobs(kinds=[kind])


def _wait_done(page: Any, selector: str) -> None:
    """The job page reloads itself when its job ends (SSE); then ``selector`` is there."""
    page.wait_for_selector(selector, timeout=120_000)


def _upload(page: Any, server: StationServer, media: Path) -> None:
    page.goto(server.url + "/reception")
    page.set_input_files("#disc-file", str(media))
    page.get_by_role("button", name="Upload and look at the disc").click()
    page.wait_for_url(JOB_URL)


def _typed(page: Any, server: StationServer, folder: Path, local_id: str) -> None:
    """Look at a folder, type the local Patient ID, confirm: the confirmation page."""
    page.goto(server.url + "/reception")
    page.fill("#folder", str(folder))
    page.get_by_role("button", name="Look at the folder").click()
    page.wait_for_url(JOB_URL)
    _wait_done(page, "section.patient")
    page.fill("#typed-0-id", local_id)
    page.locator("#typed-0-id").press("Enter")
    page.wait_for_selector("#changes")


def test_reception_journey(
    desk: StationServer, page: Any, disc: dict[str, Path], orthanc: Orthanc
) -> None:
    sign_in(page, desk, "reception")
    _upload(page, desk, disc["iso"])
    _wait_done(page, "section.patient")
    assert DISC_ID in page.inner_text("section.patient h2")
    thumbs = page.locator("img.thumb")
    assert thumbs.count() == 2
    for i in range(2):
        thumbs.nth(i).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete", arg=thumbs.nth(i).element_handle())
        assert thumbs.nth(i).evaluate("img => img.naturalWidth") > 0
    assert "viewer and web pages (expected)" in page.inner_text("#expected")
    # the worklist: searched by the disc's name and birth date (prefilled), the candidate chosen
    page.get_by_role("button", name="Search the worklist").click()
    page.wait_for_selector("#candidates")
    assert LOCAL_ID in page.inner_text("#candidates")
    page.get_by_role("button", name=f"Choose {LOCAL_ID}").click()
    page.wait_for_selector("#changes")
    row = page.locator("#changes tr.changed", has_text="Patient ID").first
    assert row.locator("td.before").inner_text() == DISC_ID
    assert row.locator("td.after").inner_text() == LOCAL_ID
    sex = page.locator("#changes tr", has_text="Sex")
    assert (sex.locator("td.before").inner_text(), sex.locator("td.after").inner_text()) == (
        "O",
        "F",
    )
    assert page.locator("#pacs").input_value() == "PACS1"  # the one PACS, preselected
    assert page.locator("input[name=study]:checked").count() == 1
    page.locator("#import").dblclick()  # a double click queues one import
    page.wait_for_url(JOB_URL)
    _wait_done(page, "#verdict")
    assert "safe to return the disc" in page.inner_text("#verdict")
    assert len(_jobs(desk, "import")) == 1
    page.get_by_role("link", name="Print receipt").click()
    assert "Safe to return the disc" in page.inner_text("#verdict")
    assert "imported" in page.inner_text("table.studies")
    stored = orthanc.instances()
    assert len(stored) == 4
    assert {i["PatientID"] for i in stored} == {LOCAL_ID}
    assert {i["IssuerOfPatientID"] for i in stored} == {"HOSP"}
    # the uploaded copy of the disc is removed once its patient is safely imported
    page.goto(desk.url + "/reception")
    assert list((desk.data / "uploads").iterdir()) == []


def test_second_import_press_shows_the_running_one(
    desk: StationServer, page: Any, disc: dict[str, Path]
) -> None:
    sign_in(page, desk, "reception")
    _typed(page, desk, disc["folder"], LOCAL_ID)
    form = page.locator("#import-form")
    fields = form.evaluate("f => Object.fromEntries(new FormData(f).entries())")
    action = desk.url + form.get_attribute("action")
    first = page.request.post(action, form=fields, max_redirects=0)
    second = page.request.post(action, form=fields, max_redirects=0)
    assert first.status == second.status == 303
    assert first.headers["location"] == second.headers["location"]
    assert len(_jobs(desk, "import")) == 1


def _store_under(orthanc: Orthanc, src: Path, patient_id: str) -> None:
    """The disc's images put into Orthanc (REST) under another Patient ID."""
    for path in sorted(src.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.PatientID = patient_id
        out = path.with_suffix(".other")
        ds.save_as(out)
        req = urllib.request.Request(
            f"http://{LOCALHOST}:{orthanc.http_port}/instances", data=out.read_bytes(),
            method="POST", headers={"Content-Type": "application/dicom"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=10) as rsp:
            assert rsp.status == 200
        out.unlink()


def test_wrong_local_id_is_refused_and_said(
    desk: StationServer, page: Any, disc: dict[str, Path], orthanc: Orthanc
) -> None:
    _store_under(orthanc, disc["src"], "LOCAL-A")
    sign_in(page, desk, "reception")
    _typed(page, desk, disc["folder"], "LOCAL-B")
    page.locator("#import").click()
    page.wait_for_url(JOB_URL)
    _wait_done(page, "#verdict")
    outcome = page.inner_text("table.studies")
    assert "refused" in outcome and "another Patient ID" in outcome
    assert "'LOCAL-A'" in outcome and "'LOCAL-B'" in outcome
    assert page.inner_text("#verdict").startswith("Keep the disc")
    page.get_by_role("link", name="Print receipt").click()
    assert "Keep the disc" in page.inner_text("#verdict")
    assert "Safe to return" not in page.inner_text("main")
    assert {i["PatientID"] for i in orthanc.instances()} == {"LOCAL-A"}


def test_pacs_down_then_retry(
    tmp_path: Path, page: Any, disc: dict[str, Path], worklist: Worklist
) -> None:
    pacs = Orthanc(tmp_path / "pacs")
    pacs.folder.mkdir()
    server = _station(tmp_path, pacs, worklist)  # the PACS is configured, not started
    try:
        sign_in(page, server, "reception")
        _typed(page, server, disc["folder"], LOCAL_ID)
        page.locator("#import").click()
        page.wait_for_url(JOB_URL)
        _wait_done(page, "#retry")
        alert = page.inner_text("p[role=alert]")
        assert "the PACS does not answer" in alert and "Test button" in alert
        pacs.start()
        try:
            page.get_by_role("button", name="Try the import again").click()
            page.wait_for_url(JOB_URL)
            _wait_done(page, "#verdict")
            assert "safe to return the disc" in page.inner_text("#verdict")
            assert {i["PatientID"] for i in pacs.instances()} == {LOCAL_ID}
        finally:
            pacs.stop()
    finally:
        server.stop()
    assert [j.state for j in _jobs(server, "import")] == ["done", "failed"]


def test_receptionist_mistakes_are_said(desk: StationServer, page: Any, tmp_path: Path) -> None:
    sign_in(page, desk, "reception")
    page.goto(desk.url + "/reception")
    page.get_by_role("button", name="Read the disc in Empty drive").click()
    assert "There is no disc in the drive Empty drive." in page.inner_text("#desk-error")
    page.get_by_role("button", name="Read the disc in Gone drive").click()
    assert "The drive Gone drive was not found" in page.inner_text("#desk-error")
    page.fill("#folder", str(tmp_path / "nowhere"))
    page.get_by_role("button", name="Look at the folder").click()
    assert "was not found" in page.inner_text("#desk-error")
    notes = tmp_path / "notes.zip"
    with zipfile.ZipFile(notes, "w") as z:
        z.writestr("letter.txt", "not a disc")
    _upload(page, desk, notes)
    _wait_done(page, "#problems, p[role=alert]")
    assert "No images were found on the disc." in page.inner_text("main")
    assert page.locator("section.patient").count() == 0
    page.goto(desk.url + "/reception")  # the uploaded file is not kept: it is no disc
    assert list((desk.data / "uploads").iterdir()) == []


def test_no_worklist_configured_is_said(
    tmp_path: Path, page: Any, disc: dict[str, Path], orthanc: Orthanc
) -> None:
    server = _station(tmp_path, orthanc, None)
    try:
        sign_in(page, server, "reception")
        page.goto(server.url + "/reception")
        page.fill("#folder", str(disc["folder"]))
        page.get_by_role("button", name="Look at the folder").click()
        _wait_done(page, "section.patient")
        page.get_by_role("button", name="Search the worklist").click()
        assert "No worklist is configured" in page.inner_text("#match-error")
        assert page.locator("#typed-id").is_visible()  # typing the ID is the way on
        page.fill("#typed-id", "LOC-1")
        page.fill("#typed-birth", "19701345")
        page.locator("#typed-id").press("Enter")
        refused = page.inner_text("#identity-error")  # the library's rule, said plainly
        assert "the birth date '19701345' is not a date written YYYYMMDD" in refused
        assert page.locator("#import").count() == 0
    finally:
        server.stop()


def test_thumbnails_only_from_the_job_folder(desk: StationServer, disc: dict[str, Path]) -> None:
    """The thumbnail route serves the survey's own files, nothing above its job folder, and
    only to a role that opens the reception desk."""
    c = desk.client("reception")
    form = {"csrf": csrf_of(c.get("/reception").text), "folder": str(disc["folder"])}
    job_id = int(str(c.post("/reception/folder", data=form).url).rsplit("/", 1)[1])
    assert wait_job(c, job_id)["state"] == "done"
    found = re.search(rf"/reception/{job_id}/thumb/([^\"]+)", c.get(f"/jobs/{job_id}").text)
    assert found is not None
    thumb = f"/reception/{job_id}/thumb/{found.group(1)}"
    assert c.get(thumb).headers["content-type"] == "image/jpeg"
    store = Store(f"sqlite:///{desk.data / 'station.db'}")
    seen = [(r["user_name"], r["patient_id"]) for r in store.audit_rows(text="view thumbnail")]
    assert seen == [("reception", DISC_ID)]
    for bad in ("../../station.db", "..%2F..%2Fstation.db", "thumbs/../../../session.key"):
        assert c.get(f"/reception/{job_id}/thumb/{bad}").status_code == 404
    c.close()
    burn = desk.client("burn")
    assert burn.get("/reception").status_code == 403
    assert burn.get(thumb).status_code == 403
    burn.close()


def test_problem_sentences_are_all_translatable() -> None:
    listing = importlib.import_module("mediatool.importer.listing")
    known = {t for t, _ in listing.PLAIN.values()} | {listing._OTHER}
    assert known <= set(reception.PROBLEMS), known - set(reception.PROBLEMS)
    problem = {"text": "3 image(s) are on the disc twice; imported once.", "count": 3}
    assert reception.problem_text(problem) == problem["text"]  # English: the same sentence
