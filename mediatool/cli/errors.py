"""The one place where library errors become messages and exit codes.

Exit codes (a contract): 0 done and clean; 1 refused because of findings (:class:`PlanRejected`);
2 could not run (every other :class:`MediatoolError`, usage errors, internal errors); 130
interrupted. With ``--json``, :func:`json_on_error` still prints one document when a command
stops with an error.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import click

from mediatool.cli.output import emit_json, findings_to_stderr
from mediatool.errors import MediatoolError, PlanRejected


@contextlib.contextmanager
def handle_errors(debug: bool = False) -> Iterator[None]:
    """Library errors -> ``Error: ...`` (and ``Hint: ...``) on stderr and the exit code."""
    try:
        yield
    except PlanRejected as exc:
        findings_to_stderr(exc.findings)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except MediatoolError as exc:
        click.echo(f"Error: {exc}", err=True)
        if exc.hint:
            click.echo(f"Hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # the reader of stdout went away (``mediatool profiles | head``): not an error of ours;
        # point stdout at /dev/null so Python's shutdown flush does not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except click.ClickException:
        raise  # a usage error found while running (a bad AET@HOST:PORT ...): click's exit 2
    except KeyboardInterrupt:
        click.echo("Interrupted; nothing was published.", err=True)
        sys.exit(130)
    except Exception:
        if debug or os.environ.get("MEDIATOOL_DEBUG"):
            raise
        _internal_error()


def _internal_error() -> None:
    import traceback

    click.echo(
        "Internal error in mediatool, please report it with this line: "
        + traceback.format_exc().strip().splitlines()[-1],
        err=True,
    )
    sys.exit(2)


@contextlib.contextmanager
def json_on_error(
    as_json: bool, document: Callable[[MediatoolError], Mapping[str, Any]]
) -> Iterator[list[bool]]:
    """With ``--json``, a command that stops with an error (exit 2) still prints one document,
    ``document(error)``, saying why; ``printed`` gets True once the result itself was printed.

    Use inside :func:`handle_errors`, which then prints the message and exits."""
    printed: list[bool] = []
    try:
        yield printed
    except MediatoolError as exc:
        if as_json and not printed:
            emit_json(document(exc))
        raise
