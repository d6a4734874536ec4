"""The ``mediatool.build/1`` document: what a build planned or wrote, as data.

``build --json`` prints it (:mod:`mediatool.cli.build_report`); the station stores it as the
result of a build job. Pure: the plan and the output paths in, a JSON-ready dict out.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mediatool.build.plan import MediaPlan

BUILD_SCHEMA: Final = "mediatool.build/1"


def volume_rows(media_plan: MediaPlan, out: Path | None, iso: Path | None) -> list[dict[str, Any]]:
    """One row per volume of a spanned build (disc k of n): its folder, image and counts."""
    return [
        {
            "k": k,
            "volume_id": v.fileset_id,
            "fileset_uid": v.fileset_uid,
            "out": str(out / v.fileset_id) if out else None,
            "iso": str(iso.with_name(f"{iso.stem}_{k}{iso.suffix}")) if iso else None,
            "counts": v.tree.counts(),
        }
        for k, v in enumerate(media_plan.volumes, 1)
    ]


def build_document(
    media_plan: MediaPlan, out: Path | None, iso: Path | None, *, dry_run: bool
) -> dict[str, Any]:
    """The build's report: profile, File-set UID, counts, findings, volumes, left-out inputs
    (and with ``dry_run`` the planned files)."""
    doc: dict[str, Any] = {
        "schema": BUILD_SCHEMA,
        "ok": media_plan.ok,
        "dry_run": dry_run,
        "out": str(out) if out else None,
        "iso": str(iso) if iso else None,
        "profile": media_plan.profile.id,
        "fileset": {"uid": media_plan.fileset_uid, "id": media_plan.fileset_id},
        "counts": media_plan.summary(),
        "findings": [f.as_dict() for f in media_plan.findings],
    }
    if media_plan.volumes:
        doc["volumes"] = volume_rows(media_plan, out, iso)
    if media_plan.left_out:
        doc["left_out"] = [
            {"source": where, "code": why.code, "reason": why.message}
            for where, why in media_plan.left_out
        ]
    if dry_run:
        doc["files"] = _planned_files(media_plan)
    return doc


def _planned_files(media_plan: MediaPlan) -> list[dict[str, Any]]:
    from mediatool.model import render_file_id

    return [
        {
            "file_id": render_file_id(media_plan.file_ids[i.sop_instance_uid]),
            "source": i.source.display,
            "action": media_plan.decisions[i.sop_instance_uid].action.value,
            "transfer_syntax": media_plan.decisions[i.sop_instance_uid].target_ts,
        }
        for i in media_plan.tree.instances()
    ]
