"""``mediatool iso DIR FILE``: check a File-set folder and pack it into an ISO 9660 image.

One pass (issue 17): the Level 1 names are checked when the folder is listed, then the full
validation runs *while* the kernel copies the files into the image, and the image is renamed
into place only when the validation has passed and no file changed meanwhile. Nothing from an
earlier build is trusted; why this rather than a build journal: :mod:`mediatool.writers.isodata`.
The validation runs in a forked process (:mod:`.isocheck`), reads the folder through the
command's own listing and gives the File-set ID it read, recorded in the image last.

Exit codes as everywhere (:mod:`.errors`): 0 written; 1 refused because of findings (a name
Level 1 cannot carry, no DICOMDIR, a validation error); 2 could not run (no such folder, FILE
exists without --force, the image does not fit the medium, unwritable output).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from mediatool.cli.errors import handle_errors
from mediatool.cli.options import fail_on_option, json_option, parse_date, quiet_option
from mediatool.cli.output import Progress, emit_json, findings_to_stderr
from mediatool.errors import MediaError, OutputError, PlanRejected
from mediatool.findings import Finding, Severity, fails
from mediatool.writers import iso as iso_writer

if TYPE_CHECKING:
    from mediatool.cli.isocheck import ForkedCheck

ISO_SCHEMA: Final = "mediatool.iso/1"


def read_fileset_id(folder: Path) -> str:
    """(0004,1130) File-set ID of ``folder/DICOMDIR``, stripped ("" when absent or empty).

    Raises
    ------
    MediaError
        The DICOMDIR cannot be read (validation has passed by then, so this is rare).
    """
    from mediatool import limits
    from mediatool.dicom import dicomdir_read
    from mediatool.dicom.dicomdir_raw import FILESET_ID

    path = folder / "DICOMDIR"
    try:
        with path.open("rb") as fp:
            data = fp.read(limits.DICOMDIR_SIZE_LIMIT + 1)
    except OSError as exc:
        raise MediaError(f"cannot read the File-set ID from {str(path)!r}: {exc}") from exc
    directory = dicomdir_read.parse(data, str(path))  # the one tolerant reader; never raises
    if directory.encoding is None:
        raise MediaError(f"cannot read the File-set ID from {str(path)!r}: no DICOM data set")
    return directory.text(FILESET_ID) or ""


def _validation(
    folder: Path, progress: Progress | None, scan: iso_writer.FolderScan | None
) -> tuple[list[Finding], str | None]:
    """Findings of ``mediatool validate`` on the folder (same checkers as the command), and
    the File-set ID it read, as :func:`read_fileset_id` gives it ("" when absent; None: no
    DICOMDIR header read). The folder is read through the listing ``scan`` when that refused
    nothing (no link, special file or unusable name), not walked again (issue 17)."""
    from mediatool.media import open_media
    from mediatool.media.base import MediaReader
    from mediatool.media.folder import FolderReader
    from mediatool.validate import validate_media

    if scan is not None and scan.ok:
        files = ((e.where, e.size) for e in scan.entries if not e.is_dir)
        reader: MediaReader = FolderReader(folder, listing=files)
    else:
        reader = open_media(folder)
    with reader:
        report = validate_media(reader, progress=progress)
    fileset_id = report.media.fileset_id
    if fileset_id is None and any(f.code == "dicomdir.fileset-id-missing" for f in report.findings):
        fileset_id = ""  # the header was read: the element is absent
    return list(report.findings), fileset_id


def _existing(folder: Path) -> None:
    if not folder.is_dir():
        reason = "does not exist" if not folder.exists() else "is not a folder"
        raise MediaError(f"{str(folder)!r} {reason}; give the folder that holds the DICOMDIR")


def _merged(folder: Path, scan: iso_writer.FolderScan, progress: Progress | None) -> list[Finding]:
    """The listing's findings, then the validation's that do not repeat them."""
    return _checked(folder, scan, progress)[0]


def _checked(
    folder: Path, scan: iso_writer.FolderScan, progress: Progress | None
) -> tuple[list[Finding], str | None]:
    """:func:`_merged`, and the File-set ID the validation read (None: none)."""
    found = list(scan.findings)
    if any(f.code == "dicomdir.missing" for f in found):
        return found, None  # nothing to validate without a DICOMDIR
    seen = {(f.code, f.where) for f in found}
    validated, fileset_id = _validation(folder, progress, scan)
    for f in validated:
        if (f.code, f.where) not in seen:
            seen.add((f.code, f.where))
            found.append(f)
    return found, fileset_id


def check_folder(folder: Path, progress: Progress | None = None) -> list[Finding]:
    """Level 1 names, depth, one DICOMDIR at the root, then the full File-set validation."""
    _existing(folder)
    return _merged(folder, iso_writer.scan_folder(folder), progress)


def _document(
    ok: bool, findings: Sequence[Finding], result: iso_writer.PackResult | None, media: str
) -> dict[str, Any]:
    return {
        "schema": ISO_SCHEMA,
        "ok": ok,
        "iso": str(result.iso) if result else None,
        "media": media,
        "capacity": iso_writer.MEDIA_CAPACITY[media],
        "size": result.size if result else None,
        "files": result.files if result else None,
        "directories": result.directories if result else None,
        "volume_id": result.volume_id if result else None,
        "date": result.date.isoformat() if result else None,
        "findings": [f.as_dict() for f in findings],
    }


@click.command("iso")
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--media",
    type=click.Choice(list(iso_writer.MEDIA_CAPACITY)),
    default="cd",
    show_default=True,
    help="Medium the image must fit: cd 80-minute CD-R (360,000 sectors, 737,280,000 bytes), "
    "cd74 74-minute CD-R (333,000 sectors), dvd 4.7 GB, bd 25 GB, usb no limit.",
)
@click.option(
    "--date",
    "date_text",
    metavar="YYYY-MM-DD[THH:MM:SS]",
    help="Date recorded in the image (UTC unless an offset is given). "
    "Default: SOURCE_DATE_EPOCH, else now. A fixed date gives byte-identical images.",
)
@click.option(
    "--volume-id",
    help="Volume Identifier (default: the DICOMDIR's File-set ID, as PS3.12 F.1.1 requires).",
)
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@fail_on_option
@json_option
@quiet_option
def iso(  # noqa: PLR0913 - a click command: one parameter per option
    folder: Path,
    file: Path,
    media: str,
    date_text: str | None,
    volume_id: str | None,
    force: bool,
    fail_on: str,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Pack a File-set folder (DICOMDIR at its root) into an ISO 9660 Level 1 image FILE.

    The folder is checked (Level 1 names, one DICOMDIR, the checks of `mediatool validate`)
    while the files are copied; nothing is written when the check fails or a file changes
    meanwhile. The image is written beside FILE and renamed into place when complete.

    \b
    Example:
      mediatool iso ./disc patient.iso --date 2024-05-01
      mediatool iso ./disc big.iso --media dvd --force
    """
    date = parse_date(date_text)
    progress = Progress(enabled=not quiet and not as_json)
    with handle_errors():
        if file.exists() and not force:
            raise OutputError(f"{str(file)!r} exists", hint="use --force to replace it")
        refuse = _Refusal(folder, media, Severity[fail_on.upper()], as_json)
        try:
            findings, result = _pack(folder, file, media, volume_id, date, force, refuse, progress)
        finally:
            progress.close()
        _report(findings, result, media, as_json=as_json, verbose=verbose)


