"""The job store on both engines (SQLite, and a real PostgreSQL started here: tests/pg_peers.py),
and several stations sharing one PostgreSQL queue: concurrent claims never give a job twice,
needs and capabilities are honoured, a job whose lease ran out is taken over once, the schema
is migrated in place (version 1 -> current, rows kept) and a newer one is refused, an
unreachable database is a clear message; two real ``mediatool serve`` processes run 50 jobs
exactly once each, and one killed in the middle of an import has its job finished by the other.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from factories import study_folder
from pacs_peers import Orthanc, build_fileset
from pg_peers import Postgres
from ports import LOCALHOST, reserve_port
from station_peers import PASSWORD, StationServer, mediatool

from mediatool.station.auth import add_user, list_users
from mediatool.station.store import SCHEMA_VERSION, Store, StoreError

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    server = Postgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty job store on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'station.db'}"
    server: Postgres = request.getfixturevalue("pg")
    return server.database()


@pytest.fixture
def opened() -> Iterator[list[Store]]:
    """Stores opened by a test, closed at its end."""
    found: list[Store] = []
    yield found
    for store in found:
        store.close()


def _open(url: str, opened: list[Store]) -> Store:
    store = Store(url)
    opened.append(store)
    return store


def _add(store: Store, n: int = 1, needs: tuple[str, ...] = ()) -> list[int]:
    return [
        store.add_job(kind="validate", title=f"job {i}", user_name="ana",
                      params={"media": f"/m/{i}"}, needs=needs)
        for i in range(n)
    ]  # fmt: skip


def test_the_store_works_the_same_on_both_engines(opened: list[Store], url: str) -> None:
    store = _open(url, opened)
    assert store.dialect == url.split(":")[0]
    add_user(store, "ana", "admin", PASSWORD)
    assert [u["name"] for u in list_users(store)] == ["ana"]
    first, second = _add(store, 2)
    store.update(second, patient_id="P1", patient_name="Doe^Jane", result={"ok": True})
    assert [j.id for j in store.jobs(text="doe")] == [second]  # case-insensitive on both
    assert store.job(second).result == {"ok": True}  # type: ignore[union-attr]
    assert store.request_cancel(first) == "cancelled"
    assert [e["message"] for e in store.events(first)] == ["queued"]
    # the audit trail is in the same database (item 6)
    store.audit(user_name="ana", patient_id="P1", patient_name="Doe^Jane", action="view disc",
                outcome="ok", job_id=second, client="127.0.0.1")  # fmt: skip
    rows = store.audit_rows(text="jane")
    assert [(r["action"], r["job_id"], r["client"]) for r in rows] == [
        ("view disc", second, "127.0.0.1")
    ]
    assert _open(url, opened).audit_rows() == rows  # a second station reads the same rows


def test_two_stations_claiming_from_many_threads_never_get_the_same_job(
    opened: list[Store], url: str
) -> None:
    stations = [_open(url, opened), _open(url, opened)]
    ids = _add(stations[0], 60)
    got: list[tuple[str, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def claimer(n: int) -> None:
        store, owner = stations[n % 2], f"station{n % 2}:{n}"
        start.wait()
        while (job := store.claim(owner, 60)) is not None:
            with lock:
                got.append((owner, job.id))

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    claimed = Counter(job_id for _, job_id in got)
    assert sorted(claimed) == ids and set(claimed.values()) == {1}, claimed
    assert {j.state for j in stations[1].jobs(limit=100)} == {"running"}
    assert {j.attempts for j in stations[1].jobs(limit=100)} == {1}


def test_a_station_claims_only_jobs_whose_needs_it_has(opened: list[Store], url: str) -> None:
    store = _open(url, opened)
    (dvd,) = _add(store, needs=("burner:dvd",))
    (desk,) = _add(store, needs=("location:reception-1", "burner:dvd"))
    (plain,) = _add(store)
    assert store.job(desk).needs == ["burner:dvd", "location:reception-1"]  # type: ignore[union-attr]
    cd = store.claim("cd-robot:1", 60, capabilities=["burner:cd"])
    assert cd is not None and cd.id == plain
    assert store.claim("cd-robot:1", 60, capabilities=["burner:cd"]) is None
    burner = store.claim("dvd-robot:1", 60, capabilities=["burner:dvd", "burner:cd"])
    assert burner is not None and burner.id == dvd
    assert store.claim("dvd-robot:1", 60, capabilities=["burner:dvd"]) is None
    here = store.claim("reception-1:1", 60, capabilities=["location:reception-1", "burner:dvd"])
    assert here is not None and here.id == desk and here.owner == "reception-1:1"


def test_a_job_whose_lease_ran_out_is_taken_over_once(opened: list[Store], url: str) -> None:
    a, b, c = _open(url, opened), _open(url, opened), _open(url, opened)
    (job_id,) = _add(a)
    claimed = a.claim("alpha:11", 0.5)
    assert claimed is not None and claimed.attempts == 1
    assert b.take_over("beta:22") == []  # alive: its lease runs
    assert a.renew("alpha:11", [job_id], 0.5) == {job_id}
    time.sleep(0.7)
    found: list[list[int]] = []
    threads = [threading.Thread(target=lambda s=s, o=o: found.append(s.take_over(o)))
               for s, o in ((b, "beta:22"), (c, "gamma:33"))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(found) == [[], [job_id]], found  # once, by one of them
    job = a.job(job_id)
    assert job is not None and job.state == "queued" and job.owner is None
    messages = [e["message"] for e in a.events(job_id)]
    assert any(
        m.startswith("interrupted: taken over by station ")
        and " from station alpha:11 whose lease ran out at " in m
        for m in messages
    ), messages
    assert messages[-1] == "resumed: queued again after its station stopped"
    # the station thought dead has lost it: no renewal, its outcome is not written
    assert a.renew("alpha:11", [job_id], 60) == set()
    again = c.claim("gamma:33", 60)
    assert again is not None and again.id == job_id and again.attempts == 2
    assert not a.finish(job_id, 1, state="done", result={"by": "alpha"})
    assert c.finish(job_id, 2, state="done", result={"by": "gamma"})
    assert a.job(job_id).result == {"by": "gamma"}  # type: ignore[union-attr]


def test_a_stopped_station_leaves_its_jobs_to_the_others_on_a_shared_store(
    opened: list[Store], url: str, tmp_path: Path
) -> None:
    import subprocess

    from mediatool.station.jobs.runner import Supervisor, _Running

    store = _open(url, opened)
    (job_id,) = _add(store)
    supervisor = Supervisor(store, tmp_path, owner="desk-3:42")
    job = store.claim(supervisor.owner, 60)
    assert job is not None
    worker = subprocess.Popen(["sleep", "60"])  # a worker that would run on
    supervisor._running[job_id] = _Running(job_id, job.attempts, worker)
    supervisor.stop()
    assert worker.wait(10) is not None
    messages = [e["message"] for e in store.events(job_id)]
    assert "interrupted: the station was stopped while this job ran" in messages
    after = store.job(job_id)
    assert after is not None
    if store.dialect == "postgresql":  # shared: queued again for the others at once
        assert after.state == "queued", after
        assert messages[-1] == (
            "resumed: queued again for the other stations (station desk-3 was stopped)"
        )
    else:  # alone: interrupted until this station starts again (and resumes it)
        assert after.state == "interrupted", after


def _make_version_1(url: str) -> None:
    """A database of schema version 1: no ``needs`` (version 2), no ``priority``, inbox or
    media_requests (version 3)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE jobs DROP COLUMN needs"))
        conn.execute(sa.text("ALTER TABLE jobs DROP COLUMN priority"))
        conn.execute(sa.text("DROP TABLE inbox"))
        conn.execute(sa.text("DROP TABLE media_requests"))
        conn.execute(sa.text("UPDATE schema_version SET version = 1"))
    engine.dispose()


