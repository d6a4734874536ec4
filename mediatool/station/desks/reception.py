"""The reception desk (issue 14, "Reception (import)"): an outside disc in, looked at, its
patient matched to the local one, sent to the PACS, and a receipt for the patient.

The steps, each one page:

1. ``/reception``: the disc from a configured drive, an uploaded ISO or zip, or a folder path;
   a ``survey`` job is queued (:mod:`mediatool.station.jobs.kinds.survey`) and its page shown
   (``job_survey.html``: patients, studies, series with thumbnails, problems in plain words).
2. For each patient of the disc: the worklist searched (:func:`.lookup.worklist_candidates`) or
   the local Patient ID typed; then the confirmation (``reception_confirm.html``: the values
   that change, before and after, by the import's own rule :func:`.reconcile.planned`), the
   studies and the PACS; ``Import`` queues an ``import`` job (``job_import.html``).
3. The receipt (``receipt.html``): what was imported, already there, refused and why; "safe to
   return the disc" only when the job's receipt says so.

Uploaded discs stay in ``data/uploads`` while the desk may need them (the import after the
survey, a retry after the PACS was down); :func:`tidy` removes them once imported safely, once
their survey failed, or after :data:`KEEP_DAYS`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from mediatool.station import uploads, web
from mediatool.station.desks import jobs
from mediatool.station.i18n import N_
from mediatool.station.i18n import gettext as _
from mediatool.station.store import Job

DESK: Final = "reception"
LOOKUP_TIMEOUT: Final = 10.0  # seconds: the worklist is asked inside the request
IMPORT_TIMEOUT: Final = 30.0
KEEP_DAYS: Final = 7
#: the values the confirmation shows, before and after (DICOM keyword, label)
FIELDS: Final = (
    ("PatientID", N_("Patient ID")), ("IssuerOfPatientID", N_("Issuer of the Patient ID")),
    ("PatientName", N_("Name")), ("PatientBirthDate", N_("Birth date")), ("PatientSex", N_("Sex")),
)  # fmt: skip
#: the receipt's words (mediatool.station.jobs.kinds.receipt) for people
STATUS_WORDS: Final = (
    N_("imported"), N_("already there"), N_("refused"), N_("not imported"),
    N_("sent, not confirmed"), N_("not chosen"),
)  # fmt: skip


#: the disc's problems in plain words (mediatool.importer.listing), for translation; a sentence
#: missing here is shown as the library wrote it (tests check this list is complete)
PROBLEMS: Final = (
    N_("No images were found on the disc."),
    N_("{n} image file(s) listed in the disc's index are missing."),
    N_(
        "{n} image file(s) listed in the disc's index point outside the disc's files; they "
        "cannot be imported."
    ),
    N_(
        "{n} image file(s) listed in the disc's index are empty or not images; they cannot be "
        "imported."
    ),
    N_("{n} image file(s) are damaged and cannot be imported."),
    N_("{n} image file(s) have no identity and cannot be imported."),
    N_("{n} file(s) cannot be read from the disc (damaged disc?)."),
    N_("{n} image(s) have the same identity as a different image; only one of each is imported."),
    N_("The disc has no index (DICOMDIR); every file was read one by one instead."),
    N_("The disc's index (DICOMDIR) is not in the top folder."),
    N_("The disc's index (DICOMDIR) is damaged; every file was read one by one instead."),
    N_("{n} image(s) are on the disc but not in its index; they are imported too."),
    N_("{n} file name(s) differ from the disc's index (e.g. lower case); found anyway."),
    N_("{n} image(s) are on the disc twice; imported once."),
    N_("The same person may appear under more than one patient ID: check the patient."),
    N_("One patient ID is used with different names or birth dates: check the patient."),
    N_("A study appears under two different patients: check the patient."),
    N_("{n} file(s) are not medical images; they are not imported."),
    N_(
        "The disc does not fully follow the DICOM rules for discs ({n} technical remarks); this "
        "does not stop the import. Details: mediatool validate"
    ),
)


def problem_text(problem: Mapping[str, Any]) -> str:
    """A problem of the survey in the page's language (the library's sentence, translated)."""
    count = int(problem.get("count", 0))
    for template in PROBLEMS:
        if template.format(n=count) == problem.get("text"):
            return _(template).format(n=count)
    return str(problem.get("text", ""))


def keep_reason(receipt: Mapping[str, Any]) -> str:
    """Why the disc must be kept (the receipt is not "safe to return"), in plain words."""
    states = {s["status"] for p in receipt.get("patients", []) for s in p["studies"]}
    if "refused" in states:
        return _("the PACS files a study of this disc under another Patient ID.")
    if "not imported" in states:
        return _("some images were not imported.")
    if "sent, not confirmed" in states or (
        receipt.get("commit_asked") and not receipt.get("committed")
    ):
        return _("the PACS did not confirm that it keeps every image. Try the import again later.")
    return _("not every image of the disc is at the PACS.")


def day(value: str) -> str:
    """A DICOM date (YYYYMMDD) as people write it (YYYY-MM-DD); anything else as it is."""
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value or "—"


web.environment().filters["problem"] = problem_text
web.environment().filters["day"] = day
web.environment().filters["keep_reason"] = keep_reason


# --- the disc --------------------------------------------------------------------------------
def drive_state(path: str) -> str:
    """``ready``, ``empty`` (the drive has no disc) or ``missing`` (no such drive or folder)."""
    where = Path(path)
    try:
        if where.is_dir():
            return "ready" if any(where.iterdir()) else "empty"
        return "ready" if where.exists() else "missing"
    except OSError:  # a drive that cannot be read (no medium, no permission)
        return "empty"


def _drives(request: Request) -> list[dict[str, str]]:
    return [
        {"name": d.name, "path": d.path, "state": drive_state(d.path)}
        for d in web.station(request).config.drives
    ]


def _desk_page(request: Request, error: str = "", status: int = 200) -> Response:
    who = web.require(request, DESK)
    store = web.station(request).store
    recent = store.jobs(kinds=["survey", "import"], user_name=who.name, limit=10)
    return web.render(
        request, "reception.html", status=status, drives=_drives(request), error=error,
        recent=recent, upload_mb=web.station(request).config.upload_mb,
    )  # fmt: skip


async def desk(request: Request) -> Response:
    web.require(request, DESK)
    tidy(web.station(request).config.data, web.station(request).store)
    return _desk_page(request)


def _survey(request: Request, media: str, shown: str, upload: bool = False) -> Response:
    from mediatool.station.jobs.kinds import describe

    params = {"media": media, "shown": shown, "uploaded": upload}
    title = describe("survey", {"media": shown})
    job_id = jobs.submit(request, "survey", params, title)
    return web.redirect(f"/jobs/{job_id}")


async def from_drive(request: Request) -> Response:
    web.require(request, DESK)
    form = await web.posted(request)
    chosen = next((d for d in _drives(request) if d["name"] == form.get("drive")), None)
    if chosen is None:
        return _desk_page(request, _("There is no such drive."), 400)
    if chosen["state"] == "empty":
        message = _("There is no disc in the drive %(name)s.") % {"name": chosen["name"]}
        return _desk_page(request, message, 400)
    if chosen["state"] == "missing":
        message = _("The drive %(name)s was not found (%(path)s).") % chosen
        return _desk_page(request, message, 400)
    return _survey(request, chosen["path"], chosen["name"])


async def from_upload(request: Request) -> Response:
    web.require(request, DESK)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        await web.posted(request)  # a form without this session's token: refused first (403)
    sent = await uploads.receive(request)
    if sent.path is None or sent.size == 0:
        if sent.path is not None:
            sent.path.unlink(missing_ok=True)
        return _desk_page(request, _("Choose an ISO image or a zip file to upload."), 400)
    if sent.path.suffix not in uploads.SUFFIXES:
        sent.path.unlink(missing_ok=True)
        message = _("%(name)s is not an ISO image or a zip file.") % {"name": sent.filename}
        return _desk_page(request, message, 400)
    return _survey(request, str(sent.path.resolve()), sent.filename, upload=True)


async def from_folder(request: Request) -> Response:
    web.require(request, DESK)
    form = await web.posted(request)
    typed = str(form.get("folder", "")).strip()
    if not typed:
        return _desk_page(request, _("Type the folder where the disc's files are."), 400)
    if not Path(typed).expanduser().exists():
        return _desk_page(request, _("The folder %(path)s was not found.") % {"path": typed}, 400)
    return _survey(request, str(Path(typed).expanduser()), typed)


# --- the survey's thumbnails -----------------------------------------------------------------
def _job(request: Request, kind: str) -> Job:
    web.require(request, DESK)
    job = jobs.job_for(request, int(request.path_params["job_id"]))
    if job.kind != kind:
        raise HTTPException(404, _("There is no such job."))
    return job


def folder_of(request: Request, job: Job) -> Path:
    return web.station(request).config.data / "jobs" / str(job.id)


def _owner(result: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """The disc's patient whose series has the thumbnail ``name`` (None: no such thumbnail)."""
    for p in result.get("patients", []):
        if any(s.get("thumbnail") == name for st in p["studies"] for s in st["series"]):
            return dict(p)
    return None


