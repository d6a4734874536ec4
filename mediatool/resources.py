"""Where ``profiles/`` and ``templates/`` are: the one place that knows.

In a source checkout or an editable install they sit beside the package (the project's layout
rule); in an installed wheel they are carried inside it as ``mediatool/_data/...`` (pyproject's
hatch ``force-include``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mediatool.errors import MediatoolError

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The folder ``profiles`` or ``templates``, from the wheel or from the checkout."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise MediatoolError(f"the {name}/ folder is missing from this installation of mediatool")