def test_stations_starting_together_on_a_new_database_make_it_once(url: str) -> None:
    opened: list[Store] = []
    failed: list[BaseException] = []
    start = threading.Barrier(6)

    def open_it() -> None:
        start.wait()
        try:
            opened.append(Store(url))
        except BaseException as exc:  # reported below
            failed.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert failed == [] and len(opened) == 6
        with opened[0].begin() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM schema_version")).scalar() == 1
    finally:
        for store in opened:
            store.close()


def test_a_version_1_database_is_upgraded_in_place_and_keeps_its_rows(
    opened: list[Store], url: str
) -> None:
    store = _open(url, opened)
    add_user(store, "ana", "admin", PASSWORD)
    (job_id,) = _add(store)
    store.audit(user_name="ana", patient_id="P1", patient_name="Doe", action="build",
                outcome="done", job_id=job_id)  # fmt: skip
    store.close()
    _make_version_1(url)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        assert "needs" not in {c["name"] for c in sa.inspect(conn).get_columns("jobs")}
    engine.dispose()

    upgraded = _open(url, opened)
    with upgraded.begin() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar_one() == 3
        assert conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM media_requests")).scalar_one() == 0
    assert SCHEMA_VERSION == 3
    job = upgraded.job(job_id)
    assert job is not None and job.title == "job 0" and job.needs == []
    assert [u["name"] for u in list_users(upgraded)] == ["ana"]
    assert [r["action"] for r in upgraded.audit_rows()] == ["build"]
    assert upgraded.claim("s:1", 60, capabilities=["burner:dvd"]) is not None
    _open(url, opened)  # a second start finds it current


