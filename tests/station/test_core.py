"""The station's core: first start, signing in, the login limit, sessions, CSRF, uploads,
the configuration file's checks, and the two languages' catalogs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from station_peers import PASSWORD, StationServer, csrf_of, mediatool

from mediatool.station import config as cfg
from mediatool.station import i18n, uploads
from mediatool.station.app import create_app
from mediatool.station.auth import add_user
from mediatool.station.store import Store

ROOT = Path(__file__).resolve().parents[2]


def test_first_start_says_how_to_make_the_admin_and_first_run_page_works(tmp_path: Path) -> None:
    server = StationServer(tmp_path / "data").start()
    try:
        c = httpx.Client(base_url=server.url, follow_redirects=True)
        r = c.get("/")
        server_client = c
        assert r.url.path == "/first-run"
        r = c.post(
            "/first-run",
            data={"name": "ana", "password": "short", "again": "short", "csrf": csrf_of(r.text)},
        )
        assert r.status_code == 400 and "shorter than 8" in r.text
        r = c.post(
            "/first-run",
            data={"name": "ana", "password": PASSWORD, "again": PASSWORD, "csrf": csrf_of(r.text)},
        )
        assert r.status_code == 200 and r.url.path == "/" and "ana" in r.text
        assert c.get("/first-run").status_code == 404  # only once
        server_client.close()
    finally:
        server.stop()
    log = server.log.read_text()
    assert "No accounts yet" in log and "mediatool users add NAME --role admin" in log


def test_sign_in_refuses_wrong_password_then_limits_attempts(station: StationServer) -> None:
    c = httpx.Client(base_url=station.url, follow_redirects=True)
    token = csrf_of(c.get("/login").text)
    for _ in range(5):
        r = c.post("/login", data={"name": "qa", "password": "wrong-one", "csrf": token})
        assert r.status_code == 401 and "not right" in r.text
    r = c.post("/login", data={"name": "qa", "password": PASSWORD, "csrf": token})
    assert r.status_code == 429 and "Try again in" in r.text
    # the limit is per name and per client: from the same computer, another name waits too
    r = c.post("/login", data={"name": "admin", "password": PASSWORD, "csrf": token})
    assert r.status_code == 429
    c.close()


def test_session_cookie_is_httponly_and_samesite_strict(station: StationServer) -> None:
    r = httpx.get(station.url + "/login")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_every_form_post_without_the_csrf_token_is_refused(station: StationServer) -> None:
    signed_in = station.client("admin")
    closing = signed_in
    app = create_app(cfg.merge(cfg.DEFAULT, data=station.data), run_jobs=False)
    posts = sorted(
        {
            r.path.replace("{job_id:int}", "1").replace("{name:path}", "x")
            for r in app.routes
            if isinstance(r, Route) and "POST" in (r.methods or ())
        }
    )
    assert "/login" in posts and "/logout" in posts
    for path in posts:
        r = signed_in.post(path, data={"name": "admin", "password": PASSWORD})
        assert r.status_code in (403, 404), (path, r.status_code)
        if r.status_code == 403:
            assert "did not come from this station" in r.text or "role" in r.text, path
    closing.close()


def test_users_cli_refuses_bad_input_with_clear_messages(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    r = mediatool("users", "add", "x y", "--role", "qa", "--password-stdin", "--data", data,
                  stdin=PASSWORD + "\n")  # fmt: skip
    assert r.returncode == 2 and "user name 'x y' is not allowed" in r.stderr
    assert "Traceback" not in r.stderr
    r = mediatool("users", "add", "bob", "--role", "qa", "--password-stdin", "--data", data,
                  stdin="short\n")  # fmt: skip
    assert r.returncode == 2 and "shorter than 8" in r.stderr
    r = mediatool("users", "add", "bob", "--role", "qa", "--password-stdin", "--data", data,
                  stdin=PASSWORD + "\n")  # fmt: skip
    assert r.returncode == 0
    r = mediatool("users", "add", "bob", "--role", "qa", "--password-stdin", "--data", data,
                  stdin=PASSWORD + "\n")  # fmt: skip
    assert r.returncode == 2 and "exists already" in r.stderr
    assert mediatool("users", "list", "--data", data).stdout.strip() == "bob\tqa"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[station]\nae_titel = "X"\n', "unknown key `ae_titel`"),
        ('[[nodes]]\nname = "P"\nrole = "pacs"\naddress = "PACS@host"\n', "AET@HOST:PORT"),
        ('[[nodes]]\nname = "P"\nrole = "pac"\naddress = "A@h:1"\n', "role 'pac' is not known"),
        ('[build]\nprofile = "STD-GEN-DV"\n', "profile 'STD-GEN-DV' is not known"),
        ("[station]\nport = 70000\n", "outside 1-65535"),
        ("[bild]\n", "unknown key `bild`"),
        ("[station\n", "not valid TOML"),
    ],
)
def test_configuration_errors_say_where_and_what(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "station.toml"
    path.write_text(text)
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_configuration_did_you_mean_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[station]\nae_titel = "X"\n')
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.load(path)
    assert caught.value.hint == "did you mean `ae_title`?"
    path.write_text(
        '[station]\nae_title = "DESK1"\nlanguage = "pt-BR"\n'
        '[[nodes]]\nname = "PACS1"\nrole = "pacs"\naddress = "ORTHANC@127.0.0.1:4242"\n'
        '[[drives]]\nname = "CD"\npath = "/media/cdrom"\n[build]\nmedia = "dvd"\n'
    )
    loaded = cfg.load(path)
    assert loaded.ae_title == "DESK1" and loaded.node("PACS1") is not None
    again = tmp_path / "again.toml"
    again.write_text(cfg.to_toml(loaded))
    assert cfg.load(again) == loaded


def test_serve_with_a_broken_configuration_exits_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[station]\nport = "eighty"\n')
    r = mediatool("serve", "--config", str(path))
    assert r.returncode == 2 and "`port` must be a whole number" in r.stderr
    assert "Traceback" not in r.stderr


def _upload_app(tmp_path: Path, limit_mb: int) -> TestClient:
    async def receive(request: Request) -> Response:
        got = await uploads.receive(request)
        size = got.path.stat().st_size if got.path else -1
        return JSONResponse({"fields": got.fields, "size": size, "name": got.filename})

    async def token(request: Request) -> Response:
        from mediatool.station import web

        return JSONResponse({"csrf": web.csrf_token(request)})

    config = cfg.merge(cfg.DEFAULT, data=tmp_path / "data", upload_mb=limit_mb)
    app = create_app(config, run_jobs=False)
    app.router.routes.insert(0, Route("/t/upload", receive, methods=["POST"]))
    app.router.routes.insert(0, Route("/t/token", token))
    return TestClient(app)


def test_upload_streams_to_the_data_folder_and_checks_size_and_csrf(tmp_path: Path) -> None:
    client = _upload_app(tmp_path, limit_mb=1)
    csrf = client.get("/t/token").json()["csrf"]
    body = bytes(range(256)) * 2048  # 512 KiB
    r = client.post(
        "/t/upload", data={"csrf": csrf, "note": "disc 1"},
        files={"file": ("../../evil name.ISO", body, "application/octet-stream")},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {"fields": {"csrf": csrf, "note": "disc 1"}, "size": len(body),
                        "name": "evil name.ISO"}  # fmt: skip
    kept = list((tmp_path / "data" / "uploads").iterdir())
    assert len(kept) == 1 and kept[0].suffix == ".iso" and kept[0].read_bytes() == body
    r = client.post("/t/upload", data={"csrf": csrf}, files={"file": ("big.zip", body * 3)})
    assert r.status_code == 413 and "larger than the station accepts (1 MB)" in r.text
    r = client.post("/t/upload", data={"csrf": "forged"}, files={"file": ("a.zip", body)})
    assert r.status_code == 403
    assert len(list((tmp_path / "data" / "uploads").iterdir())) == 1  # refused ones removed


def _forms(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Every text of a message: one, or each plural form (pt-BR has three)."""
    return (string,) if isinstance(string, str) else tuple(string)


def test_both_catalogs_are_current_and_complete() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    from babel.messages.pofile import read_po

    for language in ("pt_BR",):
        with (i18n.CATALOGS / f"{language}.po").open("rb") as f:
            catalog = read_po(f, locale=language)
        untranslated = [m.id for m in catalog if m.id and not all(_forms(m.string or ""))]
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert not untranslated and not fuzzy, (untranslated, fuzzy)


def test_language_follows_the_browser_then_the_users_choice(station: StationServer) -> None:
    c = station.client("reception", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    station_client = c
    assert "Recepção" in c.get("/").text
    assert i18n.negotiate("pt;q=0.8, de", "en") == "pt-BR"
    assert i18n.negotiate("de, fr", "pt-BR") == "pt-BR"
    page = c.get("/")
    r = c.post("/language", data={"language": "en", "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 200 and "Reception" in r.text and "Recepção" not in r.text
    station_client.close()


def test_store_claims_a_job_once(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    add_user(store, "ana", "admin", PASSWORD)
    job_id = store.add_job(kind="validate", title="t", user_name="ana", params={"media": "x"})
    first = store.claim("one", 60)
    assert first is not None and first.id == job_id and first.state == "running"
    assert store.claim("two", 60) is None
