"""The ``mediatool`` command line. Parses, calls the core, hands results to :mod:`output`.

Exit codes (a contract): 0 done and clean at the ``--fail-on`` threshold; 1 done or refused
because of findings; 2 could not run (usage error, unreadable input, unwritable output).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from mediatool import __version__, profiles
from mediatool.cli import output
from mediatool.errors import MediatoolError, PlanRejected

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _handle_errors(debug: bool = False) -> Iterator[None]:
    """The one place where library errors become messages and exit codes."""
    try:
        yield
    except PlanRejected as exc:
        output.findings_to_stderr(exc.findings)
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
        import traceback

        click.echo(
            "Internal error in mediatool, please report it with this line: "
            + traceback.format_exc().strip().splitlines()[-1],
            err=True,
        )
        sys.exit(2)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on stdout instead of text."
    )(f)


def fail_on_option(f: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(["error", "warning"]),
        default="error",
        show_default=True,
        help="Exit 1 when a finding at or above this severity exists.",
    )(f)


def profile_option(f: F) -> F:
    """``--profile`` defaulting to STD-GEN-CD (what ``build`` writes)."""
    return _profile_options(f, profiles.DEFAULT_PROFILE, "Application Profile (PS3.11) to apply.")


def claimed_profile_option(f: F) -> F:
    """``--profile`` with no default: the profile a medium claims is checked only when given."""
    return _profile_options(
        f, None, "Application Profile (PS3.11) the media claims; its rules are checked."
    )


def _profile_options(f: F, default: str | None, text: str) -> F:
    f = click.option(
        "--profile-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder with Application Profile files of your own.",
    )(f)
    return click.option(
        "--profile", "profile_id", default=default, show_default=default is not None, help=text
    )(f)


def quiet_option(f: F) -> F:
    f = click.option("-v", "--verbose", is_flag=True, help="Also show notices.")(f)
    return click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediatool")
def main() -> None:
    """DICOM offline media: build patient discs, validate media, import outside discs."""
    # pydicom logs decoder failures; each one already becomes a finding, so its log records
    # must not reach stderr through Python's last-resort handler.
    logging.getLogger("pydicom").addHandler(logging.NullHandler())
    logging.getLogger("pydicom").propagate = False


from mediatool.cli.build import build, demo, sample  # noqa: E402

main.add_command(sample)
main.add_command(demo)
main.add_command(build)

from mediatool.cli.iso import iso  # noqa: E402

main.add_command(iso)

from mediatool.cli.validate import validate  # noqa: E402

main.add_command(validate)

from mediatool.cli.importer import echo, import_  # noqa: E402

main.add_command(import_)
main.add_command(echo)

from mediatool.cli.profiles import command as profiles_command  # noqa: E402

main.add_command(profiles_command)

from mediatool.cli.find import find_command  # noqa: E402

main.add_command(find_command)
