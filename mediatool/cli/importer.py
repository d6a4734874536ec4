"""``mediatool import``: outside media → archive folder or PACS, reconciled.

Exit codes: 0 every DICOM instance of the media (that was chosen) is at the destination (or was
already); 1 something DICOM was not imported, or no single local patient could be chosen;
2 could not run (bad arguments, unreadable media, PACS or worklist unreachable).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mediatool.cli.errors import handle_errors, json_on_error
from mediatool.cli.import_options import ImportOptions, import_options
from mediatool.cli.options import peer as parse_peer
from mediatool.cli.options import take
from mediatool.cli.output import Progress, emit_json, findings_to_stderr
from mediatool.errors import MediatoolError, SourceError

if TYPE_CHECKING:  # imported when a command runs: pynetdicom must not slow down every command
    from mediatool.importer import identity as ident
    from mediatool.importer.reconcile import LocalIdentity
    from mediatool.importer.run import ArchiveTarget, ImportReport, PacsTarget
    from mediatool.importer.select import Selection
    from mediatool.importer.survey import Survey
    from mediatool.media.base import MediaReader
    from mediatool.net import association as pacs

IMPORT_SCHEMA = "mediatool.import/1"
LIST_SCHEMA = "mediatool.import-list/1"


def interactive() -> bool:
    """Whether a person can answer a question (stdin and stderr are terminals)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _worklist_identities(
    peer: pacs.Peer, net: pacs.Network, patients: list[ident.MediaPatient]
) -> dict[str, LocalIdentity]:
    from mediatool.importer import identity as ident
    from mediatool.importer import render
    from mediatool.importer.worklist import find_patient
    from mediatool.net import association as pacs

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
    survey: Survey, selection: Selection, a: ImportOptions, net: pacs.Network
) -> dict[str, LocalIdentity] | None:
    from mediatool.importer import identity as ident
    from mediatool.importer.reconcile import LocalIdentity
    from mediatool.importer.select import selected

    patients = ident.media_patients(selected(survey, selection))
    if a.patient_id:
        given = LocalIdentity(
            a.patient_id,
            issuer=a.issuer or None,
            name=a.patient_name or None,
            birth_date=a.birth_date or None,
            sex=a.sex.upper() if a.sex else None,
        )
        return ident.single(patients, given)
    if a.map_file:
        path = a.map_file
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot read the map {str(path)!r}: {exc}") from exc
        return ident.from_map(patients, ident.parse_map(text, str(path)))
    if a.worklist:
        return _worklist_identities(parse_peer(a.worklist, "--worklist"), net, patients)
    return None


def _error_document(media: str, schema: str) -> Callable[[MediatoolError], Mapping[str, Any]]:
    """The one JSON document of an import (or --list) that stopped with an error (exit 2)."""
    return lambda exc: {
        "schema": schema, "ok": False, "media": media, "error": str(exc), "hint": exc.hint,
        "summary": None, "files": [], "findings": [],
    }  # fmt: skip


def _list(media: str, as_json: bool, verbose: bool, quiet: bool, language: str) -> None:
    from mediatool.importer import render
    from mediatool.importer.listing import listing
    from mediatool.media import open_media
    from mediatool.validate import validate_media

    progress = Progress(enabled=not quiet and not as_json)
    document = _error_document(media, LIST_SCHEMA)
    with handle_errors(), json_on_error(as_json, document):
        try:
            with open_media(media) as reader:
                result = listing(validate_media(reader, None, progress))
        finally:
            progress.close()
        if as_json:
            emit_json(result.as_dict())
        else:
            click.echo(render.listing_text(result, verbose=verbose, language=language))
    sys.exit(0 if result.ok else 1)


@click.command("import")
@click.argument("media", type=click.Path(path_type=str))
@import_options
def import_(media: str, **params: Any) -> None:
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
    a = take(ImportOptions, params)
    a.check()
    if a.list_only:
        _list(media, a.as_json, a.verbose, a.quiet, a.language)
        return
    with (
        handle_errors(),
        json_on_error(a.as_json, _error_document(media, IMPORT_SCHEMA)) as printed,
    ):
        report = _run(media, a)
        _report(report, a, printed)
        if report.error is not None:
            raise report.error  # after the accounting: exit 2 with the message and hint
    sys.exit(0 if report.ok else 1)


