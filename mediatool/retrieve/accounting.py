"""What a retrieve brought (pure): per study the sub-operation counts of the final C-GET or
C-MOVE response (PS3.4 C.4.2.1.6, C.4.3.1.6), the Failed SOP Instance UID List (0008,0058)
when given, and what was written; then findings and the README.TXT notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from mediatool.findings import CODES, Finding, Severity, finding
from mediatool.net.find import PENDING

SUCCESS, CANCEL = 0x0000, 0xFE00
WARNING_STATUS = 0xB000
#: The severity policy of ``--allow-partial``: what the retrieve missed is a warning, not a
#: refusal (README.TXT on the disc says what is missing).
ALLOW_PARTIAL: Final = {
    code: Severity.WARNING
    for code, entry in CODES.items()
    if code.startswith("retrieve.") and entry.severity > Severity.WARNING
}


@dataclass(slots=True)
class StudyOutcome:
    study_uid: str
    label: str = ""  # "2024-03-12 CT Thorax (accession A1)" for people
    status: int | None = None  # final status; None: no final response (aborted, time-out)
    remaining: int = 0
    completed: int = 0
    failed: int = 0
    warning: int = 0
    failed_uids: tuple[str, ...] = ()
    expected: int | None = None  # Number of Study Related Instances from the C-FIND
    written: set[str] = field(default_factory=set)
    error: str = ""
    patient_id: str = ""  # the Patient ID asked for: copies filed under another one are left out
    received: int = 0  # C-STORE sub-operations that arrived, a repeated instance counted again
    other_patients: set[str] = field(default_factory=set)  # Patient IDs of the copies left out

    @property
    def complete(self) -> bool:
        return (
            self.status in (SUCCESS, WARNING_STATUS)
            and self.failed == 0
            and self.remaining == 0
            and not self.error
            and bool(self.written)
            and self.arrived >= self.completed + self.warning
        )

    @property
    def arrived(self) -> int:
        """C-STOREs that arrived (repeats and left-out copies included)."""
        return max(self.received, len(self.written))

    def as_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid,
            "status": None if self.status is None else f"0x{self.status:04X}",
            "remaining": self.remaining,
            "completed": self.completed,
            "failed": self.failed,
            "warning": self.warning,
            "failed_sop_instance_uids": list(self.failed_uids),
            "expected": self.expected,
            "written": len(self.written),
            "received": self.received,
            "other_patients": sorted(self.other_patients),
            "complete": self.complete,
            "error": self.error or None,
        }


def _count(ds: Any, keyword: str) -> int:
    value = getattr(ds, keyword, None) if ds is not None else None
    try:
        return int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0


def record_response(outcome: StudyOutcome, status: Any, identifier: Any) -> None:
    """Take one C-GET/C-MOVE response into ``outcome`` (the last one is the final)."""
    code = status.get("Status") if status else None
    outcome.status = code
    if code is None:
        outcome.error = outcome.error or "no final response (association aborted or time-out)"
        return
    for attr, keyword in (
        ("remaining", "NumberOfRemainingSuboperations"),
        ("completed", "NumberOfCompletedSuboperations"),
        ("failed", "NumberOfFailedSuboperations"),
        ("warning", "NumberOfWarningSuboperations"),
    ):
        if keyword in status:
            setattr(outcome, attr, _count(status, keyword))
    if code not in PENDING and code != CANCEL:
        # only Pending and Cancel responses carry Remaining (PS3.4 C.4.2.1.6); some PACS send
        # a stale value in the final Success response
        outcome.remaining = 0
    if identifier is not None and "FailedSOPInstanceUIDList" in identifier:
        value = identifier.FailedSOPInstanceUIDList
        uids = [value] if isinstance(value, str) else list(value or [])
        outcome.failed_uids = tuple(str(u) for u in uids if str(u))


@dataclass(slots=True)
class RetrieveResult:
    peer: str
    method: str  # get | move
    studies: list[StudyOutcome] = field(default_factory=list)
    move_destination: str = ""  # "AET at HOST:PORT" for a C-MOVE

    @property
    def partial(self) -> bool:
        return any(not s.complete for s in self.studies)

    @property
    def written(self) -> int:
        return sum(len(s.written) for s in self.studies)

    def as_dict(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "method": self.method,
            "partial": self.partial,
            "written": self.written,
            "studies": [s.as_dict() for s in self.studies],
        }

    def findings(self) -> list[Finding]:
        """What went wrong, study by study, at the registry's severities (``--allow-partial``
        is a severity policy, :data:`ALLOW_PARTIAL`, applied by the command at its end)."""
        out: list[Finding] = []
        for s in self.studies:
            out.extend(_study_findings(s, self.method, self.move_destination))
        return out

    def notes(self) -> tuple[str, ...]:
        """Plain-text lines for README.TXT: what the disc lacks, study by study."""
        lines = []
        for s in self.studies:
            if s.complete:
                continue
            what = s.label or s.study_uid
            missing = [f"{s.failed} instance(s) failed"] if s.failed else []
            if s.remaining:
                missing.append(f"{s.remaining} not retrieved")
            if s.status is None or s.error:
                missing.append(s.error or "the retrieve did not finish")
            elif not s.written:
                missing.append("nothing was received")
            line = f"Study {what} is incomplete: {', '.join(missing)}."
            if s.failed_uids:
                line += " Missing SOP Instance UIDs: " + ", ".join(s.failed_uids) + "."
            lines.append(line)
        if lines:
            lines.insert(
                0,
                f"This disc was collected from {self.peer}, which did not deliver every "
                "instance asked for; the original images are still in the PACS.",
            )
        return tuple(lines)


def _refused(s: StudyOutcome, method: str, destination: str) -> str:
    from mediatool.net.failure import status_text

    code = s.status or 0
    text = f"the PACS answered with status {status_text(code, method)}"
    nothing = not (s.completed or s.failed or s.warning or s.written)
    if method == "move" and nothing and (code == 0xA801 or code >> 12 == 0xC):
        aet = destination.split(" ", 1)[0]
        text += (
            f"; nothing was sent to the move destination {destination}: that AE title "
            f"({aet}), with this computer's host and port, must be configured on the PACS "
            "(ask its administrator), or use --retrieve get"
        )
    return text


def _study_findings(s: StudyOutcome, method: str = "get", destination: str = "") -> list[Finding]:
    where = s.study_uid
    out: list[Finding] = []
    if s.status is None or s.error:
        out.append(finding("retrieve.interrupted", s.error or "no final response", where))
    elif s.status not in (SUCCESS, WARNING_STATUS, CANCEL) and not s.failed:
        out.append(finding("retrieve.refused", _refused(s, method, destination), where))
    if s.failed:
        uids = f": {', '.join(s.failed_uids)}" if s.failed_uids else ""
        out.append(
            finding(
                "retrieve.sub-operations-failed",
                f"{s.failed} of {s.failed + s.completed + s.warning + s.remaining} sub-operations "
                f"failed{uids}",
                where,
            )
        )
    if s.remaining or s.status == CANCEL:
        out.append(
            finding("retrieve.incomplete", f"{s.remaining} sub-operations were not done", where)
        )
    if s.warning:
        out.append(
            finding("retrieve.warning", f"{s.warning} sub-operations ended with a warning", where)
        )
    if s.written and s.arrived < s.completed + s.warning:
        out.append(
            finding(
                "retrieve.not-received",
                f"the PACS reports {s.completed + s.warning} instances sent, {s.arrived} "
                f"arrived ({len(s.written)} distinct)",
                where,
            )
        )
    if s.other_patients:
        out.append(
            finding(
                "retrieve.other-patient",
                f"the PACS also sent copies of this study's instances filed under Patient ID "
                f"{', '.join(sorted(s.other_patients))}; only those of {s.patient_id!r} are kept",
                where,
            )
        )
    if not s.written and not out:
        out.append(finding("retrieve.nothing-received", "no instance was received", where))
    return out
