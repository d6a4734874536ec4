"""The burn desk's inbox (issue 15): studies DCMTK's storescu sends to the station's DICOM node
are listed by sender ("Received from Radiology PACS: 3 studies"), built into a disc (one
patient per disc), removed (never while a build not yet ended uses them); the journey through
the browser in English and in Brazilian Portuguese.

One station per module: each test sends its own patients (and reads its own rows), so the
tests do not depend on each other, except the first, which sees the inbox still empty.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from factories import make_instance, write_instance
from pacs_peers import wait_port
from ports import LOCALHOST, reserve_port
from station_peers import StationServer, csrf_of, sign_in, wait_job

from mediatool.station.node import inbox
from mediatool.station.store import Store

pytestmark = pytest.mark.oracle

STORESCU: Final = "/usr/bin/storescu"  # DCMTK's (a pynetdicom app shadows storescu on PATH)
AE_TITLE: Final = "MEDIATOOL"


@dataclass
class Node:
    """The station, its DICOM port and a folder for the instances the tests send."""

    server: StationServer
    port: int
    scratch: Path

    def store(self) -> Store:
        return Store(f"sqlite:///{self.server.data / 'station.db'}")

    def send(self, calling_ae: str, *studies: tuple[int, int, int, dict[str, Any]]) -> None:
        """storescu each (patient, study, instances, attributes) as ``calling_ae``."""
        folder = self.scratch / f"send-{calling_ae}-{studies[0][0]}-{studies[0][1]}"
        for patient, study, count, extra in studies:
            for n in range(count):
                ds = make_instance(patient, study, 1, n + 1, **extra)
                write_instance(folder / f"p{patient}s{study}i{n}.dcm", ds)
        done = subprocess.run(
            [STORESCU, "-aec", AE_TITLE, "-aet", calling_ae, "+sd", "+r", LOCALHOST,
             str(self.port), str(folder)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def _config(path: Path, dicom_port: int) -> Path:
    path.write_text(
        f'[station]\nae_title = "{AE_TITLE}"\n\n'
        '[[nodes]]\nname = "Radiology PACS"\nrole = "pacs"\n'
        f'address = "PACS1@{LOCALHOST}:{reserve_port()}"\n\n'
        '[build]\nmedia = "cd"\nprofile = "STD-GEN-CD"\nweb = false\n\n'
        f'[node]\nport = {dicom_port}\naccept = ["PACS1", "PACS2", "CT01"]\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    base = tmp_path_factory.mktemp("inbox-desk")
    dicom_port = reserve_port()
    server = StationServer(base / "data", config=_config(base / "station.toml", dicom_port))
    for role in ("admin", "reception", "burn"):
        server.add_user(role, role)
    server.start()
    try:
        assert server.proc is not None
        wait_port(dicom_port, 30.0, server.proc)
        yield Node(server, dicom_port, base / "scratch")
    finally:
        server.stop()


def _study_uid(patient: int, study: int) -> str:
    return str(make_instance(patient, study).StudyInstanceUID)


def _headings(html: str) -> list[str]:
    found = re.findall(r'<h3 class="sender"[^>]*>(.*?)</h3>', html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", h).split()) for h in found]


def _form(page: str, *studies: str, **more: str) -> dict[str, Any]:
    return {
        "csrf": csrf_of(page), "inbox_study": list(studies), "media": "cd",
        "profile": "STD-GEN-CD", "copies": "1",
    } | more  # fmt: skip


def test_the_inbox_empty_then_listed_by_sender(node: Node) -> None:
    with closing(node.server.client("burn")) as client:
        empty = client.get("/burn").text
        assert "Received over DICOM" in empty and 'id="inbox-form"' not in empty
        assert f"Send studies to AE {AE_TITLE}, port {node.port}." in empty

        node.send("PACS1", (11, 1, 3, {}), (11, 2, 1, {"Modality": "MR", "StudyDate": "20230105"}),
                  (12, 1, 2, {"StudyDescription": "CT Abdomen"}))  # fmt: skip
        node.send("CT01", (13, 1, 1, {}))
        page = client.get("/burn").text
    assert "Nothing received yet" not in page
    assert _headings(page) == [
        "Received from CT01: 1 study",
        "Received from Radiology PACS: 3 studies AE PACS1",  # the configured node's name
    ]
    pacs = page.split('id="sender-2"', 1)[1]
    for text in ("Test Patient11", "PID0011", "Test Patient12", "PID0012", "CT Abdomen",
                 "2023-01-05", "2024-03-12"):  # fmt: skip
        assert text in pacs, text
    assert "PID0013" not in pacs and "PID0013" in page.split('id="sender-2"', 1)[0]
    rows = re.findall(r"<tr>\s*<td><input type=\"checkbox\" name=\"inbox_study\"(.*?)</tr>",
                      pacs, re.S)  # fmt: skip
    assert len(rows) == 3
    ct = next(r for r in rows if _study_uid(11, 1) in r)
    assert re.search(r"<td>CT</td>\s*<td>3</td>", ct), ct
    seen = node.store().audit_rows(text="view inbox")
    assert {(a["patient_id"], a["outcome"]) for a in seen} >= {
        ("PID0011", "2 studies shown"), ("PID0012", "1 studies shown"),
        ("PID0013", "1 studies shown"),
    }  # fmt: skip


def test_no_node_and_an_empty_inbox_hide_the_section(station: StationServer) -> None:
    with closing(station.client("burn")) as client:
        page = client.get("/burn")
    assert page.status_code == 200 and "Received over DICOM" not in page.text


def test_build_from_the_inbox_one_patient_per_disc(node: Node) -> None:
    node.send("PACS2", (21, 1, 3, {}), (21, 2, 1, {"Modality": "MR"}), (22, 1, 1, {}))
    p21 = [_study_uid(21, 1), _study_uid(21, 2)]
    with closing(node.server.client("burn")) as client:
        page = client.get("/burn").text
        none = client.post("/burn/inbox/build", data=_form(page))
        assert none.status_code == 400 and "Choose at least one study" in none.text
        two = client.post("/burn/inbox/build", data=_form(page, p21[0], _study_uid(22, 1)))
        assert two.status_code == 400
        assert "The chosen studies belong to different patients. A disc is for one patient." in (
            two.text
        )
        assert two.text.count(" checked") >= 2  # the choice is kept
        gone = client.post("/burn/inbox/build", data=_form(page, p21[0], "1.2.826.0.1.99"))
        assert gone.status_code == 409 and "no longer in the inbox" in gone.text
        assert [j for j in node.store().jobs() if j.patient_id == "PID0021"] == []

        made = client.post("/burn/inbox/build", data=_form(page, *p21))
        job_id = int(str(made.url).rsplit("/", 1)[1])
        again = client.post("/burn/inbox/build", data=_form(page, *p21, copies="2"))
        assert again.status_code == 409 and f'href="/jobs/{job_id}"' in again.text
        state = wait_job(client, job_id)
    assert state["state"] == "done", state
    job = node.store().job(job_id)
    assert job is not None and job.result is not None
    assert (job.patient_id, job.patient_name) == ("PID0021", "Test^Patient21")
    assert job.params["inbox_studies"] == sorted(p21)
    assert job.params["shown"] == "2 studies received from PACS2"
    assert job.result["counts"]["instances"] == 4 and job.result["counts"]["studies"] == 2
    disc = node.server.data / "jobs" / str(job_id) / "disc"
    assert (disc / "DICOMDIR").is_file()
    assert len([p for p in disc.rglob("*") if p.is_file() and p.parent != disc]) >= 4


def test_remove_from_the_inbox_never_under_a_build(node: Node) -> None:
    node.send("CT01", (31, 1, 2, {}), (31, 2, 1, {"Modality": "MR"}))
    uids = [_study_uid(31, 1), _study_uid(31, 2)]
    store = node.store()
    files = inbox.files_of_studies(store, node.server.data, uids[:1])
    assert len(files) == 2 and all(f.is_file() for f in files)
    job_id = store.add_job(  # queued for a station with a robot: it waits here
        kind="build", title="robot disc", user_name="burn", needs=["burner:robot"],
        params={"sources": [str(f) for f in files], "media": "cd", "profile": "STD-GEN-CD"},
    )  # fmt: skip
    with closing(node.server.client("burn")) as client:
        page = client.get("/burn").text
        none = client.post("/burn/inbox/remove", data=_form(page))
        assert none.status_code == 400 and "Choose the studies to remove" in none.text
        refused = client.post("/burn/inbox/remove", data=_form(page, *uids))
        assert refused.status_code == 409
        assert f"Job {job_id} is making a disc from these studies" in refused.text
        assert all(f.is_file() for f in files)
        store.update(job_id, state="cancelled")
        removed = client.post("/burn/inbox/remove", data=_form(page, *uids))
        after = client.get("/burn").text
        twice = client.post("/burn/inbox/remove", data=_form(page, *uids))
    assert removed.status_code == 200
    assert "Removed 2 studies (3 instances) from the inbox." in removed.text
    assert twice.status_code == 409 and "no longer in the inbox" in twice.text
    assert "PID0031" not in after
    assert not [s for s in inbox.studies(store) if s.patient_id == "PID0031"]
    assert not (node.server.data / "inbox" / inbox.patient_folder("PID0031")).exists()
    audit = store.audit_rows(text="PID0031")
    assert ("inbox removed", "2 studies (3 instances)") in {
        (a["action"], a["outcome"]) for a in audit
    }


def _fits_a_tablet(page: Any) -> None:
    """No sideways scrolling at 768x1024 (as test_burn checks its pages)."""
    page.set_viewport_size({"width": 768, "height": 1024})
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert wide <= 2, f"{page.url}: {wide}px wider than a tablet"


def test_the_inbox_is_the_burn_desks(node: Node) -> None:
    node.send("PACS1", (51, 1, 1, {}))
    uid = _study_uid(51, 1)
    with closing(node.server.client("reception")) as client:
        assert client.get("/burn").status_code == 403
        form = _form(client.get("/").text, uid)
        assert client.post("/burn/inbox/remove", data=form).status_code == 403
        assert client.post("/burn/inbox/build", data=form).status_code == 403
    with closing(node.server.client("burn")) as client:
        form = _form(client.get("/burn").text, uid)
        no_csrf = client.post("/burn/inbox/remove", data=form | {"csrf": "forged"})
        assert no_csrf.status_code == 403
    assert [s.patient_id for s in inbox.studies(node.store())].count("PID0051") == 1
    assert not [j for j in node.store().jobs() if j.patient_id == "PID0051"]


TEXTS: Final = {
    "en-US": ("Received over DICOM", r"Received from Radiology PACS: \d+ stud",
              "Build the disc from the chosen studies", "images"),
    "pt-BR": ("Recebidos via DICOM", r"Recebidos? de Radiology PACS: \d+ estudo",
              "Montar o disco com os estudos escolhidos", "imagens"),
}  # fmt: skip


@pytest.mark.parametrize(("locale", "patient"), [("en-US", 41), ("pt-BR", 42)])
def test_burn_journey_from_the_inbox(node: Node, browser: Any, locale: str, patient: int) -> None:
    node.send("PACS1", (patient, 1, 2, {}))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    page = context.new_page()
    title, heading, button, images = TEXTS[locale]
    try:
        sign_in(page, node.server, "burn")
        page.goto(node.server.url + "/burn")
        section = page.locator("#inbox")
        assert section.locator("h2").inner_text() == title
        assert section.locator("h3.sender").filter(has_text=re.compile(heading)).count() == 1
        row = section.locator("tbody tr").filter(has_text=f"PID{patient:04d}")
        assert row.count() == 1 and "Test Patient" in row.inner_text()
        _fits_a_tablet(page)
        row.get_by_role("checkbox").check()
        page.get_by_role("button", name=button).click()
        page.wait_for_url(re.compile(r"/jobs/\d+$"))
        job_id = int(page.url.rsplit("/", 1)[1])
        with closing(node.server.client("burn")) as client:
            assert wait_job(client, job_id)["state"] == "done"
        page.wait_for_selector("#discs", timeout=30_000)  # the page reloads itself at the end
        assert f"{images}: 2" in page.locator("#discs").inner_text()
        _remove_in_the_browser(page, node, patient)
    finally:
        context.close()


def _remove_in_the_browser(page: Any, node: Node, patient: int) -> None:
    """The built study leaves the inbox: the button asks first (dismissed: nothing happens)."""
    page.goto(node.server.url + "/burn")
    row = page.locator("#inbox tbody tr").filter(has_text=f"PID{patient:04d}")
    row.get_by_role("checkbox").check()
    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    def accept(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", dismiss)
    page.locator("#inbox-remove").click()
    page.wait_for_timeout(300)  # a form sent anyway would have left the page by now
    assert asked and page.url.endswith("/burn") and row.count() == 1
    page.once("dialog", accept)
    page.locator("#inbox-remove").click()
    page.wait_for_selector("#inbox-done")
    assert re.search(r"\(2 inst[aâ]nc", page.locator("#inbox-done").inner_text())
    assert len(asked) == 2 and row.count() == 0