async def thumbnail(request: Request) -> Response:
    """A series' thumbnail: only a file the survey named, only below the job's folder; seen
    by the user in the audit trail (patient data)."""
    job = _job(request, "survey")
    name = str(request.path_params["name"])
    folder = folder_of(request, job).resolve()
    path = (folder / name).resolve()
    patient = _owner(job.result or {}, name)
    if patient is None or not path.is_relative_to(folder) or not path.is_file():
        raise HTTPException(404, _("There is no such file."))
    web.audit(request, "view thumbnail", patient["patient_id"], patient["name"], "sent", job.id)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private"})


# --- matching a patient ------------------------------------------------------------------------
def _patient(job: Job, form: FormData) -> tuple[int, dict[str, Any]]:
    """The disc's patient the form is about (its index in the survey's list)."""
    patients = (job.result or {}).get("patients", [])
    try:
        index = int(str(form.get("p", "")))
        return index, patients[index]
    except (ValueError, IndexError):
        raise HTTPException(404, _("The disc has no such patient.")) from None


def _worklist(request: Request) -> Any:
    nodes = web.station(request).config.nodes_of("worklist")
    return nodes[0] if nodes else None


async def search(request: Request) -> Response:
    """The worklist asked for the disc's patient (name, birth date, accession)."""
    from mediatool.net.association import Network
    from mediatool.station.lookup import LookupFailed, worklist_candidates

    job = _job(request, "survey")
    form = await web.posted(request)
    index, patient = _patient(job, form)
    asked = {k: str(form.get(k, "")).strip() for k in ("name", "birth_date", "accession")}
    node, error, found = _worklist(request), "", list[dict[str, Any]]()
    if node is None:
        error = _("No worklist is configured: type the local Patient ID below.")
    else:
        net = Network(web.station(request).config.ae_title, timeout=LOOKUP_TIMEOUT, retries=1)
        try:
            found = worklist_candidates(node.address, net, **asked)
        except LookupFailed as exc:
            error = _("The worklist could not be searched: %(why)s") % {"why": str(exc)}
        if not error and not found:
            error = _("The worklist has no patient for this search.")
    web.audit(request, "worklist search", patient["patient_id"], patient["name"], "shown", job.id)
    return web.render(
        request, "reception_match.html", job=job, index=index, patient=patient, asked=asked,
        candidates=found, error=error, node=node,
    )  # fmt: skip


