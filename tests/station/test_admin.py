"""The administration desk in a real browser: nodes added, tested (C-ECHO to a real Orthanc)
and refused with the configuration file's own message; accounts created and disabled; the
settings saved where serve reads them back; the audit trail exported as CSV. Access rules over
plain HTTP."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from pacs_peers import Orthanc, running
from ports import LOCALHOST, reserve_port
from station_peers import PASSWORD, StationServer, csrf_of, sign_in, wait_job

from mediatool.station import serve

pytestmark = pytest.mark.oracle

ADMIN_PAGES = ("/admin", "/admin/accounts", "/admin/audit", "/admin/audit.csv")


@pytest.fixture
def configured(tmp_path: Path) -> Iterator[StationServer]:
    """A station started with --config (a file with only our AE title) and an admin."""
    config = tmp_path / "station.toml"
    config.write_text('[station]\nae_title = "MEDIATOOL"\n', encoding="utf-8")
    server = StationServer(tmp_path / "data", config=config)
    server.add_user("admin", "admin")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_only_the_admin_opens_the_administration(station: StationServer) -> None:
    for name in ("reception", "burn", "qa"):
        with closing(station.client(name)) as c:
            for path in ADMIN_PAGES:
                assert c.get(path).status_code == 403, (name, path)
            token = csrf_of(c.get("/").text)
            for path in ("/admin/nodes", "/admin/settings", "/admin/accounts"):
                r = c.post(path, data={"csrf": token, "action": "add", "name": "x"})
                assert r.status_code == 403, (name, path)
    with closing(station.client("admin")) as c:
        for path in ADMIN_PAGES:
            assert c.get(path).status_code == 200, path
    with closing(station.client()) as anonymous:
        r = anonymous.get("/admin", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def _nodes_in(config: Path) -> list[dict[str, str]]:
    nodes: list[dict[str, str]] = tomllib.loads(config.read_text(encoding="utf-8"))["nodes"]
    return nodes


def _add_node(page: Any, name: str, address: str) -> None:
    page.locator("#node-name").fill(name)
    page.locator("#node-role").select_option("pacs")
    page.locator("#node-address").fill(address)
    page.get_by_role("button", name="Add the node").click()


def test_a_node_added_tested_changed_and_refused(
    configured: StationServer, page: Any, tmp_path: Path
) -> None:
    assert configured.config is not None
    (tmp_path / "orthanc").mkdir()
    with running(Orthanc(tmp_path / "orthanc")) as orthanc:
        sign_in(page, configured, "admin")
        page.get_by_role("link", name="Administration").first.click()
        _add_node(page, "PACS1", orthanc.peer)
        assert "The nodes are saved and in use." in page.locator("#admin-saved").inner_text()
        assert _nodes_in(configured.config) == [
            {"name": "PACS1", "role": "pacs", "address": orthanc.peer}
        ]
        row = page.locator("#nodes tr[data-node='PACS1']")
        row.get_by_role("button", name="Test").click()
        assert re.fullmatch(r"PACS1 answers \(\d+ ms\)\.", page.locator("#echo").inner_text())

        wrong = f"ORTHANC@{LOCALHOST}:{reserve_port()}"  # nobody listens there
        row = page.locator("#nodes tr[data-node='PACS1']")
        row.locator("input[name=address]").fill(wrong)
        row.get_by_role("button", name="Save").click()
        assert _nodes_in(configured.config)[0]["address"] == wrong
        page.locator("#nodes tr[data-node='PACS1']").get_by_role("button", name="Test").click()
        echo = page.locator("#echo")
        assert "PACS1 does not answer:" in echo.inner_text()
        assert "problem" in (echo.get_attribute("class") or "")

        before = configured.config.read_bytes()
        _add_node(page, "PACS2", "ORTHANC@nohost")
        error = page.locator("#admin-error").inner_text()
        assert "[[nodes]] number 2: `address`" in error and "AET@HOST:PORT" in error
        assert configured.config.read_bytes() == before  # nothing saved
        assert page.locator("#node-address").input_value() == "ORTHANC@nohost"  # kept to fix
        assert page.locator("#nodes tr[data-node]").count() == 1

        page.locator("#nodes tr[data-node='PACS1']").get_by_role("button", name="Remove").click()
        assert _nodes_in(configured.config) == []


def test_settings_are_saved_in_the_data_folder_and_read_at_the_next_start(
    station: StationServer, page: Any
) -> None:
    sign_in(page, station, "admin")
    page.goto(station.url + "/admin")
    page.locator("#ae_title").fill("DESK_AE")
    page.locator("#drives").fill("CD drive = /media/cdrom\n")
    page.locator("#upload_mb").fill("700")
    page.locator("#media").select_option("dvd")
    page.get_by_role("button", name="Save the settings").click()
    assert "The settings are saved and in use." in page.locator("#admin-saved").inner_text()
    saved = station.data / "station.toml"
    config = serve.data_of(None, station.data)  # what serve reads with no --config
    assert config.path == saved and config.ae_title == "DESK_AE" and config.media == "dvd"
    assert config.upload_mb == 700 and [d.name for d in config.drives] == ["CD drive"]
    page.locator("#ae_title").fill("A\\B")  # a backslash is not allowed in an AE title
    page.get_by_role("button", name="Save the settings").click()
    assert "is not a valid AE title" in page.locator("#admin-error").inner_text()
    assert page.locator("#ae_title").input_value() == "A\\B"  # kept, to be corrected
    assert serve.data_of(None, station.data).ae_title == "DESK_AE"
    station.stop()
    station.start()
    sign_in(page, station, "qa")
    page.goto(station.url + "/qa")
    assert page.locator("#drive option", has_text="CD drive").count() == 1


def test_data_of_reads_the_saved_file_only_without_config(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert serve.data_of(None, data).path is None  # no file yet: the defaults
    data.mkdir()
    (data / "station.toml").write_text('[station]\nae_title = "SAVED"\n', encoding="utf-8")
    assert serve.data_of(None, data).ae_title == "SAVED"
    given = tmp_path / "given.toml"
    given.write_text('[station]\nae_title = "GIVEN"\n', encoding="utf-8")
    chosen = serve.data_of(given, data)
    assert chosen.ae_title == "GIVEN" and chosen.data == data


def test_an_account_made_on_the_page_signs_in_and_disabled_cannot(
    station: StationServer, page: Any, browser: Any
) -> None:
    sign_in(page, station, "admin")
    page.goto(station.url + "/admin/accounts")
    page.locator("#account-name").fill("nurse")
    page.locator("#account-role").select_option("reception")
    page.locator("#account-password").fill("short")
    page.get_by_role("button", name="Create the account").click()
    assert "shorter than 8 characters" in page.locator("#admin-error").inner_text()
    page.locator("#account-password").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    assert "The account nurse is created." in page.locator("#admin-saved").inner_text()

    other = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    nurse = other.new_page()
    sign_in(nurse, station, "nurse")
    assert nurse.get_by_role("link", name="Reception").count() >= 1
    assert nurse.get_by_role("link", name="Administration").count() == 0

    row = page.locator("#accounts tr[data-user='nurse']")
    row.get_by_role("button", name="Disable").click()
    assert "disabled" in page.locator("#accounts tr[data-user='nurse']").inner_text()
    nurse.goto(station.url + "/history")  # the open session ends with the account
    assert "/login" in nurse.url
    nurse.locator("#name").fill("nurse")
    nurse.locator("#password").fill(PASSWORD)
    nurse.locator("form[action='/login'] button[type=submit]").click()
    assert "/login" in nurse.url and "not right" in nurse.content()

    own = page.locator("#accounts tr[data-user='admin']")
    own.get_by_role("button", name="Disable").click()
    assert "cannot change your own role" in page.locator("#admin-error").inner_text()
    other.close()


def test_the_audit_trail_is_searched_and_exported_with_the_export_in_it(
    station: StationServer, page: Any
) -> None:
    with closing(station.client()) as c:  # a refused sign-in is in the trail
        token = csrf_of(c.get("/login").text)
        c.post("/login", data={"csrf": token, "name": "mallory", "password": "x" * 9})
    sign_in(page, station, "admin")
    page.goto(station.url + "/admin/audit")
    page.locator("#q").fill("mallory")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 1 and "sign in" in rows.inner_text()
    with page.expect_download() as download:
        page.locator("#audit-export").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [(r["user_name"], r["action"], r["outcome"]) for r in table] == [
        ("mallory", "sign in", "refused")
    ]
    with closing(station.client("admin")) as c:
        everything = list(csv.DictReader(io.StringIO(c.get("/admin/audit.csv").text)))
    exports = [r for r in everything if r["action"] == "export audit"]
    assert len(exports) == 2 and {r["user_name"] for r in exports} == {"admin"}


def _english_left(text: str) -> list[str]:
    """English sentences of the catalog (with a different translation) still in ``text``."""
    from babel.messages.pofile import read_po

    from mediatool.station.i18n import CATALOGS

    with (CATALOGS / "pt_BR.po").open("rb") as f:
        catalog = read_po(f, locale="pt_BR")
    return [
        m.id for m in catalog
        if isinstance(m.id, str) and m.string and m.string != m.id and " " in m.id
        and "%(" not in m.id and m.id in text
    ]  # fmt: skip


#: each page of the QA, history and administration desks, and a Portuguese word it shows
PORTUGUESE = {
    "/qa": "Verificações anteriores",
    "/history": "Paciente (ID ou nome)",
    "/admin": "Nós de PACS e de worklist",
    "/admin/accounts": "Criar a conta",
    "/admin/audit": "Trilha de auditoria",
}


def test_the_desks_pages_in_portuguese(
    station: StationServer, browser: Any, tmp_path: Path
) -> None:
    with closing(station.client("admin")) as c:  # a finished check for the job page
        token = csrf_of(c.get("/qa").text)
        r = c.post(
            "/qa", data={"csrf": token, "path": str(tmp_path)},
            files={"upload": ("", b"", "application/octet-stream")},
        )  # fmt: skip
        job = str(r.url).rsplit("/", 1)[1]
        wait_job(c, int(job))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    page = context.new_page()
    try:
        sign_in(page, station, "admin")
        for path, word in (*PORTUGUESE.items(), (f"/jobs/{job}", "Veredito")):
            page.goto(station.url + path)
            text = page.locator("body").inner_text()
            assert word in text, path
            assert page.locator("html").get_attribute("lang") == "pt-BR"
            assert _english_left(text) == [], path
    finally:
        context.close()