def test_a_database_newer_than_the_code_is_refused(
    opened: list[Store], url: str, tmp_path: Path
) -> None:
    _open(url, opened).close()
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = 99"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"schema version 99, newer than this mediatool"):
        _open(url, opened)
    if url.startswith("postgresql"):
        done = mediatool("users", "list", "--database", url, "--data", str(tmp_path / "d"))
        assert done.returncode == 2, done.stderr
        assert "schema version 99" in done.stderr and "Traceback" not in done.stderr


def test_a_database_that_cannot_be_reached_is_a_clear_message(tmp_path: Path) -> None:
    nobody = reserve_port()  # reserved, and nothing listens there
    url = f"postgresql://mediatool:s3cret-word@{LOCALHOST}:{nobody}/queue"
    for args in (("users", "list"), ("serve", "--port", str(reserve_port()))):
        done = mediatool(*args, "--data", str(tmp_path / "d"), "--database", url)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "s3cret-word" not in done.stderr
        assert (
            f"cannot use the job store postgresql://mediatool:***@{LOCALHOST}:{nobody}/queue"
            in done.stderr
        )
        assert "check that the database server runs" in done.stderr
    done = mediatool("users", "list", "--database", "mysql://x@y/z")
    assert done.returncode == 2 and "must be a postgresql://" in done.stderr, done.stderr
    config = tmp_path / "station.toml"
    config.write_text('[station]\ndatabase = "postgres://nobody@nowhere.invalid/x"\nlease = 0\n')
    done = mediatool("users", "list", "--config", str(config))
    assert done.returncode == 2 and "`lease` must be seconds, 1-3600" in done.stderr


# --- several real stations on one PostgreSQL ------------------------------------------------


def _stations(
    pg: Postgres, data: Path, names: tuple[str, ...], extra: str = "", workers: int = 2,
    capabilities: dict[str, str] | None = None,
) -> tuple[str, list[StationServer]]:  # fmt: skip
    """Stations sharing one job store and one data folder (docs/station.md "Several
    stations"); the first has the accounts."""
    url = pg.database("q")
    servers = []
    for name in names:
        config = data.parent / f"{name}.toml"
        has = (capabilities or {}).get(name, "")
        config.write_text(
            f'[station]\nname = "{name}"\ndatabase = "{url}"\nlease = 2\n'
            f"workers = {workers}\ncapabilities = [{has}]\n{extra}"
        )
        servers.append(StationServer(data, config=config))
    servers[0].add_user("qa", "qa")
    return url, servers


def test_two_stations_run_50_jobs_exactly_once_each(
    opened: list[Store], tmp_path: Path, pg: Postgres
) -> None:
    disc = build_fileset(study_folder(tmp_path / "src", patients=1, series=1, instances=2),
                         tmp_path / "disc")  # fmt: skip
    burner = {"right": '"burner:dvd"'}  # only the right one has a DVD burner
    url, servers = _stations(pg, tmp_path / "data", ("left", "right"), capabilities=burner)
    for s in servers:
        s.start()
    try:
        store = _open(url, opened)
        ids = [
            store.add_job(kind="validate", title=f"Validate {i}", user_name="qa",
                          params={"media": str(disc), "profile": None},
                          needs=["burner:dvd"] if i % 10 == 0 else [])
            for i in range(50)
        ]  # fmt: skip
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if all(j.final for j in store.jobs(limit=100)):
                break
            time.sleep(0.5)
        # the account made through the first station signs in on the second (one database)
        with servers[1].client("qa") as c:
            page = c.get(f"/jobs/{ids[7]}")
            assert page.status_code == 200, page.text[-300:]
            assert f"Job {ids[7]}, by qa" in page.text and "Validate disc" in page.text
    finally:
        for s in servers:
            s.stop()
    done = store.jobs(limit=100)
    assert sorted(j.id for j in done) == ids
    assert {(j.state, j.attempts) for j in done} == {("done", 1)}, [
        (j.id, j.state, j.error) for j in done if j.state != "done"
    ]
    started = Counter(
        (job_id, e["message"]) for job_id in ids for e in store.events(job_id)
        if e["message"].startswith("started on station ")
    )  # fmt: skip
    assert len(started) == 50 and set(started.values()) == {1}
    by = Counter(message for _, message in started)
    assert set(by) == {"started on station left", "started on station right"}, by
    for job_id in ids[::10]:  # the jobs that need the burner ran where it is
        assert (job_id, "started on station right") in started
    audited = Counter(r["client"] for r in store.audit_rows() if r["action"] == "validate")
    assert set(audited) == {"station left", "station right"}, audited
    assert sum(audited.values()) == 50


