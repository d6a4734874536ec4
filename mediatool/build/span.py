"""Split content that does not fit one medium into volumes, each a File-set of its own.

PS3.11 has no multi-volume File-set (D.3.3 and the like: "split into independent File-sets, one
per physical volume"), so each volume gets its own DICOMDIR, web content and Volume Identifier.

Algorithm (pure, deterministic): the content is cut into *units* at one level (patients, or
studies, or series); a unit larger than the capacity is cut at the next level down, and a series
larger than the capacity into runs of consecutive instances. The units are packed by **first-fit
decreasing** (largest first; ties in the tree's order). Each level is tried and the one giving the
fewest volumes wins, the coarser level on a tie, so patients stay whole unless splitting them
saves a disc. Volumes are numbered in the order of their first instance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

from mediatool.errors import OutputError
from mediatool.hierarchy import Series, Tree
from mediatool.model import InstanceInfo

Cost = Callable[[InstanceInfo], int]
LEVELS: Final = ("patient", "study", "series")


@dataclass(slots=True)
class Unit:
    order: int  # position of the first instance in the tree
    instances: list[InstanceInfo]
    size: int


@dataclass(slots=True)
class Volume:
    instances: list[InstanceInfo] = field(default_factory=list)
    size: int = 0
    first: int = 0


def _series_units(
    series: Series, cost: Cost, capacity: int, start: int, pos: dict[str, int]
) -> list[Unit]:
    sizes = [cost(i) for i in series.instances]
    total = sum(sizes)
    if total <= capacity:
        return [Unit(start, list(series.instances), total)]
    units: list[Unit] = []
    run: list[InstanceInfo] = []
    size = 0
    for inst, s in zip(series.instances, sizes, strict=True):
        if s > capacity:
            raise OutputError(
                f"{inst.source.display!r} alone ({s} bytes) is larger than the medium "
                f"({capacity} bytes usable)"
            )
        if run and size + s > capacity:
            units.append(Unit(pos[run[0].sop_instance_uid], run, size))
            run, size = [], 0
        run.append(inst)
        size += s
    if run:
        units.append(Unit(pos[run[0].sop_instance_uid], run, size))
    return units


def units(tree: Tree, cost: Cost, capacity: int, level: str) -> list[Unit]:
    """The content cut at ``level`` (finer only where a piece does not fit)."""
    pos = {inst.sop_instance_uid: n for n, inst in enumerate(tree.instances())}
    out: list[Unit] = []

    def whole(instances: list[InstanceInfo]) -> Unit | None:
        size = sum(cost(i) for i in instances)
        return (
            Unit(pos[instances[0].sop_instance_uid], instances, size) if size <= capacity else None
        )

    for patient in tree.patients:
        series_of_patient = [se for st in patient.studies for se in st.series]
        unit = whole([i for se in series_of_patient for i in se.instances])
        if level == "patient" and unit is not None:
            out.append(unit)
            continue
        for study in patient.studies:
            unit = whole([i for se in study.series for i in se.instances])
            if level in ("patient", "study") and unit is not None:
                out.append(unit)
                continue
            for series in study.series:
                start = pos[series.instances[0].sop_instance_uid]
                out += _series_units(series, cost, capacity, start, pos)
    for inst in tree.root_instances:
        size = cost(inst)
        if size > capacity:
            raise OutputError(f"{inst.source.display!r} alone is larger than the medium")
        out.append(Unit(pos[inst.sop_instance_uid], [inst], size))
    return out


def first_fit_decreasing(pieces: Sequence[Unit], capacity: int) -> list[Volume]:
    volumes: list[Volume] = []
    for unit in sorted(pieces, key=lambda u: (-u.size, u.order)):
        target = next((v for v in volumes if v.size + unit.size <= capacity), None)
        if target is None:
            target = Volume(first=unit.order)
            volumes.append(target)
        target.instances.extend(unit.instances)
        target.size += unit.size
        target.first = min(target.first, unit.order)
    return sorted(volumes, key=lambda v: v.first)


def split(tree: Tree, cost: Cost, capacity: int) -> tuple[list[list[InstanceInfo]], str]:
    """Volumes (their instances, in tree order) and the level the content was cut at."""
    if capacity <= 0:
        raise OutputError("the medium has no room left for DICOM files after the reserve")
    pos = {inst.sop_instance_uid: n for n, inst in enumerate(tree.instances())}
    best: tuple[list[Volume], str] | None = None
    for level in LEVELS:
        packed = first_fit_decreasing(units(tree, cost, capacity, level), capacity)
        if best is None or len(packed) < len(best[0]):
            best = (packed, level)
    assert best is not None
    volumes = [sorted(v.instances, key=lambda i: pos[i.sop_instance_uid]) for v in best[0]]
    return volumes, best[1]


def volume_ids(fileset_id: str, count: int) -> list[str]:
    """``<ID>_1`` ... (PS3.10 8.5: at most 16 of A-Z 0-9 _); ``DISC_k`` without an ID."""
    base = fileset_id or "DISC"
    out = []
    for k in range(1, count + 1):
        suffix = f"_{k}"
        out.append(base[: 16 - len(suffix)] + suffix)
    return out