def _identity(form: FormData) -> dict[str, Any]:
    values = {k: str(form.get(k, "")).strip() for k in ("patient_id", "issuer", "name")}
    values["birth_date"] = str(form.get("birth_date", "")).strip().replace("-", "")
    values["sex"] = str(form.get("sex", "")).strip().upper()
    return values


def _checked(identity: Mapping[str, Any]) -> str:
    """The library's check of the local values (empty: fine; else the reason)."""
    from mediatool.errors import MediatoolError
    from mediatool.importer.identity import check_identity

    try:
        check_identity(_local(identity))
    except MediatoolError as exc:
        return str(exc)
    return ""


def _local(identity: Mapping[str, Any]) -> Any:
    from mediatool.importer.reconcile import LocalIdentity

    return LocalIdentity(
        str(identity.get("patient_id", "")), issuer=identity.get("issuer") or None,
        name=identity.get("name") or None, birth_date=identity.get("birth_date") or None,
        sex=identity.get("sex") or None,
    )  # fmt: skip


def changes(patient: Mapping[str, Any], identity: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Before and after for each value the import may change, by the import's own rule
    (:func:`mediatool.importer.reconcile.planned` on the disc's values)."""
    from pydicom.dataset import Dataset

    from mediatool.importer.reconcile import Coercion, planned

    ds = Dataset()
    ds.PatientID = patient.get("patient_id", "")
    ds.PatientName = patient.get("name", "")
    ds.PatientBirthDate = patient.get("birth_date", "")
    ds.PatientSex = patient.get("sex", "")
    will = planned(ds, Coercion(identity=_local(identity)))
    rows = []
    for keyword, label in FIELDS:
        before = str(ds.get(keyword, "") or "")
        after = will.get(keyword, before) if keyword in will else before
        rows.append(
            {"label": _(label), "before": before, "after": after or "", "changed": keyword in will}
        )
    return rows


async def confirm(request: Request) -> Response:
    """The confirmation: what changes, the studies, the PACS, and the Import button."""
    job = _job(request, "survey")
    form = await web.posted(request)
    index, patient = _patient(job, form)
    identity = _identity(form)
    error = _checked(identity)
    web.audit(request, "view disc", patient["patient_id"], patient["name"], "shown", job.id)
    return web.render(
        request, "reception_confirm.html", job=job, index=index, patient=patient,
        identity=identity, error=error, rows=[] if error else changes(patient, identity),
        pacs=web.station(request).config.nodes_of("pacs"),
    )  # fmt: skip


# --- the import ------------------------------------------------------------------------------
def _running_import(request: Request, media: str, foreign: str) -> Job | None:
    """An import of the same disc and patient that has not ended (a double click)."""
    store = web.station(request).store
    for job in store.jobs(kinds=["import"], states=["queued", "running", "interrupted"]):
        if job.params.get("media") == media and job.params.get("patient") == foreign:
            return job
    return None


def import_params(
    request: Request, survey: Job, patient: Mapping[str, Any], form: FormData
) -> dict[str, Any]:
    """The ``import`` job's parameters (see :func:`.kinds.importing.run_import`)."""
    config = web.station(request).config
    node = config.node(str(form.get("pacs", "")))
    if node is None or node.role != "pacs":
        raise HTTPException(400, _("Choose the PACS to send to."))
    theirs = {s["study_instance_uid"] for s in patient["studies"]}
    studies = [str(s) for s in form.getlist("study") if s in theirs]
    if not studies:
        raise HTTPException(400, _("Choose at least one study to import."))
    identity = _identity(form)
    if _checked(identity):
        raise HTTPException(400, _checked(identity))
    return {
        "media": survey.params["media"], "shown": survey.params.get("shown", ""),
        "uploaded": bool(survey.params.get("uploaded")), "survey": survey.id,
        "patient": patient["patient_id"], "pacs": node.address, "pacs_name": node.name,
        "calling_aet": config.ae_title, "timeout": IMPORT_TIMEOUT, "commit": config.commit,
        "listen_port": config.listen_port, "state_folder": str(config.data / "import-state"),
        "studies": studies, "identities": {patient["patient_id"]: identity}, "accession": "",
        "study_lines": [
            {k: s[k] for k in ("date", "description", "instances")}
            for s in patient["studies"] if s["study_instance_uid"] in studies
        ],
        "no_pacs_check": False,
    }  # fmt: skip


async def start_import(request: Request) -> Response:
    from mediatool.station.jobs.kinds import describe

    survey = _job(request, "survey")
    form = await web.posted(request)
    _, patient = _patient(job=survey, form=form)
    running = _running_import(request, survey.params["media"], patient["patient_id"])
    if running is not None:  # pressed twice: the import already queued is the one to follow
        return web.redirect(f"/jobs/{running.id}")
    params = import_params(request, survey, patient, form)
    local = params["identities"][patient["patient_id"]]
    shown = {"media": params["shown"] or params["media"], "pacs": params["pacs_name"]}
    title = describe("import", {**params, **shown})
    job_id = jobs.submit(
        request, "import", params, title, local["patient_id"], local["name"] or patient["name"]
    )
    return web.redirect(f"/jobs/{job_id}")


async def retry(request: Request) -> Response:
    """The same job again (a PACS that was down, a disc that was not ready)."""
    web.require(request, DESK)
    job = jobs.job_for(request, int(request.path_params["job_id"]))
    await web.posted(request)
    if job.kind not in ("survey", "import") or job.state not in ("failed", "cancelled"):
        raise HTTPException(400, _("Only a job that failed or was cancelled can be tried again."))
    if not Path(job.params.get("media", "")).exists():
        raise HTTPException(
            410, _("The disc is no longer on the station: put it in again or upload it again.")
        )
    if job.kind == "import":
        running = _running_import(request, job.params["media"], job.params.get("patient", ""))
        if running is not None:
            return web.redirect(f"/jobs/{running.id}")
    job_id = jobs.submit(request, job.kind, job.params, job.title, job.patient_id, job.patient_name)
    return web.redirect(f"/jobs/{job_id}")


async def print_receipt(request: Request) -> Response:
    job = _job(request, "import")
    if job.state != "done" or not job.result:
        raise HTTPException(404, _("The import has not ended yet: there is no receipt."))
    web.audit(request, "print receipt", job.patient_id, job.patient_name, "shown", job.id)
    return web.render(request, "receipt.html", job=job, receipt=job.result["receipt"])


# --- uploads no longer needed ----------------------------------------------------------------
def _finished(reception: list[Job]) -> set[str]:
    """Uploaded discs done with: their survey failed or found no patient (not a disc), or every
    patient of the disc was imported and the disc is safe to return."""
    safe: dict[int, set[str]] = {}
    for job in reception:
        receipt = (job.result or {}).get("receipt") or {}
        if job.kind == "import" and job.state == "done" and receipt.get("safe_to_return"):
            safe.setdefault(int(job.params.get("survey", 0)), set()).add(job.params["patient"])
    out = set()
    for job in reception:
        if job.kind != "survey" or not job.params.get("uploaded"):
            continue
        everyone = {p["patient_id"] for p in (job.result or {}).get("patients", [])}
        nothing = job.state == "done" and not everyone  # no patient on it: not a disc
        if job.state == "failed" or nothing or (everyone and everyone <= safe.get(job.id, set())):
            out.add(str(job.params["media"]))
    return out


def tidy(data: Path, store: Any, now: float | None = None) -> list[Path]:
    """Remove uploaded discs the desk no longer needs (:func:`_finished`, or older than
    :data:`KEEP_DAYS` days); never one that a job not yet ended uses."""
    now = time.time() if now is None else now
    reception = store.jobs(kinds=["survey", "import"], limit=1000)
    busy = {str(j.params.get("media", "")) for j in reception if not j.final}
    finished = _finished(reception)
    removed = []
    for path in (data / "uploads").resolve().glob("*"):
        old = now - path.stat().st_mtime > KEEP_DAYS * 86400
        if path.is_file() and str(path) not in busy and (str(path) in finished or old):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


routes = [
    Route("/reception", desk),
    Route("/reception/drive", from_drive, methods=["POST"]),
    Route("/reception/upload", from_upload, methods=["POST"]),
    Route("/reception/folder", from_folder, methods=["POST"]),
    Route("/reception/{job_id:int}/thumb/{name:path}", thumbnail),
    Route("/reception/{job_id:int}/search", search, methods=["POST"]),
    Route("/reception/{job_id:int}/confirm", confirm, methods=["POST"]),
    Route("/reception/{job_id:int}/import", start_import, methods=["POST"]),
    Route("/reception/{job_id:int}/retry", retry, methods=["POST"]),
    Route("/reception/{job_id:int}/receipt", print_receipt),
]
