"""``mediatool burn SOURCE --ptburn FOLDER``: hand the disc to a Primera disc publisher.

The image (and the label) go into a subfolder of PTBurn's Job Request Folder, then a Job Request
File names them (:mod:`mediatool.writers.ptburn`, PTBurn 3 SDK section 2). The robot burns,
verifies (``VerifyDisc``) and prints; this command only hands the job over, and says so: it
never reports a disc as burned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import click

from mediatool.cli.output import emit_json
from mediatool.writers import burn as burner
from mediatool.writers import ptburn

ROBOT_SCHEMA: Final = "mediatool.burn-robot/1"
#: PTBurn's Job Request Folder when installed with its defaults (PTBurn 3 SDK section 1)
DEFAULT_ROBOT_FOLDER: Final = "C:\\PTBURNJOBS"


def refuse_drive_options(device: str | None, given: dict[str, bool]) -> None:
    """--ptburn hands the disc over: the options of a drive here make no sense with it."""
    if device is not None:
        raise click.UsageError("give either --device (a drive here) or --ptburn (a robot)")
    wrong = [name for name, on in given.items() if on]
    if wrong:
        verb = "works" if len(wrong) == 1 else "work"
        raise click.UsageError(f"{', '.join(wrong)} {verb} with --device, not with --ptburn")


def hand_over(
    image: Path,
    folder: Path,
    robot_folder: str,
    *,
    copies: int,
    verify: bool,
    label: Path | None,
) -> dict[str, Any]:
    """Submit ``image`` to PTBurn; the facts of the job (for the text and the JSON document)."""
    size = burner.image_size(image)
    sha = burner.file_sha256(image)
    job_id = ptburn.free_job_id(folder, f"MT_{sha[:12].upper()}")
    job = ptburn.PTBurnJob(job_id, "", copies, verify=verify)
    path = ptburn.submit(folder, robot_folder, image, job, label)
    return {"job_id": job_id, "job_file": str(path), "bytes": size, "sha256": sha}


def robot_report(
    source: Path, facts: dict[str, Any], *, copies: int, verify: bool, as_json: bool
) -> None:
    if as_json:
        emit_json({"schema": ROBOT_SCHEMA, "ok": True, "source": str(source), "copies": copies,
                   "verify": verify, **facts})  # fmt: skip
        return
    checked = "the robot verifies each disc" if verify else "not verified (add --verify)"
    click.echo(
        f"Handed {copies} {'copy' if copies == 1 else 'copies'} of {source} "
        f"({burner.human(facts['bytes'])}) to PTBurn as job {facts['job_id']}: "
        f"{facts['job_file']}; {checked}"
    )
    click.echo("PTBurn renames the job file .DON when the discs are done, .ERR when it failed")
