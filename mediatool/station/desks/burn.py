"""The burn desk: search the PACS, choose studies, build a patient disc (ISO image and label),
or build one from an uploaded zip. The build runs as a ``build`` job (its page is
``job_build.html``); on a station with ``[[burners]]`` its page offers to burn it: a ``burn``
job (:mod:`mediatool.station.jobs.kinds.burning`, page ``job_burn.html``) that only a station
with that burner runs. Without a burner the clerk downloads the ISO image.

Routes: ``GET /burn`` (the form; a search when the query names something; the DICOM node's
inbox, :mod:`.burn_inbox`), ``POST /burn/build`` (the chosen studies), ``POST /burn/upload`` (a
zip), ``GET /burn/jobs/{id}/label`` (the printable label page with the number of copies),
``POST /burn/jobs/{id}/burn`` (burn a done build on a burner).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediatool.station import web
from mediatool.station.config import MEDIA, Node, StationConfig
from mediatool.station.i18n import N_
from mediatool.station.i18n import gettext as _

DESK: Final = "burn"
SEARCH: Final = ("patient_id", "name", "accession", "date_from", "date_to")
COPIES: Final = range(1, 11)
LOOKUP_TIMEOUT: Final = 10.0  # seconds a search may take inside a request
RETRIEVE_TIMEOUT: Final = 30.0
#: the media a clerk chooses from (config.MEDIA), in their words
MEDIA_NAMES: Final = {
    "cd": N_("CD (700 MB)"), "cd74": N_("CD for older drives (650 MB)"),
    "dvd": N_("DVD (4.7 GB)"), "dvd-ram": N_("DVD-RAM (4.7 GB)"),
    "bd": N_("Blu-ray disc (25 GB)"), "bd-re": N_("Rewritable Blu-ray disc (BD-RE, 25 GB)"),
    "usb": N_("USB stick"),
}  # fmt: skip
#: the states in which a build still counts as "being made" (a second one is refused)
BUSY: Final = ("queued", "running", "interrupted")
ISO_MAGIC: Final = (16 * 2048 + 1, b"CD001")  # ISO 9660's volume descriptor (ECMA-119 8.1)


@dataclass(frozen=True)
class Choices:
    """What the clerk chose for the disc (defaults: the configuration's)."""

    node: str
    media: str
    profile: str
    copies: int
    web: bool
    allow_partial: bool

    def params(self, config: StationConfig) -> dict[str, Any]:
        """The build job's parameters common to both sources."""
        return {
            "profile": self.profile, "media": self.media, "web": self.web,
            "site": str(config.site) if config.site else None, "fileset_id": "",
            "copies": self.copies,
        }  # fmt: skip


@functools.cache
def _profiles() -> tuple[tuple[str, str], ...]:
    """The shipped Application Profiles (identifier, title), read once."""
    from mediatool.profiles import list_profiles

    return tuple((p.id, p.title) for p in list_profiles())


def _choices(config: StationConfig, form: Mapping[str, Any], posted: bool) -> Choices:
    """The form's choices, each one checked against what exists (else the default)."""
    nodes = [n.name for n in config.nodes_of("pacs")]
    node = str(form.get("node") or "")
    media = str(form.get("media") or "")
    profile = str(form.get("profile") or "")
    try:
        copies = int(str(form.get("copies") or 1))
    except ValueError:
        copies = 1
    return Choices(
        node=node if node in nodes else (nodes[0] if nodes else ""),
        media=media if media in MEDIA else config.media,
        profile=profile if profile in {p for p, _t in _profiles()} else config.profile,
        copies=min(max(copies, COPIES[0]), COPIES[-1]),
        web=bool(form.get("web")) if posted else config.web,
        allow_partial=bool(form.get("allow_partial")),
    )


def _query(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(form.get(k) or "").strip() for k in SEARCH}


def _date_problem(query: Mapping[str, str]) -> str:
    from mediatool.retrieve.dates import date_range

    if not (query["date_from"] or query["date_to"]):
        return ""
    try:
        date_range(f"{query['date_from']}..{query['date_to']}")
    except ValueError as exc:
        return _("A date is not right. Write dates as YYYY-MM-DD.") + f"\n{exc}"
    return ""


async def _search(
    request: Request, node: Node, query: Mapping[str, str]
) -> tuple[list[dict[str, Any]] | None, str]:
    """The PACS's studies for the query, or None and a sentence saying why not."""
    from mediatool.net.association import Network
    from mediatool.station import lookup

    problem = _date_problem(query)
    if problem:
        return None, problem
    config = web.station(request).config
    net = Network(calling_aet=config.ae_title, timeout=LOOKUP_TIMEOUT, retries=1)
    try:
        rows = await run_in_threadpool(
            lookup.pacs_studies, node.address, net, query["patient_id"], query["name"],
            query["accession"], query["date_from"], query["date_to"],
        )  # fmt: skip
    except lookup.LookupFailed as exc:
        message = _(
            "The PACS %(node)s did not answer the search. Try again in a moment; if it keeps "
            "failing, tell the administrator."
        ) % {"node": node.name}
        return None, f"{message}\n{exc}"
    for pid, name in sorted({(r["patient_id"], r["patient_name"]) for r in rows}):
        web.audit(request, "search PACS", pid, name, f"{len(rows)} studies shown")
    return rows, ""


def _page(request: Request, status: int = 200, **values: Any) -> Response:
    from mediatool.station.desks import inbox_view

    config = web.station(request).config
    form: Mapping[str, Any] = values.pop("form", {})
    defaults: dict[str, Any] = {
        "studies": None, "chosen": [], "error": "", "notice": "", "busy": None,
        "upload_error": "", "inbox_error": "", "inbox_notice": "", "inbox_done": "",
        "inbox_busy": None, "inbox_chosen": [],
    }  # fmt: skip
    return web.render(
        request, "burn.html", status=status,
        **(defaults | values), inbox=inbox_view.section(request),
        query=_query(form), choices=_choices(config, form, posted=bool(form.get("posted"))),
        burners=[b.name for b in config.burners],
        nodes=config.nodes_of("pacs"), media=[(m, _(MEDIA_NAMES[m])) for m in MEDIA],
        profiles=_profiles(), copies=list(COPIES),
    )  # fmt: skip


async def desk(request: Request) -> Response:
    """``GET /burn``: the form; with something to search for, the PACS's studies."""
    web.require(request, DESK)
    config = web.station(request).config
    form = dict(request.query_params)
    query = _query(form)
    choices = _choices(config, form, posted=False)
    node = config.node(choices.node)
    if node is None or not any(query.values()):
        return _page(request, form=form)
    studies, error = await _search(request, node, query)
    return _page(request, form=form, studies=studies, error=error)


def _busy(request: Request, params: Mapping[str, Any]) -> int | None:
    """The build job with the same studies and choices (copies aside) not yet ended."""
    same = {k: v for k, v in params.items() if k != "copies"}
    for job in web.station(request).store.jobs(states=BUSY, kinds=("build",), limit=500):
        if {k: v for k, v in job.params.items() if k != "copies"} == same:
            return job.id
    return None


def _one_patient(chosen: list[dict[str, Any]]) -> tuple[str, str] | None:
    patients = {(r["patient_id"], r["patient_name"]) for r in chosen}
    return next(iter(patients)) if len(patients) == 1 else None


async def build(request: Request) -> Response:
    """``POST /burn/build``: a build job for the chosen studies (searched again, so the job
    holds what the PACS says, not what the browser sent)."""
    from mediatool.station.desks import jobs
    from mediatool.station.jobs.kinds import describe

    web.require(request, DESK)
    posted = await web.posted(request)
    form = dict(posted) | {"posted": "1"}
    uids = [str(u) for u in posted.getlist("study")]
    config = web.station(request).config
    choices = _choices(config, form, posted=True)
    node = config.node(choices.node)
    if node is None:
        return _page(request, status=400, form=form)
    studies, error = await _search(request, node, _query(form))
    chosen = [r for r in studies or [] if r["study_uid"] in uids]
    if studies is None or not chosen:
        error = error or _("Choose at least one study to put on the disc.")
        return _page(request, status=400, form=form, studies=studies, error=error)
    if len(chosen) < len(set(uids)):
        error = _("A chosen study is no longer at the PACS. Look at the list again and choose.")
        return _page(request, status=409, form=form, studies=studies, error=error, chosen=uids)
    patient = _one_patient(chosen)
    if patient is None:
        error = _("The chosen studies belong to different patients. A disc is for one patient.")
        return _page(request, status=400, form=form, studies=studies, error=error, chosen=uids)
    params = {"from_pacs": {
        "pacs": node.address, "calling_aet": config.ae_title, "timeout": RETRIEVE_TIMEOUT,
        "patient_id": patient[0], "accession": "",
        "study_uids": sorted(r["study_uid"] for r in chosen), "method": "get",
        "allow_partial": choices.allow_partial,
    }} | choices.params(config)  # fmt: skip
    busy = _busy(request, params)
    if busy is not None:
        notice = _("The same disc is already being made. Follow it, or wait until it ends.")
        return _page(
            request, status=409, form=form, studies=studies, notice=notice, busy=busy, chosen=uids
        )
    job_id = jobs.submit(request, "build", params, describe("build", params), *patient)
    return web.redirect(f"/jobs/{job_id}")


async def upload(request: Request) -> Response:
    """``POST /burn/upload``: a build job from a zip of DICOM files (or folders of them)."""
    from mediatool.media.zip import looks_like_zip
    from mediatool.station import uploads
    from mediatool.station.desks import jobs
    from mediatool.station.jobs.kinds import describe

    web.require(request, DESK)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        await web.posted(request)  # a form without a file: its CSRF token first (403)
    sent = await uploads.receive(request)
    form = sent.fields | {"posted": "1"}
    if sent.path is None:
        problem = _("Choose a zip file to upload.")
        return _page(request, status=400, form=form, upload_error=problem)
    if not looks_like_zip(sent.path):
        problem = _not_a_zip(sent.path, sent.filename)
        sent.path.unlink(missing_ok=True)
        return _page(request, status=400, form=form, upload_error=problem)
    choices = _choices(web.station(request).config, form, posted=True)
    params = {"sources": [str(sent.path)], "upload": str(sent.path), "shown": sent.filename}
    params |= choices.params(web.station(request).config)
    title = describe("build", params | {"sources": [sent.filename]})
    job_id = jobs.submit(request, "build", params, title)
    return web.redirect(f"/jobs/{job_id}")


def _not_a_zip(path: Path, filename: str) -> str:
    with path.open("rb") as f:
        f.seek(ISO_MAGIC[0])
        iso = f.read(len(ISO_MAGIC[1])) == ISO_MAGIC[1]
    if iso:
        return _(
            "%(name)s is an ISO image: it is a disc already. Check it at the QA desk, or "
            "upload its DICOM files as a zip to make a new disc."
        ) % {"name": filename}
    return _("%(name)s is not a zip file. Upload a zip of the DICOM files.") % {"name": filename}


async def label(request: Request) -> Response:
    """``GET /burn/jobs/{id}/label``: the label of each disc, to look at and print."""
    from mediatool.station.desks import jobs

    job = jobs.job_for(request, int(request.path_params["job_id"]))
    if job.kind != "build" or job.state != "done" or not job.result:
        raise HTTPException(404, _("This job has no label."))
    names = [n for n in jobs._files(request, job) if n.startswith("label") and n.endswith(".png")]
    names.sort(key=lambda n: (len(n), n))  # label_2.png before label_10.png
    web.audit(request, "view label", job.patient_id, job.patient_name, "shown", job.id)
    return web.render(
        request, "burn_label.html", job=job, labels=names,
        copies=int(job.result.get("copies") or 1),
    )  # fmt: skip


def _images(request: Request, build_job: Any) -> list[str]:
    """The build's image per disc (disc.iso, or disc_1.iso, disc_2.iso ...; disc.img for a
    BD or DVD-RAM in UDF), in order."""
    from mediatool.station.desks import jobs

    folder = jobs._folder(request, build_job)
    names = [n for n in jobs._files(request, build_job) if n.endswith((".iso", ".img"))]
    names.sort(key=lambda n: (len(n), n))
    return [str(folder / n) for n in names]


def _patients(request: Request, build_job: Any) -> list[list[str]]:
    """The patients on the build's disc (the build job audited each one)."""
    if build_job.patient_id or build_job.patient_name:
        return [[build_job.patient_id, build_job.patient_name]]
    rows = web.station(request).store.audit_rows(text="build", limit=5000)
    found = {
        (r["patient_id"], r["patient_name"])
        for r in rows
        if r["job_id"] == build_job.id and r["action"] == "build"
    }
    return [list(p) for p in sorted(found)]


async def burn(request: Request) -> Response:
    """``POST /burn/jobs/{id}/burn``: a burn job of the done build ``id`` on the chosen burner
    (``burner``, ``copies``; always read back), run by the station that has the burner."""
    from mediatool.station.desks import jobs
    from mediatool.station.jobs.kinds import describe

    web.require(request, DESK)
    form = await web.posted(request)
    build_job = jobs.job_for(request, int(request.path_params["job_id"]))
    if build_job.kind != "build" or build_job.state != "done" or not build_job.result:
        raise HTTPException(404, _("This job has no disc to burn."))
    config = web.station(request).config
    medium = str(build_job.params.get("media") or config.media)
    burner = config.burner(str(form.get("burner") or ""))
    if burner is None or burner not in config.burners_for(medium):
        raise HTTPException(400, _("Choose a burner that takes this medium."))
    images = _images(request, build_job)
    if not images:
        raise HTTPException(404, _("This job has no disc to burn."))
    copies = _choices(config, {"copies": form.get("copies")}, posted=True).copies
    params = {
        "build_job": build_job.id, "images": images, "burner": burner.name,
        "device": burner.device, "capacity": burner.capacity, "copies": copies, "verify": True,
        "patients": _patients(request, build_job),
    }  # fmt: skip
    job_id = jobs.submit(
        request, "burn", params, describe("burn", params), build_job.patient_id,
        build_job.patient_name, needs=[burner.capability],
    )  # fmt: skip
    return web.redirect(f"/jobs/{job_id}")


routes = [
    Route("/burn", desk),
    Route("/burn/build", build, methods=["POST"]),
    Route("/burn/upload", upload, methods=["POST"]),
    Route("/burn/jobs/{job_id:int}/label", label),
    Route("/burn/jobs/{job_id:int}/burn", burn, methods=["POST"]),
]
