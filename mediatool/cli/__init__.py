"""The ``mediatool`` command line. Parses, calls the core, hands results to :mod:`.output`.

Exit codes (a contract): 0 done and clean at the ``--fail-on`` threshold; 1 done or refused
because of findings; 2 could not run (usage error, unreadable input, unwritable output).

One module per command; the options several commands share are declared once in
:mod:`.options`, and :mod:`.errors` is the one place where errors become messages and exit
codes. The command modules import neither this package nor each other's commands.
"""

from __future__ import annotations

import logging

import click

from mediatool import __version__
from mediatool.cli.lazy import LazyCommands, import_pydicom_without_requests

__all__ = ["main"]

import_pydicom_without_requests()

#: Every command: its name and where it is defined (imported when it runs or is listed).
COMMANDS = {
    "sample": "mediatool.cli.sample:sample",
    "demo": "mediatool.cli.demo:demo",
    "build": "mediatool.cli.build:build",
    "iso": "mediatool.cli.iso:iso",
    "burn": "mediatool.cli.burn:burn",
    "validate": "mediatool.cli.validate:validate",
    "update": "mediatool.cli.update:update",
    "import": "mediatool.cli.importer:import_",
    "echo": "mediatool.cli.echo:echo",
    "profiles": "mediatool.cli.profiles:profiles_group",
    "find": "mediatool.cli.find:find",
    "serve": "mediatool.cli.serve:serve",
    "users": "mediatool.cli.serve:users_group",
}


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]}, commands=LazyCommands(COMMANDS)
)
@click.version_option(__version__, prog_name="mediatool")
def main() -> None:
    """DICOM offline media: build patient discs, validate media, import outside discs."""
    # pydicom logs decoder failures; each one already becomes a finding, so its log records
    # must not reach stderr through Python's last-resort handler.
    logging.getLogger("pydicom").addHandler(logging.NullHandler())
    logging.getLogger("pydicom").propagate = False
