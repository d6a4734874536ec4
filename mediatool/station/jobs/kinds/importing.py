"""``import``: an outside disc into the PACS (or an archive folder), reconciled, with the
accounting of ``import --json`` and a receipt per study for the reception desk.

The library's rules apply unchanged (:mod:`mediatool.importer`): the destination is asked what
it holds first, a study it files under another Patient ID stops the import, and a second run of
the same job (same ``state_folder``) sends only what is missing (the importer's journal).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediatool.station.i18n import gettext as _
from mediatool.station.jobs.context import JobContext, JobFailed
from mediatool.station.jobs.kinds import common
from mediatool.station.jobs.kinds.receipt import receipt

if TYPE_CHECKING:
    from mediatool.importer.reconcile import LocalIdentity
    from mediatool.importer.run import ArchiveTarget, ImportReport, PacsTarget
    from mediatool.importer.survey import Survey
    from mediatool.media.base import MediaReader
    from mediatool.net.association import Network


def describe(params: Mapping[str, Any]) -> str:
    media = common.shown(params)
    ids = params.get("identities") or {}
    local = sorted(str(v.get("patient_id", "")) for v in ids.values() if isinstance(v, dict))
    to = (common.text(params, "pacs") or common.text(params, "into") or "?").split("@", 1)[0]
    if local:
        return _("Import %(disc)s for patient %(id)s -> %(to)s") % {
            "disc": media, "id": ", ".join(local), "to": to,
        }  # fmt: skip
    return _("Import %(disc)s -> %(to)s") % {"disc": media, "to": to}


def run_import(params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """``{media, pacs | into, calling_aet, timeout, commit, listen_port, state_folder,
    studies, identities, accession, no_pacs_check, commit_timeout (optional, seconds)}`` →
    the ``mediatool.import/1`` document plus ``receipt`` (:func:`.receipt.receipt`)."""
    media = common.required(params, "media")
    net = common.network(params)
    with common.library_errors():
        destination = _destination(params, media, net)
        with common.open_medium(media) as reader:
            report, survey = _import(reader, params, destination, ctx)
    from mediatool.importer.render import import_json

    result = import_json(report)
    result["receipt"] = receipt(report, survey, commit=bool(params.get("commit")))
    for p in result["receipt"]["patients"]:
        ctx.audit("import", p["patient_id"], p["name"], p["outcome"])
    if report.error is not None:  # the accounting is complete and kept; the job failed: never
        # "done" when the import stopped (PACS gone, journal unwritable)
        raise JobFailed(str(report.error), report.error.hint, result=result)
    return result


def _destination(params: Mapping[str, Any], media: str, net: Network) -> ArchiveTarget | PacsTarget:
    from mediatool.importer.archive import check_apart
    from mediatool.importer.run import ArchiveTarget

    into, pacs = common.text(params, "into"), common.text(params, "pacs")
    if bool(into) == bool(pacs):
        raise JobFailed("an import goes to exactly one of a PACS ('pacs') or a folder ('into')")
    if into:
        check_apart(media, Path(into))
        return ArchiveTarget(Path(into))
    return _pacs(params, pacs, net)


def _pacs(params: Mapping[str, Any], where: str, net: Network) -> PacsTarget:
    """The PACS to send to; it must answer a C-ECHO first (as ``import --to-pacs``)."""
    from mediatool.importer.journal import default_state_dir
    from mediatool.importer.run import PacsTarget
    from mediatool.net.association import echo

    peer = common.peer(where, "the PACS")
    state = common.text(params, "state_folder")
    port = params.get("listen_port")
    target = PacsTarget(
        peer,
        net,
        Path(state) if state else default_state_dir(),
        commit=bool(params.get("commit")),
        listen_port=int(port) if port else None,
        commit_wait=float(params.get("commit_timeout") or 60.0),
        check=not params.get("no_pacs_check"),
    )
    answer = echo(peer, net)
    if not answer.ok:
        raise JobFailed(
            f"the PACS does not answer: {answer.message}",
            hint="check the PACS node with the Test button of the configuration page",
        )
    return target


def _import(
    reader: MediaReader,
    params: Mapping[str, Any],
    destination: ArchiveTarget | PacsTarget,
    ctx: JobContext,
) -> tuple[ImportReport, Survey]:
    from mediatool.importer import same_content
    from mediatool.importer.run import RunOptions
    from mediatool.importer.run import run_import as run
    from mediatool.importer.select import Selection, check_selection, plan_import
    from mediatool.importer.survey import survey_media

    progress = common.progress(ctx)
    studies = params.get("studies") or []
    selection = Selection(frozenset(str(s) for s in studies))
    survey = survey_media(reader, progress=progress, jobs=1)
    progress.check()
    check_selection(survey, selection)
    identities = _identities(survey, selection, params.get("identities") or {})
    plan = plan_import(survey, selection, identities, same_content(reader))
    options = RunOptions(accession=common.text(params, "accession") or None)
    report = run(reader, plan, destination, options, progress=progress)
    progress.check()
    return report, survey


def _identities(
    survey: Survey, selection: Any, given: Mapping[str, Any]
) -> dict[str, LocalIdentity] | None:
    """``{media_patient_id: {patient_id, issuer, name, birth_date, sex}}`` → the library's
    identities (checked against their VRs); {} keeps the media's values. A patient of the
    selection without an identity is not imported (as with ``import --map``)."""
    from mediatool.importer import identity as ident
    from mediatool.importer.reconcile import LocalIdentity
    from mediatool.importer.select import selected

    if not given:
        return None
    mapping: dict[str, LocalIdentity] = {}
    for foreign, values in given.items():
        if not isinstance(values, dict) or not values.get("patient_id"):
            raise JobFailed(f"the local identity for {foreign!r} has no patient_id")
        local = LocalIdentity(
            str(values["patient_id"]),
            issuer=values.get("issuer") or None,
            name=values.get("name") or None,
            birth_date=values.get("birth_date") or None,
            sex=(values.get("sex") or "").upper() or None,
        )
        mapping[str(foreign)] = ident.check_identity(local, f"patient {foreign!r}")
    patients = ident.media_patients(selected(survey, selection))
    unknown = sorted(set(mapping) - {p.patient_id for p in patients})
    if unknown:
        raise JobFailed(
            f"no patient {', '.join(repr(u) for u in unknown)} in the chosen studies of the disc",
            hint="look at the disc again: its patients may have changed",
        )
    return ident.from_map(patients, mapping)
