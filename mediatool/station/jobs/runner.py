"""Run the jobs: a supervisor thread in the station claims queued jobs and runs each in its own
worker process (:mod:`.worker`), at most ``workers`` at a time.

A process per job isolates the jobs from each other and from the pages (a decoder that crashes
takes one job down, not the station) and makes cancel certain: the worker stops at its next
progress step, and a worker that does not is terminated.

Several stations may share one job store (PostgreSQL). Each running job has an ``owner`` (the
station: ``NAME:PID``) and a lease the supervisor renews (every third of :attr:`Supervisor.lease`);
each tick, a job whose lease ran out belongs to a station that died and is taken over (interrupted,
then queued again: any station whose capabilities cover its needs claims it). A station that finds
one of its jobs taken over (its lease ran out while it was alive, e.g. cut from the database)
stops that job's worker at once, and the worker's outcome is written only while its attempt still
holds the job (:meth:`Store.finish`): no job is run to its end twice.

When the station starts, the jobs it was running when it stopped (its name, a previous process)
are marked ``interrupted`` (a line in their log says when) and queued again: import resumes from
its journal (nothing is sent twice), build and validate start over.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from mediatool.station.jobs.context import BURNERS_ENV
from mediatool.station.store import Store

LEASE: Final = 60.0  # seconds a claim lasts without renewal ([station] lease)
DATABASE_ENV: Final = "MEDIATOOL_STATION_DATABASE"  # the URL for the worker (not on its command
# line, where every user of the computer could read a PostgreSQL password)
CANCEL_GRACE: Final = 10.0  # seconds a worker has to stop by itself after a cancel


def station_name(name: str = "") -> str:
    """The owner of the jobs this process runs: the station's name (default: the host's) and
    the process id."""
    return f"{name or socket.gethostname()}:{os.getpid()}"


def say(text: str) -> None:
    print(f"mediatool serve: job runner: {text}", file=sys.stderr, flush=True)


def _station_of(owner: str | None) -> str:
    return str(owner or "").rsplit(":", 1)[0]


@dataclass
class _Running:
    job_id: int
    attempt: int
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
    lease: float = LEASE
    capabilities: tuple[str, ...] = ()
    burners: dict[str, dict[str, Any]] = field(default_factory=dict)
    _renewed: float = 0.0
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
        shared = self.store.dialect != "sqlite"  # other stations may resume its jobs now
        for run in list(self._running.values()):
            _terminate(run.process)
            self._interrupt(run.job_id, run.attempt, "the station was stopped while this job ran")
            if shared:
                self.store.requeue(
                    run.job_id, f"resumed: queued again for the other stations "
                    f"(station {_station_of(self.owner)} was stopped)",
                )  # fmt: skip
        self._running.clear()

    def recover(self) -> None:
        """At start: the jobs this station (its name) left running are interrupted and queued
        again; other stations' jobs are taken over only when their lease ran out (each tick)."""
        here = _station_of(self.owner)
        for job in self.store.jobs(states=("running",), limit=10_000):
            if _station_of(job.owner) != here or job.owner == self.owner:
                continue
            if _serving(str(job.owner).rsplit(":", 1)[-1]):
                continue  # two stations of one name on this computer: its lease decides
            if job.pid:
                _kill_stale_worker(job.pid, job.id)
            self._interrupt(job.id, job.attempts, "the station stopped while this job ran")
        for job in self.store.jobs(states=("interrupted",), limit=10_000):
            self.store.requeue(job.id, "resumed: queued again after a restart of the station")

    def _interrupt(self, job_id: int, attempt: int, why: str) -> None:
        if self.store.finish(job_id, attempt, state="interrupted", pid=None, ended=time.time()):
            self.store.event(job_id, f"interrupted: {why}", "warning")

    def _loop(self) -> None:
        failures = 0  # a database that is down: one line when it fails, one when it is back
        while not self._stop.is_set():
            try:
                self._tick()
                if failures:
                    say(f"the job store answers again (after {failures} failed attempts)")
                failures = 0
            except Exception as exc:  # the loop must outlive a database hiccup
                if not failures:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                    say(f"{first} (retrying every {self.poll} s)")
                failures += 1
            self._stop.wait(self.poll)

    def _tick(self) -> None:
        self._reap()
        self._renew_and_cancel()
        self.store.take_over(self.owner)
        while len(self._running) < self.workers:
            job = self.store.claim(self.owner, self.lease, capabilities=self.capabilities)
            if job is None:
                break
            self._spawn(job.id, job.attempts)

    def _spawn(self, job_id: int, attempt: int) -> None:
        command = [
            sys.executable, "-m", "mediatool.station.jobs.worker",
            "--data", str(self.data), "--job", str(job_id), "--attempt", str(attempt),
        ]  # fmt: skip
        env = dict(os.environ) | {
            DATABASE_ENV: self.store.url,
            BURNERS_ENV: json.dumps(self.burners, sort_keys=True),
        }
        log = self.data / "jobs" / str(job_id)
        log.mkdir(parents=True, exist_ok=True)
        with (log / "worker.log").open("ab") as err:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env
            )
        self.store.finish(job_id, attempt, pid=process.pid)
        self.store.event(job_id, f"started on station {_station_of(self.owner)}")
        self._running[job_id] = _Running(job_id, attempt, process)

    def _reap(self) -> None:
        for job_id, run in list(self._running.items()):
            code = run.process.poll()
            if code is None:
                continue
            del self._running[job_id]
            job = self.store.job(job_id)
            if job is None or job.state != "running":
                continue
            if job.cancel:  # the worker died before saying
                if self.store.finish(job_id, run.attempt, state="cancelled", ended=time.time()):
                    self.store.event(job_id, "cancelled", "warning")
            else:
                self.store.finish(
                    job_id, run.attempt, state="failed", ended=time.time(), pid=None,
                    error=f"the job's worker stopped unexpectedly (exit code {code})",
                    hint="see the job's log; run the job again",
                )  # fmt: skip

    def _renew_and_cancel(self) -> None:
        if not self._running:
            return
        now = time.time()
        if now - self._renewed >= self.lease / 3:
            held = self.store.renew(self.owner, list(self._running), self.lease)
            self._renewed = now
            for job_id in set(self._running) - held:  # taken over: this station was thought dead
                run = self._running.pop(job_id)
                _terminate(run.process)
                say(
                    f"job {job_id} was taken over by another station (this station's lease "
                    "ran out); its worker here was stopped"
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


def _serving(pid: str) -> bool:
    """A ``mediatool serve`` process of this computer runs as ``pid``."""
    try:
        cmdline = Path(f"/proc/{int(pid)}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return False
    return b"mediatool" in b" ".join(cmdline) and b"serve" in cmdline


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
