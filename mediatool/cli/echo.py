"""``mediatool echo``: check that a DICOM peer answers (C-ECHO).

Exit codes: 0 it answers; 1 it does not; 2 could not run (a bad ``AET@HOST:PORT`` or AE title).
"""

from __future__ import annotations

import sys

import click

from mediatool.cli.errors import handle_errors
from mediatool.cli.options import PEER, calling_aet_option, json_option, timeout_option
from mediatool.cli.options import peer as parse_peer
from mediatool.cli.output import emit_json


@click.command("echo")
@click.argument("peer", metavar=PEER)
@calling_aet_option
@timeout_option(10.0)
@json_option
def echo(peer: str, calling_aet: str, timeout: float, as_json: bool) -> None:
    """Check that a DICOM peer answers (C-ECHO, Verification SOP Class).

    Exit 0 when it answers, 1 when it does not.

    \b
    Example:
      mediatool echo PACS@10.0.0.5:104 --calling-aet RECEPTION
    """
    from mediatool.net import association as pacs

    with handle_errors():
        target = parse_peer(peer, "PEER")
        net = pacs.Network(
            calling_aet=pacs.check_ae_title(calling_aet, "--calling-aet"), timeout=timeout
        )
        answer = pacs.echo(target, net)
    if as_json:
        emit_json(
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
