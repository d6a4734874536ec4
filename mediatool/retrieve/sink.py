"""★ Where retrieved instances land: a C-STORE handler writing each data set as received
(Part 10, the peer's encoding untouched) into a folder, counted for the study being retrieved."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from mediatool.model import Progress
from mediatool.retrieve.accounting import StudyOutcome

OUT_OF_RESOURCES = 0xA700
PROCESSING_FAILURE = 0xC210


class Sink:
    def __init__(self, folder: Path, progress: Progress | None = None) -> None:
        self.folder = folder
        self.progress = progress
        self.current: StudyOutcome | None = None
        self.total: int | None = None
        self.count = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()

    @staticmethod
    def _elsewhere(event: Any, outcome: StudyOutcome) -> bool:
        """The instance is filed under another Patient ID than the one asked for (a PACS
        holding the same study under two patients sends both copies; issue 10 case 2)."""
        if not outcome.patient_id:
            return False
        try:
            pid = str(event.dataset.get("PatientID", "") or "").strip()
        except Exception:
            return False
        if pid == outcome.patient_id:
            return False
        outcome.other_patients.add(pid or "(none)")
        return True

    def handle_store(self, event: Any) -> int:
        try:
            uid = str(event.request.AffectedSOPInstanceUID)
            data = event.encoded_dataset(include_meta=True)
        except Exception as exc:  # a data set we cannot take: the peer counts a failure
            self.errors.append(str(exc))
            return PROCESSING_FAILURE
        with self._lock:
            outcome = self.current
            if outcome is not None:
                outcome.received += 1
                if self._elsewhere(event, outcome) or uid in outcome.written:
                    return 0x0000  # taken, not kept: another patient's copy, or a repeat
            self.count += 1
            path = self.folder / f"{self.count:06d}.dcm"
        try:
            path.write_bytes(data)
        except OSError as exc:
            self.errors.append(f"{path}: {exc.strerror}")
            return OUT_OF_RESOURCES
        if outcome is not None:
            with self._lock:
                outcome.written.add(uid)
        if self.progress is not None:
            self.progress(self.count, self.total, "retrieving")
        return 0x0000
