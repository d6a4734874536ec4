"""``build``: the burn desk's disc (folder, ISO image per volume, label) from files or a PACS."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from mediatool.station.i18n import gettext as _
from mediatool.station.i18n import ngettext
from mediatool.station.jobs.context import JobContext, JobFailed
from mediatool.station.jobs.kinds import common

if TYPE_CHECKING:
    from mediatool.build import BuildRequest
    from mediatool.build.plan import MediaPlan

DISC: Final = "disc"
ISO: Final = "disc.iso"
#: Media whose file system is not ISO 9660 (PS3.12 Annex J: UDF 1.50; Annex X: UDF 2.50/2.60):
#: the job writes their image (``build --image``) as ``disc.img`` instead of ``disc.iso``.
UDF_ONLY: Final = ("dvd-ram", "bd", "bd-re")
IMAGE: Final = "disc.img"
OUTPUT_SUFFIXES: Final = (".iso", ".img", ".png")
LABEL: Final = "label.png"


def describe(params: Mapping[str, Any]) -> str:
    """The title in the language of the page that shows it (station.i18n)."""
    pacs = params.get("from_pacs")
    asked = params.get("media_request")
    if isinstance(asked, Mapping):  # a PACS's Media Creation Management request (node/mcm.py)
        n = len(params.get("sources") or [])
        source = ngettext(
            "%(num)d instance asked for by %(ae)s", "%(num)d instances asked for by %(ae)s", n
        ) % {"num": n, "ae": asked.get("calling_ae", "?")}
    elif isinstance(pacs, Mapping):
        parts = [
            pacs.get("patient_id") and _("patient %(id)s") % {"id": pacs["patient_id"]},
            pacs.get("accession") and _("accession %(n)s") % {"n": pacs["accession"]},
            pacs.get("study_uids")
            and ngettext("%(num)d study", "%(num)d studies", len(pacs["study_uids"]))
            % {"num": len(pacs["study_uids"])},
        ]
        node = str(pacs.get("pacs", "?")).split("@", 1)[0]
        what = " ".join(x for x in parts if x)
        source = _("%(what)s from %(pacs)s") % {"what": what, "pacs": node}
    else:
        shown = common.text(params, "shown")
        names = [shown] if shown else [Path(str(s)).name for s in params.get("sources") or []]
        source = ", ".join(names[:3])
        if len(names) > 3:
            source += " " + _("and %(n)d more") % {"n": len(names) - 3}
    medium = common.text(params, "media").upper() or _("disc")
    copies = int(params.get("copies") or 1)
    title = _("Build a %(medium)s of %(source)s") % {"medium": medium, "source": source}
    if copies > 1:
        title += ", " + ngettext("%(num)d copy", "%(num)d copies", copies) % {"num": copies}
    return title


def run_build(params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """``{sources | from_pacs: {pacs, calling_aet, timeout, patient_id, accession, study_uids,
    method, allow_partial}, profile, media, capacity (bytes, optional), web, site, fileset_id,
    copies}`` → the ``mediatool.build/1`` document (``build --json``) plus ``files``: what the
    job folder holds (``disc/``, one ISO image and label per volume), relative paths,
    ``copies``, and from the PACS ``retrieve`` (the retrieve's accounting, per study)."""
    from mediatool.build.report import build_document

    request = _request(params, ctx.folder)
    with common.library_errors():
        media_plan, retrieved = _run(request, params, ctx)
    if media_plan.volumes and not params.get("allow_spanning", True):
        _remove_outputs(ctx.folder)
        raise JobFailed(
            f"the disc does not fit on one {request.media or 'medium'}: it needs "
            f"{len(media_plan.volumes)} and the request does not allow splitting",
            "ask for a medium that holds more (a DVD profile), or allow media splitting",
            result={"mcm_info": "SET_OVERSIZED"},
        )
    result = build_document(media_plan, request.out, request.iso, dry_run=False)
    if retrieved is not None:
        result["retrieve"] = retrieved
    result["files"] = sorted(
        str(p.relative_to(ctx.folder))
        for p in ctx.folder.iterdir()
        if p.name == DISC or p.suffix in OUTPUT_SUFFIXES
    )
    result["image"] = (request.image or request.iso or Path(ISO)).name
    result["copies"] = int(params.get("copies") or 1)
    for patient_id, name in _patients(media_plan):
        ctx.audit("build", patient_id, name, "done")
    return result


def _remove_outputs(folder: Path) -> None:
    import shutil

    for p in folder.iterdir():
        if p.name == DISC:
            shutil.rmtree(p, ignore_errors=True)
        elif p.suffix in OUTPUT_SUFFIXES:
            p.unlink(missing_ok=True)


def _patients(media_plan: MediaPlan) -> list[tuple[str, str]]:
    """Patient ID and name of each patient on the disc (the name of its first instance)."""
    out = []
    for p in media_plan.tree.patients:
        first = next((i for st in p.studies for se in st.series for i in se.instances), None)
        out.append((p.patient_id, first.patient_name if first else ""))
    return out


def _request(params: Mapping[str, Any], folder: Path) -> BuildRequest:
    from mediatool import profiles
    from mediatool.build import BuildRequest

    sources = [str(s) for s in params.get("sources") or []]
    if bool(sources) == bool(params.get("from_pacs")):
        raise JobFailed("a build takes its instances from 'sources' or 'from_pacs' (one of them)")
    site = common.text(params, "site")
    fileset_id = common.text(params, "fileset_id")
    with common.library_errors():
        profile = profiles.load(common.text(params, "profile", "STD-GEN-CD"))
    media = common.text(params, "media") or None
    udf = (media or profile.media) in UDF_ONLY
    return BuildRequest(
        sources=tuple(sources),
        out=folder / DISC,
        profile=profile,
        fileset_id=fileset_id.upper() if fileset_id.isascii() else fileset_id,
        iso=None if udf else folder / ISO,
        image=folder / IMAGE if udf else None,
        media=media,
        capacity=_capacity(params.get("capacity")),
        web=bool(params.get("web", True)),
        site=Path(site) if site else None,
        label=folder / LABEL,
        label_text=common.text(params, "label_text"),
        label_from_instances=bool(params.get("label_from_instances", True)),
        fileset_uid=common.text(params, "fileset_uid"),
        jobs=1,
    )


def _capacity(value: Any) -> int | None:
    """Bytes one volume may hold instead of the medium's (None: the medium's)."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise JobFailed(f"the job parameter 'capacity' must be bytes > 0, not {value!r}")
    return value


def _run(
    request: BuildRequest, params: Mapping[str, Any], ctx: JobContext
) -> tuple[MediaPlan, dict[str, Any] | None]:
    """The plan written, and for a build from the PACS the retrieve's accounting (per study:
    completed / failed sub-operations, written, the study's label for people)."""
    from mediatool import build
    from mediatool.retrieve.burn import build_from_pacs

    progress = common.progress(ctx)
    pacs = params.get("from_pacs")
    retrieved = None
    if not isinstance(pacs, Mapping):
        media_plan = build.run(request, progress)
    else:
        partial = bool(pacs.get("allow_partial", False))
        done = build_from_pacs(request, _retrieve(pacs), allow_partial=partial, progress=progress)
        assert done.plan is not None  # build_from_pacs returns a plan or raises
        media_plan = done.plan
        retrieved = done.retrieve.as_dict()
        for row, study in zip(retrieved["studies"], done.retrieve.studies, strict=True):
            row["label"] = study.label
    progress.check()
    return media_plan, retrieved


def _retrieve(pacs: Mapping[str, Any]) -> Any:
    from mediatool.net.association import check_ae_title
    from mediatool.retrieve.find import StudyQuery
    from mediatool.retrieve.run import RetrieveRequest

    where = common.required(pacs, "pacs")
    common.peer(where, "the PACS")
    study_uids = tuple(str(u) for u in pacs.get("study_uids") or ())
    query = StudyQuery(
        common.text(pacs, "patient_id"), common.text(pacs, "accession"), study_uids=study_uids
    )
    if query.is_empty():
        raise JobFailed("a build from the PACS needs a patient ID, an accession or studies")
    method = common.text(pacs, "method", "get")
    if method != "get":
        raise JobFailed(f"the station retrieves with C-GET only, not {method!r}")
    return RetrieveRequest(
        peer=where,
        query=query,
        method=method,
        calling_aet=check_ae_title(common.text(pacs, "calling_aet", "MEDIATOOL"), "calling_aet"),
        timeout=float(pacs.get("timeout") or 30.0),
    )