def _network(a: ImportOptions) -> pacs.Network:
    from mediatool.net import association as pacs

    return pacs.Network(
        calling_aet=pacs.check_ae_title(a.calling_aet, "--calling-aet"),
        timeout=a.timeout,
        retries=a.retries,
        retry_delay=a.retry_delay,
    )


def _archive(media: str, archive: Path) -> ArchiveTarget:
    from mediatool.importer.archive import check_apart
    from mediatool.importer.run import ArchiveTarget

    check_apart(media, archive)
    return ArchiveTarget(archive)


def _pacs(a: ImportOptions, net: pacs.Network) -> PacsTarget:
    """The PACS to send to; unless --dry-run, it must answer a C-ECHO first."""
    from mediatool.importer.run import PacsTarget
    from mediatool.net import association as pacs

    assert a.to_pacs is not None
    where = parse_peer(a.to_pacs, "--to-pacs")
    target = PacsTarget(
        where,
        net,
        a.state_folder,
        commit=a.commit,
        listen_port=a.listen_port,
        commit_wait=a.commit_timeout,
        associations=a.associations,
        check=not a.no_pacs_check,
    )
    if not a.dry_run:
        answer = pacs.echo(where, net)
        if not answer.ok:
            raise MediatoolError(
                f"the PACS does not answer: {answer.message}",
                hint=f"check it with: mediatool echo {where}",
            )
    return target


def _run(media: str, a: ImportOptions) -> ImportReport:
    """Survey the media, choose, reconcile and import: the report of every file."""
    from mediatool.media import open_media

    net = _network(a)
    destination = _archive(media, a.into) if a.into else _pacs(a, net)
    progress = Progress(enabled=not a.quiet and not a.as_json)
    try:
        with open_media(media) as reader:
            return _import(reader, a, net, destination, progress)
    finally:
        progress.close()


def _import(
    reader: MediaReader,
    a: ImportOptions,
    net: pacs.Network,
    destination: ArchiveTarget | PacsTarget,
    progress: Progress,
) -> ImportReport:
    from mediatool.importer import same_content
    from mediatool.importer.run import RunOptions, run_import
    from mediatool.importer.select import Selection, check_selection, plan_import
    from mediatool.importer.survey import survey_media

    selection = Selection(frozenset(a.studies), a.patient if a.patient else None)
    _keep()  # the modules, before the header readers fork
    survey = survey_media(reader, progress=progress, jobs=a.jobs)
    check_selection(survey, selection)
    identities = _identities(survey, selection, a, net)
    plan = plan_import(survey, selection, identities, same_content(reader))
    _keep()  # the survey and the plan, before the sending
    options = RunOptions(
        accession=a.accession if a.accession else None,
        source=a.source,
        dry_run=a.dry_run,
    )
    return run_import(reader, plan, destination, options, progress=progress)


def _keep() -> None:
    """Take what exists now, kept until the command ends, out of the garbage collector's
    sight (``gc.freeze``, Python's own switch for long-lived objects; issue 17).

    Each full collection walks every object: after pydicom, numpy and pynetdicom are imported
    that took 0.07 s, once or twice while importing 1,000 instances and again when the process
    ends (0.11 s of its exit); and a forked header reader whose collector walks the objects it
    shares with this process copies their pages. Frozen objects are still freed when nothing
    refers to them; only a reference cycle among them that becomes garbage waits for the end
    of the command (the command is one short process).
    """
    import gc

    gc.freeze()


def _report(report: ImportReport, a: ImportOptions, printed: list[bool]) -> None:
    """Findings on stderr, then the report (text, or one JSON document) on stdout."""
    from mediatool.importer import render

    findings_to_stderr(report.findings, verbose=a.verbose)
    log = None if a.dry_run else _outcome_log(report, a)
    if a.as_json:
        emit_json(render.import_json(report) | {"log": log})
        printed.append(True)
    else:
        click.echo(render.import_text(report, verbose=a.verbose, log_path=log))


def _outcome_log(report: ImportReport, a: ImportOptions) -> str | None:
    """Write every file's outcome to a log in the state folder when something was not imported;
    its path (None when all went well, or when it cannot be written: said on stderr)."""
    import time

    from mediatool.importer import render

    if report.ok or not report.found_dicom:
        return None
    folder = a.state_folder
    path = folder / time.strftime(f"import-%Y%m%d-%H%M%S-{os.getpid()}.log")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(render.outcome_log(report), encoding="utf-8")
    except OSError as exc:
        click.echo(f"Warning: cannot write the list of outcomes to {str(path)!r}: {exc}", err=True)
        return None
    return str(path)
