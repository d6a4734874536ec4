"""Send to a PACS over several associations at once (one thread each), the media read by one.

A C-STORE is a round trip: while the PACS stores one instance, the next could already be on
the way. Like most DICOM senders we therefore keep a few associations open side by side
(``--associations``, default 4). The calling thread reads and prepares the instances in order
(the media readers are not thread-safe, an ISO or zip is one open file) and hands them over a
short queue; each sender thread owns one :class:`.store.StoreSession`.

Threads, not worker processes: measured against Orthanc on 2 cores (issue 17), the sending
process uses under half a core while the PACS uses most of the other, so the GIL is not the
limit, and processes would add a fork and a pipe per instance's outcome.

Only the first association insists (retries); a PACS that accepts fewer parallel associations
simply leaves the others out. A sender whose PACS goes away hands its instance back and
retires; when the last one retires the run stops, and so does Ctrl-C in the calling thread
(each sender finishes the instance it is sending). Instances not reported back are the
caller's to account for (``import.send-failed`` or ``import.interrupted``).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Final, Generic, Protocol, TypeVar

from mediatool.model import InstanceInfo
from mediatool.net.association import PeerUnavailable
from mediatool.net.store import Delivery, Prepared, StoreSession


class Addressed(Protocol):
    """What the caller sends: anything that names its instance (``importer.select.Work``)."""

    @property
    def info(self) -> InstanceInfo: ...


W = TypeVar("W", bound=Addressed)
#: What ``prepare`` returns instead of :class:`Prepared` when an instance is not sent (the
#: caller's own outcome, e.g. ``importer.accounting.FileOutcome``); handed to ``report`` as is.
Skipped = TypeVar("Skipped")
_POLL: Final = 0.1  # seconds between checks of the stop flag while blocked
INTERRUPTED: Final = "interrupted by the user"


class _Pool(Generic[W, Skipped]):
    def __init__(
        self, senders: int, report: Callable[[W, Prepared | None, Delivery | Skipped], None]
    ) -> None:
        # Bounded by :meth:`put` taking a slot, not by size: a sender whose association ended
        # hands its instance back without waiting for room.
        self.queue: queue.Queue[tuple[W, Prepared]] = queue.Queue()
        self.slots = threading.Semaphore(2 * senders)  # given back as each item is taken
        self.stop = threading.Event()
        self.done = threading.Event()  # everything to send is queued
        self.reason: str | None = None
        self.alive = senders
        self.report = report
        self.error: Exception | None = None  # a sender's unexpected exception, raised again
        self._lock = threading.Lock()

    def halt(self, reason: str) -> None:
        with self._lock:
            if self.reason is None:
                self.reason = reason
        self.stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # what is still queued is left unreported
                self.queue.get_nowait()

    def leave(self, unreachable: str | None) -> None:
        """A sender ends; when the last one ends because the PACS is gone, the run stops."""
        with self._lock:
            self.alive -= 1
            last = self.alive == 0
        if last and unreachable is not None:
            self.halt(f"the PACS cannot be reached: {unreachable}")

    def put(self, item: tuple[W, Prepared]) -> bool:
        """Queue ``item`` once there is room; False when the run stopped or no sender is left.
        Waits on the slots (woken when a sender takes an item), not in a polling loop: the
        reading thread is ahead of the senders most of the time."""
        while not self.stop.is_set():
            if self.alive == 0:
                return False
            if self.slots.acquire(timeout=_POLL):
                self.queue.put(item)
                return True
        return False

    def take(self) -> tuple[W, Prepared]:
        """The next item (raises ``queue.Empty`` after a short wait), its slot given back."""
        item = self.queue.get(timeout=_POLL)
        self.slots.release()
        return item


def _sender(pool: _Pool[W, Skipped], session: StoreSession, first: bool) -> None:
    unreachable: str | None = None
    try:
        unreachable = _send(pool, session, first)
    except Exception as exc:  # a bug or an unwritable journal: stop all, raise it in the caller
        pool.error = pool.error or exc
        pool.halt(f"stopped by an error: {exc}")
    finally:
        session.close()
        pool.leave(unreachable)


def _send(pool: _Pool[W, Skipped], session: StoreSession, first: bool) -> str | None:
    """Connect, then send what the queue gives until all is sent or the run stops; why the
    PACS could not be reached, or None."""
    try:
        session.connect(retry=first)
    except PeerUnavailable as exc:
        return str(exc)
    while not pool.stop.is_set():
        try:
            work, prepared = pool.take()
        except queue.Empty:
            if pool.done.is_set():
                return None
            continue
        try:
            delivery = session.send(prepared, work.info.sop_class_uid, work.info.sop_instance_uid)
        except PeerUnavailable as exc:
            pool.queue.put((work, prepared))  # another association may still send it
            return str(exc)
        pool.report(work, prepared, delivery)
    return None


def send_parallel(
    todo: Sequence[W],
    prepare: Callable[[W], Prepared | Skipped],
    make_session: Callable[[], StoreSession],
    associations: int,
    report: Callable[[W, Prepared | None, Delivery | Skipped], None],
) -> str | None:
    """Send ``todo`` in order over up to ``associations`` associations; ``report`` (called from
    several threads) gets every outcome. Returns why the run stopped early, or None."""
    count = max(1, min(associations, len(todo)))
    pool: _Pool[W, Skipped] = _Pool(count, report)
    threads = [
        threading.Thread(
            target=_sender, args=(pool, make_session(), n == 0), name=f"store-{n}", daemon=True
        )
        for n in range(count)
    ]
    for t in threads:
        t.start()
    try:
        for work in todo:
            if pool.stop.is_set():
                break
            item = prepare(work)
            if not isinstance(item, Prepared):
                report(work, None, item)
            elif not pool.put((work, item)):
                break
        pool.done.set()
        _join(threads)
    except KeyboardInterrupt:
        pool.halt(INTERRUPTED)  # each sender ends after its current instance
        _join(threads)
    if pool.error is not None:
        raise pool.error
    return pool.reason


def _join(threads: list[threading.Thread]) -> None:
    for t in threads:
        while t.is_alive():
            t.join(_POLL)
