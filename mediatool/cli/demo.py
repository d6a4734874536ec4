"""``mediatool demo``: the main job on the bundled sample, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mediatool import profiles
from mediatool.cli.build_report import Targets, report_build
from mediatool.cli.errors import handle_errors
from mediatool.cli.options import quiet_option
from mediatool.cli.output import Progress

if TYPE_CHECKING:
    from mediatool.build.plan import MediaPlan


@click.command()
@click.argument(
    "folder", type=click.Path(file_okay=False, path_type=Path), default="mediatool-demo"
)
@quiet_option
def demo(folder: Path, quiet: bool, verbose: bool) -> None:
    """Run the main job on the bundled sample: FOLDER/incoming → FOLDER/disc and disc.iso.

    Writes a fresh sample of messy foreign files (`mediatool sample`) and builds a STD-GEN-CD
    patient disc from it (`mediatool build`): the File-set with IHE PDI web content and the
    browser viewer in FOLDER/disc, the same as an ISO image FOLDER/disc.iso, and a printable
    label FOLDER/label.png. Re-running replaces them.

    \b
    Example:
      mediatool demo ./mediatool-demo
    """
    disc, iso_file, label = folder / "disc", folder / "disc.iso", folder / "label.png"
    progress = Progress(enabled=not quiet)
    with handle_errors():
        media_plan = _build(folder / "incoming", disc, iso_file, label, progress)
        report_build(media_plan, Targets(disc, iso_file, False), as_json=False, verbose=verbose)
        click.echo(
            f"Open {disc / 'INDEX.HTM'} in a web browser (or {disc / 'DICOMDIR'} in a DICOM "
            f"viewer); burn {iso_file}; print {label}; check with: mediatool validate {iso_file}",
            err=True,
        )


def _build(
    incoming: Path, disc: Path, iso_file: Path, label: Path, progress: Progress
) -> MediaPlan:
    """A fresh sample in ``incoming``, then the disc built from it (folder, image, label)."""
    import shutil

    from mediatool import build as build_mod
    from mediatool.sample import generate_sample

    shutil.rmtree(incoming, ignore_errors=True)
    sample_result = generate_sample(incoming)
    click.echo(
        f"Sample: {len(sample_result.files)} files ({sample_result.instances} "
        f"instances) in {incoming}",
        err=True,
    )
    request = build_mod.BuildRequest(
        sources=(str(incoming),),
        out=disc,
        profile=profiles.load(profiles.DEFAULT_PROFILE),
        fileset_id="MEDIATOOL_DEMO",
        force=True,
        iso=iso_file,
        label=label,
    )
    try:
        media_plan = build_mod.run(request, progress)
    finally:
        progress.close()
    return media_plan
