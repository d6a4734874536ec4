"""The job store: users, jobs, their events and the audit trail, in one database.

SQLAlchemy Core (a well-kept layer over both engines) so the same statements run on SQLite (the
embedded default, a file in the data folder) and on PostgreSQL (several stations sharing one
queue, next issue). The schema is versioned: :data:`SCHEMA_VERSION` and :func:`migrate` (plain
versioned steps; version 1 creates the tables).

Job states: queued -> running -> done | failed | cancelled; a running job whose station stopped
becomes interrupted, and is resumed (queued again) when a station starts (runner.py).
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

SCHEMA_VERSION: Final = 1
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
)  # fmt: skip
events = sa.Table(
    "job_events", meta,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.Integer, sa.ForeignKey("jobs.id"), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)  # fmt: skip
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
        attempts=row["attempts"],
    )  # fmt: skip


class Store:
    """The database of one station (or several sharing it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        args: dict[str, Any] = {}
        if url.startswith("sqlite"):
            # several processes (server, job workers) write: wait for the lock, don't fail
            args["connect_args"] = {"timeout": 30, "check_same_thread": False}
        self.engine: Engine = sa.create_engine(url, **args)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        migrate(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # --- jobs -----------------------------------------------------------------------------
    def add_job(
        self, *, kind: str, title: str, user_name: str, params: Mapping[str, Any],
        patient_id: str = "", patient_name: str = "",
    ) -> int:  # fmt: skip
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

    def claim(self, owner: str, lease: float, kinds: Sequence[str] = ()) -> Job | None:
        """Take the oldest queued job (an atomic compare-and-set on its state)."""
        now = time.time()
        with self.begin() as conn:
            q = sa.select(jobs.c.id).where(jobs.c.state == "queued").order_by(jobs.c.id)
            if kinds:
                q = q.where(jobs.c.kind.in_(list(kinds)))
            for (job_id,) in conn.execute(q.limit(5)):
                taken = conn.execute(
                    jobs.update()
                    .where(jobs.c.id == job_id, jobs.c.state == "queued")
                    .values(
                        state="running",
                        owner=owner,
                        lease_until=now + lease,
                        started=now,
                        attempts=jobs.c.attempts + 1,
                    )
                )
                if taken.rowcount == 1:
                    row = conn.execute(jobs.select().where(jobs.c.id == job_id)).mappings().one()
                    return _job(row)
        return None

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


def migrate(engine: Engine) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; the version it has now."""
    with engine.begin() as conn:
        if not sa.inspect(conn).has_table("schema_version"):
            meta.create_all(conn)  # version 1: every table
            conn.execute(schema_version.insert().values(version=SCHEMA_VERSION))
            return SCHEMA_VERSION
        found = conn.execute(sa.select(schema_version.c.version)).scalar_one()
    if found > SCHEMA_VERSION:
        from mediatool.errors import MediatoolError

        raise MediatoolError(
            f"the job store has schema version {found}, newer than this mediatool "
            f"({SCHEMA_VERSION})",
            hint="upgrade mediatool on this station",
        )
    return int(found)
