"""``mediatool sample``, ``demo`` and ``build``: the commands that make discs.

Registered on the ``mediatool`` group by :mod:`mediatool.cli`; they share its option helpers and
its one error-to-exit-code translation point.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mediatool import profiles
from mediatool.cli import (
    _handle_errors,
    fail_on_option,
    json_option,
    output,
    profile_option,
    quiet_option,
)
from mediatool.errors import MediatoolError, PlanRejected
from mediatool.findings import Severity


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--instances",
    default=120,
    show_default=True,
    type=click.IntRange(20, 200000),
    help="About how many DICOM instances to write.",
)
@click.option(
    "--seed",
    default=1,
    show_default=True,
    type=int,
    help="Changes UIDs and pixel content; the same seed gives the same bytes.",
)
@json_option
def sample(out: Path, instances: int, seed: int, as_json: bool) -> None:
    """Write a deterministic sample of messy "foreign" DICOM files to OUT.

    Several patients, studies and series of many kinds (CT, MR, US, CR, MG, NM, XA, RT, SR, PDF,
    ECG, presentation state, key objects), messy names, and a few defective files on purpose.

    \b
    Example:
      mediatool sample ./incoming --instances 200
    """
    from mediatool.sample import generate_sample

    with _handle_errors():
        if out.exists() and any(out.iterdir()):
            raise MediatoolError(f"the folder {str(out)!r} is not empty; choose a new folder")
        result = generate_sample(out, instances=instances, seed=seed)
        if as_json:
            output.emit_json(
                {
                    "schema": output.SAMPLE_SCHEMA,
                    "out": str(out),
                    "patients": result.patients,
                    "studies": result.studies,
                    "series": result.series,
                    "instances": result.instances,
                    "files": [{"path": f.path, "kind": f.kind} for f in result.files],
                }
            )
        else:
            click.echo(
                f"Wrote {len(result.files)} files ({result.instances} instances, "
                f"{result.patients} patients, {result.studies} studies, {result.series} "
                f"series) to {out}"
            )


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
    import shutil

    from mediatool import build as build_mod
    from mediatool.sample import generate_sample

    progress = output.Progress(enabled=not quiet)
    with _handle_errors():
        incoming, disc = folder / "incoming", folder / "disc"
        iso_file, label = folder / "disc.iso", folder / "label.png"
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
        _report_build(
            media_plan, disc, dry_run=False, as_json=False, verbose=verbose, iso_file=iso_file
        )
        click.echo(
            f"Open {disc / 'INDEX.HTM'} in a web browser (or {disc / 'DICOMDIR'} in a DICOM "
            f"viewer); burn {iso_file}; print {label}; check with: mediatool validate {iso_file}",
            err=True,
        )


@click.command()
@click.argument("sources", nargs=-1, required=False, type=click.Path(path_type=str))
@click.option(
    "--from-pacs",
    metavar="AET@HOST:PORT",
    help="Collect the instances from this PACS (Query/Retrieve) instead of SOURCES.",
)
@click.option("--patient-id", default="", help="With --from-pacs: the patient's studies.")
@click.option("--accession", default="", help="With --from-pacs: the study with this number.")
@click.option(
    "--study",
    "study_uids",
    multiple=True,
    metavar="UID",
    help="With --from-pacs: only this Study Instance UID (repeatable).",
)
@click.option("--calling-aet", default="MEDIATOOL", show_default=True, help="Our AE title.")
@click.option(
    "--retrieve",
    "retrieve_method",
    type=click.Choice(["get", "move"]),
    default="get",
    show_default=True,
    help="C-GET, or C-MOVE to a storage SCP this command runs (--move-aet, --port).",
)
@click.option("--move-aet", help="AE title of our storage SCP for C-MOVE (known to the PACS).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port our storage SCP listens on.")
@click.option(
    "--listen-host",
    default="0.0.0.0",
    show_default=True,
    help="Address our storage SCP listens on for C-MOVE.",
)
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Burn what arrived when the retrieve is incomplete (README.TXT says what is missing).",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.5, 3600),
    help="Seconds to wait for the PACS.",
)
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
    "--media",
    type=click.Choice(["cd", "cd74", "dvd", "bd", "usb"]),
    default=None,
    help="Medium each volume must fit (default with --iso: the profile's medium); content "
    "that does not fit is split into several volumes. cd: 80-minute CD-R, 360,000 sectors "
    "(737,280,000 bytes); cd74: 74-minute CD-R, 333,000 sectors (681,984,000 bytes) for old "
    "drives; dvd: 4.7 GB; bd: 25 GB; usb: no limit.",
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
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes (default: all cores).")
@profile_option
@fail_on_option
@json_option
@quiet_option
def build(
    sources: tuple[str, ...],
    from_pacs: str | None,
    patient_id: str,
    accession: str,
    study_uids: tuple[str, ...],
    calling_aet: str,
    retrieve_method: str,
    move_aet: str | None,
    port: int | None,
    listen_host: str,
    allow_partial: bool,
    timeout: float,
    out: Path | None,
    iso_file: Path | None,
    media: str | None,
    capacity_text: str | None,
    compress: str,
    allow_lossy: bool,
    date_text: str | None,
    web: bool,
    site: Path | None,
    viewer: Path | None,
    window_presets: str,
    label: Path | None,
    fileset_id: str,
    descriptor: Path | None,
    invent: bool,
    skip_invalid: bool,
    dry_run: bool,
    force: bool,
    jobs: int | None,
    profile_id: str,
    profile_dir: Path | None,
    fail_on: str,
    as_json: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Build a DICOM File-set (DICOMDIR + Part 10 files) from files, folders and zip archives.

    \b
    Example:
      mediatool build ./incoming --out ./disc --fileset-id PATIENT_CD
      mediatool build ./incoming --iso patient.iso --date 2024-03-12 --site site.toml
      mediatool build export.zip more/ --dry-run --json
      mediatool build --from-pacs PACS@10.0.0.5:104 --patient-id 4711 --iso patient.iso
    """
    from mediatool import build as build_mod
    from mediatool.cli.iso import parse_date
    from mediatool.plan import MediaPlan

    if bool(sources) == bool(from_pacs):
        raise click.UsageError("give SOURCES or --from-pacs AET@HOST:PORT (exactly one)")
    pacs_only = (patient_id, accession, study_uids, move_aet, port, allow_partial)
    if not from_pacs and (any(pacs_only) or retrieve_method != "get"):
        raise click.UsageError(
            "--patient-id, --accession, --study, --retrieve, --move-aet, --port and "
            "--allow-partial need --from-pacs"
        )
    if out is None and iso_file is None and not dry_run:
        raise click.UsageError("give --out DIR and/or --iso FILE (or --dry-run to plan only)")
    if compress == "lossy" and not allow_lossy:
        raise click.UsageError("--compress lossy loses information: add --allow-lossy")
    capacity = parse_size(capacity_text) if capacity_text is not None else None
    date = parse_date(date_text)
    progress = output.Progress(enabled=not quiet and not as_json)
    with _handle_errors():
        request = build_mod.BuildRequest(
            sources=sources,
            out=out,
            profile=profiles.load(profile_id, profile_dir),
            fileset_id=fileset_id.upper() if fileset_id.isascii() else fileset_id,
            descriptor=descriptor,
            invent=invent,
            force=force,
            dry_run=dry_run,
            fail_on=Severity[fail_on.upper()],
            jobs=jobs,
            iso=iso_file,
            media=media,
            capacity=capacity,
            compress=compress,
            allow_lossy=allow_lossy,
            date=date,
            web=web,
            site=site,
            viewer=viewer,
            presets=window_presets,
            label=label,
            skip_invalid=skip_invalid,
        )
        try:
            if from_pacs:
                from mediatool.cli.find import build_from_pacs

                media_plan = build_from_pacs(
                    request,
                    progress,
                    from_pacs=from_pacs,
                    patient_id=patient_id,
                    accession=accession,
                    study_uids=study_uids,
                    calling_aet=calling_aet,
                    retrieve_method=retrieve_method,
                    move_aet=move_aet,
                    port=port,
                    listen_host=listen_host,
                    allow_partial=allow_partial,
                    timeout=timeout,
                )
            else:
                media_plan = build_mod.run(request, progress)
        except PlanRejected as exc:
            if as_json and isinstance(exc.result, MediaPlan):
                _report_build(
                    exc.result,
                    out,
                    dry_run=dry_run,
                    as_json=True,
                    verbose=verbose,
                    iso_file=iso_file,
                )
            raise
        finally:
            progress.close()
        _report_build(
            media_plan, out, dry_run=dry_run, as_json=as_json, verbose=verbose, iso_file=iso_file
        )


