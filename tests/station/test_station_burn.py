"""The station burns discs (issue 16, "Burn and verify": the station's burn jobs use
``mediatool.writers.burn``): ``[[burners]]`` in the configuration, the burn form on a done build's
page, the ``burn`` job on xorriso's ``stdio:`` pseudo-drive (the real xorriso code path), each
copy read back equal to the build's ISO image; a burner too small for the image fails the job with
the library's message; a station without the burner leaves the job queued."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from factories import make_instance, write_instance
from kinds_helpers import context, run
from station_peers import StationServer, csrf_of, wait_job

from mediatool.station import config as cfg
from mediatool.station.jobs.kinds import describe
from mediatool.station.store import Store

pytestmark = pytest.mark.oracle

BURNERS = """
[[burners]]
name = "pseudo"
device = "stdio:{out}/out_{{n}}.iso"
media = ["cd", "dvd"]

[[burners]]
name = "tiny"
device = "stdio:{out}/tiny_{{n}}.iso"
media = ["cd"]
capacity = 100000

[[burners]]
name = "bluray"
device = "stdio:{out}/bd_{{n}}.iso"
media = ["bd"]
"""


def _sha(path: Path, size: int | None = None) -> str:
    return hashlib.sha256(path.read_bytes()[:size]).hexdigest()


def _holds(written: Path, image: Path) -> bool:
    """The pseudo-drive's file is the image byte for byte, then xorrecord's padding (zeros)."""
    size = image.stat().st_size
    data = written.read_bytes()
    return _sha(written, size) == _sha(image) and not data[size:].strip(b"\0")


def _zip(tmp: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for n in range(2):
            write_instance(tmp / f"im{n}.dcm", make_instance(5, 1, 1, n))
            z.write(tmp / f"im{n}.dcm", f"export/im{n}.dcm")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def burning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StationServer, int]]:
    """A station with three pseudo-drive burners and a done build (from an uploaded zip)."""
    tmp = tmp_path_factory.mktemp("burnstation")
    out = tmp / "out"
    out.mkdir()
    path = tmp / "station.toml"
    path.write_text('[build]\nmedia = "cd"\n' + BURNERS.format(out=out), encoding="utf-8")
    server = StationServer(tmp / "data", config=path)
    server.add_user("burn", "burn")
    server.add_user("reception", "reception")
    server.start()
    try:
        with closing(server.client("burn")) as client:
            page = client.get("/burn")
            sent = client.post(
                "/burn/upload",
                data={"csrf": csrf_of(page.text), "media": "cd", "copies": "2", "web": "1"},
                files={"file": ("export.zip", _zip(tmp), "application/zip")},
            )
            build_id = int(str(sent.url).rsplit("/", 1)[1])
            assert wait_job(client, build_id)["state"] == "done"
        yield server, build_id
    finally:
        server.stop()


def _burn(client: Any, build_id: int, burner: str, copies: str = "2") -> int:
    page = client.get(f"/jobs/{build_id}")
    r = client.post(
        f"/burn/jobs/{build_id}/burn",
        data={"csrf": csrf_of(page.text), "burner": burner, "copies": copies},
    )
    assert r.status_code == 200, r.text[-500:]
    return int(str(r.url).rsplit("/", 1)[1])


def test_burn_two_copies_verified_on_the_pseudo_drive(burning: tuple[StationServer, int]) -> None:
    server, build_id = burning
    out = server.data.parent / "out"
    with closing(server.client("burn")) as client:
        form = client.get(f"/jobs/{build_id}").text
        assert 'id="burn-form"' in form
        offered = re.findall(r'<option value="([a-z]+)">\1</option>', form)
        assert offered == ["pseudo", "tiny"]  # "bluray" takes no CD
        assert re.search(r'<option value="2" selected>', form)  # the build's copies
        job_id = _burn(client, build_id, "pseudo")
        state = wait_job(client, job_id)
        assert state["state"] == "done", state
        page = client.get(f"/jobs/{job_id}").text
    image = server.data / "jobs" / str(build_id) / "disc.iso"
    assert _holds(out / "out_1.iso", image) and _holds(out / "out_2.iso", image)
    assert page.count(">verified<") == 2 and "Burned and verified" in page
    store = Store(f"sqlite:///{server.data / 'station.db'}")
    job = store.job(job_id)
    assert job is not None and job.needs == ["burner:pseudo"] and job.kind == "burn"
    assert job.result is not None and job.result["discs"][0]["results"][1]["verified"] is True
    burns = [a for a in store.audit_rows(text="PID0005") if a["action"] == "burn"]
    assert [(a["outcome"], a["job_id"]) for a in burns] == [("2 copies verified", job_id)]


def test_a_burner_too_small_fails_the_job_and_writes_nothing(
    burning: tuple[StationServer, int],
) -> None:
    server, build_id = burning
    with closing(server.client("burn")) as client:
        job_id = _burn(client, build_id, "tiny", copies="1")
        state = wait_job(client, job_id)
        page = client.get(f"/jobs/{job_id}").text
    assert state["state"] == "failed"
    assert "the image needs" in state["error"] and "nothing was written" in state["error"]
    assert "nothing was written" in page
    assert not list((server.data.parent / "out").glob("tiny_*"))


def test_the_burn_form_refuses_a_wrong_burner_and_the_reception_role(
    burning: tuple[StationServer, int],
) -> None:
    server, build_id = burning
    with closing(server.client("burn")) as client:
        csrf = csrf_of(client.get(f"/jobs/{build_id}").text)
        for burner in ("bluray", "nope"):
            r = client.post(f"/burn/jobs/{build_id}/burn", data={"csrf": csrf, "burner": burner})
            assert r.status_code == 400 and "takes this medium" in r.text
        forged = client.post(f"/burn/jobs/{build_id}/burn", data={"csrf": "x", "burner": "pseudo"})
        assert forged.status_code == 403
    with closing(server.client("reception")) as client:
        csrf = csrf_of(client.get("/reception").text)
        r = client.post(f"/burn/jobs/{build_id}/burn", data={"csrf": csrf, "burner": "pseudo"})
        assert r.status_code in (403, 404)


def test_a_bd_build_is_a_udf_image_burned_on_the_bd_burner(
    burning: tuple[StationServer, int],
) -> None:
    """A BD is UDF 2.60 (PS3.12 Annex X), not ISO 9660: the build job writes disc.img with
    ``build --image``, its page offers that image, and the BD burner burns it."""
    server, _build = burning
    out = server.data.parent / "out"
    with closing(server.client("burn")) as client:
        page = client.get("/burn")
        sent = client.post(
            "/burn/upload",
            data={"csrf": csrf_of(page.text), "media": "bd", "copies": "1", "web": "1"},
            files={"file": ("export.zip", _zip(server.data.parent), "application/zip")},
        )
        build_id = int(str(sent.url).rsplit("/", 1)[1])
        assert wait_job(client, build_id)["state"] == "done"
        form = client.get(f"/jobs/{build_id}").text
        assert f'href="/jobs/{build_id}/files/disc.img"' in form and "disc image" in form
        assert re.findall(r'<option value="([a-z]+)">\1</option>', form) == ["bluray"]
        job_id = _burn(client, build_id, "bluray", copies="1")
        assert wait_job(client, job_id)["state"] == "done"
    image = server.data / "jobs" / str(build_id) / "disc.img"
    assert not (image.parent / "disc.iso").exists()
    info = subprocess.run(["udfinfo", str(image)], capture_output=True, text=True, check=False)
    assert info.returncode == 0 and "udfwriterev=2.60" in info.stdout, info.stdout + info.stderr
    assert _holds(out / "bd_1.iso", image)


def test_a_station_without_the_burner_leaves_the_job_queued(tmp_path: Path) -> None:
    image = tmp_path / "image.iso"
    image.write_bytes(b"\0" * 2048 * 20)  # never read: nobody claims the job
    server = StationServer(tmp_path / "data")
    server.add_user("burn", "burn")
    server.start()
    try:
        store = Store(f"sqlite:///{server.data / 'station.db'}")
        params = {"images": [str(image)], "burner": "pseudo", "device": "stdio:/tmp/x_{n}.iso"}
        job_id = store.add_job(
            kind="burn", title="burn", user_name="burn", params=params, needs=["burner:pseudo"]
        )
        time.sleep(4)
        job = store.job(job_id)
        assert job is not None and job.state == "queued"
    finally:
        server.stop()


def test_the_claiming_station_burns_on_its_own_device_of_that_name(tmp_path: Path) -> None:
    """Stations sharing a queue may each have a burner "pseudo" on another device: the job,
    queued with the queuing station's device, is burned on the device of the station that
    claims it (its [[burners]], passed to its workers)."""
    image = _iso(tmp_path, "disc", "one disc")
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    mine.mkdir()
    theirs.mkdir()
    path = tmp_path / "station.toml"
    path.write_text(
        f'[[burners]]\nname = "pseudo"\ndevice = "stdio:{mine}/m_{{n}}.iso"\nmedia = ["cd"]\n',
        encoding="utf-8",
    )
    server = StationServer(tmp_path / "data", config=path)
    server.add_user("burn", "burn")
    server.start()
    try:
        store = Store(f"sqlite:///{server.data / 'station.db'}")
        params = {
            "images": [str(image)], "burner": "pseudo", "device": f"stdio:{theirs}/t_{{n}}.iso",
            "copies": 1, "verify": True,
        }  # fmt: skip
        job_id = store.add_job(
            kind="burn", title="burn", user_name="burn", params=params, needs=["burner:pseudo"]
        )
        with closing(server.client("burn")) as client:
            state = wait_job(client, job_id)
        assert state["state"] == "done", state
    finally:
        server.stop()
    assert [p.name for p in mine.iterdir()] == ["m_1.iso"] and not list(theirs.iterdir())
    assert _holds(mine / "m_1.iso", image)


def _load(tmp_path: Path, text: str) -> cfg.StationConfig:
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ('[[burners]]\nname = "a"\ndevise = "/dev/sr0"\n', "unknown key `devise`", "`device`"),
        ('[[burners]]\nname = "a"\nmedia = ["cd"]\n', "`device` is missing", "/dev/sr0"),
        ('[[burners]]\nname = "a"\ndevice = "/dev/sr0"\nmedia = ["dvdr"]\n', "'dvdr'", "'dvd'"),
        ('[[burners]]\nname = "a"\ndevice = "x"\nmedia = ["cd"]\ncapacity = -1\n', "bytes", ""),
        ('[burners]\nname = "a"\n', "write it as [[burners]] tables", ""),
        ('[[burners]]\nname = "a:b"\ndevice = "x"\nmedia = ["cd"]\n', "without ':'", ""),
    ],
)
def test_burner_configuration_errors(tmp_path: Path, text: str, message: str, hint: str) -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value) and "burners]" in str(caught.value)
    assert str(tmp_path / "station.toml") in str(caught.value)
    assert hint in (caught.value.hint or "")


def test_burners_round_trip_and_give_their_capability(tmp_path: Path) -> None:
    loaded = _load(
        tmp_path,
        '[station]\ncapabilities = ["location:1"]\n'
        '[[burners]]\nname = "dvd1"\ndevice = "/dev/sr0"\nmedia = ["cd", "dvd"]\n'
        '[[burners]]\nname = "file"\ndevice = "stdio:/srv/d_{n}.iso"\nmedia = ["cd74"]\n'
        'capacity = "cd"\n',
    )
    assert loaded.burners == (
        cfg.Burner("dvd1", "/dev/sr0", ("cd", "dvd")),
        cfg.Burner("file", "stdio:/srv/d_{n}.iso", ("cd74",), 737_280_000),
    )
    assert loaded.all_capabilities() == ("location:1", "burner:dvd1", "burner:file")
    assert [b.name for b in loaded.burners_for("cd74")] == ["dvd1", "file"]
    assert [b.name for b in loaded.burners_for("dvd")] == ["dvd1"]
    again = tmp_path / "again.toml"
    again.write_text(cfg.to_toml(loaded), encoding="utf-8")
    assert cfg.load(again) == loaded


def _iso(tmp: Path, name: str, text: str) -> Path:
    folder = tmp / f"{name}-content"
    folder.mkdir()
    (folder / "README.TXT").write_text(text, encoding="ascii")
    iso = tmp / f"{name}.iso"
    done = subprocess.run(
        ["genisoimage", "-quiet", "-o", str(iso), str(folder)], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return iso


def test_the_burn_kind_writes_each_disc_of_a_spanned_build_to_its_own_files(
    tmp_path: Path,
) -> None:
    """Two discs, two copies each, on one pseudo-drive: ``{n}`` becomes ``<disc>-<copy>``."""
    isos = [_iso(tmp_path, f"disc_{k}", f"disc {k}") for k in (1, 2)]
    out = tmp_path / "out"
    out.mkdir()
    params = {
        "build_job": 7, "images": [str(i) for i in isos], "burner": "pseudo",
        "device": f"stdio:{out}/o_{{n}}.iso", "copies": 2, "verify": True,
        "patients": [["PID1", "Doe^Jane"]],
    }  # fmt: skip
    ctx = context(tmp_path / "job")
    result = run("burn", params, ctx)
    assert result["ok"] is True and [d["file"] for d in result["discs"]] == [
        "disc_1.iso",
        "disc_2.iso",
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "o_1-1.iso", "o_1-2.iso", "o_2-1.iso", "o_2-2.iso",
    ]  # fmt: skip
    for k, iso in enumerate(isos, 1):
        assert _holds(out / f"o_{k}-1.iso", iso) and _holds(out / f"o_{k}-2.iso", iso)
    assert ctx.audits == [("burn", "PID1", "Doe^Jane", "2 copies verified")]
    assert any("verifying" in label for _d, _t, label in ctx.events)
    assert describe("burn", params) == "Burn 2 copies of build job 7 on pseudo"


def test_a_real_drive_waits_for_a_blank_disc_and_gives_up(tmp_path: Path) -> None:
    """``next_medium`` polls the drive: a blank medium (an empty pseudo-drive file) goes on at
    once; a written one is waited for until the time-out, and said in the log."""
    from mediatool.station.jobs.kinds.burning import wait_for_blank

    ctx = context(tmp_path / "job")
    wait = wait_for_blank(ctx, "dvd1", timeout=0.5, poll=0.1)
    assert wait(2, 3, f"stdio:{tmp_path}/blank.iso") is True
    assert ctx.lines == [("info", "Insert a blank disc in dvd1 (copy 2 of 3)")]
    written = _iso(tmp_path, "written", "x")
    started = time.monotonic()
    assert wait(3, 3, f"stdio:{written}") is False
    assert 0.5 <= time.monotonic() - started < 5
    assert ctx.lines[-1] == ("warning", "No blank disc was put in dvd1 in time")
