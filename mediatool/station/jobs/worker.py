"""One job in its own process: ``python -m mediatool.station.jobs.worker --data DIR --job ID
--attempt N`` with the job store's URL in ``MEDIATOOL_STATION_DATABASE`` (started by
:mod:`.runner`; ``--database URL`` is accepted too).

It runs the job's kind (:data:`.kinds.KINDS`) with a :class:`Context`, and writes the outcome:
done with the result, failed with the message and hint for the person at the desk, or cancelled.
Progress is written at most every :data:`PROGRESS_EVERY` seconds; the cancel flag and the
parent (the station) are checked at the same time: a worker whose station died stops, and so
does one whose job was taken over by another station (its lease ran out): its outcome is written
only while its attempt holds the job (:meth:`Store.finish`).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from mediatool.errors import MediatoolError
from mediatool.station.jobs.context import JobCancelled, JobFailed
from mediatool.station.jobs.runner import DATABASE_ENV
from mediatool.station.store import Store

PROGRESS_EVERY: Final = 0.3


@dataclass
class Context:
    """The runner's :class:`~.context.JobContext`."""

    store: Store
    job_id: int
    user_name: str
    folder: Path
    scratch: Path
    attempt: int = 0
    station: str = ""  # the station running it (several may share one job store)
    parent: int = field(default_factory=os.getppid)
    _last: float = 0.0

    def progress(self, done: int, total: int | None, label: str) -> None:
        now = time.monotonic()
        if now - self._last < PROGRESS_EVERY and (total is None or done < total):
            return
        self._last = now
        if os.getppid() != self.parent:  # the station is gone: its restart resumes the job
            os._exit(3)
        self.store.update(self.job_id, done=done, total=total, label=label[:200])
        job = self.store.job(self.job_id)
        if job is None or job.state != "running" or job.attempts != self.attempt:
            os._exit(3)  # taken over by another station: its run is the one that counts
        if job.cancel:
            raise JobCancelled()

    def log(self, message: str, level: str = "info") -> None:
        self.store.event(self.job_id, message, level)

    def audit(self, action: str, patient_id: str, patient_name: str, outcome: str) -> None:
        self.store.audit(
            user_name=self.user_name, patient_id=patient_id, patient_name=patient_name,
            action=action, outcome=outcome, job_id=self.job_id,
            client=f"station {self.station}" if self.station else "",
        )  # fmt: skip


def _die_with_parent() -> None:
    """Linux: SIGTERM when the station process dies (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)


def run(store: Store, data: Path, job_id: int, attempt: int | None = None) -> int:
    from mediatool.station.jobs.kinds import KINDS

    job = store.job(job_id)
    if job is None or job.state != "running":
        return 0
    attempt = job.attempts if attempt is None else attempt
    if job.attempts != attempt:
        return 0  # claimed again meanwhile (taken over): not this worker's
    folder = data / "jobs" / str(job_id)
    scratch = folder / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    station = str(job.owner or "").rsplit(":", 1)[0]
    ctx = Context(store, job_id, job.user_name, folder, scratch, attempt, station)
    state, values = "failed", dict[str, Any]()
    try:
        result = KINDS[job.kind](job.params, ctx)
        state, values = "done", {"result": result}
    except JobCancelled:
        state = "cancelled"
        ctx.log("cancelled by the user", "warning")
    except JobFailed as exc:  # with the accounting made so far, when there is one
        values = {"error": str(exc), "hint": exc.hint, "result": exc.result}
    except MediatoolError as exc:
        values = {"error": str(exc), "hint": exc.hint}
    except Exception as exc:  # a defect: said plainly on the page, the trace in the log
        ctx.log("".join(traceback.format_exception(exc)), "error")
        values = {
            "error": f"internal error ({type(exc).__name__}: {exc})",
            "hint": "the job's log has the details; please report it",
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # temporary files go when the job ends
    if not store.finish(job_id, attempt, state=state, ended=time.time(), pid=None, **values):
        return 3  # taken over meanwhile: the other station's run writes the outcome
    upload = job.params.get("upload")
    if upload:  # an uploaded disc is kept until its job ends (an interrupted import resumes)
        _remove(Path(upload))
    store.event(job_id, state, "info" if state == "done" else "warning")
    return 0


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mediatool.station.jobs.worker")
    parser.add_argument("--database", default=os.environ.get(DATABASE_ENV))
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--job", required=True, type=int)
    parser.add_argument("--attempt", type=int)
    args = parser.parse_args(argv)
    if not args.database:
        parser.error(f"give --database URL or set {DATABASE_ENV}")
    _die_with_parent()
    # at once, whatever runs: an association's threads would hold a SystemExit back; the job
    # is resumed (interrupted) or was cancelled, so nothing of this process is needed
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    code = run(Store(args.database), args.data, args.job, args.attempt)
    # the outcome is in the store; threads a library call left behind (an association being
    # aborted) must not keep the process, or anything it still sends, alive
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
