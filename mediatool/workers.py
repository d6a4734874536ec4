"""Worker processes that die with the process that started them (issue 12).

Every pool of build (header scan, file writing, web content) and validate is made here. A
worker asks the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``, Linux),
then checks that the parent is still the one that started it (it may have died before the
request); writers call :func:`ensure_parent` before each file, so a worker never writes after
the parent is gone, also where the kernel has no parent-death signal.

Without this, a ``kill -9`` of build left the forked workers blocked on the task queue (whose
write end they inherited, so it never closes) or still writing into the staging folder.

The death signal follows the *thread* that forked the worker: pools are made and used from
the thread that owns the run (the main thread in the CLI).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Final

_PR_SET_PDEATHSIG: Final = 1  # linux/prctl.h

#: Fewer files than this are scanned, and copied, in the process itself (issue 17). Measured
#: here: starting and ending a pool costs ~25 ms of wall time at best (forking the workers,
#: their start, their shutdown), a header scan ~0.4 ms and a copy ~0.2 ms of CPU a file,
#: the results' pickling ~0.03 ms; on two idle cores the pool saves time from ~100 files on.
#: (Back-to-back builds of 100..700 files with 5 helpers sharing the 2 cores never gained
#: from the pool: that crossover is for an idle machine.)
POOL_MIN_FILES: Final = 128

#: The PID of the process that started this worker (None outside a worker).
_parent: int | None = None


def _die_with_parent() -> None:
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (AttributeError, OSError):  # not Linux: ensure_parent() still guards every write
        return
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.argtypes += [ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _start(
    parent: int, initializer: Callable[..., object] | None, initargs: tuple[Any, ...]
) -> None:
    global _parent
    _parent = parent
    _die_with_parent()
    ensure_parent()  # the parent may have died before the request took effect
    if initializer is not None:
        initializer(*initargs)


def ensure_parent() -> None:
    """In a worker: end this process at once if the process that started it is gone."""
    if _parent is not None and os.getppid() != _parent:
        os._exit(1)


def pool(
    workers: int,
    *,
    initializer: Callable[..., object] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """A pool of ``workers`` forked processes that die with this one."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start,
        initargs=(os.getpid(), initializer, initargs),
    )
