"""A job's page: its state, live progress (Server-Sent Events), log, result, cancel, and the
files it made (ISO, label, report), each download in the audit trail."""

from __future__ import annotations

import asyncio
import json
import mimetypes
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mediatool.station import web
from mediatool.station.i18n import gettext as _
from mediatool.station.store import Job

POLL: Final = 0.5  # seconds between two looks at a running job for its live page


def submit(
    request: Request, kind: str, params: Mapping[str, Any], title: str,
    patient_id: str = "", patient_name: str = "", needs: Sequence[str] = (),
) -> int:  # fmt: skip
    """Queue a job for the signed-in user (in the audit trail when it names a patient);
    ``needs``: what a station must have to run it (e.g. "burner:dvd1")."""
    who = web.require(request, web.DESK_OF_KIND[kind])
    job_id = web.station(request).store.add_job(
        kind=kind, title=title, user_name=who.name, params=params, patient_id=patient_id,
        patient_name=patient_name, needs=needs,
    )  # fmt: skip
    if patient_id or patient_name:
        web.audit(request, f"{kind} requested", patient_id, patient_name, "queued", job_id)
    return job_id


def job_for(request: Request, job_id: int) -> Job:
    """The job, when the user's role opens its desk (404 otherwise: no hint it exists)."""
    who = web.require(request)
    job = web.station(request).store.job(job_id)
    if job is None or not who.may(web.DESK_OF_KIND.get(job.kind, "admin")):
        raise HTTPException(404, _("There is no such job."))
    return job


def status(job: Job) -> dict[str, Any]:
    """What the live page shows (and the SSE stream sends)."""
    percent = int(100 * job.done / job.total) if job.total else None
    return {
        "id": job.id, "state": job.state, "done": job.done, "total": job.total,
        "percent": percent, "label": job.label, "error": job.error, "hint": job.hint,
        "final": job.final,
    }  # fmt: skip


async def page(request: Request) -> Response:
    job = job_for(request, int(request.path_params["job_id"]))
    if job.patient_id or job.patient_name:
        web.audit(
            request, f"view {job.kind} job", job.patient_id, job.patient_name, "shown", job.id
        )
    events = web.station(request).store.events(job.id)
    return web.render(
        request, [f"job_{job.kind}.html", "_job.html"], job=job, progress=status(job),
        events=events, files=_files(request, job), config=web.station(request).config,
    )  # fmt: skip


async def state(request: Request) -> Response:
    job = job_for(request, int(request.path_params["job_id"]))
    return JSONResponse(status(job))


async def stream(request: Request) -> Response:
    """Server-Sent Events: the job's status whenever it changes, and its new log lines, until
    it ends (the page then reloads to show the result)."""
    job = job_for(request, int(request.path_params["job_id"]))
    store = web.station(request).store

    async def events() -> AsyncIterator[str]:
        last: dict[str, Any] = {}
        seen = 0
        while True:
            current = store.job(job.id)
            if current is None:
                return
            now = status(current)
            for e in store.events(job.id, after=seen):
                seen = e["id"]
                line = json.dumps({"level": e["level"], "message": e["message"]})
                yield f"event: log\ndata: {line}\n\n"
            if now != last:
                last = now
                yield f"data: {json.dumps(now)}\n\n"
            if current.final or await request.is_disconnected():
                return
            await asyncio.sleep(POLL)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def cancel(request: Request) -> Response:
    job = job_for(request, int(request.path_params["job_id"]))
    await web.posted(request)
    web.station(request).store.request_cancel(job.id)
    web.station(request).store.event(job.id, f"cancel asked by {web.require(request).name}")
    return web.redirect(f"/jobs/{job.id}")


def _folder(request: Request, job: Job) -> Path:
    return web.station(request).config.data / "jobs" / str(job.id)


def _files(request: Request, job: Job) -> list[str]:
    """The job's outputs a person may download (named in its result)."""
    names = (job.result or {}).get("files", [])
    folder = _folder(request, job)
    return [n for n in names if isinstance(n, str) and (folder / n).is_file()]


async def download(request: Request) -> Response:
    job = job_for(request, int(request.path_params["job_id"]))
    name = str(request.path_params["name"])
    if name not in _files(request, job):
        raise HTTPException(404, _("There is no such file."))
    path = _folder(request, job) / name
    web.audit(request, f"download {name}", job.patient_id, job.patient_name, "sent", job.id)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = kind in ("text/html", "image/png", "image/jpeg", "application/pdf")
    return FileResponse(
        path, media_type=kind, filename=None if inline else Path(name).name,
        content_disposition_type="inline" if inline else "attachment",
    )  # fmt: skip


routes = [
    Route("/jobs/{job_id:int}", page),
    Route("/jobs/{job_id:int}/state", state),
    Route("/jobs/{job_id:int}/events", stream),
    Route("/jobs/{job_id:int}/cancel", cancel, methods=["POST"]),
    Route("/jobs/{job_id:int}/files/{name:path}", download),
]
