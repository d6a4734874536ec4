"""The directory tree from the offsets (PS3.3 F.3.2.2, F.2.1): checklist C01-C06.

The tree is what the offsets say, never the order of the items (that order carries no meaning,
dicomdir.md §2). Tolerance, because discs in the wild are broken: when the root offsets are
unusable the hierarchy is read from the order of the records (PATIENT, its STUDYs, their
SERIES, their instance records: the depth-first order every known writer uses) and the report
says so; records the offsets do not reach are placed the same way, so their files are still
checked. Every walk is bounded by the number of records: a record is entered once, loops and
second references are reported and cut. Used by validate, import's survey and the web content.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from mediatool.dicom.dicomdir_raw import FILE_ID, IN_USE, LOWER, NEXT, RawDirectory, RawRecord
from mediatool.dicom.recordtypes import (
    ALLOWED_CHILDREN,
    DEFINED_RECORD_TYPES,
    ROOT_RECORD_TYPES,
    allowed_child,
)
from mediatool.findings import Finding, Severity, finding

ROOT: Final = -1
FIRST: Final = 0x00041200
LAST: Final = 0x00041202
_NEXT_NAME: Final = "(0004,1400) Offset of the Next Directory Record"
_LOWER_NAME: Final = "(0004,1420) Offset of Referenced Lower-Level Directory Entity"
_FIRST_NAME: Final = "(0004,1200) Offset of the First Directory Record of the Root Directory Entity"
LEVELS: Final = ("PATIENT", "STUDY", "SERIES")


@dataclass(slots=True)
class DirTree:
    """Where each record sits. Indices are 0-based positions in ``RawDirectory.records``."""

    parent: list[int] = field(default_factory=list)  # ROOT for the root entity
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    reached: list[bool] = field(default_factory=list)  # through the offsets
    active: list[bool] = field(default_factory=list)  # in use, and every ancestor too
    order: list[int] = field(default_factory=list)  # depth first, parents before children
    by_sequence: bool = False

    def ancestors(self, index: int) -> list[int]:
        """Parent, grandparent, ... (nearest first); bounded by the number of records."""
        out: list[int] = []
        node = self.parent[index]
        while node != ROOT and len(out) < len(self.parent):
            out.append(node)
            node = self.parent[node]
        return out


def record_type(record: RawRecord) -> str:
    """The record's (0004,1430), "" when absent."""
    return record.record_type or ""


class _Walk:
    def __init__(self, directory: RawDirectory) -> None:
        self.records = directory.records
        self.index = {r.offset: i for i, r in enumerate(self.records)}
        n = len(self.records)
        self.tree = DirTree(parent=[ROOT] * n, reached=[False] * n, active=[True] * n)
        self.findings: list[Finding] = []
        self.damage_at = directory.damage_at

    def add(self, found: Finding, pos: int) -> None:
        """Add ``found``, about the record at ``pos``; past the position where the reader lost
        records, it only echoes that damage: a notice, not another error (issue 11)."""
        if self.damage_at is not None and pos >= self.damage_at:
            found = replace(
                found,
                severity=Severity.INFO,
                message=f"{found.message}; this follows from the damage of the DICOMDIR "
                "reported above",
            )
        self.findings.append(found)

    def is_ancestor(self, node: int, of: int) -> bool:
        steps = 0
        while of != ROOT and steps <= len(self.records):
            if of == node:
                return True
            of = self.tree.parent[of]
            steps += 1
        return False

    def entity(self, start: int, parent: int, src: str, attr: str) -> list[int]:
        """Follow one next-chain; returns its members in chain order."""
        members: list[int] = []
        chain: set[int] = set()
        pos = start
        while pos:
            i = self.index.get(pos)
            if i is None:
                self.add(
                    finding(
                        "dicomdir.bad-offset",
                        f"{attr} is {pos}, which is not the position of a record's Item tag",
                        src,
                    ),
                    pos,
                )
                break
            if i in chain or self.is_ancestor(i, parent):
                self.findings.append(
                    finding(
                        "dicomdir.offset-cycle",
                        f"{attr} {pos} leads back to {self.records[i].where}, making a loop",
                        src,
                    )
                )
                break
            if self.tree.reached[i]:
                self.findings.append(
                    finding(
                        "dicomdir.record-reached-twice",
                        f"{attr} {pos} points to {self.records[i].where}, "
                        "already reached from another place",
                        src,
                    )
                )
                break
            self.tree.reached[i] = True
            self.tree.parent[i] = parent
            chain.add(i)
            members.append(i)
            src, attr = self.records[i].where, _NEXT_NAME
            pos = self.records[i].uint(NEXT) or 0
        return members

    def walk(self, first: int) -> list[int]:
        """Depth-first walk from the root; returns the root chain."""
        root_chain = self.entity(first, ROOT, "DICOMDIR", _FIRST_NAME)
        self.tree.children[ROOT] = list(root_chain)
        stack = list(reversed(root_chain))
        while stack:
            i = stack.pop()
            lower = self.records[i].uint(LOWER) or 0
            if not lower:
                continue
            kids = self.entity(lower, i, self.records[i].where, _LOWER_NAME)
            self.tree.children[i] = kids
            stack.extend(reversed(kids))
        return root_chain

    def place_by_sequence(self, only_unreached: bool) -> None:
        """Parents from the order of the records (the depth-first order writers use)."""
        last: dict[str, int] = {}
        for i, record in enumerate(self.records):
            rtype = record_type(record)
            if rtype in ("PATIENT", "") or rtype in ROOT_RECORD_TYPES:
                parent = ROOT
            elif rtype == "STUDY":
                parent = last.get("PATIENT", ROOT)
            elif rtype == "SERIES":
                parent = last.get("STUDY", ROOT)
            elif rtype == "PRIVATE" or rtype not in DEFINED_RECORD_TYPES:
                parent = ROOT
            else:
                parent = last.get("SERIES", ROOT)
            if rtype in LEVELS:
                last[rtype] = i
                for lower in LEVELS[LEVELS.index(rtype) + 1 :]:
                    last.pop(lower, None)
            if only_unreached and self.tree.reached[i]:
                continue
            self.tree.parent[i] = parent
            self.tree.children[parent].append(i)
            if not only_unreached and parent == ROOT and not allowed_child("", rtype):
                self._no_parent(record, rtype)

    def _no_parent(self, record: RawRecord, rtype: str) -> None:
        """C10 when read by record order: a record no allowed parent precedes sits at the root
        (its records below are placed under it, so it is reported once)."""
        if rtype not in DEFINED_RECORD_TYPES:
            return
        wanted = " or ".join(sorted(p for p, kids in ALLOWED_CHILDREN.items() if rtype in kids))
        self.findings.append(
            finding(
                "record.bad-parent",
                f"{rtype} record has no {wanted} record before it in the Directory Record "
                "Sequence (read by record order), so it is at the root: not allowed by Table F.4-1",
                record.where,
            )
        )


