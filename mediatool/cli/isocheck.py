"""The check of ``mediatool iso`` in a forked process, beside the pack (issue 17).

``mediatool iso`` validates the folder while the image is written (one pass:
:mod:`mediatool.writers.isodata`). Run as a thread of the same process, the two shared one
interpreter lock: pycdlib laying out the image, the import of pydicom, the listing and the
DICOMDIR's checks took turns on one core while the other waited, about a second on the default
disc before the kernel copy and the header reads could run side by side. Here the check runs
in a process of its own, forked before the copying thread starts, so the layout and the check
each have a core; the check's header readers are forked from it as before.

The check also gives the File-set ID (the Volume Identifier, PS3.12 F.1.1) its validation read:
the image is laid out and written with a blank one, recorded when the check has passed
(:func:`mediatool.writers.iso.pack`), so this process never imports pydicom, the DICOMDIR is
parsed once, and the copy never waits for the check. The result is one pickled message on a
pipe, ended by the pipe's end: a check process that dies without a result is a check that did
not pass (:class:`~mediatool.errors.MediaError`, nothing is published).

Nothing changes in what is checked: the same functions run, on the same folder, with the same
listing (inherited through the fork), and the image is still published only when their
findings allow it and no file changed since the listing (:func:`mediatool.writers.isodata.fill`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Final, Generic, TypeVar

from mediatool.errors import MediaError, MediatoolError

_DIED: Final = "the check of the folder ended without a result"
T = TypeVar("T")


class ForkedCheck(Generic[T]):
    """A check running in a child process; :meth:`result` waits for it."""

    def __init__(self, pid: int, fd: int) -> None:
        self._pid: int | None = pid
        self._fd = fd

    def result(self) -> T:
        """What the check returned, once it has ended (raises what it raised, as
        :class:`~mediatool.errors.MediaError`)."""
        message = _receive(self._fd)
        self._reap()
        kind, value = message
        if kind == "error":
            text, hint = value
            raise MediaError(text, hint=hint)
        result: T = value
        return result

    def close(self) -> None:
        """End the check process if it still runs (a refusal, an interrupt), close the pipe."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _reap(self) -> None:
        if self._pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


def start(check: Callable[[], T]) -> ForkedCheck[T] | None:
    """Fork a process that runs ``check``; None when this process cannot fork safely (no
    ``fork``, or other threads: the caller checks in process)."""
    # os.fork and a pipe, not multiprocessing.Process: the child is a copy of the command at
    # this point (the listing it checks is inherited, not pickled), it forks the validation's
    # own readers (workers.pool), and it must leave only through os._exit with one message,
    # never through multiprocessing's exit handlers or back into the command's code.
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    read_end, write_end = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # the check process: never returns
        os.close(read_end)
        _child(check, write_end)
    os.close(write_end)
    return ForkedCheck(pid, read_end)


def _child(check: Callable[[], Any], fd: int) -> None:
    code = 1
    try:
        from mediatool.workers import _die_with_parent

        _die_with_parent()  # the parent killed (kill -9): this process and its readers go too
        _send(fd, _run(check))
        code = 0
    finally:  # never back into the command: the parent reports, exits and cleans up
        os._exit(code)


def _run(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", function())
    except MediatoolError as exc:
        return ("error", (str(exc), getattr(exc, "hint", None)))
    except Exception as exc:  # a bug must still refuse the image, with its name
        return ("error", (f"the check of the folder failed: {exc!r}", None))


def _send(fd: int, message: tuple[str, Any]) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int) -> tuple[str, Any]:
    chunks: list[bytes] = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    if not chunks:
        raise MediaError(_DIED, hint="run the command again; nothing was written")
    message: tuple[str, Any] = pickle.loads(b"".join(chunks))  # our own child's message
    return message
