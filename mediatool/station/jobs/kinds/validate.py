"""``validate``: the QA desk's check of a disc, ISO image or zip (``mediatool validate``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from mediatool.station.i18n import gettext as _
from mediatool.station.jobs.context import JobContext
from mediatool.station.jobs.kinds import common

REPORT_HTML: Final = "report.html"
REPORT_JSON: Final = "report.json"


def describe(params: Mapping[str, Any]) -> str:
    profile = common.text(params, "profile")
    media = common.shown(params)
    if profile:
        return _("Validate %(media)s against %(profile)s") % {"media": media, "profile": profile}
    return _("Validate %(media)s") % {"media": media}


def run_validate(params: Mapping[str, Any], ctx: JobContext) -> dict[str, Any]:
    """``{media, profile|null}`` → the ``mediatool.validate/1`` document (what ``validate
    --json`` prints) plus ``html``: the QA report's path relative to the job folder, and
    ``files``: the HTML and JSON reports (the job page's downloads). A damaged medium gives its
    one-finding report, as the CLI does."""
    from mediatool import profiles
    from mediatool.media import open_media
    from mediatool.media.base import DamagedMedia
    from mediatool.validate import render, validate_media
    from mediatool.validate.report import damaged_report

    media = common.required(params, "media")
    profile_id = common.text(params, "profile")
    watched = common.progress(ctx)
    with common.library_errors():
        profile = profiles.load(profile_id) if profile_id else None
        try:
            with open_media(media) as reader:
                report = validate_media(reader, profile, watched, jobs=1)
                watched.check()
        except DamagedMedia as exc:  # a damaged image is a judgement on the media: FAIL
            report = damaged_report(media, exc, profile_id or None)
    (ctx.folder / REPORT_HTML).write_text(render.html(report), encoding="utf-8")
    outcome = "passed" if report.ok else "failed"
    for p in sorted(report.inventory.patients.values(), key=lambda p: p.patient_id):
        ctx.audit("validate", p.patient_id, p.name, outcome)
    document = render.as_json(report)
    (ctx.folder / REPORT_JSON).write_text(document, encoding="utf-8")
    result: dict[str, Any] = json.loads(document)
    result["html"] = REPORT_HTML
    result["files"] = [REPORT_HTML, REPORT_JSON]  # offered for download on the job's page
    return result
