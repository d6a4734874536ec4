"""``mediatool find``: list the studies a PACS has (C-FIND), and the ``build --from-pacs`` glue.

Exit codes: 0 the PACS answered (even with no match); 2 could not run (bad arguments, PACS
unreachable or refusing the query).
"""

from __future__ import annotations

from typing import Any

import click

from mediatool.cli import F, _handle_errors, json_option, output
from mediatool.modalities import labels as modality_labels
from mediatool.retrieve.dates import DATE_HELP, date_range

FIND_SCHEMA = "mediatool.find/1"
ALL_LIMIT = 500  # rows printed as text; --json has every study
_PEER = "AET@HOST:PORT"


def query_options(f: F) -> F:
    """The study selection shared by ``find`` and ``build --from-pacs``."""
    f = click.option("--accession", default="", help="Accession Number of the study.")(f)
    return click.option("--patient-id", default="", help="Patient ID at the PACS.")(f)


def network_options(f: F) -> F:
    f = click.option(
        "--timeout",
        default=30.0,
        show_default=True,
        type=click.FloatRange(0.5, 3600),
        help="Seconds to wait for the PACS.",
    )(f)
    return click.option(
        "--calling-aet", default="MEDIATOOL", show_default=True, help="Our AE title."
    )(f)


def _format_date(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 else value or "-"


def study_table(studies: list[Any]) -> list[str]:
    """Text rows (pure): date, patient, accession, modalities, instances, description, UID.

    Names are shown as people write them (``Müller, Jürgen``); ``--json`` keeps the raw value."""
    from mediatool.importer.render import person

    head = ("DATE", "PATIENT ID", "NAME", "ACCESSION", "MODALITIES", "INST", "DESCRIPTION")
    rows = [
        (
            _format_date(s.date),
            s.patient_id or "-",
            person(s.patient_name) if s.patient_name else "-",
            s.accession or "-",
            modality_labels(s.modalities) or "-",
            "?" if s.instances is None else str(s.instances),
            s.description or "-",
        )
        for s in studies
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out = []
    for n, row in enumerate([head, *rows]):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n:
            out.append(f"  study UID {studies[n - 1].study_uid}")
    return out


@click.command("find")
@click.argument("peer", metavar=_PEER)
@query_options
@click.option("--study-date", default="", metavar="RANGE", help=DATE_HELP)
@click.option("--modality", default="", help="Only studies with this modality (CT, MR, ...).")
@click.option(
    "--all",
    "list_all",
    is_flag=True,
    help=f"List every study at the PACS (no filter needed; at most {ALL_LIMIT} shown).",
)
@network_options
@json_option
def find(
    peer: str,
    patient_id: str,
    accession: str,
    study_date: str,
    modality: str,
    list_all: bool,
    calling_aet: str,
    timeout: float,
    as_json: bool,
) -> None:
    """List the studies at a PACS (C-FIND, Study Root; Patient Root when refused).

    Give at least one of --patient-id, --accession or --study-date (--modality narrows them
    down), or --all to list everything (the first 500 studies are printed). Exit 0 when the PACS
    answered (also with no match), 2 when it cannot be queried.

    \b
    Example:
      mediatool find PACS@10.0.0.5:104 --patient-id 4711-0815
      mediatool find PACS@10.0.0.5:104 --study-date 2024-01-01..2024-03-31 --modality CT
    """
    from mediatool.errors import MediatoolError
    from mediatool.importer.pacs import Network, PeerError, PeerUnavailable, parse_peer
    from mediatool.retrieve.find import StudyQuery, find_studies

    try:
        dates = date_range(study_date) if study_date else ""
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--study-date") from None
    query = StudyQuery(patient_id, accession, dates, modality)
    if query.is_empty() and not list_all:
        raise click.UsageError(
            "give --patient-id, --accession or --study-date (or --all to list every study)"
        )
    with _handle_errors():
        try:
            where = parse_peer(peer)
        except PeerError as exc:
            raise click.BadParameter(str(exc), param_hint="PEER") from None
        try:
            studies = find_studies(where, Network(calling_aet, timeout, retries=1), query)
        except PeerUnavailable as exc:
            raise MediatoolError(f"the PACS {where} cannot be queried: {exc}") from exc
        if as_json:
            output.emit_json(
                {
                    "schema": FIND_SCHEMA,
                    "peer": str(where),
                    "studies": [s.as_dict() for s in studies],
                }
            )
            return
        if not studies:
            click.echo(f"No study at {where} matches.", err=True)
            return
        for line in study_table(studies[:ALL_LIMIT]):
            click.echo(line)
        shown = f"the first {ALL_LIMIT} of " if len(studies) > ALL_LIMIT else ""
        click.echo(f"{shown}{len(studies)} studies at {where}", err=True)


find_command: click.Command = find  # typed here: mypy cannot infer it through the cli import cycle


def build_from_pacs(request: Any, progress: Any, **a: Any) -> Any:
    """``build --from-pacs``: validate the PACS options, retrieve, build; returns the plan."""
    from mediatool.errors import PlanRejected
    from mediatool.importer.pacs import PeerError, check_ae_title, parse_peer
    from mediatool.retrieve.burn import build_from_pacs as burn
    from mediatool.retrieve.find import StudyQuery
    from mediatool.retrieve.run import RetrieveRequest

    try:
        parse_peer(a["from_pacs"])
        check_ae_title(a["calling_aet"], "--calling-aet")
    except PeerError as exc:
        raise click.BadParameter(str(exc), param_hint="--from-pacs") from None
    if not (a["patient_id"] or a["accession"] or a["study_uids"]):
        raise click.UsageError("--from-pacs needs --patient-id, --accession or --study UID")
    if a["retrieve_method"] == "move" and not (a["move_aet"] and a["port"]):
        raise click.UsageError("--retrieve move needs --move-aet AET and --port N")
    retrieve = RetrieveRequest(
        peer=a["from_pacs"],
        query=StudyQuery(a["patient_id"], a["accession"], study_uids=tuple(a["study_uids"])),
        method=a["retrieve_method"],
        calling_aet=a["calling_aet"],
        timeout=a["timeout"],
        move_aet=a["move_aet"],
        port=a["port"],
        listen_host=a["listen_host"],
    )
    try:
        done = burn(request, retrieve, allow_partial=a["allow_partial"], progress=progress)
    except PlanRejected as exc:
        if exc.result is not None and hasattr(exc.result, "studies"):
            _accounting_to_stderr(exc.result)
        raise
    if done.retrieve.partial:
        _accounting_to_stderr(done.retrieve)
    return done.plan


def _accounting_to_stderr(result: Any) -> None:
    for s in result.studies:
        click.echo(
            f"Retrieve {s.study_uid}: completed {s.completed}, failed {s.failed}, warning "
            f"{s.warning}, remaining {s.remaining}, received {len(s.written)}",
            err=True,
        )
