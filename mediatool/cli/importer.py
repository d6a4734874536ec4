"""``mediatool import`` (outside media → archive folder or PACS, reconciled) and ``mediatool echo``.

Exit codes: 0 every DICOM instance of the media (that was chosen) is at the destination (or was
already); 1 something DICOM was not imported, or no single local patient could be chosen;
2 could not run (bad arguments, unreadable media, PACS or worklist unreachable).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mediatool.cli import _handle_errors, json_option, output, quiet_option
from mediatool.errors import MediatoolError, SourceError

if TYPE_CHECKING:  # imported when a command runs: pynetdicom must not slow down every command
    from mediatool.importer import identity as ident
    from mediatool.importer import pacs
    from mediatool.importer.reconcile import LocalIdentity

_PEER = "AET@HOST:PORT"


def interactive() -> bool:
    """Whether a person can answer a question (stdin and stderr are terminals)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _peer(text: str, what: str) -> pacs.Peer:
    from mediatool.importer import pacs

    try:
        return pacs.parse_peer(text)
    except pacs.PeerError as exc:
        raise click.BadParameter(str(exc), param_hint=what) from None


def _check_args(**a: object) -> None:
    destinations = [k for k in ("list_only", "into", "to_pacs") if a[k]]
    if len(destinations) != 1:
        raise click.UsageError("give exactly one of --list, --into DIR or --to-pacs AET@HOST:PORT")
    sources = [k for k in ("patient_id", "map_file", "worklist") if a[k]]
    if len(sources) > 1:
        raise click.UsageError("give only one of --patient-id, --map or --worklist")
    demographics = [k for k in ("issuer", "patient_name", "birth_date", "sex") if a[k]]
    if demographics and not a["patient_id"]:
        flags = ", ".join("--" + k.replace("_", "-") for k in demographics)
        raise click.UsageError(f"{flags} need --patient-id")
    if (a["commit"] or a["listen_port"]) and not a["to_pacs"]:
        raise click.UsageError("--commit and --listen-port need --to-pacs")
    if a["no_pacs_check"] and not a["to_pacs"]:
        raise click.UsageError("--no-pacs-check needs --to-pacs")


def _worklist_identities(
    peer: pacs.Peer, net: pacs.Network, patients: list[ident.MediaPatient]
) -> dict[str, LocalIdentity]:
    from mediatool.importer import identity as ident
    from mediatool.importer import pacs, render
    from mediatool.importer.worklist import find_patient

    out: dict[str, LocalIdentity] = {}
    for p in patients:
        try:
            found = find_patient(peer, net, name=p.name, birth_date=p.birth_date)
        except pacs.PeerUnavailable as exc:
            raise MediatoolError(f"the worklist {peer} cannot be queried: {exc}") from exc
        who = f"{render.person(p.name)} (ID {p.patient_id!r}, born {render.day(p.birth_date)})"
        if not found:
            raise ident.MatchRefused(
                f"the worklist {peer} has no local patient for {who}; nothing was imported",
                hint="give the local ID with --patient-id, or schedule the import in the worklist",
            )
        if len(found) == 1 and found[0].exact:
            out[p.patient_id] = found[0].identity
            continue
        labels = [f"{n}. {c.label()}" for n, c in enumerate(found, 1)]
        if not interactive():
            raise ident.MatchRefused(
                f"the worklist offers {len(found)} possible local patients for {who}; a person "
                "must choose:\n  " + "\n  ".join(labels),
                hint="run it in a terminal to choose, or give --patient-id",
            )
        click.echo(f"Which local patient is {who}?\n  " + "\n  ".join(labels), err=True)
        choice = click.prompt("Number", type=click.IntRange(1, len(found)), err=True)
        out[p.patient_id] = found[choice - 1].identity
    return out