def _check_root(directory: RawDirectory, walk: _Walk) -> bool:
    """C02 on (0004,1200)/(0004,1202) before the walk; True if the root offset is usable."""
    first = directory.uint(FIRST)
    n = len(directory.records)
    if first is None:
        walk.findings.append(
            finding("dicomdir.root-offsets", f"{_FIRST_NAME} is absent", directory.where)
        )
        return False
    if n and first == 0:
        walk.findings.append(
            finding(
                "dicomdir.root-offsets",
                f"{_FIRST_NAME} is 0 but the Directory Record Sequence has {n} records",
                directory.where,
            )
        )
        return False
    if first and first not in walk.index:
        walk.add(
            finding(
                "dicomdir.bad-offset",
                f"{_FIRST_NAME} is {first}, which is not the position of a record's Item tag",
                directory.where,
            ),
            first,
        )
        return False
    return bool(n)


def _check_last(directory: RawDirectory, root_chain: Sequence[int], walk: _Walk) -> None:
    last = directory.uint(LAST)
    expected = directory.records[root_chain[-1]].offset if root_chain else 0
    name = "(0004,1202) Offset of the Last Directory Record of the Root Directory Entity"
    if last is None:
        walk.findings.append(finding("dicomdir.root-offsets", f"{name} is absent", directory.where))
    elif last != expected:
        walk.add(
            finding(
                "dicomdir.root-offsets",
                f"{name} is {last}, the last record of the root chain is at {expected}",
                directory.where,
            ),
            max(last, expected),
        )


def _unreached(walk: _Walk) -> None:
    for i, record in enumerate(walk.records):
        if walk.tree.reached[i]:
            continue
        if record.has(FILE_ID):
            code, extra = "dicomdir.unreachable-record", "; its file is checked all the same"
        else:
            code, extra = "dicomdir.unreachable-empty-record", ""
        walk.add(
            finding(
                code,
                f"{record_type(record) or 'record'} record is not reached from the root through "
                f"the offsets{extra}",
                record.where,
            ),
            record.offset,
        )


def _finish(tree: DirTree, records: Sequence[RawRecord]) -> None:
    """Depth-first order, and which records are active (C06: an inactive subtree is skipped)."""
    seen = [False] * len(records)
    stack = list(reversed(tree.children.get(ROOT, [])))
    while stack:
        i = stack.pop()
        if seen[i]:
            continue
        seen[i] = True
        tree.order.append(i)
        parent = tree.parent[i]
        in_use = records[i].uint(IN_USE)
        tree.active[i] = in_use != 0 and (parent == ROOT or tree.active[parent])
        stack.extend(reversed(tree.children.get(i, [])))


def walk(directory: RawDirectory) -> tuple[DirTree, list[Finding]]:
    """Read the hierarchy of the records and check C01-C05."""
    w = _Walk(directory)
    records = directory.records
    if _check_root(directory, w):
        root_chain = w.walk(directory.uint(FIRST) or 0)
        _check_last(directory, root_chain, w)
        _unreached(w)
        w.place_by_sequence(only_unreached=True)
    elif records:
        w.tree.by_sequence = True
        w.findings.append(
            finding(
                "dicomdir.sequence-order",
                f"the root offsets are unusable; the hierarchy of the {len(records)} records was "
                "read from their order in the Directory Record Sequence",
                directory.where,
            )
        )
        w.place_by_sequence(only_unreached=False)
        if directory.uint(LAST) is None:
            _check_last(directory, [], w)  # absent: an error whatever the offsets are worth
    else:
        _check_last(directory, [], w)
    _finish(w.tree, records)
    return w.tree, w.findings
