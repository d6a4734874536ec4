"""Findings: facts about data, returned (never raised), each with a stable code.

Every code lives in :data:`CODES` with its default severity, the rule it rests on and, where one
exists, the number of the check in ``validation-checklist.md`` (A01 ... I05). Severity policy is
applied in one place, :func:`apply_policy`, never where a problem is detected.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final


class Severity(enum.IntEnum):
    """Ordered like logging levels, so ``severity >= Severity.WARNING`` reads naturally."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Code:
    severity: Severity
    ref: str | None
    title: str
    check: str | None = None  # number in validation-checklist.md


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: notice (info)

# Source of each rule: ../shared/spec digests of PS3.10, PS3.3 Annex F, PS3.11, PS3.12, IHE PDI.
CODES: Final[Mapping[str, Code]] = {
    # --- inputs and reading (build and import) -----------------------------------------------
    "source.missing": Code(E, None, "An input path does not exist"),
    "source.not-dicom": Code(N, "PS3.10 7.1", "Input file is not a DICOM file and is skipped"),
    "source.unreadable": Code(E, None, "An input file cannot be read"),
    "source.zip-unsafe-member": Code(
        W, None, "A zip member name leaves the archive root and is not read"
    ),
    "source.zip-too-large": Code(
        W, None, "A zip member is larger than the safety limit and is not read"
    ),
    "read.truncated": Code(E, "PS3.10 7.2", "Data set is truncated or cannot be parsed", "E23"),
    "read.pydicom-warning": Code(W, "PS3.5", "The DICOM reader warned about the encoding"),
    "read.missing-identifier": Code(
        E, "PS3.3 C.12.1", "SOP Class UID or SOP Instance UID missing in the data set"
    ),
    "read.dicomdir-input": Code(
        N, "PS3.10 8.6", "A DICOMDIR among the inputs is not copied (a new one is written)"
    ),
    # --- Part 10 file meta (filemeta.check; validate reports them, build corrects them) ---------
    "meta.no-preamble": Code(
        E, "PS3.10 7.1", "No 128-byte preamble and 'DICM' prefix (raw data set)", "E06"
    ),
    "meta.preamble-not-zero": Code(
        W, "PS3.10 7.5", "Preamble is not all zero and not a recognised dual format", "E07"
    ),
    "meta.preamble-executable": Code(
        E, "PS3.10 7.5", "Preamble carries an executable signature", "E07"
    ),
    "meta.group-length": Code(
        E, "PS3.10 7.1", "(0002,0000) missing or not the byte count of the group", "E08"
    ),
    "meta.version": Code(E, "PS3.10 7.1", "(0002,0001) missing or not 00H 01H", "E09"),
    "meta.missing-type1": Code(
        E, "PS3.10 7.1", "A Type 1 File Meta element is missing or empty", "E10"
    ),
    "meta.encoding": Code(
        E,
        "PS3.10 7.1",
        "File Meta not Explicit VR LE, odd length, VR UN, out of order or truncated",
        "E11",
    ),
    "meta.version-name": Code(
        W, "PS3.10 7.1", "(0002,0013) longer than 16 or outside A-Z 0-9 _", "E12"
    ),
    "meta.unknown-element": Code(N, "PS3.10 7.1", "Unknown (0002,xxxx) elements present", "E13"),
    "meta.sop-class-mismatch": Code(
        E, "PS3.10 7.1", "(0002,0002) differs from the data set's SOP Class UID", "E14"
    ),
    "meta.sop-instance-mismatch": Code(
        E, "PS3.10 7.1", "(0002,0003) differs from the data set's SOP Instance UID", "E15"
    ),
    "meta.transfer-syntax-mismatch": Code(
        E, "PS3.10 7.2", "(0002,0010) does not match the encoding of the data set", "E16"
    ),
    "meta.group-in-dataset": Code(
        E, "PS3.10 7.1", "Group 0002 elements inside the data set", "E17"
    ),
    "meta.bad-uid": Code(E, "PS3.5 9.1", "A UID in the File Meta is not valid UID syntax", "E22"),
    # --- what build did to make a file conform (never errors: they describe a repair) ----------
    "build.meta-corrected": Code(
        W,
        "PS3.10 7.1",
        "The input's File Meta Information was wrong; the written file has a correct one",
    ),
    "build.meta-added": Code(
        W, "PS3.10 7.1", "The input had no File Meta Information; the written file has one", "E06"
    ),
    "build.reencoded": Code(
        N, "PS3.11 D.3.1", "Data set re-encoded in a Transfer Syntax the profile allows", "G01"
    ),
    "build.decompressed": Code(
        N,
        "PS3.11 D.3.1",
        "Compressed pixel data decoded losslessly to a Transfer Syntax the profile allows",
        "G01",
    ),
    # --- hierarchy and consistency -------------------------------------------------------------
    "hierarchy.duplicate-identical": Code(
        N,
        "PS3.3 F.2.1 f",
        "The same instance was given twice with identical content; kept once",
        "F04",
    ),
    "hierarchy.duplicate-conflict": Code(
        E, "PS3.3 C.12.1", "Two different files carry the same SOP Instance UID", "F04"
    ),
    "hierarchy.patient-conflict": Code(
        W, "PS3.3 C.7.1.1", "One Patient ID with conflicting names, birth dates or sex", "F08"
    ),
    "hierarchy.study-two-patients": Code(
        E, "PS3.3 F.5.2", "One Study Instance UID under two patients", "F12"
    ),
    "hierarchy.series-two-studies": Code(
        E, "PS3.3 F.5.3", "One Series Instance UID under two studies", "F12"
    ),
    "hierarchy.study-inconsistent": Code(
        W, "PS3.3 C.7.2.1", "Study-level attributes differ between instances of one study", "F10"
    ),
    "hierarchy.series-inconsistent": Code(
        W, "PS3.3 C.7.3.1", "Series-level attributes differ between instances of one series", "F11"
    ),
    "hierarchy.missing-key": Code(
        E, "PS3.3 F.5", "A Type 1 directory key is missing or empty in the instance", "D01"
    ),
    "hierarchy.invented": Code(
        N, "PS3.3 F.5", "A missing Type 1 key was invented (--invent)", "D01"
    ),
    "hierarchy.no-record-type": Code(
        E, "PS3.3 F.4", "No directory record type is defined for the SOP Class", "E21"
    ),
    # --- profile ---------------------------------------------------------------------------------
    "profile.ts-not-allowed": Code(
        E, "PS3.11", "Transfer Syntax not allowed by the Application Profile", "G01"
    ),
    "profile.sop-class-not-allowed": Code(
        E, "PS3.11", "SOP Class not allowed by the Application Profile", "G02"
    ),
    "profile.cannot-convert": Code(
        E,
        "PS3.11",
        "Transfer Syntax cannot be converted losslessly to one the profile allows",
        "G01",
    ),
    # --- File IDs ---------------------------------------------------------------------------------
    "fileid.too-many-components": Code(
        E, "PS3.10 8.2", "File ID has more than 8 components", "E03"
    ),
    "fileid.component-length": Code(
        E, "PS3.10 8.2", "File ID component empty or longer than 8 characters", "E03"
    ),
    "fileid.bad-character": Code(
        E, "PS3.10 8.5", "File ID uses characters outside A-Z 0-9 _", "E03"
    ),
    "fileid.fileset-id": Code(
        E, "PS3.10 8.5", "File-set ID longer than 16 characters or outside A-Z 0-9 _", "B06"
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One fact about the data: what, where, which rule."""

    code: str
    severity: Severity
    message: str
    where: str | None = None
    ref: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "where": self.where,
            "ref": self.ref,
            "check": CODES[self.code].check if self.code in CODES else None,
        }


def finding(code: str, message: str, where: str | None = None) -> Finding:
    """Make a finding with the registry's default severity and rule reference."""
    entry = CODES[code]
    return Finding(code, entry.severity, message, where, entry.ref)


def worst(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (``None`` when there are none)."""
    return max((f.severity for f in findings), default=None)


def apply_policy(
    findings: Iterable[Finding], overrides: Mapping[str, Severity] | None = None
) -> list[Finding]:
    """Apply per-code severity overrides (from a profile or the user) in one place."""
    if not overrides:
        return list(findings)
    return [replace(f, severity=overrides[f.code]) if f.code in overrides else f for f in findings]


def fails(findings: Iterable[Finding], threshold: Severity) -> bool:
    """True when any finding is at or above ``threshold`` (the ``--fail-on`` contract)."""
    return any(f.severity >= threshold for f in findings)


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {str(s): 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    for f in findings:
        counts[str(f.severity)] += 1
    return counts
