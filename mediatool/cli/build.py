"""``mediatool build``: make a DICOM File-set (folder and/or ISO image) from files or a PACS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mediatool import profiles
from mediatool.cli.build_report import Targets, report_build
from mediatool.cli.errors import handle_errors, json_on_error
from mediatool.cli.from_pacs import PacsOptions, build_from_pacs, pacs_options
from mediatool.cli.options import (
    fail_on_option,
    jobs_option,
    json_option,
    parse_date,
    parse_size,
    profile_option,
    quiet_option,
    take,
)
from mediatool.cli.output import Progress
from mediatool.errors import MediatoolError, PlanRejected
from mediatool.findings import Severity

if TYPE_CHECKING:  # imported when the command runs: --help stays fast
    from mediatool.build import BuildRequest


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """The options of ``build`` other than the PACS ones (:class:`.PacsOptions`)."""

    sources: tuple[str, ...]
    out: Path | None
    iso_file: Path | None
    image: Path | None
    usb: Path | None
    media: str | None
    capacity_text: str | None
    compress: str
    allow_lossy: bool
    date_text: str | None
    web: bool
    site: Path | None
    viewer: Path | None
    window_presets: str
    label: Path | None
    fileset_id: str
    descriptor: Path | None
    invent: bool
    skip_invalid: bool
    dry_run: bool
    force: bool
    jobs: int | None
    profile_id: str
    profile_dir: Path | None
    fail_on: str
    as_json: bool
    quiet: bool
    verbose: bool

    def check(self) -> None:
        """Usage errors (exit 2) among these options."""
        targets = (self.out, self.iso_file, self.image, self.usb)
        if all(t is None for t in targets) and not self.dry_run:
            raise click.UsageError(
                "give --out DIR, --iso FILE, --image FILE and/or --usb PATH (or --dry-run to "
                "plan only)"
            )
        if self.usb is not None and (self.capacity_text or self.media not in (None, "usb")):
            raise click.UsageError("--usb writes one File-set: no --capacity, --media usb only")
        if self.compress == "lossy" and not self.allow_lossy:
            raise click.UsageError("--compress lossy loses information: add --allow-lossy")

    def request(self, capacity: int | None, date: datetime | None) -> BuildRequest:
        """The library's request (loads the profile: may raise a MediatoolError)."""
        from mediatool.build import BuildRequest

        fileset_id = self.fileset_id
        return BuildRequest(
            sources=self.sources,
            out=self.out,
            profile=profiles.load(self.profile_id, self.profile_dir),
            fileset_id=fileset_id.upper() if fileset_id.isascii() else fileset_id,
            descriptor=self.descriptor,
            invent=self.invent,
            force=self.force,
            dry_run=self.dry_run,
            fail_on=Severity[self.fail_on.upper()],
            jobs=self.jobs,
            iso=self.iso_file,
            image=self.image,
            usb=self.usb,
            media="usb" if self.usb is not None and self.media is None else self.media,
            capacity=capacity,
            compress=self.compress,
            allow_lossy=self.allow_lossy,
            date=date,
            web=self.web,
            site=self.site,
            viewer=self.viewer,
            presets=self.window_presets,
            label=self.label,
            skip_invalid=self.skip_invalid,
        )


