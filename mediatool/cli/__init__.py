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
from mediatool.cli.build import build
from mediatool.cli.burn import burn
from mediatool.cli.demo import demo
from mediatool.cli.echo import echo
from mediatool.cli.find import find
from mediatool.cli.importer import import_
from mediatool.cli.iso import iso
from mediatool.cli.profiles import profiles_group
from mediatool.cli.sample import sample
from mediatool.cli.serve import serve, users_group
from mediatool.cli.update import update
from mediatool.cli.validate import validate

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mediatool")
def main() -> None:
    """DICOM offline media: build patient discs, validate media, import outside discs."""
    # pydicom logs decoder failures; each one already becomes a finding, so its log records
    # must not reach stderr through Python's last-resort handler.
    logging.getLogger("pydicom").addHandler(logging.NullHandler())
    logging.getLogger("pydicom").propagate = False


for _command in (
    sample,
    demo,
    build,
    iso,
    burn,
    validate,
    update,
    import_,
    echo,
    profiles_group,
    find,
    serve,
    users_group,
):
    main.add_command(_command)
