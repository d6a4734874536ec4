"""The history desk in a real browser: a job found by patient ID, by user, by kind and state
and by dates; each role sees the kinds of its desks."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hostile_media import built_iso
from station_peers import StationServer, csrf_of, sign_in, wait_job

from mediatool.station.store import Store

pytestmark = pytest.mark.oracle


def _jobs(station: StationServer, tmp_path: Path) -> dict[str, int]:
    """A reception job for patient PAT77 (queued in the store as the reception desk does) and
    two QA checks through the QA desk: qa's of a disc of patient PID0001, admin's of a folder."""
    store = Store(f"sqlite:///{(station.data / 'station.db').resolve()}")
    missing = str(tmp_path / "no-disc")
    survey = store.add_job(
        kind="survey", title="Survey of the disc of Doe^Jane", user_name="reception",
        params={"media": missing}, patient_id="PAT77", patient_name="Doe^Jane",
    )  # fmt: skip
    made = {"survey": survey}
    disc = built_iso(tmp_path / "disc", patients=1)  # patient PID0001, Test^Patient1
    (tmp_path / "empty").mkdir()
    for name, checked in (("qa", disc), ("admin", tmp_path / "empty")):
        with closing(station.client(name)) as c:
            token = csrf_of(c.get("/qa").text)
            r = c.post(
                "/qa", data={"csrf": token, "path": str(checked)},
                files={"upload": ("", b"", "application/octet-stream")},
            )  # fmt: skip
            made[name] = int(str(r.url).rsplit("/", 1)[1])
            wait_job(c, made[name])
    with closing(station.client("admin")) as c:
        wait_job(c, survey)
    return made


def _ids(page: Any) -> list[int]:
    cells = page.locator("#jobs tbody tr td:first-child")
    return [int(cells.nth(i).inner_text()) for i in range(cells.count())]


def test_history_finds_jobs_by_patient_user_kind_and_date(
    station: StationServer, page: Any, tmp_path: Path
) -> None:
    made = _jobs(station, tmp_path)
    sign_in(page, station, "admin")
    page.get_by_role("link", name="History").first.click()
    assert _ids(page) == sorted(made.values(), reverse=True)
    page.locator("#patient").fill("PAT77")
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == [made["survey"]]
    row = page.locator("#jobs tbody tr").first
    assert "Doe^Jane" in row.inner_text() and "failed" in row.inner_text()
    assert row.get_by_role("link", name=str(made["survey"])).get_attribute("href") == (
        f"/jobs/{made['survey']}"
    )
    page.locator("#patient").fill("pid0001")  # the check read it from the disc (audit trail)
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == [made["qa"]]
    page.locator("#patient").fill("")
    page.locator("#user").fill("qa")
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == [made["qa"]]
    page.get_by_role("link", name=str(made["qa"])).click()
    assert page.url.endswith(f"/jobs/{made['qa']}") and page.locator("#verdict").count() == 1
    page.get_by_role("link", name="History").first.click()
    page.locator("#user").fill("")
    page.locator("#kind").select_option("validate")
    page.locator("#state").select_option("done")
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == [made["admin"], made["qa"]]

    today = dt.date.today()
    page.locator("#from").fill((today + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == [] and "No job matches." in page.locator("#main").inner_text()
    page.locator("#from").fill((today - dt.timedelta(days=1)).isoformat())
    page.locator("#to").fill(today.isoformat())
    page.get_by_role("button", name="Search").click()
    assert _ids(page) == [made["admin"], made["qa"]]
    assert re.search(r"kind=validate", page.url)


def test_each_role_sees_the_kinds_of_its_desks(station: StationServer, tmp_path: Path) -> None:
    made = _jobs(station, tmp_path)
    seen = {}
    for name in ("reception", "burn", "qa"):
        with closing(station.client(name)) as c:
            html = c.get("/history").text
            seen[name] = {int(i) for i in re.findall(r'<td><a href="/jobs/(\d+)">', html)}
            assert c.get("/history?kind=validate").status_code == 200
    assert seen == {"reception": {made["survey"]}, "burn": set(),
                    "qa": {made["qa"], made["admin"]}}  # fmt: skip
    with closing(station.client("qa")) as c:
        assert c.get(f"/jobs/{made['survey']}").status_code == 404  # not its desk's job
        r = c.get("/history?from=yesterday")
        assert "Write dates as YYYY-MM-DD" in r.text