def _pack(  # noqa: PLR0913 - the command's choices, passed through
    folder: Path,
    file: Path,
    media: str,
    volume_id: str | None,
    date: datetime | None,
    force: bool,
    refuse: _Refusal,
    progress: Progress,
) -> tuple[list[Finding], iso_writer.PackResult]:
    """List and check the names; then validate while packing (module docstring), the check
    in a process of its own when this one can fork (:mod:`.isocheck`)."""
    from mediatool.cli.isocheck import start

    _existing(folder)
    scan = iso_writer.scan_folder(folder)
    if not scan.ok:  # nothing can be packed: report the validation's findings with the names'
        refuse(_merged(folder, scan, progress))
    iso_writer.check_target(folder, file, force)  # before a check process is started
    forked = start(lambda: _in_check_process(folder, scan, progress))  # forks here
    check = _Check(folder, scan, refuse, progress, forked)
    try:
        vid: iso_writer.VolumeId
        if check.forked is None:
            vid = _volume_id_here(folder, scan, volume_id, refuse, progress)
        else:  # recorded last, when the check has passed (mediatool/writers/iso.py)
            vid = check.volume_id if volume_id is None else volume_id
        result = iso_writer.pack(
            folder,
            file,
            volume_id=vid,
            date=date,
            capacity=iso_writer.MEDIA_CAPACITY[media],
            progress=progress,
            force=force,
            scan=scan,
            check=check,
        )
    finally:
        if check.forked is not None:
            check.forked.close()
    return check.findings, result


