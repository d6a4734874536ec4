"""The job store: users, jobs, their events and the audit trail, in one database.

SQLAlchemy Core (a well-kept layer over both engines) so the same statements run on SQLite (the
embedded default, a file in the data folder) and on PostgreSQL (several stations sharing one
queue: ``[station] database = "postgresql://..."``, driver psycopg 3). The schema is versioned:
:data:`SCHEMA_VERSION` and :func:`migrate` (plain versioned SQL steps, :data:`STEPS`, recorded
in ``schema_version``; a database made by an older mediatool is upgraded in place with its rows,
a newer one is refused).

Job states: queued -> running -> done | failed | cancelled. A running job has an ``owner`` (the
station) and a ``lease_until`` its station renews; a job whose station stopped, or whose lease
ran out (the station died), becomes interrupted and is queued again (runner.py). A station claims
a job with a row lock (PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED``; SQLite: a
compare-and-set on the state) and only when it has the job's ``needs`` (its capabilities).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mediatool.errors import MediatoolError

SCHEMA_VERSION: Final = 3
# version -> the plain SQL that brings the previous version to it (the same text on SQLite and
# PostgreSQL); version 1 is the tables themselves (made from :data:`meta`, minus later columns)
STEPS: Final[dict[int, tuple[str, ...]]] = {
    2: ("ALTER TABLE jobs ADD COLUMN needs TEXT NOT NULL DEFAULT '[]'",),
    3: (  # the DICOM node: its inbox, the media creation requests, the jobs' priority
        "ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
        "CREATE TABLE inbox (sop_uid VARCHAR(64) NOT NULL PRIMARY KEY, "
        "sop_class VARCHAR(64) NOT NULL, study_uid VARCHAR(64) NOT NULL, "
        "series_uid VARCHAR(64) NOT NULL, patient_id TEXT NOT NULL, patient_name TEXT NOT NULL, "
        "study_date VARCHAR(8) NOT NULL, study_description TEXT NOT NULL, "
        "modality VARCHAR(16) NOT NULL, calling_ae VARCHAR(16) NOT NULL, path TEXT NOT NULL, "
        "size BIGINT NOT NULL, digest VARCHAR(64) NOT NULL, received FLOAT NOT NULL)",
        "CREATE INDEX ix_inbox_study_uid ON inbox (study_uid)",
        "CREATE TABLE media_requests (uid VARCHAR(64) NOT NULL PRIMARY KEY, "
        "calling_ae VARCHAR(16) NOT NULL, created FLOAT NOT NULL, attributes TEXT NOT NULL, "
        "status VARCHAR(16) NOT NULL, info VARCHAR(32) NOT NULL, job_id INTEGER, "
        "failed TEXT NOT NULL DEFAULT '[]', copies INTEGER NOT NULL DEFAULT 1, "
        "priority VARCHAR(8) NOT NULL DEFAULT 'MED', cancelled BOOLEAN NOT NULL DEFAULT FALSE)",
    ),
}
STATES: Final = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINAL: Final = frozenset({"done", "failed", "cancelled"})
ROLES: Final = ("reception", "burn", "qa", "admin")

meta = sa.MetaData()
schema_version = sa.Table("schema_version", meta, sa.Column("version", sa.Integer, nullable=False))
users = sa.Table(
    "users", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("language", sa.String(8), nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
)  # fmt: skip
jobs = sa.Table(
    "jobs", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False, default=""),
    sa.Column("patient_name", sa.Text, nullable=False, default=""),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("hint", sa.Text, nullable=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("started", sa.Float, nullable=True),
    sa.Column("ended", sa.Float, nullable=True),
    sa.Column("done", sa.Integer, nullable=False, default=0),
    sa.Column("total", sa.Integer, nullable=True),
    sa.Column("label", sa.Text, nullable=False, default=""),
    sa.Column("owner", sa.Text, nullable=True),
    sa.Column("pid", sa.Integer, nullable=True),
    sa.Column("lease_until", sa.Float, nullable=True),
    sa.Column("cancel", sa.Boolean, nullable=False, default=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("needs", sa.Text, nullable=False, default="[]", server_default="[]"),
    sa.Column("priority", sa.Integer, nullable=False, default=0, server_default="0"),
)  # fmt: skip
events = sa.Table(
    "job_events", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)  # fmt: skip
# The DICOM node's inbox (node/inbox.py): one row per instance received (idempotent by SOP
# Instance UID), the file under DATA/inbox; and the Media Creation Management SOP Instances
# (node/mcm.py, PS3.4 Annex S) with the build job each became.
inbox = sa.Table(
    "inbox",
    meta,
    sa.Column("sop_uid", sa.String(64), primary_key=True),
    sa.Column("sop_class", sa.String(64), nullable=False),
    sa.Column("study_uid", sa.String(64), nullable=False, index=True),
    sa.Column("series_uid", sa.String(64), nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("patient_name", sa.Text, nullable=False),
    sa.Column("study_date", sa.String(8), nullable=False),
    sa.Column("study_description", sa.Text, nullable=False),
    sa.Column("modality", sa.String(16), nullable=False),
    sa.Column("calling_ae", sa.String(16), nullable=False),
    sa.Column("path", sa.Text, nullable=False),  # relative to the data folder
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("digest", sa.String(64), nullable=False),  # SHA-256 of the data set as received
    sa.Column("received", sa.Float, nullable=False),
)
media_requests = sa.Table(
    "media_requests",
    meta,
    sa.Column("uid", sa.String(64), primary_key=True),  # the SOP Instance UID (N-CREATE)
    sa.Column("calling_ae", sa.String(16), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("attributes", sa.Text, nullable=False),  # the N-CREATE Attribute List (DICOM JSON)
    sa.Column("status", sa.String(16), nullable=False),  # Execution Status before a job exists
    sa.Column("info", sa.String(32), nullable=False),  # Execution Status Info, likewise
    sa.Column("job_id", sa.Integer, nullable=True),
    sa.Column("failed", sa.Text, nullable=False, default="[]", server_default="[]"),
    sa.Column("copies", sa.Integer, nullable=False, default=1, server_default="1"),
    sa.Column("priority", sa.String(8), nullable=False, default="MED", server_default="MED"),
    sa.Column("cancelled", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)
audit = sa.Table(
    "audit", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Column("user_name", sa.String(64), nullable=False),
    sa.Column("patient_id", sa.Text, nullable=False),
    sa.Column("patient_name", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("job_id", sa.Integer, nullable=True),
    sa.Column("client", sa.Text, nullable=False, default=""),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Job:
    """One row of ``jobs`` with its JSON decoded."""

    id: int
    kind: str
    state: str
    title: str
    user_name: str
    patient_id: str
    patient_name: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    hint: str | None
    created: float
    started: float | None
    ended: float | None
    done: int
    total: int | None
    label: str
    cancel: bool
    attempts: int
    needs: list[str]
    owner: str | None
    lease_until: float | None
    pid: int | None

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def _job(row: Any) -> Job:
    return Job(
        id=row["id"], kind=row["kind"], state=row["state"], title=row["title"],
        user_name=row["user_name"], patient_id=row["patient_id"],
        patient_name=row["patient_name"], params=json.loads(row["params"]),
        result=json.loads(row["result"]) if row["result"] else None, error=row["error"],
        hint=row["hint"], created=row["created"], started=row["started"], ended=row["ended"],
        done=row["done"], total=row["total"], label=row["label"], cancel=bool(row["cancel"]),
        attempts=row["attempts"], needs=json.loads(row["needs"] or "[]"), owner=row["owner"],
        lease_until=row["lease_until"], pid=row["pid"],
    )  # fmt: skip


class StoreError(MediatoolError):
    """The job store cannot be opened (unreachable, wrong URL, driver missing): exit 2."""


def shown(url: str) -> str:
    """The URL for messages: without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(not a database URL)"


