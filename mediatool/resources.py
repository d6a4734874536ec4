"""Where ``profiles/`` and ``templates/`` are: the one place that knows; and the one jinja
Environment over ``templates/`` (disc web content, README.TXT, the QA report).

In a source checkout or an editable install they sit beside the package (the project's layout
rule); in an installed wheel they are carried inside it as ``mediatool/_data/...`` (pyproject's
hatch ``force-include``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mediatool.errors import MediatoolError

if TYPE_CHECKING:  # imported by the first template rendered: data_dir() alone is start-up
    import jinja2

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The folder ``profiles`` or ``templates``, from the wheel or from the checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise MediatoolError(f"the {name}/ folder is missing from this installation of mediatool")


@cache
def templates() -> jinja2.Environment:
    """The jinja Environment of ``templates/``: HTML escaped, a missing value an error."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        autoescape=jinja2.select_autoescape(["html", "htm"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