def _in_check_process(
    folder: Path, scan: iso_writer.FolderScan, progress: Progress
) -> tuple[list[Finding], str | None]:
    """:func:`_checked`, its progress line (the header reads) ended there, so that this
    command's own lines start on a line of their own."""
    try:
        return _checked(folder, scan, progress)
    finally:
        progress.close()


@dataclass
class _Check:
    """The check :func:`mediatool.writers.iso.pack` runs while it copies: the validation, in a
    process of its own when there is one (:mod:`.isocheck`), else here; refuses by raising."""

    folder: Path
    scan: iso_writer.FolderScan
    refuse: _Refusal
    progress: Progress
    forked: ForkedCheck[tuple[list[Finding], str | None]] | None
    findings: list[Finding] = field(default_factory=list)
    fileset_id: str | None = None

    def __call__(self) -> None:
        if self.forked is None:
            found = _merged(self.folder, self.scan, self.progress)
        else:
            found, self.fileset_id = self.forked.result()
        self.findings.extend(found)
        self.refuse(self.findings)

    def volume_id(self) -> str:
        """The File-set ID the forked validation read (once it has passed)."""
        if self.fileset_id is None:
            where = str(self.folder / "DICOMDIR")
            raise MediaError(f"cannot read the File-set ID from {where!r}: no DICOM data set")
        return self.fileset_id


def _volume_id_here(
    folder: Path,
    scan: iso_writer.FolderScan,
    volume_id: str | None,
    refuse: _Refusal,
    progress: Progress,
) -> str:
    """The Volume Identifier when the check runs in this process: given, or the File-set ID."""
    if volume_id is not None:
        return volume_id
    try:
        return read_fileset_id(folder)
    except MediaError:  # an unreadable DICOMDIR: the validation says why, as before
        refuse(_merged(folder, scan, progress))
        raise


@dataclass(frozen=True)
class _Refusal:
    """Refuse (exit 1, the document printed with --json) when a finding is at or above
    ``threshold``; otherwise return."""

    folder: Path
    media: str
    threshold: Severity
    as_json: bool

    def __call__(self, findings: list[Finding]) -> None:
        if not fails(findings, self.threshold):
            return
        if self.as_json:
            emit_json(_document(False, findings, None, self.media))
        raise PlanRejected(
            f"{str(self.folder)!r} was not packed because of the findings above; "
            "nothing was written",
            findings,
        )


def _report(
    findings: list[Finding],
    result: iso_writer.PackResult,
    media: str,
    *,
    as_json: bool,
    verbose: bool,
) -> None:
    if as_json:
        emit_json(_document(True, findings, result, media))
        return
    findings_to_stderr(findings, verbose=verbose)
    capacity = iso_writer.MEDIA_CAPACITY[media]
    share = f", {result.size * 100 / capacity:.0f}% of a {media.upper()}" if capacity else ""
    click.echo(
        f"Wrote {result.iso}: ISO 9660 Level 1, volume {result.volume_id!r}, "
        f"{result.files} files in {result.directories} folders, {result.size} bytes{share}"
    )
