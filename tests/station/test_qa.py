"""The QA desk in a real browser: a damaged ISO uploaded gives FAIL with its findings, the QA
report shown and the JSON downloaded; a path on the station and a profile; mistakes said."""

from __future__ import annotations

import json
import re
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hostile_media import built_iso, patch_record
from station_peers import StationServer, csrf_of, sign_in, wait_job

pytestmark = pytest.mark.oracle


@pytest.fixture
def damaged_iso(tmp_path: Path) -> Path:
    """A mediatool-made ISO whose second image's extent points past the end of the image."""
    iso = built_iso(tmp_path / "damaged", patients=1)
    patch_record(iso, b"IM000002.;1", extent=(iso.stat().st_size // 2048) + 10)
    return iso


def test_an_uploaded_damaged_iso_fails_with_its_findings(
    station: StationServer, page: Any, damaged_iso: Path, tmp_path: Path
) -> None:
    sign_in(page, station, "qa")
    page.get_by_role("link", name="QA").first.click()
    page.locator("#upload").set_input_files(str(damaged_iso))
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    page.locator("#verdict").wait_for(timeout=60_000)  # the page reloads when the job ends
    assert page.locator("#verdict .verdict").inner_text() == "FAIL"
    findings = page.locator("#findings tbody tr")
    codes = [findings.nth(i).locator("td").first.inner_text() for i in range(findings.count())]
    assert any(c.startswith("media.iso-extent-outside") for c in codes), codes
    row = page.locator("#findings tbody tr", has_text="media.iso-extent-outside")
    assert "ends beyond the image" in row.inner_text()
    assert "Ask the sender for a new disc" in row.inner_text()  # what to do
    report = page.frame_locator("iframe.report")
    assert "FAIL" in report.locator("body").inner_text()
    assert page.locator("iframe.report").get_attribute("sandbox") == ""
    with page.expect_download() as download:
        page.locator("#json-download").click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert document["ok"] is False
    assert "media.iso-extent-outside" in {f["code"] for f in document["findings"]}
    assert not list((station.data / "uploads").iterdir())  # the upload went with the job
    job = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="QA").first.click()
    past = page.locator("#main table tbody tr", has_text=f"{damaged_iso.name}")
    assert past.count() == 1 and "FAIL" in past.inner_text()
    assert past.locator(f"a[href='/jobs/{job}']").count() == 2


def _post(client: Any, **fields: str) -> Any:
    token = csrf_of(client.get("/qa").text)
    empty = {"upload": ("", b"", "application/octet-stream")}  # a file input left empty
    return client.post("/qa", data={"csrf": token, **fields}, files=empty)


def test_a_path_on_the_station_with_a_profile_passes(
    station: StationServer, tmp_path: Path
) -> None:
    iso = built_iso(tmp_path / "good", patients=1)
    with closing(station.client("qa")) as c:
        r = _post(c, path=str(iso), profile="STD-GEN-CD")
        job = int(str(r.url).rsplit("/", 1)[1])
        assert wait_job(c, job)["state"] == "done"
        html = c.get(f"/jobs/{job}").text
        assert 'class="good verdict">PASS' in html and "No finding." in html
        assert iso.is_file()  # a path on the station is read, never removed
        listing = c.get("/qa").text
        assert f"Validate {iso.name} against STD-GEN-CD" in listing


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({}, "Choose a file to upload, a drive, or type a path on the station."),
        ({"path": "/nowhere/disc.iso"}, "Nothing is at /nowhere/disc.iso on the station."),
        ({"path": "/", "profile": "NO-SUCH"}, "This profile is not known."),
        ({"drive": "Floppy"}, "This drive is not in the configuration."),
    ],
)
def test_mistakes_are_said_and_nothing_is_queued(
    station: StationServer, fields: dict[str, str], said: str
) -> None:
    with closing(station.client("qa")) as c:
        r = _post(c, **fields)
        assert r.status_code == 400 and said in r.text
        assert "/jobs/" not in r.text


def test_the_qa_desk_is_for_qa_and_admin(station: StationServer) -> None:
    for name, status in (("reception", 403), ("burn", 403), ("qa", 200), ("admin", 200)):
        with closing(station.client(name)) as c:
            assert c.get("/qa").status_code == status, name
    with closing(station.client("reception")) as c:
        token = csrf_of(c.get("/").text)
        r = c.post("/qa", data={"csrf": token, "path": "/"}, files={"upload": ("", b"", "x/y")})
        assert r.status_code == 403


def test_a_plain_form_naming_a_path_is_taken_and_its_csrf_checked(
    station: StationServer, tmp_path: Path
) -> None:
    with closing(station.client("qa")) as c:
        r = c.post("/qa", data={"path": str(tmp_path)})
        assert r.status_code == 403 and "did not come from this station" in r.text
        token = csrf_of(c.get("/qa").text)
        r = c.post("/qa", data={"csrf": token, "path": str(tmp_path)})
        assert re.search(r"/jobs/\d+$", str(r.url))
