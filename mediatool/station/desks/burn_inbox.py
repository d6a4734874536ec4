"""The burn desk's inbox: the studies a PACS or a modality sent to the station's DICOM node
(:mod:`mediatool.station.node.inbox`), grouped by the sender, and a disc built from them.

Routes: ``POST /burn/inbox/build`` (a build job from the chosen studies' files) and ``POST
/burn/inbox/remove`` (the chosen studies leave the inbox, unless a build not yet ended uses
them). The section itself is part of ``GET /burn`` (:func:`.inbox_view.section`, rendered by
burn.html); showing it is access to patient data: one audit row per patient shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediatool.station import web
from mediatool.station.config import StationConfig
from mediatool.station.desks import burn
from mediatool.station.desks.inbox_view import by_patient, sender_name
from mediatool.station.i18n import gettext as _
from mediatool.station.i18n import ngettext
from mediatool.station.node import inbox
from mediatool.station.node.inbox import InboxStudy


def _chosen(posted: Any) -> list[str]:
    """The study UIDs ticked (each once, in order; anything not a UID dropped)."""
    uids = [str(u) for u in posted.getlist("inbox_study")]
    return list(dict.fromkeys(u for u in uids if inbox.is_uid(u)))


def _refused(request: Request, form: Mapping[str, Any], message: str, status: int = 400,
              **values: Any) -> Response:  # fmt: skip
    return burn._page(request, status=status, form=form, inbox_error=message, **values)


def _patients(studies: Iterable[InboxStudy]) -> set[tuple[str, str]]:
    return {(s.patient_id, s.patient_name) for s in studies}


async def build(request: Request) -> Response:
    """``POST /burn/inbox/build``: a build job from the chosen studies of the inbox (one
    patient per disc; the files are the ones the inbox holds now)."""
    from mediatool.station.desks import jobs
    from mediatool.station.jobs.kinds import describe

    web.require(request, burn.DESK)
    posted = await web.posted(request)
    form = dict(posted) | {"posted": "1"}
    uids = _chosen(posted)
    station = web.station(request)
    held = [s for s in inbox.studies(station.store) if s.study_uid in uids]
    if not uids:
        return _refused(request, form, _("Choose at least one study to put on the disc."))
    if {s.study_uid for s in held} != set(uids):
        message = _("A chosen study is no longer in the inbox. Look at the list again and choose.")
        return _refused(request, form, message, 409, inbox_chosen=uids)
    patients = _patients(held)
    if len(patients) != 1:
        message = _("The chosen studies belong to different patients. A disc is for one patient.")
        return _refused(request, form, message, inbox_chosen=uids)
    files = inbox.files_of_studies(station.store, station.config.data, uids)
    choices = burn._choices(station.config, form, posted=True)
    params = {
        "sources": [str(p) for p in files], "shown": _shown(station.config, held),
        "inbox_studies": sorted(uids),
    } | choices.params(station.config)  # fmt: skip
    busy = burn._busy(request, params)
    if busy is not None:
        notice = _("The same disc is already being made. Follow it, or wait until it ends.")
        return burn._page(
            request, status=409, form=form, inbox_notice=notice, inbox_busy=busy,
            inbox_chosen=uids,
        )  # fmt: skip
    job_id = jobs.submit(request, "build", params, describe("build", params), *patients.pop())
    return web.redirect(f"/jobs/{job_id}")


def _shown(config: StationConfig, studies: list[InboxStudy]) -> str:
    """The job's source in words: "2 studies received from PACS1" (or from several)."""
    n = len({s.study_uid for s in studies})
    names = sorted({sender_name(config, s.calling_ae) for s in studies})
    return ngettext(
        "%(num)d study received from %(sender)s", "%(num)d studies received from %(sender)s", n
    ) % {"num": n, "sender": ", ".join(names)}


def users_of(request: Request, files: list[Path]) -> int | None:
    """A build job not yet ended whose sources include one of these inbox files (or an inbox
    folder holding one), e.g. a disc being made from them or a PACS's media creation request."""
    root = web.station(request).config.data / inbox.FOLDER
    wanted = {str(p) for p in files}
    wanted |= {str(f) for p in files for f in p.parents if f == root or root in f.parents}
    for job in web.station(request).store.jobs(states=burn.BUSY, kinds=("build",), limit=1000):
        sources = {str(s) for s in job.params.get("sources") or []}
        if sources & wanted:
            return job.id
    return None


async def remove(request: Request) -> Response:
    """``POST /burn/inbox/remove``: the chosen studies leave the inbox (rows and files), each
    patient's in the audit trail; refused while a build not yet ended uses them."""
    web.require(request, burn.DESK)
    posted = await web.posted(request)
    form = dict(posted) | {"posted": "1"}
    uids = _chosen(posted)
    station = web.station(request)
    if not uids:
        return _refused(request, form, _("Choose the studies to remove from the inbox."))
    held = [s for s in inbox.studies(station.store) if s.study_uid in uids]
    if not held:  # removed meanwhile (another clerk, the same form sent twice)
        message = _("A chosen study is no longer in the inbox. Look at the list again and choose.")
        return _refused(request, form, message, 409)
    files = inbox.files_of_studies(station.store, station.config.data, uids)
    job_id = users_of(request, files)
    if job_id is not None:
        message = _(
            "Job %(id)s is making a disc from these studies: they stay in the inbox until it "
            "ends. Cancel the job first to remove them now."
        ) % {"id": job_id}
        return _refused(request, form, message, 409, inbox_busy=job_id, inbox_chosen=uids)
    removed = inbox.remove_studies(station.store, station.config.data, uids)
    for (pid, name), rows in by_patient(held).items():
        count = sum(s.instances for s in rows)
        what = f"{len({s.study_uid for s in rows})} studies ({count} instances)"
        web.audit(request, "inbox removed", pid, name, what)
    n = len({s.study_uid for s in held})
    notice = _("Removed %(studies)s (%(instances)s) from the inbox.") % {
        "studies": ngettext("%(num)d study", "%(num)d studies", n) % {"num": n},
        "instances": ngettext("%(num)d instance", "%(num)d instances", removed) % {"num": removed},
    }
    return burn._page(request, form=form, inbox_done=notice)


routes = [
    Route("/burn/inbox/build", build, methods=["POST"]),
    Route("/burn/inbox/remove", remove, methods=["POST"]),
]