def test_a_station_killed_mid_import_has_its_job_finished_by_another(
    opened: list[Store], tmp_path: Path, pg: Postgres, orthanc: Orthanc
) -> None:
    orthanc.reset()
    disc = build_fileset(study_folder(tmp_path / "src", patients=1, series=4, instances=60),
                         tmp_path / "disc")  # fmt: skip
    data = tmp_path / "data"
    ae = f'ae_title = "{orthanc.scu_aet}"\n'
    url, servers = _stations(pg, data, ("north", "south"), ae, workers=1)
    for server in servers:
        server.start()
    store = _open(url, opened)
    job_id = store.add_job(
        kind="import", title="Import disc -> PACS1", user_name="qa",
        params={
            "media": str(disc), "pacs": orthanc.peer, "calling_aet": orthanc.scu_aet,
            "timeout": 10, "commit": False, "listen_port": orthanc.report_port,
            "state_folder": str(data / "import-state"), "studies": [],
            "identities": {}, "accession": "", "no_pacs_check": False,
        },
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not 0 < len(orthanc.sop_uids()) < 120:
            assert time.monotonic() < deadline, "the import never got under way"
            time.sleep(0.02)
        job = store.job(job_id)
        assert job is not None and job.state == "running", job
        dead = str(job.owner).split(":")[0]  # whichever claimed it
        alive = "south" if dead == "north" else "north"
        servers[("north", "south").index(dead)].kill()
        sent_before = len(orthanc.sop_uids())
        deadline = time.monotonic() + 120
        while not (job := store.job(job_id)) or not job.final:
            assert time.monotonic() < deadline, "the other station never finished the job"
            time.sleep(0.3)
    finally:
        for server in servers:
            server.stop()
    assert job.state == "done" and job.attempts == 2, (job.state, job.error)
    assert str(job.owner).startswith(f"{alive}:")
    messages = [e["message"] for e in store.events(job_id)]
    assert messages.count(f"started on station {dead}") == 1
    assert messages.count(f"started on station {alive}") == 1
    assert any(
        m.startswith(f"interrupted: taken over by station {alive}:")
        and f" from station {dead}:" in m
        and " whose lease ran out at " in m
        for m in messages
    ), messages
    summary = job.result["summary"]  # type: ignore[index]
    assert len(orthanc.sop_uids()) == 240
    assert summary["not_imported"] == 0 and summary["sent_not_confirmed"] == 0, summary
    assert summary["imported"] + summary["already_present"] == 240, summary
    assert summary["already_present"] >= sent_before - 1, (summary, sent_before)
    assert {r["client"] for r in store.audit_rows() if r["job_id"] == job_id} == {
        f"station {alive}"
    }


def test_the_configuration_of_several_stations(tmp_path: Path, pg: Postgres) -> None:
    from mediatool.station import config as cfg

    url = pg.database()
    path = tmp_path / "station.toml"
    path.write_text(
        f'[station]\nname = "burn-1"\ndatabase = "{url}"\nlease = 5\n'
        'capabilities = ["burner:dvd", "location:burn-room"]\n'
    )
    config = cfg.load(path)
    assert (config.name, config.database_url, config.lease) == ("burn-1", url, 5.0)
    assert config.capabilities == ("burner:dvd", "location:burn-room")
    path.write_text(cfg.to_toml(config))
    assert cfg.load(path) == config
    for text, message in (
        ('name = "a:b"', "`name` must be a word without ':'"),
        ("capabilities = [1]", "`capabilities` must be a list of words"),
        ('database = "/var/db.sqlite"', "the database must be a postgresql://"),
        ('databse = "x"', "did you mean `database`?"),
    ):
        path.write_text(f"[station]\n{text}\n")
        with pytest.raises(cfg.ConfigError) as caught:
            cfg.load(path)
        assert message in str(caught.value) + str(caught.value.hint)
    # accounts on the shared database from any computer: no data folder is made for them
    done = mediatool("users", "add", "ana", "--role", "admin", "--password-stdin",
                     "--database", url, stdin=PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    listed = mediatool("users", "list", "--database", url)
    assert listed.stdout == "ana\tadmin\n" and not Path("mediatool-data").exists()
