"""``mediatool sample``: write the deterministic sample of messy "foreign" DICOM files."""

from __future__ import annotations

from pathlib import Path

import click

from mediatool.cli.errors import handle_errors
from mediatool.cli.options import json_option
from mediatool.cli.output import SAMPLE_SCHEMA, emit_json
from mediatool.errors import MediatoolError


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

    with handle_errors():
        if out.exists() and any(out.iterdir()):
            raise MediatoolError(f"the folder {str(out)!r} is not empty; choose a new folder")
        result = generate_sample(out, instances=instances, seed=seed)
        if as_json:
            emit_json(
                {
                    "schema": SAMPLE_SCHEMA,
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
