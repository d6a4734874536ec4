"""Accounting: every file seen on the media gets exactly one outcome, and the counts add up.

IHE PDI (RAD-47) asks the Portable Media Importer to report what it did not import, never to
skip silently. The model is four outcomes per file:

``imported``
    the instance is now at the destination (written, or stored and, with ``--commit``, committed);
``already-present``
    the destination had it before this run (same SOP Instance UID), nothing was sent;
``skipped``
    nothing to import, by nature or by choice: not DICOM, the DICOMDIR, an identical second copy,
    outside ``--study``/``--patient``;
``not-imported``
    a DICOM instance that did not reach the destination, with the reason (damaged, refused by the
    PACS, no local patient, interrupted, ...). Any of these makes the import fail (exit 1).
``sent-not-confirmed``
    stored by the PACS, but the Storage Commitment asked for did not confirm it (no report, or
    none in time): the disc must not be given back yet. Also exit 1; the next run asks again
    without sending it again.

Files the DICOMDIR lists but the media lacks are not files seen; they are counted apart
(``listed_missing``) and also fail the import, since something the disc promised is lost.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mediatool.findings import CODES, Finding, finding


class Outcome(enum.StrEnum):
    IMPORTED = "imported"
    ALREADY_PRESENT = "already-present"
    SKIPPED = "skipped"
    NOT_IMPORTED = "not-imported"
    NOT_CONFIRMED = "sent-not-confirmed"


#: The outcome each reason code leads to (a code not listed here means ``not-imported``).
_OUTCOME_OF: dict[str, Outcome] = {
    "import.not-dicom": Outcome.SKIPPED,
    "import.dicomdir": Outcome.SKIPPED,
    "import.not-selected": Outcome.SKIPPED,
    "import.duplicate": Outcome.SKIPPED,
    "import.already-present": Outcome.ALREADY_PRESENT,
    "import.not-committed": Outcome.NOT_CONFIRMED,
}


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What happened to one file of the media.

    ``path`` is the file's path on the media; ``code`` the reason (an ``import.*`` code) for
    anything but a plain import, or a note on an import (``import.converted``,
    ``import.stored-with-warning``); ``target`` where it went (archive path or ``AET@HOST:PORT``).
    """

    path: str
    outcome: Outcome
    code: str | None = None
    message: str = ""
    sop_instance_uid: str | None = None
    target: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "outcome": str(self.outcome),
            "code": self.code,
            "reason": self.message or None,
            "sop_instance_uid": self.sop_instance_uid,
            "target": self.target,
        }

    def as_finding(self) -> Finding | None:
        """The file's reason as a finding (None for a plain import)."""
        if self.code is None:
            return None
        return finding(self.code, self.message or CODES[self.code].title, self.path)


def outcome_for(
    path: str, code: str, message: str, sop_instance_uid: str | None = None
) -> FileOutcome:
    """The outcome a reason code leads to, e.g. ``import.not-dicom`` → ``skipped``."""
    return FileOutcome(
        path, _OUTCOME_OF.get(code, Outcome.NOT_IMPORTED), code, message, sop_instance_uid
    )


@dataclass(frozen=True, slots=True)
class Summary:
    files: int
    imported: int
    already_present: int
    skipped: int
    not_imported: int
    listed_missing: int
    by_reason: dict[str, int]
    not_confirmed: int = 0

    @property
    def complete(self) -> bool:
        """Every DICOM instance of the media is at the destination (or was left by choice)."""
        return self.not_imported == 0 and self.listed_missing == 0 and self.not_confirmed == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "imported": self.imported,
            "already_present": self.already_present,
            "skipped": self.skipped,
            "not_imported": self.not_imported,
            "sent_not_confirmed": self.not_confirmed,
            "listed_missing": self.listed_missing,
            "by_reason": dict(sorted(self.by_reason.items())),
        }


class AccountingError(AssertionError):
    """The outcomes do not cover the files seen exactly once (a bug, never a data problem)."""


def summarise(
    outcomes: Sequence[FileOutcome], files_seen: Iterable[str], listed_missing: int = 0
) -> Summary:
    """Count the outcomes; checks that every file seen has exactly one.

    Raises
    ------
    AccountingError
        A file seen has no outcome or several, or an outcome names a file not seen.
    """
    seen = sorted(files_seen)
    paths = Counter(o.path for o in outcomes)
    twice = sorted(p for p, n in paths.items() if n > 1)
    missing = sorted(set(seen) - set(paths))
    extra = sorted(set(paths) - set(seen))
    if twice or missing or extra:
        raise AccountingError(
            f"outcomes do not match the files seen: twice {twice[:3]}, none {missing[:3]}, "
            f"unknown {extra[:3]}"
        )
    counts = Counter(o.outcome for o in outcomes)
    reasons = Counter(o.code for o in outcomes if o.code is not None)
    summary = Summary(
        files=len(seen),
        imported=counts[Outcome.IMPORTED],
        already_present=counts[Outcome.ALREADY_PRESENT],
        skipped=counts[Outcome.SKIPPED],
        not_imported=counts[Outcome.NOT_IMPORTED],
        listed_missing=listed_missing,
        by_reason=dict(reasons),
        not_confirmed=counts[Outcome.NOT_CONFIRMED],
    )
    total = (
        summary.imported
        + summary.already_present
        + summary.skipped
        + summary.not_imported
        + summary.not_confirmed
    )
    if total != summary.files:  # pragma: no cover - guarded by the checks above
        raise AccountingError(f"{total} outcomes for {summary.files} files")
    return summary
