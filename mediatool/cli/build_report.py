"""What ``build`` (and ``demo``) print about the File-set they planned or wrote.

Text on stdout (findings on stderr), or with ``--json`` one ``mediatool.build/1`` document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mediatool.cli.output import emit_json, findings_to_stderr, summary_line

if TYPE_CHECKING:
    from mediatool.build.plan import MediaPlan


@dataclass(frozen=True, slots=True)
class Targets:
    """Where the build writes (or would write): the folder, the ISO image, or neither."""

    out: Path | None
    iso_file: Path | None
    dry_run: bool
    image: Path | None = None  # --image: the medium's own file system
    usb: Path | None = None  # --usb: the stick written to


def report_build(media_plan: MediaPlan, targets: Targets, *, as_json: bool, verbose: bool) -> None:
    """Print the result: one JSON document, or the findings and a summary for people."""
    if as_json:
        emit_json(_document(media_plan, targets))
        return
    findings_to_stderr(media_plan.findings, verbose=verbose)
    _text(media_plan, targets)


def _volumes(media_plan: MediaPlan, targets: Targets) -> list[dict[str, Any]]:
    from mediatool.build.report import volume_rows

    rows = volume_rows(media_plan, targets.out, targets.iso_file)
    for row in rows:  # --image: one image per volume, numbered as --iso's
        image = targets.image
        row["image"] = (
            str(image.with_name(f"{image.stem}_{row['k']}{image.suffix}")) if image else None
        )
    return rows


def _document(media_plan: MediaPlan, targets: Targets) -> dict[str, Any]:
    from mediatool.build.report import build_document

    doc = build_document(media_plan, targets.out, targets.iso_file, dry_run=targets.dry_run)
    doc["image"] = str(targets.image) if targets.image else None
    doc["usb"] = str(targets.usb) if targets.usb else None
    if "volumes" in doc:
        doc["volumes"] = _volumes(media_plan, targets)
    return doc


def _text(media_plan: MediaPlan, targets: Targets) -> None:
    summary, dry_run = media_plan.summary(), targets.dry_run
    for volume in _volumes(media_plan, targets):
        click.echo(
            f"  volume {volume['k']} of {len(media_plan.volumes)}: {volume['volume_id']}, "
            f"{volume['counts']['instances']} instances"
            + (f" -> {volume['out'] or volume['iso'] or volume['image']}" if not dry_run else "")
        )
    chosen = (targets.out, targets.iso_file, targets.image, targets.usb)
    written = [str(t) for t in chosen if t is not None]
    where = "" if dry_run else " to " + " and ".join(written)
    click.echo(
        f"{'Planned' if dry_run else 'Wrote'} a {media_plan.profile.id} File-set{where}: "
        f"{summary['patients']} patients, {summary['studies']} studies, {summary['series']} "
        f"series, {summary['instances']} instances (from {summary['files_seen']} input files); "
        f"findings: {summary_line(media_plan.findings)}"
    )
    if media_plan.left_out:
        click.echo(
            f"Left out {len(media_plan.left_out)} of {summary['files_seen']} input files "
            "(--skip-invalid): each is a build.left-out finding with its reason"
            + ("" if dry_run else ", and README.TXT lists them")
        )
