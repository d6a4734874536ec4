"""The history desk: every job, searched by patient (ID or name), dates, user, kind and state,
each row a link to its job page. A user sees the kinds whose desk their role opens."""

from __future__ import annotations

import datetime as dt
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediatool.station import web
from mediatool.station.i18n import N_
from mediatool.station.i18n import gettext as _
from mediatool.station.store import STATES, Job

LIMIT: Final = 500  # rows on one page
#: the kinds' names, as the page shows them
KIND_NAMES: Final = (N_("survey"), N_("import"), N_("build"), N_("burn"), N_("validate"))


def _day(text: str, end: bool = False) -> float | None:
    """A YYYY-MM-DD date as a local timestamp (its start, or its end with ``end``)."""
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    return moment.timestamp()


def search(request: Request, kinds: list[str]) -> tuple[list[Job], dict[str, str], str]:
    """The jobs the query asks for (among ``kinds``), the query, and a message on a bad date."""
    q = request.query_params
    query = {k: q.get(k, "").strip() for k in ("patient", "from", "to", "user", "kind", "state")}
    since, until = _day(query["from"]), _day(query["to"], end=True)
    error = ""
    if (query["from"] and since is None) or (query["to"] and until is None):
        error = _("Write dates as YYYY-MM-DD (e.g. 2026-12-03).")
    chosen = [query["kind"]] if query["kind"] in kinds else kinds
    states = [query["state"]] if query["state"] in STATES else []
    found = web.station(request).store.jobs(
        kinds=chosen, states=states, text=query["patient"], user_name=query["user"],
        since=since, limit=LIMIT,
    )  # fmt: skip
    if query["patient"]:
        found = _with_audited(request, found, query["patient"], chosen, states, query["user"])
    if since is not None:
        found = [j for j in found if j.created >= since]
    if until is not None:
        found = [j for j in found if j.created <= until]
    return found, query, error


def _with_audited(
    request: Request, found: list[Job], patient: str, kinds: list[str], states: list[str],
    user_name: str,
) -> list[Job]:  # fmt: skip
    """Add the jobs whose audit entries name the patient (a QA check learns the patients of a
    disc only as it reads it: they are in the trail, not in the job's row)."""
    store = web.station(request).store
    wanted = patient.lower()
    ids = {
        r["job_id"] for r in store.audit_rows(text=patient, limit=LIMIT)
        if r["job_id"] is not None
        and (wanted in r["patient_id"].lower() or wanted in r["patient_name"].lower())
    } - {j.id for j in found}  # fmt: skip
    for job_id in ids:
        job = store.job(job_id)
        if job is None or job.kind not in kinds or (states and job.state not in states):
            continue
        if not user_name or job.user_name == user_name:
            found.append(job)
    return sorted(found, key=lambda j: -j.id)[:LIMIT]


async def history(request: Request) -> Response:
    who = web.require(request, "history")
    kinds = [k for k, desk in web.DESK_OF_KIND.items() if who.may(desk)]
    found, query, error = search(request, kinds)
    return web.render(
        request, "history.html", jobs=found, query=query, kinds=kinds, states=STATES,
        error=error, limit=LIMIT,
    )  # fmt: skip


routes = [Route("/history", history, methods=["GET"])]
