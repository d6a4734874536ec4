"""``mediatool validate``: check a medium (folder, ISO image, zip archive) in one pass."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mediatool import profiles
from mediatool.cli.errors import handle_errors
from mediatool.cli.options import (
    claimed_profile_option,
    fail_on_option,
    jobs_option,
    json_option,
    quiet_option,
)
from mediatool.cli.output import Progress
from mediatool.findings import Severity


def _write_atomically(path: Path, content: str) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename (a failure removes
    the temporary file; the leftovers of an interrupted run are cleared first)."""
    from mediatool.writers.folder import write_file_atomically

    write_file_atomically(path, content.encode("utf-8"), "the HTML report", make_parents=False)


@click.command("validate")
@click.argument("media", type=click.Path(path_type=str))
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a self-contained HTML QA report to this file.",
)
@jobs_option("Worker processes (default: all cores).")
@claimed_profile_option
@fail_on_option
@json_option
@quiet_option
def validate(  # noqa: PLR0913 - a click command: one parameter per option
    media: str,
    html_path: Path | None,
    jobs: int | None,
    profile_id: str | None,
    profile_dir: Path | None,
    fail_on: str,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Validate the DICOM File-set on MEDIA: a folder, an ISO 9660 image or a zip archive.

    Checks the DICOMDIR, its records and offsets, every referenced file and every DICOM file
    on the media (PS3.10, PS3.3 Annex F, PS3.12). The Application Profile rules (PS3.11:
    Transfer Syntaxes, SOP Classes, extra directory keys) are checked only when --profile is
    given. The report goes to stdout; exit 1 when a finding at or above --fail-on exists.

    \b
    Example:
      mediatool validate /media/cdrom
      mediatool validate disc.iso --profile STD-GEN-CD --html qa.html
      mediatool validate export.zip --json --fail-on warning
    """
    from mediatool.media import open_media
    from mediatool.media.base import DamagedMedia
    from mediatool.validate import render, validate_media
    from mediatool.validate.report import damaged_report

    threshold = Severity[fail_on.upper()]
    progress = Progress(enabled=not quiet and not as_json)
    with handle_errors():
        profile = profiles.load(profile_id, profile_dir) if profile_id else None
        try:
            with open_media(media) as reader:
                report = validate_media(reader, profile, progress, jobs=jobs)
        except DamagedMedia as exc:  # a damaged image is a judgement on the media: FAIL
            report = damaged_report(media, exc, profile.id if profile else None)
        finally:
            progress.close()
        if html_path is not None:
            _write_atomically(html_path, render.html(report, threshold))
        if as_json:
            click.echo(render.as_json(report, threshold))
        else:
            click.echo(render.text(report, threshold, verbose=verbose))
    sys.exit(0 if report.passes(threshold) else 1)
