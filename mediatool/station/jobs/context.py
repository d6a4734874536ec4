"""What a running job sees: its folder, a progress callback, its log and the audit trail.

A job kind (:mod:`.kinds`) is a function ``run(params, ctx) -> result`` where ``params`` is the
JSON object stored with the job (everything the job needs, peers already resolved to
``AE@host:port``: a job carries what it needs, so another worker or station can run it) and
``result`` is a JSON object (the accounting the CLI prints, as data). The runner gives the
context; tests give their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Protocol

#: A station's burners for its workers, JSON ``{name: {"device", "capacity"}}``: a burn job
#: names the burner, and the station that claims it burns on *its* device of that name.
BURNERS_ENV: Final = "MEDIATOOL_STATION_BURNERS"


class JobCancelled(Exception):
    """Raised by :meth:`JobContext.progress` once the user asked to cancel the job."""


class JobFailed(Exception):
    """The job cannot continue; the message is for the person at the desk (and ``hint``);
    ``result``: what it did before it stopped (an import's accounting), kept with the job."""

    def __init__(
        self, message: str, hint: str | None = None, result: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.hint = hint
        self.result = result


class JobContext(Protocol):
    """The runner's side of a job, as a kind sees it."""

    job_id: int
    folder: Path  # the job's own folder (outputs kept: ISO, label, report, thumbnails)
    scratch: Path  # temporary files (uploads unpacked, ...): removed when the job ends

    def progress(self, done: int, total: int | None, label: str) -> None:
        """:data:`mediatool.model.Progress`; raises :class:`JobCancelled` after a cancel."""

    def log(self, message: str, level: str = "info") -> None:
        """One line of the job's log (shown on the job's page)."""

    def audit(self, action: str, patient_id: str, patient_name: str, outcome: str) -> None:
        """An access to a patient's data (who is the job's user, when is now)."""
