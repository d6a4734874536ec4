"""File IDs: the rules (PS3.10 §8.2, §8.5) and our deterministic layout.

Layout: ``DICOM/PTnnnnnn/STnnnnnn/SEnnnnnn/IMnnnnnn`` (five components), numbered in the tree's
order, so the same input always gets the same File IDs. Root-level objects (hanging protocols,
palettes, implant templates) go to ``DICOM/OTHER/OBnnnnnn``. PS3.10 §8.2 forbids giving the
names any meaning; readers find instances through the DICOMDIR, not through the names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from mediatool.findings import Finding, finding
from mediatool.hierarchy import Tree
from mediatool.model import FileID

_COMPONENT: Final = re.compile(r"^[A-Z0-9_]{1,8}$")
_FILESET_ID: Final = re.compile(r"^[A-Z0-9_]{0,16}$")
MAX_COMPONENTS: Final = 8
ROOT_DIR: Final = "DICOM"


def check_file_id(components: Sequence[str], where: str | None = None) -> list[Finding]:
    """PS3.10 §8.2/§8.5 rules for one File ID (checklist E03, A15). Empty list if conformant."""
    out: list[Finding] = []
    if not components or len(components) > MAX_COMPONENTS:
        out.append(
            finding(
                "fileid.too-many-components",
                f"File ID has {len(components)} components (1 to 8 allowed)",
                where,
            )
        )
    for comp in components:
        if not 1 <= len(comp) <= 8:
            out.append(
                finding(
                    "fileid.component-length",
                    f"component {comp!r} has {len(comp)} characters (1 to 8 allowed)",
                    where,
                )
            )
        bad = sorted({c for c in comp if not ("A" <= c <= "Z" or "0" <= c <= "9" or c == "_")})
        if bad:
            out.append(
                finding("fileid.bad-character", f"component {comp!r} uses {''.join(bad)!r}", where)
            )
    return out


def is_conformant(components: Sequence[str]) -> bool:
    return 1 <= len(components) <= MAX_COMPONENTS and all(_COMPONENT.match(c) for c in components)


def check_fileset_id(value: str, where: str | None = "DICOMDIR") -> list[Finding]:
    """File-set ID: 0-16 characters of A-Z 0-9 _ (PS3.10 §8.1, §8.5; checklist B06)."""
    if _FILESET_ID.match(value):
        return []
    return [
        finding(
            "fileid.fileset-id", f"File-set ID {value!r} is not 0-16 characters of A-Z 0-9 _", where
        )
    ]


def assign(tree: Tree) -> dict[str, FileID]:
    """SOP Instance UID → File ID, following the tree's (deterministic) order."""
    ids: dict[str, FileID] = {}
    for p, patient in enumerate(tree.patients, 1):
        for s, study in enumerate(patient.studies, 1):
            for e, series in enumerate(study.series, 1):
                for i, inst in enumerate(series.instances, 1):
                    ids[inst.sop_instance_uid] = (
                        ROOT_DIR,
                        f"PT{p:06d}",
                        f"ST{s:06d}",
                        f"SE{e:06d}",
                        f"IM{i:06d}",
                    )
    for o, inst in enumerate(tree.root_instances, 1):
        ids[inst.sop_instance_uid] = (ROOT_DIR, "OTHER", f"OB{o:06d}")
    return ids