@click.command()
@click.argument("sources", nargs=-1, required=False, type=click.Path(path_type=str))
@pacs_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the File-set into (created; must be empty unless --force).",
)
@click.option(
    "--iso",
    "iso_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also (or only) write an ISO 9660 Level 1 image of the File-set (PS3.12 Annex F).",
)
@click.option(
    "--image",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also (or only) write the image of the medium --media names (default: the "
    "profile's) in its own file system (PS3.12): cd ISO 9660 Level 1 (Annex F); dvd UDF 1.02 "
    "with an ISO 9660 bridge (Annex P); dvd-ram UDF 1.50 (Annex J); bd UDF 2.60, bd-re UDF "
    "2.50, with a Metadata Partition (Annex X); usb FAT16, else FAT32 (Annex R). Volumes: "
    "FILE_1.img, FILE_2.img...",
)
@click.option(
    "--usb",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the File-set onto the USB stick mounted at PATH: its root, FAT16 or FAT32 "
    "(PS3.12 Annex R; another file system is refused), synced, every file read back.",
)
@click.option(
    "--media",
    type=click.Choice(["cd", "cd74", "dvd", "dvd-ram", "bd", "bd-re", "usb"]),
    default=None,
    help="Medium each volume must fit (default with --iso: the profile's medium); content "
    "that does not fit is split into several volumes. cd: 80-minute CD-R, 360,000 sectors "
    "(737,280,000 bytes); cd74: 74-minute CD-R, 333,000 sectors (681,984,000 bytes) for old "
    "drives; dvd, dvd-ram: 4.7 GB; bd (BD-R), bd-re: 25 GB; usb: no limit.",
)
@click.option(
    "--capacity",
    "capacity_text",
    metavar="SIZE",
    help="Bytes one volume may hold instead of the medium's: 700M, 4.7G, 650000000.",
)
@click.option(
    "--compress",
    type=click.Choice(["none", "lossless", "lossy"]),
    default="none",
    show_default=True,
    help="Compress native pixel data to the profile's lossless (or, with --allow-lossy, "
    "lossy) Transfer Syntax where the profile allows it.",
)
@click.option(
    "--allow-lossy",
    is_flag=True,
    help="Allow lossy compression (a derived image with a new SOP Instance UID).",
)
@click.option(
    "--date",
    "date_text",
    metavar="YYYY-MM-DD[THH:MM:SS]",
    help="Date recorded in the image (default: SOURCE_DATE_EPOCH, else now); a fixed date "
    "gives byte-identical images.",
)
@click.option(
    "--web/--no-web",
    default=True,
    show_default=True,
    help="IHE PDI web content (README.TXT, INDEX.HTM, IHE_PDI/) and the browser viewer.",
)
@click.option(
    "--site",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Site file (TOML: name, department, address, phone, email, website, logo, language).",
)
@click.option(
    "--viewer",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A third-party viewer folder to copy to APP/ (then AUTORUN.INF is written).",
)
@click.option(
    "--window-presets",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    help="CT window presets in the viewer (auto: left out when the disc would not fit).",
)
@click.option(
    "--label",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a printable disc label (PNG) here.",
)
@click.option("--fileset-id", default="", help="File-set ID: up to 16 of A-Z 0-9 _ (PS3.10 8.5).")
@click.option(
    "--descriptor",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Plain-text File-set Descriptor File to include (PS3.3 F.3.2.1).",
)
@click.option(
    "--invent",
    is_flag=True,
    help="Fill missing Type 1 directory keys consistently instead of refusing.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Leave out the input files that would refuse the build (each is listed with its "
    "reason, also in README.TXT) and build the rest.",
)
@click.option("--dry-run", is_flag=True, help="Plan only; write nothing.")
@click.option("--force", is_flag=True, help="Replace the content of a non-empty --out folder.")
@jobs_option("Worker processes (default: all cores).")
@profile_option
@fail_on_option
@json_option
@quiet_option
def build(**params: Any) -> None:
    """Build a DICOM File-set (DICOMDIR + Part 10 files) from files, folders and zip archives.

    \b
    Example:
      mediatool build ./incoming --out ./disc --fileset-id PATIENT_CD
      mediatool build ./incoming --iso patient.iso --date 2024-03-12 --site site.toml
      mediatool build ./incoming --media dvd --image patient.img
      mediatool build ./incoming --usb /media/STICK
      mediatool build export.zip more/ --dry-run --json
      mediatool build --from-pacs PACS@10.0.0.5:104 --patient-id 4711 --iso patient.iso
    """
    pacs = take(PacsOptions, params)
    args = take(BuildOptions, params)
    if bool(args.sources) == bool(pacs.from_pacs):
        raise click.UsageError("give SOURCES or --from-pacs AET@HOST:PORT (exactly one)")
    pacs.check()
    args.check()
    capacity = parse_size(args.capacity_text) if args.capacity_text is not None else None
    date = parse_date(args.date_text)
    progress = Progress(enabled=not args.quiet and not args.as_json)
    with handle_errors(), json_on_error(args.as_json, _error_document) as printed:
        _run(args.request(capacity, date), progress, args, pacs, printed)


def _error_document(exc: MediatoolError) -> dict[str, Any]:
    """The one JSON document of a build that could not run (exit 2)."""
    from mediatool.build.report import BUILD_SCHEMA

    return {"schema": BUILD_SCHEMA, "ok": False, "error": str(exc), "hint": exc.hint}


def _run(
    request: BuildRequest, progress: Progress, args: BuildOptions, pacs: PacsOptions,
    printed: list[bool],
) -> None:  # fmt: skip
    """Plan and write (or only plan), then report; a refused plan is reported with --json
    (``printed`` then says so: no second document)."""
    from mediatool import build as build_mod
    from mediatool.build.plan import MediaPlan

    targets = Targets(args.out, args.iso_file, args.dry_run, args.image, args.usb)
    try:
        if pacs.from_pacs:
            media_plan = build_from_pacs(request, progress, pacs)
        else:
            media_plan = build_mod.run(request, progress)
    except PlanRejected as exc:
        if args.as_json and isinstance(exc.result, MediaPlan):
            report_build(exc.result, targets, as_json=True, verbose=args.verbose)
            printed.append(True)
        raise
    finally:
        progress.close()
    report_build(media_plan, targets, as_json=args.as_json, verbose=args.verbose)