def parse_size(text: str) -> int:
    """``700M``, ``4.7G``, ``650000000`` → bytes (K, M, G: powers of 1000; KiB, MiB, GiB too)."""
    units = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    units |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "KB": 10**3, "MB": 10**6, "GB": 10**9}
    raw = text.strip().upper().replace(" ", "")
    number = raw.rstrip("KMGTIB")
    unit = raw[len(number) :]
    try:
        value = float(number)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 700M or 4.7G") from None
    if unit not in units or value <= 0:
        raise click.BadParameter(f"{text!r} is not a size such as 700M or 4.7G")
    return int(value * units[unit])


def _volumes_json(media_plan: Any, out: Path | None, iso_file: Path | None) -> list[dict[str, Any]]:
    volumes = media_plan.volumes
    return [
        {
            "k": k,
            "volume_id": v.fileset_id,
            "fileset_uid": v.fileset_uid,
            "out": str(out / v.fileset_id) if out else None,
            "iso": str(iso_file.with_name(f"{iso_file.stem}_{k}{iso_file.suffix}"))
            if iso_file
            else None,
            "counts": v.tree.counts(),
        }
        for k, v in enumerate(volumes, 1)
    ]


def _report_build(
    media_plan: Any,
    out: Path | None,
    *,
    dry_run: bool,
    as_json: bool,
    verbose: bool,
    iso_file: Path | None = None,
) -> None:
    from mediatool.model import render_file_id

    findings = media_plan.findings
    summary = media_plan.summary()
    if as_json:
        doc: dict[str, Any] = {
            "schema": output.BUILD_SCHEMA,
            "ok": media_plan.ok,
            "dry_run": dry_run,
            "out": str(out) if out else None,
            "iso": str(iso_file) if iso_file else None,
            "profile": media_plan.profile.id,
            "fileset": {"uid": media_plan.fileset_uid},
            "counts": summary,
            "findings": [f.as_dict() for f in findings],
        }
        if media_plan.volumes:
            doc["volumes"] = _volumes_json(media_plan, out, iso_file)
        if media_plan.left_out:
            doc["left_out"] = [
                {"source": where, "code": why.code, "reason": why.message}
                for where, why in media_plan.left_out
            ]
        if dry_run:
            doc["files"] = [
                {
                    "file_id": render_file_id(media_plan.file_ids[i.sop_instance_uid]),
                    "source": i.source.display,
                    "action": media_plan.decisions[i.sop_instance_uid].action.value,
                    "transfer_syntax": media_plan.decisions[i.sop_instance_uid].target_ts,
                }
                for i in media_plan.tree.instances()
            ]
        output.emit_json(doc)
        return
    output.findings_to_stderr(findings, verbose=verbose)
    verb = "Planned" if dry_run else "Wrote"
    if media_plan.volumes:
        for volume in _volumes_json(media_plan, out, iso_file):
            click.echo(
                f"  volume {volume['k']} of {len(media_plan.volumes)}: {volume['volume_id']}, "
                f"{volume['counts']['instances']} instances"
                + (f" -> {volume['out'] or volume['iso']}" if not dry_run else "")
            )
    targets = [str(t) for t in (out, iso_file) if t is not None]
    where = "" if dry_run else " to " + " and ".join(targets)
    click.echo(
        f"{verb} a {media_plan.profile.id} File-set{where}: {summary['patients']} "
        f"patients, {summary['studies']} studies, {summary['series']} series, "
        f"{summary['instances']} instances (from {summary['files_seen']} input files); "
        f"findings: {output.summary_line(findings)}"
    )
    if media_plan.left_out:
        click.echo(
            f"Left out {len(media_plan.left_out)} of {summary['files_seen']} input files "
            "(--skip-invalid): each is a build.left-out finding with its reason"
            + ("" if dry_run else ", and README.TXT lists them")
        )
