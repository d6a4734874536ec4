"""The station's job kinds: each one library call (design.md, "The station").

A kind is ``run_<kind>(params, ctx) -> result``: ``params`` and ``result`` are JSON objects,
progress, log and audit go through ``ctx`` (:mod:`mediatool.station.jobs.context`);
:class:`~mediatool.station.jobs.context.JobFailed` means "cannot continue" (message and hint
for the desk) and a cancel raises :class:`~mediatool.station.jobs.context.JobCancelled`.

    survey     {media}                       what is on a disc, a thumbnail per series
    import     {media, pacs | into, ...}     the import's accounting and the desk's receipt
    build      {sources | from_pacs, ...}    disc folder, ISO image(s), label
    validate   {media, profile}              the validation report (JSON and HTML)
    burn       {build_job, images, burner, ...}  each disc burned and read back, per copy

:data:`KINDS` maps a kind's name to its function, :func:`describe` gives the one-line title
the history page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from mediatool.station.jobs.context import JobContext
from mediatool.station.jobs.kinds import building, burning, importing, survey, validate
from mediatool.station.jobs.kinds.building import run_build
from mediatool.station.jobs.kinds.burning import run_burn
from mediatool.station.jobs.kinds.importing import run_import
from mediatool.station.jobs.kinds.survey import run_survey
from mediatool.station.jobs.kinds.validate import run_validate

Kind = Callable[[Mapping[str, Any], JobContext], dict[str, Any]]

#: Kind name → the function that runs it
KINDS: Final[dict[str, Kind]] = {
    "survey": run_survey,
    "import": run_import,
    "build": run_build,
    "validate": run_validate,
    "burn": run_burn,
}

_TITLES: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "survey": survey.describe,
    "import": importing.describe,
    "build": building.describe,
    "validate": validate.describe,
    "burn": burning.describe,
}


def describe(kind: str, params: Mapping[str, Any]) -> str:
    """The job's title for people, e.g. "Import disc.iso for patient 12345 -> PACS1"."""
    title = _TITLES.get(kind)
    if title is None:
        return f"{kind} (unknown kind)"
    try:
        return title(params)
    except Exception:  # a title never breaks the history page
        return kind


__all__ = [
    "KINDS",
    "Kind",
    "describe",
    "run_build",
    "run_burn",
    "run_import",
    "run_survey",
    "run_validate",
]
