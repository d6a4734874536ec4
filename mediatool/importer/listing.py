"""What is on the media, for the person at the reception desk (``mediatool import --list``).

Pure: :func:`mediatool.validate.validate_media`'s report in (its inventory and findings), a
:class:`Listing` out. Findings are turned into a few plain sentences, grouped and counted; the
technical detail stays with ``mediatool validate``. A problem "blocks" when some image of the
disc cannot be imported because of it (IHE PDI RAD-47: tell the user what cannot be imported).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from mediatool.dicom.tree import PatientSummary, StudySummary
from mediatool.findings import Finding, Severity
from mediatool.validate import Report

SCHEMA: Final = "mediatool.import-list/1"

#: code → (plain sentence, blocks an import). ``{n}`` is the number of findings with the code.
PLAIN: Final[dict[str, tuple[str, bool]]] = {
    "inventory.empty": ("No images were found on the disc.", True),
    "file.missing": ("{n} image file(s) listed in the disc's index are missing.", True),
    "file.outside-fileset": (
        "{n} image file(s) listed in the disc's index point outside the disc's files; they "
        "cannot be imported.",
        True,
    ),
    "file.not-dicom": (
        "{n} image file(s) listed in the disc's index are empty or not images; they cannot be "
        "imported.",
        True,
    ),
    "read.truncated": ("{n} image file(s) are damaged and cannot be imported.", True),
    "read.missing-identifier": ("{n} image file(s) have no identity and cannot be imported.", True),
    "media.unreadable": ("{n} file(s) cannot be read from the disc (damaged disc?).", True),
    "hierarchy.duplicate-conflict": (
        "{n} image(s) have the same identity as a different image; only one of each is imported.",
        True,
    ),
    "dicomdir.missing": (
        "The disc has no index (DICOMDIR); every file was read one by one instead.",
        False,
    ),
    "dicomdir.not-at-root": ("The disc's index (DICOMDIR) is not in the top folder.", False),
    "dicomdir.unreadable": (
        "The disc's index (DICOMDIR) is damaged; every file was read one by one instead.",
        False,
    ),
    "dicomdir.truncated": (
        "The disc's index (DICOMDIR) is damaged; every file was read one by one instead.",
        False,
    ),
    "file.not-referenced": (
        "{n} image(s) are on the disc but not in its index; they are imported too.",
        False,
    ),
    "file.tolerant-name": (
        "{n} file name(s) differ from the disc's index (e.g. lower case); found anyway.",
        False,
    ),
    "file.duplicate-identical": ("{n} image(s) are on the disc twice; imported once.", False),
    "inventory.possible-same-patient": (
        "The same person may appear under more than one patient ID: check the patient.",
        False,
    ),
    "hierarchy.patient-conflict": (
        "One patient ID is used with different names or birth dates: check the patient.",
        False,
    ),
    "hierarchy.study-two-patients": (
        "A study appears under two different patients: check the patient.",
        False,
    ),
}
_OTHER: Final = (
    "The disc does not fully follow the DICOM rules for discs ({n} technical remarks); this "
    "does not stop the import. Details: mediatool validate"
)
_SKIP: Final = frozenset({"file.non-dicom", "validate.check-failed"})


@dataclass(frozen=True, slots=True)
class Problem:
    text: str
    count: int
    blocks: bool
    codes: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "count": self.count,
            "blocks_import": self.blocks,
            "codes": list(self.codes),
        }


@dataclass(frozen=True)
class Listing:
    report: Report
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        """Nothing on the disc stops an image from being imported."""
        return not any(p.blocks for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        inv = self.report.inventory
        return {
            "schema": SCHEMA,
            "ok": self.ok,
            "media": self.report.media.as_dict(),
            "counts": inv.counts(),
            "patients": [patient_dict(p) for p in patients(self.report)],
            "problems": [p.as_dict() for p in self.problems],
            "viewer_and_web_files": inv.web_files,
        }


def problems(
    findings: Sequence[Finding], other_files: int, web_files: int = 0
) -> tuple[Problem, ...]:
    """Findings → plain sentences, grouped; blocking ones first. The disc's own pages, viewer
    and autorun files (``web_files`` of the ``other_files``) are expected, not problems."""
    counts = Counter(f.code for f in findings)
    grouped: dict[str, tuple[int, bool, list[str]]] = {}
    remarks: list[str] = []
    for code, n in sorted(counts.items()):
        if code in _SKIP:
            continue
        if code in PLAIN:
            template, blocks = PLAIN[code]
            text = template.format(n=n)
            total, _, codes = grouped.get(text, (0, blocks, []))
            grouped[text] = (total + n, blocks, [*codes, code])
        elif any(f.code == code and f.severity >= Severity.WARNING for f in findings):
            remarks.extend([code] * n)
    out = [Problem(text, n, blocks, tuple(codes)) for text, (n, blocks, codes) in grouped.items()]
    unknown = other_files - web_files
    if unknown:
        out.append(
            Problem(
                f"{unknown} file(s) are not medical images; they are not imported.",
                unknown,
                False,
                ("file.non-dicom",),
            )
        )
    if remarks:
        kinds = tuple(sorted(set(remarks)))
        out.append(Problem(_OTHER.format(n=len(remarks)), len(remarks), False, kinds))
    return tuple(sorted(out, key=lambda p: (not p.blocks, p.text)))


def listing(report: Report) -> Listing:
    inv = report.inventory
    return Listing(report, problems(report.findings, inv.other_files, inv.web_files))


def expected_text(report: Report) -> str | None:
    """The line for the disc's own viewer and web pages (None when there are none)."""
    n = report.inventory.web_files
    return f"Also on the disc: {n} file(s) of viewer and web pages (expected)." if n else None


def patients(report: Report) -> list[PatientSummary]:
    return [report.inventory.patients[k] for k in sorted(report.inventory.patients)]


def studies(patient: PatientSummary) -> list[StudySummary]:
    return sorted(patient.studies.values(), key=lambda s: (s.date, s.uid))


def modalities(study: StudySummary) -> list[str]:
    return sorted({s.modality for s in study.series.values() if s.modality})


def study_dict(study: StudySummary) -> dict[str, Any]:
    series = sorted(study.series.values(), key=lambda s: (s.number.zfill(8), s.uid))
    return {
        "study_instance_uid": study.uid,
        "date": study.date,
        "description": study.description,
        "accession": study.accession,
        "modalities": modalities(study),
        "series_count": len(series),
        "instances": sum(s.instances for s in series),
        "series": [
            {
                "series_instance_uid": s.uid,
                "modality": s.modality,
                "number": s.number,
                "description": s.description,
                "instances": s.instances,
            }
            for s in series
        ],
    }


def patient_dict(patient: PatientSummary) -> dict[str, Any]:
    return {
        "patient_id": patient.patient_id,
        "name": patient.name,
        "birth_date": patient.birth_date,
        "sex": patient.sex,
        "studies": [study_dict(s) for s in studies(patient)],
    }
