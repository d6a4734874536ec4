"""Run the jobs: a supervisor thread in the station claims queued jobs and runs each in its own
worker process (:mod:`.worker`), at most ``workers`` at a time.

A process per job isolates the jobs from each other and from the pages (a decoder that crashes
takes one job down, not the station) and makes cancel certain: the worker stops at its next
progress step, and a worker that does not is terminated. Leases: the supervisor renews the lease
of each job it runs; a job whose lease ran out belongs to a station that stopped.

When the station starts, the jobs it was running when it stopped are marked ``interrupted`` (a
line in their log says when) and queued again: import resumes from its journal (nothing is sent
twice), build and validate start over.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from mediatool.station.store import Store, jobs

LEASE: Final = 60.0  # seconds a claim lasts without renewal
CANCEL_GRACE: Final = 10.0  # seconds a worker has to stop by itself after a cancel


def station_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Running:
    job_id: int
    process: subprocess.Popen[bytes]
    cancel_seen: float | None = None


@dataclass
class Supervisor:
    """Claims and runs jobs until :meth:`stop`."""

    store: Store
    data: Path
    workers: int = 2
    owner: str = field(default_factory=station_name)
    poll: float = 0.3
    _running: dict[int, _Running] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; running workers are terminated and their jobs marked interrupted."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        for run in list(self._running.values()):
            _terminate(run.process)
            self._interrupt(run.job_id, "the station was stopped while this job ran")
        self._running.clear()

    def recover(self) -> None:
        """Jobs left running by a station that stopped (this host's, or any whose lease ran
        out): interrupted, then queued again."""
        now = time.time()
        host = self.owner.split(":")[0]
        for job in self.store.jobs(states=("running",), limit=10_000):
            with self.store.begin() as conn:
                row = conn.execute(
                    jobs.select().where(jobs.c.id == job.id)
                ).mappings().one()  # fmt: skip
            mine = str(row["owner"] or "").split(":")[0] == host
            if not mine and (row["lease_until"] or 0) > now:
                continue  # another station's, alive
            if mine and row["pid"]:
                _kill_stale_worker(int(row["pid"]), job.id)
            self._interrupt(job.id, "the station stopped while this job ran")
        for job in self.store.jobs(states=("interrupted",), limit=10_000):
            if job.cancel:
                continue
            self.store.update(job.id, state="queued", owner=None, pid=None, lease_until=None)
            self.store.event(job.id, "resumed: queued again after a restart of the station")

    def _interrupt(self, job_id: int, why: str) -> None:
        self.store.update(job_id, state="interrupted", pid=None, ended=time.time())
        self.store.event(job_id, f"interrupted: {why}", "warning")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception as exc:  # the loop must outlive a database hiccup
                print(f"mediatool serve: job runner: {exc}", file=sys.stderr)
            self._stop.wait(self.poll)

    def _tick(self) -> None:
        self._reap()
        self._renew_and_cancel()
        while len(self._running) < self.workers:
            job = self.store.claim(self.owner, LEASE)
            if job is None:
                break
            self._spawn(job.id)

    def _spawn(self, job_id: int) -> None:
        command = [
            sys.executable, "-m", "mediatool.station.jobs.worker",
            "--database", self.store.url, "--data", str(self.data), "--job", str(job_id),
        ]  # fmt: skip
        log = self.data / "jobs" / str(job_id)
        log.mkdir(parents=True, exist_ok=True)
        with (log / "worker.log").open("ab") as err:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        self.store.update(job_id, pid=process.pid)
        self.store.event(job_id, "started")
        self._running[job_id] = _Running(job_id, process)

    def _reap(self) -> None:
        for job_id, run in list(self._running.items()):
            code = run.process.poll()
            if code is None:
                continue
            del self._running[job_id]
            job = self.store.job(job_id)
            if job is not None and job.state == "running":  # the worker died before saying
                if job.cancel:
                    self.store.update(job_id, state="cancelled", ended=time.time(), pid=None)
                    self.store.event(job_id, "cancelled", "warning")
                else:
                    self.store.update(
                        job_id, state="failed", ended=time.time(), pid=None,
                        error=f"the job's worker stopped unexpectedly (exit code {code})",
                        hint="see the job's log; run the job again",
                    )  # fmt: skip

    def _renew_and_cancel(self) -> None:
        if not self._running:
            return
        now = time.time()
        with self.store.begin() as conn:
            conn.execute(
                jobs.update()
                .where(jobs.c.id.in_(list(self._running)), jobs.c.state == "running")
                .values(lease_until=now + LEASE)
            )
        for job_id, run in self._running.items():
            job = self.store.job(job_id)
            if job is None or not job.cancel:
                continue
            if run.cancel_seen is None:
                run.cancel_seen = now
            elif now - run.cancel_seen > CANCEL_GRACE:
                _terminate(run.process)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _kill_stale_worker(pid: int, job_id: int) -> None:
    """A worker of a previous run of this station that still runs ``job_id``: stop it (it
    checks its parent and stops by itself; this is for one stuck in a long call)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if b"mediatool.station.jobs.worker" in cmdline and str(job_id).encode() in cmdline:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
