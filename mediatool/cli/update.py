"""``mediatool update``: add instances to, or remove studies and series from, a File-set."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click

from mediatool import profiles
from mediatool.cli.errors import handle_errors, json_on_error
from mediatool.cli.options import (
    fail_on_option,
    jobs_option,
    json_option,
    medium_profile_option,
    quiet_option,
)
from mediatool.cli.output import Progress, emit_json, findings_to_stderr, summary_line
from mediatool.errors import MediatoolError, PlanRejected
from mediatool.findings import Severity


@click.command("update")
@click.argument("media", type=click.Path(path_type=Path))
@click.option(
    "--add",
    "add",
    multiple=True,
    metavar="SOURCE",
    help="Add the instances of this file, folder or zip archive (repeatable).",
)
@click.option(
    "--remove-study",
    multiple=True,
    metavar="UID",
    help="Remove the study with this Study Instance UID, its files too (repeatable).",
)
@click.option(
    "--remove-series",
    multiple=True,
    metavar="UID",
    help="Remove the series with this Series Instance UID, its files too (repeatable).",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Rebuild the directory records from the files present (after an interrupted update).",
)
@click.option(
    "--site",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Site file (TOML) for the web content, when the medium has web content.",
)
@click.option("--dry-run", is_flag=True, help="Plan only; change nothing.")
@jobs_option("Worker processes (default: all cores).")
@medium_profile_option
@fail_on_option
@json_option
@quiet_option
def update(**params: Any) -> None:
    """Update the File-set in the folder MEDIA (a disc folder or a mounted USB stick) in place.

    Adds instances with new File IDs that continue the medium's naming, removes studies or
    series, keeps the File-set ID and UID and every other file byte for byte, and rewrites the
    DICOMDIR atomically with (0004,1212) File-set Consistency Flag set while it works
    (PS3.3 F.3.2.1). Added files are made Part 10 for the medium's Application Profile (the one its
    records fit, or --profile) as build does. The web content
    is written again when the medium has it.

    \b
    Example:
      mediatool update /media/usb --add ./new-study
      mediatool update ./disc --remove-study 1.2.826.0.1.3680043.8.498.1
      mediatool update ./disc --repair --json
    """
    from mediatool.update import UpdateRequest, UpdateResult, run

    if not (params["add"] or params["remove_study"] or params["remove_series"] or params["repair"]):
        raise click.UsageError(
            "give --add SOURCE, --remove-study UID, --remove-series UID or --repair"
        )
    progress = Progress(enabled=not params["quiet"] and not params["as_json"])
    as_json = params["as_json"]
    with handle_errors(), json_on_error(as_json, _error_document(params["media"])) as printed:
        request = UpdateRequest(
            media=params["media"],
            add=params["add"],
            remove_studies=params["remove_study"],
            remove_series=params["remove_series"],
            profile=(
                profiles.load(params["profile_id"], params["profile_dir"])
                if params["profile_id"]
                else None
            ),
            profile_dir=params["profile_dir"],
            repair=params["repair"],
            dry_run=params["dry_run"],
            site=params["site"],
            jobs=params["jobs"],
            fail_on=Severity[params["fail_on"].upper()],
        )
        try:
            result = run(request, progress)
        except PlanRejected as exc:
            if as_json and isinstance(exc.result, UpdateResult):
                emit_json(exc.result.as_dict())
                printed.append(True)
            raise
        finally:
            progress.close()
        _report(result, as_json=params["as_json"], verbose=params["verbose"])
    sys.exit(0)


def _error_document(media: Path) -> Callable[[MediatoolError], Mapping[str, Any]]:
    """The one JSON document of an update that stopped with an error (exit 2)."""
    from mediatool.update import SCHEMA

    return lambda exc: {
        "schema": SCHEMA, "ok": False, "media": str(media), "written": False,
        "error": str(exc), "hint": exc.hint, "added": [], "removed": [], "skipped": [],
        "findings": [f.as_dict() for f in getattr(exc, "findings", ())],
    }  # fmt: skip


def _report(result: Any, *, as_json: bool, verbose: bool) -> None:
    if as_json:
        emit_json(result.as_dict())
        return
    findings_to_stderr(result.findings, verbose=verbose)
    did = "Updated" if result.written else ("Planned" if result.added or result.removed else "")
    what = (
        f"{len(result.added)} instance(s) added, {len(result.removed)} removed, "
        f"{len(result.skipped)} skipped as already there"
    )
    if not did:
        click.echo(
            f"Nothing to change in {result.media}: {what}; findings: "
            f"{summary_line(result.findings)}"
        )
        return
    click.echo(
        f"{did} the File-set {result.fileset_id or '(no File-set ID)'} in {result.media} "
        f"({result.profile}): {what}"
        + ("; web content written again" if result.web else "")
        + ("; records rebuilt (--repair)" if result.repaired else "")
        + f"; findings: {summary_line(result.findings)}"
    )
