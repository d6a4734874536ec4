"""File IDs: the rules (PS3.10 §8.2, §8.5) and our deterministic layout.

Layout: ``DICOM/PTnnnnnn/STnnnnnn/SEnnnnnn/IMnnnnnn`` (five components), numbered in the tree's
order, so the same input always gets the same File IDs. Root-level objects (hanging protocols,
palettes, implant templates) go to ``DICOM/OTHER/OBnnnnnn``. PS3.10 §8.2 forbids giving the
names any meaning; readers find instances through the DICOMDIR, not through the names.

Also THE ISO 9660 Level 1 name rule (ECMA-119 7.5.1, 7.6.1, 10.1; PS3.12 Annex F), used by the
ISO writer, the ISO reader and the viewer folder check: File IDs are Level 1 directory names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Final

from mediatool.dicom.tree import TreeLike, first_of_patient, first_of_study
from mediatool.findings import Finding, finding
from mediatool.model import FileID

_COMPONENT: Final = re.compile(r"^[A-Z0-9_]{1,8}$")
_FILESET_ID: Final = re.compile(r"^[A-Z0-9_]{0,16}$")
MAX_COMPONENTS: Final = 8
ROOT_DIR: Final = "DICOM"
#: ECMA-119 7.4.1 d-characters.
_D_CHARACTERS: Final = re.compile(r"[A-Z0-9_]*")


def is_level1_directory(name: str) -> bool:
    """ECMA-119 7.6.1, 10.1: a directory identifier of 1 to 8 d-characters (A-Z 0-9 _)."""
    return 1 <= len(name) <= 8 and _D_CHARACTERS.fullmatch(name) is not None


#: ECMA-119 7.5.1, 10.1 in one pattern (the ISO writer checks every file of a disc with it):
#: up to 8 d-characters, optionally '.' and up to 3 more, not both parts empty.
_LEVEL1_FILE: Final = re.compile(r"(?!\.?\Z)[A-Z0-9_]{0,8}(?:\.[A-Z0-9_]{0,3})?")


def is_level1_file(name: str) -> bool:
    """ECMA-119 7.5.1, 10.1: a file identifier (without ``;1``) of a File Name of up to 8 and a
    File Name Extension of up to 3 d-characters, not both empty, joined by one '.'."""
    return _LEVEL1_FILE.fullmatch(name) is not None


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
    suggestion = conformant_id(value)
    return [
        finding(
            "fileid.fileset-id",
            f"File-set ID {value!r} is not 0-16 characters of A-Z 0-9 _"
            + (f"; use {suggestion!r}" if suggestion else ""),
            where,
        )
    ]


def conformant_id(text: str, limit: int = 16) -> str:
    """``text`` in the File-set ID repertoire (PS3.10 §8.5: A-Z 0-9 _, at most 16): upper case,
    accents dropped, every run of other characters one ``_``; when too long, the separators
    go from the right first ("patient cd 2024-03" → ``PATIENT_CD202403``), then the end."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^A-Z0-9]+", "_", ascii_text.upper()).strip("_")
    while len(out) > limit and "_" in out:
        cut = out.rindex("_")
        out = out[:cut] + out[cut + 1 :]
    return out[:limit]


def default_fileset_id(tree: TreeLike) -> str:
    """A File-set ID when none is given, so the ISO volume label is not blank: the patient
    (Patient ID, else name) and the latest study date when one patient is on the disc
    (``PID4711_20240312``), else the number of patients and the date (``3_PAT_20240312``).
    Taken from the content only, so identical inputs still give identical bytes."""
    dates = sorted(
        d
        for p in tree.patients
        for st in p.studies
        for d in (first_of_study(st).study_date,)
        if re.fullmatch(r"\d{8}", d)
    )
    date = dates[-1] if dates else ""
    if len(tree.patients) == 1:
        first = first_of_patient(tree.patients[0])
        base = conformant_id(first.patient_id) or conformant_id(first.patient_name.split("^")[0])
        base = base or "PATIENT"
        if date and len(base) + 1 + len(date) <= 16:
            return f"{base}_{date}"
        return base[:16]
    if not tree.patients:
        return "DICOM"
    count = len(tree.patients)
    return f"{count}_PAT_{date}" if date and count < 100 else f"{count}_PATIENTS"


def assign(tree: TreeLike) -> dict[str, FileID]:
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