def _identities(
    survey: object, selection: object, a: Mapping[str, object], net: pacs.Network
) -> dict[str, LocalIdentity] | None:
    from mediatool.importer import identity as ident
    from mediatool.importer.reconcile import LocalIdentity
    from mediatool.importer.select import Selection, selected
    from mediatool.importer.survey import Survey

    assert isinstance(survey, Survey) and isinstance(selection, Selection)
    patients = ident.media_patients(selected(survey, selection))
    if a["patient_id"]:
        given = LocalIdentity(
            str(a["patient_id"]),
            issuer=a["issuer"] or None,  # type: ignore[arg-type]
            name=a["patient_name"] or None,  # type: ignore[arg-type]
            birth_date=a["birth_date"] or None,  # type: ignore[arg-type]
            sex=str(a["sex"]).upper() if a["sex"] else None,
        )
        return ident.single(patients, given)
    if a["map_file"]:
        path = Path(str(a["map_file"]))
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot read the map {str(path)!r}: {exc}") from exc
        return ident.from_map(patients, ident.parse_map(text, str(path)))
    if a["worklist"]:
        return _worklist_identities(_peer(str(a["worklist"]), "--worklist"), net, patients)
    return None


def _list(media: str, as_json: bool, verbose: bool, quiet: bool) -> None:
    from mediatool.importer import render
    from mediatool.importer.listing import listing
    from mediatool.media import open_media
    from mediatool.validate import validate_media

    progress = output.Progress(enabled=not quiet and not as_json)
    with _handle_errors(), _document_on_error(as_json, media, "mediatool.import-list/1"):
        try:
            with open_media(media) as reader:
                result = listing(validate_media(reader, None, progress))
        finally:
            progress.close()
        if as_json:
            output.emit_json(result.as_dict())
        else:
            click.echo(render.listing_text(result, verbose=verbose))
    sys.exit(0 if result.ok else 1)


@click.command("import")
@click.argument("media", type=click.Path(path_type=str))
@click.option("--list", "list_only", is_flag=True, help="Only show what is on the media.")
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Archive folder to import into (Part 10 files by patient and study).",
)
@click.option("--to-pacs", metavar=_PEER, help="PACS to send to with C-STORE.")
@click.option("--calling-aet", default="MEDIATOOL", show_default=True, help="Our AE title.")
@click.option("--commit", is_flag=True, help="Ask the PACS for Storage Commitment and wait.")
@click.option(
    "--listen-port",
    type=click.IntRange(1, 65535),
    help="Port where the PACS sends the Storage Commitment report.",
)
@click.option(
    "--commit-timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds to wait for the Storage Commitment report.",
)
@click.option(
    "--timeout",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Network time-out in seconds.",
)
@click.option(
    "--retries",
    default=3,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Tries again after a lost association or a busy PACS.",
)
@click.option(
    "--associations",
    default=4,
    show_default=True,
    type=click.IntRange(1, 16),
    help="Associations to send over side by side (fewer if the PACS refuses more).",
)
@click.option(
    "--retry-delay",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds before the first retry (doubling the pause each time).",
)
@click.option(
    "--study",
    "studies",
    multiple=True,
    metavar="UID",
    help="Import only this study (Study Instance UID); repeatable.",
)
@click.option("--patient", metavar="ID", help="Import only this patient (Patient ID on the media).")
@click.option("--patient-id", metavar="LOCAL", help="Local Patient ID to attach the media to.")
@click.option("--issuer", help="Issuer of the local Patient ID.")
@click.option("--patient-name", help="Local patient name (Family^Given).")
@click.option("--birth-date", metavar="YYYYMMDD", help="Local birth date.")
@click.option("--sex", type=click.Choice(["M", "F", "O"], case_sensitive=False))
@click.option(
    "--map",
    "map_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV: foreign_id,local_id[,issuer,name,birth_date,sex].",
)
@click.option("--worklist", metavar=_PEER, help="Modality Worklist to find the local patient in.")
@click.option("--accession", help="Local Accession Number to give the imported studies.")
@click.option("--source", help="Source of Previous Values (default: issuer or institution).")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the journal of what was sent to a PACS (resume) and the list of every "
    "file's outcome when something was not imported.",
)
@click.option(
    "--no-pacs-check",
    is_flag=True,
    help="Send without first asking the PACS (C-FIND) what it holds and under which Patient "
    "ID; only for a PACS that refuses queries. Recorded in the result.",
)
@click.option("--jobs", type=click.IntRange(1, 64), help="Worker processes for reading headers.")
@click.option("--dry-run", is_flag=True, help="Show what would happen; write and send nothing.")
@json_option
@quiet_option
def import_(media: str, **a: object) -> None:
    """Import an outside disc (folder, mounted disc, ISO image, zip) into an archive or a PACS.

    Every file on the media is accounted for: imported, already there, nothing to import, or
    not imported with the reason. Running the same command again sends only what is missing.
    Reconcile the patient with --patient-id (and --issuer, --patient-name, --birth-date,
    --sex), --map or --worklist: the media's Patient ID is kept in Other Patient IDs Sequence
    and the replaced values in Original Attributes Sequence. The media is never modified.
    Before anything is sent, the destination is asked (C-FIND on the PACS, the archive's own
    index) what it holds: a study it files under another Patient ID stops the import.
    Exit 0 when every DICOM instance is at the destination, 1 when one is not (not sent, sent
    but not confirmed, a study under another patient, nothing DICOM found; with --list, when
    something on the media cannot be imported), 2 when it could not run.

    \b
    Example:
      mediatool import /media/cdrom --list
      mediatool import disc.iso --into /archive --patient-id 12345 --issuer HOSP
      mediatool import disc.iso --to-pacs PACS@10.0.0.5:104 --commit --listen-port 11113
    """
    as_json, quiet, verbose = bool(a["as_json"]), bool(a["quiet"]), bool(a["verbose"])
    _check_args(**a)
    if a["list_only"]:
        _list(media, as_json, verbose, quiet)
        return
    _run(media, a, as_json, quiet, verbose)


