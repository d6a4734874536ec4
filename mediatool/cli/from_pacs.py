"""``build --from-pacs``: the PACS options of ``build``, checked, then retrieve and build."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from mediatool.cli.options import PEER, calling_aet_option, option_group, peer, timeout_option

if TYPE_CHECKING:
    from mediatool.build import BuildRequest
    from mediatool.build.plan import MediaPlan
    from mediatool.cli.output import Progress
    from mediatool.retrieve.accounting import RetrieveResult
    from mediatool.retrieve.run import RetrieveRequest


@dataclass(frozen=True, slots=True)
class PacsOptions:
    """The options of ``build`` that only ``--from-pacs`` uses."""

    from_pacs: str | None
    patient_id: str
    accession: str
    study_uids: tuple[str, ...]
    calling_aet: str
    retrieve_method: str
    move_aet: str | None
    port: int | None
    listen_host: str
    allow_partial: bool
    timeout: float

    def check(self) -> None:
        """Usage errors (exit 2): options that need ``--from-pacs`` without it."""
        pacs_only = (
            self.patient_id, self.accession, self.study_uids, self.move_aet, self.port,
            self.allow_partial,
        )  # fmt: skip
        if not self.from_pacs and (any(pacs_only) or self.retrieve_method != "get"):
            raise click.UsageError(
                "--patient-id, --accession, --study, --retrieve, --move-aet, --port and "
                "--allow-partial need --from-pacs"
            )


#: ``--from-pacs`` and the options that go with it
pacs_options = option_group(
    click.option(
        "--from-pacs",
        metavar=PEER,
        help="Collect the instances from this PACS (Query/Retrieve) instead of SOURCES.",
    ),
    click.option("--patient-id", default="", help="With --from-pacs: the patient's studies."),
    click.option("--accession", default="", help="With --from-pacs: the study with this number."),
    click.option(
        "--study",
        "study_uids",
        multiple=True,
        metavar="UID",
        help="With --from-pacs: only this Study Instance UID (repeatable).",
    ),
    calling_aet_option,
    click.option(
        "--retrieve",
        "retrieve_method",
        type=click.Choice(["get", "move"]),
        default="get",
        show_default=True,
        help="C-GET, or C-MOVE to a storage SCP this command runs (--move-aet, --port).",
    ),
    click.option("--move-aet", help="AE title of our storage SCP for C-MOVE (known to the PACS)."),
    click.option("--port", type=click.IntRange(1, 65535), help="Port our storage SCP listens on."),
    click.option(
        "--listen-host",
        default="0.0.0.0",
        show_default=True,
        help="Address our storage SCP listens on for C-MOVE.",
    ),
    click.option(
        "--allow-partial",
        is_flag=True,
        help="Burn what arrived when the retrieve is incomplete (README.TXT says what is missing).",
    ),
    timeout_option(),
)


def _retrieve_request(a: PacsOptions) -> RetrieveRequest:
    """The checked request (usage errors, exit 2, for a bad peer, AE title or selection)."""
    from mediatool.net.association import PeerError, check_ae_title
    from mediatool.retrieve.find import StudyQuery
    from mediatool.retrieve.run import RetrieveRequest

    assert a.from_pacs is not None
    peer(a.from_pacs, "--from-pacs")
    try:
        check_ae_title(a.calling_aet, "--calling-aet")
    except PeerError as exc:
        raise click.BadParameter(str(exc), param_hint="--from-pacs") from None
    if not (a.patient_id or a.accession or a.study_uids):
        raise click.UsageError("--from-pacs needs --patient-id, --accession or --study UID")
    if a.retrieve_method == "move" and not (a.move_aet and a.port):
        raise click.UsageError("--retrieve move needs --move-aet AET and --port N")
    return RetrieveRequest(
        peer=a.from_pacs,
        query=StudyQuery(a.patient_id, a.accession, study_uids=a.study_uids),
        method=a.retrieve_method,
        calling_aet=a.calling_aet,
        timeout=a.timeout,
        move_aet=a.move_aet,
        port=a.port,
        listen_host=a.listen_host,
    )


def build_from_pacs(request: BuildRequest, progress: Progress, a: PacsOptions) -> MediaPlan:
    """Retrieve the chosen studies from the PACS, then build; the retrieve's accounting goes
    to stderr when it was incomplete. Returns the plan."""
    from mediatool.errors import PlanRejected
    from mediatool.retrieve.accounting import RetrieveResult
    from mediatool.retrieve.burn import build_from_pacs as burn

    retrieve = _retrieve_request(a)
    try:
        done = burn(request, retrieve, allow_partial=a.allow_partial, progress=progress)
    except PlanRejected as exc:
        if isinstance(exc.result, RetrieveResult):
            _accounting_to_stderr(exc.result)
        raise
    if done.retrieve.partial:
        _accounting_to_stderr(done.retrieve)
    assert done.plan is not None  # burn returns a plan or raises
    return done.plan


def _accounting_to_stderr(result: RetrieveResult) -> None:
    for s in result.studies:
        click.echo(
            f"Retrieve {s.study_uid}: completed {s.completed}, failed {s.failed}, warning "
            f"{s.warning}, remaining {s.remaining}, received {len(s.written)}",
            err=True,
        )
