"""``mediatool burn SOURCE --device DEV``: write a disc image (or a File-set folder, packed into
one first) onto optical media with xorriso, and read each copy back to verify it.

Exit codes as everywhere (:mod:`.errors`): 0 every copy written (and, with --verify, read back
equal); 1 a copy failed (write error, read-back mismatch, a later disc refused) or the folder
was refused because of findings; 2 could not run, nothing written (xorriso missing, no such
device, not a drive, no medium, medium not blank, image larger than the medium).

``--ptburn FOLDER`` hands the disc to a Primera robot instead (:mod:`.burn_robot`): 0 the job is
in the robot's hot folder; 2 it could not be put there.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Final

import click

from mediatool.cli.burn_robot import (
    DEFAULT_ROBOT_FOLDER,
    hand_over,
    refuse_drive_options,
    robot_report,
)
from mediatool.cli.errors import handle_errors, json_on_error
from mediatool.cli.options import fail_on_option, json_option, parse_size, quiet_option
from mediatool.cli.output import Progress, emit_json, findings_to_stderr
from mediatool.errors import MediatoolError, PlanRejected
from mediatool.findings import Severity, fails
from mediatool.writers import burn as burner
from mediatool.writers.iso import MEDIA_CAPACITY

BURN_SCHEMA: Final = "mediatool.burn/1"


def _capacity(text: str | None) -> int | None:
    """``cd``, ``cd74``, ``dvd``, ``bd`` (the media ``build --media`` knows) or a size."""
    if text is None:
        return None
    named = MEDIA_CAPACITY.get(text.strip().lower())
    try:
        return named if named is not None else parse_size(text)
    except click.BadParameter as exc:
        exc.param_hint = "'--capacity'"
        raise


def _image(
    source: Path, workdir: Path, threshold: Severity, progress: Progress, verbose: bool
) -> Path:
    """``source`` itself, or the ISO 9660 image of a File-set folder (as `mediatool iso`)."""
    if not source.is_dir():
        return source
    from mediatool.cli.iso import check_folder, read_fileset_id
    from mediatool.writers import iso as iso_writer

    findings = check_folder(source, progress)
    if fails(findings, threshold):
        raise PlanRejected(
            f"{str(source)!r} was not packed because of the findings above; nothing was burned",
            findings,
        )
    findings_to_stderr(findings, verbose=verbose)
    packed = iso_writer.pack(
        source,
        workdir / "disc.iso",
        volume_id=read_fileset_id(source),
        date=None,
        capacity=None,
        progress=progress,
    )
    return packed.iso


def _ask_for_disc(copy: int, copies: int, device: str) -> bool:
    """Between copies on a real drive: ask for the next blank disc (False at end of input)."""
    click.echo(
        f"Copy {copy - 1} of {copies} is done and the tray is open. Put a blank disc for copy "
        f"{copy} of {copies} into {device} and press Enter (Ctrl+C stops).",
        err=True,
    )
    return sys.stdin.readline() != ""


def _document(
    source: Path, result: burner.BurnResult | None, *, verify: bool, error: str | None = None
) -> dict[str, Any]:
    facts: dict[str, Any] = {"bytes": None, "sha256": None, "copies": None, "results": []}
    if result is not None:
        facts = result.as_dict()
        facts.pop("image")  # a temporary file when a folder was packed; "source" says what
    return {
        "schema": BURN_SCHEMA,
        "source": str(source),
        "verify": verify,
        **facts,
        "ok": result is not None and result.ok and error is None,
        "error": error,
    }


def _copy_line(r: burner.CopyResult, *, wrote: bool) -> str:
    """``copy 1 of 2 (/dev/sr0): written 612 MB, verified`` (the reason of a failure goes to
    stderr with the summary)."""
    size = burner.human(r.size)
    done = f"written {size}" if r.written else "not written"
    if not wrote:
        done = f"read back {size}"
    if r.ok:
        done += ", verified" if r.verified else ", not verified"
    else:
        done += ", FAILED"
    return f"copy {r.copy} of {r.copies} ({r.device}): {done}"


def _summary(source: Path, result: burner.BurnResult, *, verify: bool, wrote: bool) -> str:
    good = sum(r.ok for r in result.results)
    if not result.ok:
        failed = next((r for r in result.results if not r.ok), None)
        why = f"copy {failed.copy} of {result.copies} failed: {failed.error}" if failed else ""
        rest = result.copies - len(result.results)
        tail = f"; {rest} more not written" if rest and wrote else ""
        return f"{why}{tail}; {good} of {result.copies} copies good"
    name = f"{source} ({burner.human(result.size)}, SHA-256 {result.sha256[:16]}...)"
    if not wrote:
        return f"{good} of {result.copies} discs read back equal to {name}"
    if verify:
        return f"Burned {good} of {result.copies} copies of {name}, each read back equal"
    return f"Wrote {good} of {result.copies} copies of {name}; not read back (add --verify)"


def _report(
    source: Path, result: burner.BurnResult, *, verify: bool, wrote: bool, as_json: bool
) -> None:
    """The copies on stdout, then the summary; exit 1 when a copy failed or is missing."""
    if as_json:
        emit_json(_document(source, result, verify=verify))
    else:
        for r in result.results:
            click.echo(_copy_line(r, wrote=wrote))
    summary = _summary(source, result, verify=verify, wrote=wrote)
    if not result.ok:
        click.echo(f"Error: {summary}", err=True)
        sys.exit(1)
    if not as_json:
        click.echo(summary)


def _verify_only(source: Path, device: str, copies: int, progress: Progress) -> burner.BurnResult:
    """Read back what was burned before, per copy (each ``{n}`` file of a pseudo-drive)."""
    if source.is_dir():
        raise click.UsageError("--verify-only compares a medium with the IMAGE burned onto it")
    size = burner.image_size(source)
    sha = burner.file_sha256(source)
    devices = burner.targets(device, copies)
    if len(set(devices)) < len(devices):
        raise click.UsageError("--verify-only checks one disc in a drive: leave out --copies")
    results = tuple(
        burner.verify(dev, source, progress=progress, copy=n, copies=copies, sha256=sha)
        for n, dev in enumerate(devices, 1)
    )
    return burner.BurnResult(source, size, sha, copies, results)


def _burn(
    source: Path,
    device: str,
    options: burner.BurnOptions,
    threshold: Severity,
    progress: Progress,
    verbose: bool,
) -> burner.BurnResult:
    with tempfile.TemporaryDirectory(prefix="mediatool-burn-") as tmp:
        image = _image(source, Path(tmp), threshold, progress, verbose)
        return burner.burn(image, device, options, progress=progress, next_medium=_ask_for_disc)


@click.command("burn")
@click.argument("source", metavar="IMAGE|FOLDER", type=click.Path(path_type=Path))
@click.option(
    "--device",
    metavar="DEV",
    help="The burner, e.g. /dev/sr0 (`xorriso -devices` lists them), or stdio:FILE, xorriso's "
    "pseudo-drive on a file; {n} in FILE becomes the copy number.",
)
@click.option(
    "--copies",
    type=click.IntRange(1, 99),
    default=1,
    show_default=True,
    help="How many discs to burn; a real drive ejects and asks for the next blank.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Read each copy back through the drive and compare its SHA-256 with the image.",
)
@click.option(
    "--verify-only",
    is_flag=True,
    help="Write nothing: read the disc in --device back and compare it with IMAGE.",
)
@click.option("--eject", is_flag=True, help="Open the tray at the end.")
@click.option(
    "--blank",
    is_flag=True,
    help="Erase a written rewritable disc (CD-RW, DVD-RW, DVD+RW, BD-RE) before writing.",
)
@click.option(
    "--capacity",
    metavar="MEDIUM|SIZE",
    help="The most the disc may take: cd, cd74, dvd, bd or a size (700M, 4.7G). For a stdio: "
    "pseudo-drive, the disc it stands for (its own limit is the file system's free space).",
)
@click.option(
    "--ptburn",
    metavar="FOLDER",
    type=click.Path(path_type=Path),
    help="Instead of --device: hand the disc to a Primera disc publisher by writing a PTBurn "
    "job (PTBurn 3 SDK) into its Job Request FOLDER (a mounted share).",
)
@click.option(
    "--ptburn-path",
    metavar="WINPATH",
    default=DEFAULT_ROBOT_FOLDER,
    show_default=True,
    help="The Job Request Folder as the PTBurn computer names it.",
)
@click.option(
    "--label",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="With --ptburn: the label to print on each disc (.STD, .JPG, .BMP, .PRN; a PNG such "
    "as `build --label` writes becomes a BMP).",
)
@fail_on_option
@json_option
@quiet_option
def burn(  # noqa: PLR0913 - a click command: one parameter per option
    source: Path,
    device: str | None,
    copies: int,
    verify: bool,
    verify_only: bool,
    eject: bool,
    blank: bool,
    capacity: str | None,
    ptburn: Path | None,
    ptburn_path: str,
    label: Path | None,
    fail_on: str,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Burn a disc image, or a File-set folder (packed into an ISO 9660 image first), with
    xorriso; check the drive, the blank disc and its free space before writing.

    With --verify each copy is read back and compared with the image (SHA-256); a copy counts
    as burned only when it was written and, if asked, read back equal.

    \b
    Example:
      mediatool burn patient.iso --device /dev/sr0 --verify --eject
      mediatool burn ./disc --device /dev/sr0 --copies 2 --verify
      mediatool burn patient.iso --device 'stdio:/tmp/disc_{n}.iso' --copies 2 --verify
      mediatool burn patient.iso --ptburn /mnt/ptburnjobs --copies 2 --verify --label label.png
    """
    progress = Progress(enabled=not quiet and not as_json)
    threshold = Severity[fail_on.upper()]
    if ptburn is not None:
        drive = {"--verify-only": verify_only, "--eject": eject, "--blank": blank}
        refuse_drive_options(device, drive | {"--capacity": capacity is not None})
        with handle_errors(), json_on_error(as_json, lambda e: _failed(source, verify, e)):
            with tempfile.TemporaryDirectory(prefix="mediatool-burn-") as tmp:
                image = _image(source, Path(tmp), threshold, progress, verbose)
                progress.close()
                facts = hand_over(
                    image, ptburn, ptburn_path, copies=copies, verify=verify, label=label
                )
            robot_report(source, facts, copies=copies, verify=verify, as_json=as_json)
        return
    if device is None:
        raise click.UsageError("give --device (the burner, or stdio:FILE) or --ptburn FOLDER")
    if label is not None:
        raise click.UsageError("--label works with --ptburn (a robot that prints)")
    options = burner.BurnOptions(copies, verify, eject, blank, _capacity(capacity))
    with handle_errors(), json_on_error(as_json, lambda e: _failed(source, verify, e)):
        try:
            if verify_only:
                result = _verify_only(source, device, copies, progress)
            else:
                result = _burn(source, device, options, threshold, progress, verbose)
        finally:
            progress.close()
        checked = verify or verify_only
        _report(source, result, verify=checked, wrote=not verify_only, as_json=as_json)


def _failed(source: Path, verify: bool, error: MediatoolError) -> dict[str, Any]:
    hint = f" ({error.hint})" if error.hint else ""
    return _document(source, None, verify=verify, error=f"{error}{hint}")