@contextlib.contextmanager
def _document_on_error(
    as_json: bool, media: str, schema: str = "mediatool.import/1"
) -> Iterator[list[bool]]:
    """With ``--json``, an import that stops with an error (exit 2) still prints one document,
    saying why; ``printed`` gets True once the report itself was printed."""
    printed: list[bool] = []
    try:
        yield printed
    except MediatoolError as exc:
        if as_json and not printed:
            output.emit_json(
                {"schema": schema, "ok": False, "media": media, "error": str(exc),
                 "hint": exc.hint, "summary": None, "files": [], "findings": []}
            )  # fmt: skip
        raise


def _run(media: str, a: Mapping[str, object], as_json: bool, quiet: bool, verbose: bool) -> None:
    from mediatool.importer import pacs, render, same_content
    from mediatool.importer.journal import default_state_dir
    from mediatool.importer.run import ArchiveTarget, PacsTarget, RunOptions, run_import
    from mediatool.importer.select import Selection, check_selection, plan_import
    from mediatool.importer.survey import survey_media
    from mediatool.media import open_media

    with _handle_errors(), _document_on_error(as_json, media) as printed:
        net = pacs.Network(
            calling_aet=pacs.check_ae_title(str(a["calling_aet"]), "--calling-aet"),
            timeout=float(a["timeout"]),  # type: ignore[arg-type]
            retries=int(a["retries"]),  # type: ignore[call-overload]
            retry_delay=float(a["retry_delay"]),  # type: ignore[arg-type]
        )
        destination: ArchiveTarget | PacsTarget
        if a["into"]:
            archive = Path(str(a["into"]))
            source = Path(media).resolve()
            if archive.resolve().is_relative_to(source) or source.is_relative_to(archive.resolve()):
                # the media is never modified: an archive inside it (or around it) would be
                raise MediatoolError(
                    f"the archive folder {str(archive)!r} overlaps the media {media!r}; "
                    "choose an archive folder outside it"
                )
            destination = ArchiveTarget(archive)
        else:
            peer = _peer(str(a["to_pacs"]), "--to-pacs")
            destination = PacsTarget(
                peer,
                net,
                Path(str(a["state_dir"])) if a["state_dir"] else default_state_dir(),
                commit=bool(a["commit"]),
                listen_port=a["listen_port"],  # type: ignore[arg-type]
                commit_wait=float(a["commit_timeout"]),  # type: ignore[arg-type]
                associations=int(a["associations"]),  # type: ignore[call-overload]
                check=not a["no_pacs_check"],
            )
            if not a["dry_run"]:
                answer = pacs.echo(peer, net)
                if not answer.ok:
                    raise MediatoolError(
                        f"the PACS does not answer: {answer.message}",
                        hint=f"check it with: mediatool echo {peer}",
                    )
        progress = output.Progress(enabled=not quiet and not as_json)
        selection = Selection(
            frozenset(map(str, a["studies"])),  # type: ignore[call-overload]
            str(a["patient"]) if a["patient"] else None,
        )
        try:
            with open_media(media) as reader:
                survey = survey_media(reader, progress=progress, jobs=a["jobs"])  # type: ignore[arg-type]
                check_selection(survey, selection)
                identities = _identities(survey, selection, a, net)
                plan = plan_import(survey, selection, identities, same_content(reader))
                options = RunOptions(
                    accession=str(a["accession"]) if a["accession"] else None,
                    source=str(a["source"]) if a["source"] is not None else None,
                    dry_run=bool(a["dry_run"]),
                )
                report = run_import(reader, plan, destination, options, progress=progress)
        finally:
            progress.close()
        output.findings_to_stderr(report.findings, verbose=verbose)
        log = None if a["dry_run"] else _outcome_log(report, a)
        if as_json:
            output.emit_json(render.import_json(report) | {"log": log})
            printed.append(True)
        else:
            click.echo(render.import_text(report, verbose=verbose, log_path=log))
        if report.error is not None:
            raise report.error  # after the accounting: exit 2 with the message and hint
    sys.exit(0 if report.ok else 1)


