"""The check of ``mediatool iso`` in a forked process, beside the pack (issue 17).

``mediatool iso`` validates the folder while the image is written (one pass:
:mod:`mediatool.writers.isodata`). Run as a thread of the same process, the two shared one
interpreter lock: pycdlib laying out the image, the import of pydicom, the listing and the
DICOMDIR's checks took turns on one core while the other waited, about a second on the default
disc before the kernel copy and the header reads could run side by side. Here the check runs
in a process of its own, forked before the copying thread starts, so the layout and the check
each have a core; the check's header readers are forked from it as before.

The check process also reads the File-set ID (the Volume Identifier, PS3.12 F.1.1): the image
is laid out and written with a blank one, recorded when the check has passed
(:func:`mediatool.writers.iso.pack`), so this process never imports pydicom and the copy never
waits for the check. Each result is one pickled message on its own pipe, ended by
the pipe's end: a check process that dies without a result is a check that did not pass
(:class:`~mediatool.errors.MediaError`, nothing is published).

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
from typing import Any, Final

from mediatool.errors import MediaError, MediatoolError
from mediatool.findings import Finding

_DIED: Final = "the check of the folder ended without a result"


class ForkedCheck:
    """A check running in a child process; :meth:`findings` waits for its result."""

    def __init__(self, pid: int, fileset_fd: int, findings_fd: int) -> None:
        self._pid: int | None = pid
        self._fileset_fd = fileset_fd
        self._findings_fd = findings_fd

    def fileset_id(self) -> str:
        """The File-set ID the check process read (raises what reading it raised); called once,
        when the check has passed and the files are copied."""
        return str(_result(_receive(self._fileset_fd)))

    def findings(self) -> list[Finding]:
        """The check's findings, once it has ended."""
        message = _receive(self._findings_fd)
        self._reap()
        return list(_result(message))

    def close(self) -> None:
        """End the check process if it still runs (a refusal, an interrupt), close the pipes."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()
        for fd in (self._fileset_fd, self._findings_fd):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _reap(self) -> None:
        if self._pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


def start(
    check: Callable[[], list[Finding]], fileset_id: Callable[[], str] | None
) -> ForkedCheck | None:
    """Fork a process that runs ``fileset_id`` (if given), then ``check``; None when this
    process cannot fork safely (no ``fork``, or other threads: the caller checks in process)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    fileset_r, fileset_w = os.pipe()
    findings_r, findings_w = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid == 0:  # the check process: never returns
        os.close(fileset_r)
        os.close(findings_r)
        _child(check, fileset_id, fileset_w, findings_w)
    os.close(fileset_w)
    os.close(findings_w)
    return ForkedCheck(pid, fileset_r, findings_r)


def _child(
    check: Callable[[], list[Finding]],
    fileset_id: Callable[[], str] | None,
    fileset_w: int,
    findings_w: int,
) -> None:
    code = 1
    try:
        from mediatool.workers import _die_with_parent

        _die_with_parent()  # the parent killed (kill -9): this process and its readers go too
        if fileset_id is not None:
            _send(fileset_w, _run(fileset_id))
        os.close(fileset_w)  # before the header readers are forked: they must not hold it
        _send(findings_w, _run(check))
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


def _result(message: tuple[str, Any]) -> Any:
    kind, value = message
    if kind == "error":
        text, hint = value
        raise MediaError(text, hint=hint)
    return value
