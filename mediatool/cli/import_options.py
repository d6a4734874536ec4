"""The options of ``mediatool import``: declared (:data:`import_options`) and parsed into one
typed value (:class:`ImportOptions`), with the usage rules that tie them together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from mediatool.cli.options import (
    PEER,
    calling_aet_option,
    jobs_option,
    json_option,
    language_option,
    option_group,
    quiet_option,
    retries_option,
    retry_delay_option,
    timeout_option,
)

#: The options of ``import`` (MEDIA apart), in the order ``--help`` shows them
import_options = option_group(
    click.option("--list", "list_only", is_flag=True, help="Only show what is on the media."),
    click.option(
        "--into",
        type=click.Path(file_okay=False, path_type=Path),
        help="Archive folder to import into (Part 10 files by patient and study).",
    ),
    click.option("--to-pacs", metavar=PEER, help="PACS to send to with C-STORE."),
    calling_aet_option,
    click.option("--commit", is_flag=True, help="Ask the PACS for Storage Commitment and wait."),
    click.option(
        "--listen-port",
        type=click.IntRange(1, 65535),
        help="Port where the PACS sends the Storage Commitment report.",
    ),
    click.option(
        "--commit-timeout",
        default=60.0,
        show_default=True,
        type=click.FloatRange(0.1),
        help="Seconds to wait for the Storage Commitment report.",
    ),
    timeout_option(),
    retries_option,
    click.option(
        "--associations",
        default=4,
        show_default=True,
        type=click.IntRange(1, 16),
        help="Associations to send over side by side (fewer if the PACS refuses more).",
    ),
    retry_delay_option,
    click.option(
        "--study",
        "studies",
        multiple=True,
        metavar="UID",
        help="Import only this study (Study Instance UID); repeatable.",
    ),
    click.option(
        "--patient", metavar="ID", help="Import only this patient (Patient ID on the media)."
    ),
    click.option("--patient-id", metavar="LOCAL", help="Local Patient ID to attach the media to."),
    click.option("--issuer", help="Issuer of the local Patient ID."),
    click.option("--patient-name", help="Local patient name (Family^Given)."),
    click.option("--birth-date", metavar="YYYYMMDD", help="Local birth date."),
    click.option("--sex", type=click.Choice(["M", "F", "O"], case_sensitive=False)),
    click.option(
        "--map",
        "map_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="CSV: foreign_id,local_id[,issuer,name,birth_date,sex].",
    ),
    click.option(
        "--worklist", metavar=PEER, help="Modality Worklist to find the local patient in."
    ),
    click.option("--accession", help="Local Accession Number to give the imported studies."),
    click.option("--source", help="Source of Previous Values (default: issuer or institution)."),
    click.option(
        "--state",
        "state_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder for the journal of what was sent to a PACS (resume) and the list of every "
        "file's outcome when something was not imported.",
    ),
    click.option(
        "--no-pacs-check",
        is_flag=True,
        help="Send without first asking the PACS (C-FIND) what it holds and under which Patient "
        "ID; only for a PACS that refuses queries. Recorded in the result.",
    ),
    jobs_option("Worker processes for reading headers."),
    click.option("--dry-run", is_flag=True, help="Show what would happen; write and send nothing."),
    json_option,
    language_option,
    quiet_option,
)


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The options of ``import`` (MEDIA apart), as click parsed them."""

    list_only: bool
    into: Path | None
    to_pacs: str | None
    calling_aet: str
    commit: bool
    listen_port: int | None
    commit_timeout: float
    timeout: float
    retries: int
    associations: int
    retry_delay: float
    studies: tuple[str, ...]
    patient: str | None
    patient_id: str | None
    issuer: str | None
    patient_name: str | None
    birth_date: str | None
    sex: str | None
    map_file: Path | None
    worklist: str | None
    accession: str | None
    source: str | None
    state_dir: Path | None
    no_pacs_check: bool
    jobs: int | None
    dry_run: bool
    as_json: bool
    language: str
    quiet: bool
    verbose: bool

    def check(self) -> None:
        """Usage errors (exit 2): destinations, identity sources and PACS-only options."""
        destinations = [k for k in ("list_only", "into", "to_pacs") if getattr(self, k)]
        if len(destinations) != 1:
            raise click.UsageError(
                "give exactly one of --list, --into DIR or --to-pacs AET@HOST:PORT"
            )
        sources = [k for k in ("patient_id", "map_file", "worklist") if getattr(self, k)]
        if len(sources) > 1:
            raise click.UsageError("give only one of --patient-id, --map or --worklist")
        demographics = [
            k for k in ("issuer", "patient_name", "birth_date", "sex") if getattr(self, k)
        ]
        if demographics and not self.patient_id:
            flags = ", ".join("--" + k.replace("_", "-") for k in demographics)
            raise click.UsageError(f"{flags} need --patient-id")
        if (self.commit or self.listen_port) and not self.to_pacs:
            raise click.UsageError("--commit and --listen-port need --to-pacs")
        if self.no_pacs_check and not self.to_pacs:
            raise click.UsageError("--no-pacs-check needs --to-pacs")

    @property
    def state_folder(self) -> Path:
        from mediatool.importer.journal import default_state_dir

        return self.state_dir if self.state_dir else default_state_dir()