def _outcome_log(report: object, a: Mapping[str, object]) -> str | None:
    """Write every file's outcome to a log in the state folder when something was not imported;
    its path (None when all went well, or when it cannot be written: said on stderr)."""
    import time

    from mediatool.importer import render
    from mediatool.importer.journal import default_state_dir
    from mediatool.importer.run import ImportReport

    assert isinstance(report, ImportReport)
    if report.ok or not report.found_dicom:
        return None
    folder = Path(str(a["state_dir"])) if a["state_dir"] else default_state_dir()
    path = folder / time.strftime(f"import-%Y%m%d-%H%M%S-{os.getpid()}.log")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(render.outcome_log(report), encoding="utf-8")
    except OSError as exc:
        click.echo(f"Warning: cannot write the list of outcomes to {str(path)!r}: {exc}", err=True)
        return None
    return str(path)


@click.command("echo")
@click.argument("peer", metavar=_PEER)
@click.option("--calling-aet", default="MEDIATOOL", show_default=True, help="Our AE title.")
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Network time-out in seconds.",
)
@json_option
def echo(peer: str, calling_aet: str, timeout: float, as_json: bool) -> None:
    """Check that a DICOM peer answers (C-ECHO, Verification SOP Class).

    Exit 0 when it answers, 1 when it does not.

    \b
    Example:
      mediatool echo PACS@10.0.0.5:104 --calling-aet RECEPTION
    """
    from mediatool.importer import pacs

    with _handle_errors():
        target = _peer(peer, "PEER")
        net = pacs.Network(
            calling_aet=pacs.check_ae_title(calling_aet, "--calling-aet"), timeout=timeout
        )
        answer = pacs.echo(target, net)
    if as_json:
        output.emit_json(
            {
                "schema": "mediatool.echo/1",
                "ok": answer.ok,
                "peer": str(target),
                "message": answer.message,
                "seconds": round(answer.seconds, 3),
            }
        )
    elif answer.ok:
        click.echo(f"{answer.message} in {answer.seconds * 1000:.0f} ms")
    else:
        click.echo(f"Error: {answer.message}", err=True)
    sys.exit(0 if answer.ok else 1)
