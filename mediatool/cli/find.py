"""``mediatool find``: list the studies a PACS has (C-FIND).

Exit codes: 0 the PACS answered (even with no match); 2 could not run (bad arguments, PACS
unreachable or refusing the query).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mediatool.cli.errors import handle_errors
from mediatool.cli.options import (
    PEER,
    F,
    calling_aet_option,
    json_option,
    language_option,
    timeout_option,
)
from mediatool.cli.options import peer as parse_peer
from mediatool.cli.output import emit_json
from mediatool.modalities import labels as modality_labels
from mediatool.retrieve.dates import DATE_HELP, date_range

if TYPE_CHECKING:
    from mediatool.retrieve.find import StudyMatch

FIND_SCHEMA = "mediatool.find/1"
ALL_LIMIT = 500  # rows printed as text; --json has every study


def query_options(f: F) -> F:
    """The study selection of ``find`` (``build --from-pacs`` words its own help)."""
    f = click.option("--accession", default="", help="Accession Number of the study.")(f)
    return click.option("--patient-id", default="", help="Patient ID at the PACS.")(f)


def _format_date(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 else value or "-"


def study_table(studies: list[StudyMatch], language: str = "en") -> list[str]:
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
            modality_labels(s.modalities, language) or "-",
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
@click.argument("peer", metavar=PEER)
@query_options
@click.option("--study-date", default="", metavar="RANGE", help=DATE_HELP)
@click.option("--modality", default="", help="Only studies with this modality (CT, MR, ...).")
@click.option(
    "--all",
    "list_all",
    is_flag=True,
    help=f"List every study at the PACS (no filter needed; at most {ALL_LIMIT} shown).",
)
@calling_aet_option
@timeout_option()
@language_option
@json_option
def find(  # noqa: PLR0913 - a click command: one parameter per option
    peer: str,
    patient_id: str,
    accession: str,
    study_date: str,
    modality: str,
    list_all: bool,
    calling_aet: str,
    timeout: float,
    language: str,
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
    from mediatool.net.association import Network, PeerUnavailable
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
    with handle_errors():
        where = parse_peer(peer, "PEER")
        try:
            studies = find_studies(where, Network(calling_aet, timeout, retries=1), query)
        except PeerUnavailable as exc:
            raise MediatoolError(f"the PACS {where} cannot be queried: {exc}") from exc
        _report(studies, str(where), as_json, language)


def _report(studies: list[StudyMatch], where: str, as_json: bool, language: str) -> None:
    """The studies as one JSON document, or as a table (the count on stderr)."""
    if as_json:
        emit_json({"schema": FIND_SCHEMA, "peer": where, "studies": [s.as_dict() for s in studies]})
        return
    if not studies:
        click.echo(f"No study at {where} matches.", err=True)
        return
    for line in study_table(studies[:ALL_LIMIT], language):
        click.echo(line)
    shown = f"the first {ALL_LIMIT} of " if len(studies) > ALL_LIMIT else ""
    click.echo(f"{shown}{len(studies)} studies at {where}", err=True)
