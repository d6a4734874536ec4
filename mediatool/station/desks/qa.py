"""The QA desk: check a disc, an ISO image or a zip file against the standard (a ``validate``
job), and the last checks made here with their verdicts.

The medium is an upload (streamed to the data folder, removed when the job ends), a drive of
the configuration, or a path typed on the station. The job's page (``job_validate.html``) shows
the verdict, the findings with what to do, the HTML report and the JSON to download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediatool import profiles
from mediatool.station import uploads, web
from mediatool.station.desks import jobs
from mediatool.station.i18n import N_
from mediatool.station.i18n import gettext as _
from mediatool.station.jobs.kinds import describe

RECENT: Final = 50  # past checks listed on the desk
#: a finding's severity, as the job page shows it
SEVERITY_NAMES: Final = (N_("error"), N_("warning"), N_("info"))


def profile_ids() -> list[str]:
    return [p.id for p in profiles.list_profiles()]


def verdict(result: dict[str, Any] | None) -> str:
    """PASS or FAIL of a finished check ("" while it runs or when it could not run)."""
    if not result or "ok" not in result:
        return ""
    return "PASS" if result["ok"] else "FAIL"


def _page(request: Request, status: int = 200, error: str = "", **chosen: str) -> Response:
    st = web.station(request)
    recent = st.store.jobs(kinds=["validate"], limit=RECENT)
    return web.render(
        request, "qa.html", status=status, error=error, drives=st.config.drives,
        profiles=profile_ids(), recent=recent, verdict=verdict,
        chosen={"drive": "", "path": "", "profile": ""} | chosen,
    )  # fmt: skip


async def desk(request: Request) -> Response:
    web.require(request, "qa")
    return _page(request)


def _medium(request: Request, fields: dict[str, str], upload: Path | None) -> str:
    """The path the job checks: the upload, else the drive chosen, else the path typed;
    raises ValueError with the message for the desk."""
    if upload is not None:
        return str(upload)
    drive = fields.get("drive", "")
    typed = fields.get("path", "").strip()
    if drive:
        found = next((d for d in web.station(request).config.drives if d.name == drive), None)
        if found is None:
            raise ValueError(_("This drive is not in the configuration."))
        typed = found.path
    if not typed:
        raise ValueError(_("Choose a file to upload, a drive, or type a path on the station."))
    if not Path(typed).exists():
        raise ValueError(_("Nothing is at %(path)s on the station.") % {"path": typed})
    return typed


async def _received(request: Request) -> uploads.Upload:
    """The posted form: with its file (multipart, streamed to the data folder), or a plain form
    naming a drive or a path; CSRF checked either way."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await uploads.receive(request)
    form = await web.posted(request)
    return uploads.Upload(fields={k: v for k, v in form.items() if isinstance(v, str)})


async def check(request: Request) -> Response:
    web.require(request, "qa")
    upload = await _received(request)
    fields = upload.fields
    chosen = {k: fields.get(k, "") for k in ("drive", "path", "profile")}
    profile = fields.get("profile", "")
    try:
        if profile and profile not in profile_ids():
            raise ValueError(_("This profile is not known."))
        media = _medium(request, fields, upload.path)
    except ValueError as exc:
        if upload.path is not None:
            upload.path.unlink(missing_ok=True)
        return _page(request, 400, str(exc), **chosen)
    params: dict[str, Any] = {"media": media, "profile": profile or None}
    if upload.path is not None:
        params["upload"] = str(upload.path)
        params["shown"] = upload.filename  # the name the person knows (titles, history)
    job_id = jobs.submit(request, "validate", params, describe("validate", params))
    return web.redirect(f"/jobs/{job_id}")


routes = [
    Route("/qa", desk, methods=["GET"]),
    Route("/qa", check, methods=["POST"]),
]