def _engine(url: str) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise StoreError(
            "the database URL is not valid",
            hint="write postgresql://USER:PASSWORD@HOST:PORT/DATABASE (or leave it out: SQLite)",
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the database {shown(url)} is neither SQLite nor PostgreSQL",
            hint="write postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
        )
    args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        # several processes (server, job workers) write: wait for the lock, don't fail
        args["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        args["pool_pre_ping"] = True  # a restarted database server: reconnect, not fail
        args["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(parsed, **args)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"the database {shown(url)} needs the Python module {exc.name!r}",
            hint="install it: python3 -m pip install 'psycopg[binary]'",
        ) from None
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """The database of one station (or several sharing it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = _engine(url)
        self.dialect: str = self.engine.dialect.name
        try:
            migrate(self.engine)
        except BaseException as exc:
            self.engine.dispose()
            if not isinstance(exc, sa.exc.DBAPIError):
                raise
            first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            hint = (
                "check that the data folder is on a local disk this user may write (--data DIR)"
                if self.dialect == "sqlite"
                else "check that the database server runs and that the URL's host, port, user, "
                "password and database are right ([station] database or --database)"
            )
            raise StoreError(f"cannot use the job store {shown(url)}: {first}", hint=hint) from None

    def close(self) -> None:
        """Close the pooled connections (a PostgreSQL server counts them)."""
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- jobs -----------------------------------------------------------------------------
    def add_job(  # noqa: PLR0913 - keyword-only: the job's columns
        self, *, kind: str, title: str, user_name: str, params: Mapping[str, Any],
        patient_id: str = "", patient_name: str = "", needs: Sequence[str] = (),
        priority: int = 0,
    ) -> int:  # fmt: skip
        """Queue a job; ``needs``: what a station must have to run it (e.g. "burner:dvd");
        ``priority``: higher runs first (a media creation request's HIGH is 1, LOW -1)."""
        with self.begin() as conn:
            row = conn.execute(
                jobs.insert().values(
                    kind=kind,
                    state="queued",
                    title=title,
                    user_name=user_name,
                    patient_id=patient_id,
                    patient_name=patient_name,
                    params=json.dumps(dict(params)),
                    created=time.time(),
                    done=0,
                    label="",
                    cancel=False,
                    attempts=0,
                    needs=json.dumps(sorted(set(needs))),
                    priority=priority,
                )
            )
            key = row.inserted_primary_key
            assert key is not None
            job_id = int(key[0])
        self.event(job_id, "queued")
        return job_id

    def job(self, job_id: int) -> Job | None:
        with self.begin() as conn:
            row = conn.execute(jobs.select().where(jobs.c.id == job_id)).mappings().first()
        return _job(row) if row else None

    def jobs(
        self, *, states: Sequence[str] = (), kinds: Sequence[str] = (), text: str = "",
        user_name: str = "", since: float | None = None, limit: int = 200,
    ) -> list[Job]:  # fmt: skip
        q = jobs.select().order_by(jobs.c.id.desc()).limit(limit)
        if states:
            q = q.where(jobs.c.state.in_(list(states)))
        if kinds:
            q = q.where(jobs.c.kind.in_(list(kinds)))
        if user_name:
            q = q.where(jobs.c.user_name == user_name)
        if since is not None:
            q = q.where(jobs.c.created >= since)
        if text:
            like = f"%{text}%"
            q = q.where(
                jobs.c.patient_id.ilike(like)
                | jobs.c.patient_name.ilike(like)
                | jobs.c.title.ilike(like)
            )
        with self.begin() as conn:
            return [_job(r) for r in conn.execute(q).mappings()]

    def update(self, job_id: int, **values: Any) -> None:
        for key in ("result", "params"):
            if key in values and values[key] is not None:
                values[key] = json.dumps(values[key])
        with self.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))

    def claim(
        self, owner: str, lease: float, kinds: Sequence[str] = (),
        capabilities: Sequence[str] = (),
    ) -> Job | None:  # fmt: skip
        """Take the oldest queued job whose needs ``capabilities`` covers: PostgreSQL locks its
        row (``FOR UPDATE SKIP LOCKED``: stations never wait for each other, never take the
        same row); on both, the update is a compare-and-set on the state."""
        have = set(capabilities)
        with self.begin() as conn:
            q = sa.select(jobs.c.id, jobs.c.needs).where(jobs.c.state == "queued")
            if kinds:
                q = q.where(jobs.c.kind.in_(list(kinds)))
            order = (jobs.c.priority.desc(), jobs.c.id)
            rows = conn.execute(q.order_by(*order).limit(1000)).all()
            ids = [i for i, needs in rows if set(json.loads(needs or "[]")) <= have][:50]
            if ids and self.dialect == "postgresql":
                lock = (
                    sa.select(jobs.c.id)
                    .where(jobs.c.id.in_(ids), jobs.c.state == "queued")
                    .order_by(*order)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                got = conn.execute(lock).scalar()
                ids = [] if got is None else [int(got)]
            now = time.time()
            for job_id in ids:
                taken = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.state == "queued")
                    .values(
                        state="running", owner=owner, lease_until=now + lease, started=now,
                        ended=None, attempts=jobs.c.attempts + 1,
                    )
                )  # fmt: skip
                if taken.rowcount == 1:
                    row = conn.execute(jobs.select().where(jobs.c.id == job_id)).mappings().one()
                    return _job(row)
        return None

    def renew(self, owner: str, job_ids: Sequence[int], lease: float) -> set[int]:
        """Extend ``owner``'s leases; the jobs it still holds (a job taken over is not)."""
        if not job_ids:
            return set()
        mine = (jobs.c.id.in_(list(job_ids)), jobs.c.state == "running", jobs.c.owner == owner)
        with self.begin() as conn:
            conn.execute(jobs.update().where(*mine).values(lease_until=time.time() + lease))
            return {int(i) for i in conn.execute(sa.select(jobs.c.id).where(*mine)).scalars()}

    def take_over(self, owner: str) -> list[int]:
        """Running jobs whose lease ran out (their station died): interrupted, with a line
        saying whose and when, then queued again (any station may claim them). Several stations
        may call this at once: each job is taken over once (compare-and-set on its lease)."""
        now = time.time()
        taken: list[int] = []
        with self.begin() as conn:
            q = sa.select(jobs.c.id, jobs.c.owner, jobs.c.lease_until).where(
                jobs.c.state == "running", jobs.c.lease_until < now
            )
            if self.dialect == "postgresql":
                q = q.with_for_update(skip_locked=True)
            for job_id, was, until in conn.execute(q.order_by(jobs.c.id)).all():
                done = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.state == "running",
                           jobs.c.lease_until == until)
                    .values(state="interrupted", pid=None, ended=now)
                )  # fmt: skip
                if done.rowcount != 1:
                    continue
                at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(until))
                conn.execute(
                    events.insert().values(
                        job_id=job_id, at=now, level="warning",
                        message=f"interrupted: taken over by station {owner} from station "
                        f"{was} whose lease ran out at {at}",
                    )
                )  # fmt: skip
                taken.append(int(job_id))
        for job_id in taken:
            self.requeue(job_id, "resumed: queued again after its station stopped")
        return taken

    def requeue(self, job_id: int, why: str) -> None:
        """An interrupted job: queued again (cancelled, if a cancel was asked meanwhile)."""
        with self.begin() as conn:
            row = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "interrupted")
                .values(state="queued", owner=None, pid=None, lease_until=None)
                .returning(jobs.c.cancel)
            ).first()
            if row is None:
                return
            if row[0]:
                conn.execute(jobs.update().where(jobs.c.id == job_id).values(state="cancelled"))
                why = "cancelled (asked while it was interrupted)"
            conn.execute(
                events.insert().values(job_id=job_id, at=time.time(), level="info", message=why)
            )

    def finish(self, job_id: int, attempt: int, **values: Any) -> bool:
        """The worker's outcome, written only if this attempt still holds the job (a job taken
        over by another station is not overwritten by a station thought dead)."""
        for key in ("result", "params"):
            if key in values and values[key] is not None:
                values[key] = json.dumps(values[key])
        with self.begin() as conn:
            done = conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "running",
                       jobs.c.attempts == attempt)
                .values(**values)
            )  # fmt: skip
            return done.rowcount == 1

    def request_cancel(self, job_id: int) -> str | None:
        """Queued or interrupted: cancelled now; running: flagged (the worker stops). The
        state after the request (None: no such job)."""
        with self.begin() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state.in_(["queued", "interrupted"]))
                .values(state="cancelled", ended=time.time(), cancel=True)
            )
            conn.execute(
                jobs.update()
                .where(jobs.c.id == job_id, jobs.c.state == "running")
                .values(cancel=True)
            )
        job = self.job(job_id)
        return job.state if job else None

    def event(self, job_id: int, message: str, level: str = "info") -> None:
        with self.begin() as conn:
            conn.execute(
                events.insert().values(job_id=job_id, at=time.time(), level=level, message=message)
            )

    def events(self, job_id: int, after: int = 0) -> list[dict[str, Any]]:
        q = (
            events.select()
            .where(events.c.job_id == job_id, events.c.id > after)
            .order_by(events.c.id)
        )
        with self.begin() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    # --- audit ----------------------------------------------------------------------------
    def audit(
        self, *, user_name: str, patient_id: str, patient_name: str, action: str,
        outcome: str, job_id: int | None = None, client: str = "",
    ) -> None:  # fmt: skip
        with self.begin() as conn:
            conn.execute(
                audit.insert().values(
                    at=time.time(),
                    user_name=user_name,
                    patient_id=patient_id,
                    patient_name=patient_name,
                    action=action,
                    outcome=outcome,
                    job_id=job_id,
                    client=client,
                )
            )

    def audit_rows(self, *, text: str = "", limit: int = 1000) -> list[dict[str, Any]]:
        q = audit.select().order_by(audit.c.id.desc()).limit(limit)
        if text:
            like = f"%{text}%"
            q = q.where(
                audit.c.patient_id.ilike(like)
                | audit.c.patient_name.ilike(like)
                | audit.c.user_name.ilike(like)
                | audit.c.action.ilike(like)
            )
        with self.begin() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (pages) never wait for the writers (jobs)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


_LOCK: Final = 0x6D656469  # PostgreSQL advisory lock: one station migrates at a time


@contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """SQLite: processes opening the same new file (the server, ``mediatool users``) migrate one
    after the other (an flock on its folder; PostgreSQL has its advisory lock)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl
    import os
    from pathlib import Path

    fd = os.open(Path(database).resolve().parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def migrate(engine: Engine) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION` (a new database: every table; an older one:
    the :data:`STEPS` it lacks, rows kept); the version it has now. A database newer than
    this mediatool is refused (:class:`StoreError`)."""
    with _one_at_a_time(engine), engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # stations starting together: one at a time
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
        if not sa.inspect(conn).has_table("schema_version"):
            meta.create_all(conn)
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return SCHEMA_VERSION
        found = int(conn.execute(sa.select(schema_version.c.version)).scalar_one())
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"the job store {engine.url.render_as_string(hide_password=True)} has "
                f"schema version {found}, newer than this mediatool knows ({SCHEMA_VERSION})",
                hint="upgrade mediatool on this station to the version the other stations run",
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for statement in STEPS[version]:
                conn.execute(sa.text(statement))
            conn.execute(schema_version.update().values(version=version))
    return SCHEMA_VERSION
