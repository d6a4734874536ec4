"""★ Collect from the PACS and burn: retrieve into a temporary folder, then the usual build."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from mediatool import build as build_mod
from mediatool.build.plan import MediaPlan
from mediatool.errors import PlanRejected
from mediatool.findings import Finding, apply_policy
from mediatool.model import Progress
from mediatool.retrieve.accounting import ALLOW_PARTIAL, RetrieveResult
from mediatool.retrieve.run import RetrieveRequest, choose, collect


@dataclasses.dataclass(slots=True)
class PacsBuild:
    plan: MediaPlan | None
    retrieve: RetrieveResult
    findings: list[Finding]


def build_from_pacs(
    request: build_mod.BuildRequest,
    retrieve: RetrieveRequest,
    *,
    allow_partial: bool = False,
    progress: Progress | None = None,
) -> PacsBuild:
    """Retrieve the chosen studies, then ``build.run`` on them.

    A partial retrieve raises :class:`PlanRejected` (exit 1, nothing written) unless
    ``allow_partial``; then README.TXT on the disc says what is missing (``request.notes``).
    The retrieve findings are added to the plan's findings, after the same severity policy
    (``--allow-partial``: :data:`ALLOW_PARTIAL`, then the profile's ``[severity]``).
    """
    if not request.dry_run:
        build_mod._check_outputs(request)
    studies = choose(retrieve)
    with tempfile.TemporaryDirectory(prefix="mediatool-retrieve-") as tmp:
        result = collect(retrieve, studies, Path(tmp), progress)
        policy = ALLOW_PARTIAL if allow_partial else None
        found = apply_policy(result.findings(), policy, request.profile.severity)
        if result.written == 0:  # never suggest --allow-partial: there is nothing to burn
            raise PlanRejected(
                f"no instance arrived from {retrieve.peer}; nothing was written", found, result
            )
        if result.partial and not allow_partial:
            raise PlanRejected(
                f"the retrieve from {retrieve.peer} was incomplete ({result.written} instances "
                "arrived); nothing was written (add --allow-partial to burn what arrived)",
                found,
                result,
            )
        notes = tuple(request.notes) + (result.notes() if result.partial else ())
        request = dataclasses.replace(request, sources=(tmp,), notes=notes)
        try:
            media_plan = build_mod.run(request, progress)
        except PlanRejected as exc:
            raise PlanRejected(str(exc), [*found, *exc.findings], exc.result) from exc
    media_plan.findings[:0] = found
    return PacsBuild(media_plan, result, found)
