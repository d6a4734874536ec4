"""Directory structure checks on the tree of :mod:`mediatool.dicom.dicomdir_tree` (PS3.3
Table F.4-1): checklist C10-C12, and the place of each record in words.

The tree is what the offsets say, never the order of the items (that order carries no meaning,
dicomdir.md §2). Tolerance, because discs in the wild are broken: when the root offsets are
unusable the hierarchy is read from the order of the records (PATIENT, its STUDYs, their
SERIES, their instance records: the depth-first order every known writer uses) and the report
says so; records the offsets do not reach are placed the same way, so their files are still
checked. Every walk is bounded by the number of records: a record is entered once, loops and
second references are reported and cut.
"""

from __future__ import annotations

from typing import Final

from mediatool.dicom.dicomdir_raw import FILE_ID, RawDirectory, RawRecord
from mediatool.dicom.dicomdir_tree import LEVELS, ROOT, DirTree, record_type
from mediatool.dicom.recordtypes import (
    ALLOWED_CHILDREN,
    DEFINED_RECORD_TYPES,
    ROOT_RECORD_TYPES,
    allowed_child,
)
from mediatool.findings import Finding, finding

#: Record types that reference one instance each (Table F.4-1 SERIES row, and the root types).
INSTANCE_TYPES: Final = (ALLOWED_CHILDREN["SERIES"] | ROOT_RECORD_TYPES) - {"PRIVATE"}


def check_hierarchy(directory: RawDirectory, tree: DirTree) -> list[Finding]:
    """Table F.4-1 parent/child types (C10), profile completeness (C11), empty entities (C12),
    for the records the offsets reach."""
    out: list[Finding] = []
    records = directory.records
    has_file: set[int] = set()
    for i in reversed(tree.order):
        if tree.active[i] and (records[i].has(FILE_ID) or i in has_file):
            has_file.add(tree.parent[i])
    for i in tree.order:
        # Where the offsets do not reach, the place of a record is a guess (sequence order):
        # no parent/child judgement on a guess.
        if not tree.active[i] or not tree.reached[i]:
            continue
        rtype = record_type(records[i])
        parent = tree.parent[i]
        ptype = "" if parent == ROOT else record_type(records[parent])
        known = rtype in DEFINED_RECORD_TYPES and (ptype == "" or ptype in DEFINED_RECORD_TYPES)
        if known and not allowed_child(ptype, rtype):
            out.append(
                finding(
                    "record.bad-parent",
                    f"{rtype} record below {ptype or 'the root'} is not allowed by Table F.4-1",
                    records[i].where,
                )
            )
        elif rtype in INSTANCE_TYPES - ROOT_RECORD_TYPES:
            chain = [record_type(records[a]) for a in tree.ancestors(i)]
            if chain != list(reversed(LEVELS)) and all(c in DEFINED_RECORD_TYPES for c in chain):
                out.append(
                    finding(
                        "record.incomplete-hierarchy",
                        f"{rtype} record is below {' / '.join(chain) or 'the root'}, not below "
                        "SERIES / STUDY / PATIENT",
                        records[i].where,
                    )
                )
        if rtype in LEVELS and i not in has_file:
            out.append(
                finding(
                    "record.empty-entity",
                    f"{rtype} record has no instance record below it",
                    records[i].where,
                )
            )
    return out


def _label(record: RawRecord) -> str:
    rtype = record_type(record)
    if rtype == "PATIENT":
        return f"patient {record.text(0x00100020) or '?'}"
    if rtype == "STUDY":
        return f"study {record.text(0x00200010) or record.text(0x00080020) or '?'}"
    if rtype == "SERIES":
        number = record.text(0x00200011)
        return f"series {record.text(0x00080060) or '?'} #{number or '?'}"
    return ""


def describe(directory: RawDirectory, tree: DirTree) -> dict[str, str]:
    """Say in each record's location which patient/study/series it belongs to (issue 11):
    "DICOMDIR record 8 @1880 (patient PID0001, study 20240312, series CT #1)". Returns the
    old location -> the new one, for the findings made before."""
    records = directory.records
    labels = [_label(r) for r in records]
    located: dict[str, str] = {}
    for i, record in enumerate(records):
        chain = [labels[a] for a in reversed(tree.ancestors(i))] + [labels[i]]
        before = record.where
        record.context = ", ".join(c for c in chain if c)
        located[before] = record.where
    return located
