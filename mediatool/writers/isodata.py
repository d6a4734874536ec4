"""The files' bytes in an ISO image: copied in the kernel while the folder is checked.

**Why this shape (issue 17, "iso in one pass").** ``mediatool iso`` checks the folder with the
full ``validate`` pass before it publishes an image. On 1,200 CT images with their web content
(1.4 GB, 6,036 files; ``benchmarks/bench_iso.py``) the old order, check *then* pack, took
4.3 s against genisoimage's 1.2 s (the pack alone 1.2 s; 2 shared cores). Two ways were open:

* *check only what changed since the build* (a journal of sizes, times and digests left by the
  build): the build's folder writer would have to keep it, a folder made by hand or copied
  would still need the full check, and a journal in the folder would land on the disc;
* *check while packing*, chosen: the check is the same full validation as ever (nothing is
  trusted from an earlier run, so a file changed after the build is judged like any other),
  and it runs **at the same time** as the copy of the file data, which is done by the kernel
  (``os.copy_file_range``: the bytes never enter this process, one read from the disk or the
  page cache per file). The validation reads only the headers (the page cache serves them
  again to the copy or the other way round); the image is renamed into place only when the
  check has passed and the copy is complete. ``mediatool iso`` runs the check in a process of
  its own (:mod:`mediatool.cli.isocheck`), so that pycdlib's layout here and the validation's
  Python there do not take turns on one interpreter lock. What is left on the critical path
  is the validation's own CPU (about 1 ms of header parsing per DICOM file, the DICOMDIR, the
  sniff of the web files) beside the copy's: that cost is the ``validate`` item of issue 17.

**Nothing changed under us.** Every file's ``stat`` (size, modification and change times, inode)
is taken when the folder is listed, before the check reads it and before its copy. After both,
every file is looked at again; any difference (a file written, replaced, touched, removed)
refuses the image (:class:`~mediatool.errors.MediaError`, nothing written): what was checked is
then what was copied. The change time cannot be set back by a user, so ``touch -r`` does not
hide an edit.

pycdlib still writes everything else (volume descriptors, path tables, directory records); the
files are added to it as :class:`Placeholder` objects of the right length that read as empty,
which pycdlib's copy loop accepts (it stops at a short read and pads with a zero).
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from mediatool.errors import MediaError

#: One ``copy_file_range`` call at most: a refusal stops the copy within a chunk.
_CHUNK: Final = 64 << 20
#: The kernel has no in-kernel copy between these two files: copy through a buffer.
_NO_KERNEL_COPY: Final = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.ETXTBSY}
)
#: Progress of the copy is polled at this interval (seconds) once the check is done.
_POLL: Final = 0.1

Stamp = tuple[int, int, int, int, int]


def stamp(st: os.stat_result) -> Stamp:
    """What must not change between listing and publishing: size, mtime, ctime, inode, device."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


@dataclass(frozen=True, slots=True)
class Extent:
    """One file's bytes in the image: ``size`` bytes of ``source`` at byte ``offset``."""

    source: str
    where: str  # folder-relative path, for messages
    offset: int
    size: int
    stamp: Stamp


class Placeholder:
    """What pycdlib is given instead of a file: it reads as empty (the data is copied later).

    No file object: nothing is opened until the copy, one file at a time. ``entry`` says
    which file it stands for, so the extents are found from pycdlib's inodes in one loop."""

    mode: Final = "rb"  # pycdlib's add_fp accepts only objects in binary mode

    def __init__(self, entry: object) -> None:
        self.entry = entry

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0


class _Copier(threading.Thread):
    """Copies every extent into the image, in image order, until done or stopped."""

    def __init__(self, prepare: Callable[[], tuple[int, Sequence[Extent]]]) -> None:
        super().__init__(name="iso-copy", daemon=True)
        self.prepare = prepare
        self.out_fd = -1
        self.extents: Sequence[Extent] = ()
        self.done = 0  # bytes copied
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self._kernel = hasattr(os, "copy_file_range")

    def run(self) -> None:
        try:
            self.out_fd, self.extents = self.prepare()
            for extent in self.extents:
                if self.stop.is_set():
                    return
                self._copy(extent)
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc

    def _copy(self, extent: Extent) -> None:
        fd = os.open(extent.source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            copied = 0
            while copied < extent.size and not self.stop.is_set():
                count = min(extent.size - copied, _CHUNK)
                n = self._chunk(fd, count, copied, extent.offset + copied)
                if n == 0:  # shorter than when listed: reported by changed() afterwards
                    return
                copied += n
                self.done += n
        finally:
            os.close(fd)

    def _chunk(self, fd: int, count: int, src: int, dst: int) -> int:
        if self._kernel:
            try:
                return os.copy_file_range(fd, self.out_fd, count, src, dst)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                self._kernel = False  # e.g. another file system: copy through a buffer
        data = os.pread(fd, min(count, 1 << 20), src)
        written = 0
        while written < len(data):
            written += os.pwrite(self.out_fd, data[written:], dst + written)
        return len(data)


def changed(extents: Sequence[Extent]) -> list[str]:
    """The files whose ``stat`` differs from the one taken when the folder was listed."""
    out: list[str] = []
    for extent in extents:
        try:
            now = stamp(os.lstat(extent.source))
        except OSError:
            out.append(extent.where)
            continue
        if now != extent.stamp:
            out.append(extent.where)
    return out


def fill(
    prepare: Callable[[], tuple[int, Sequence[Extent]]],
    check: Callable[[], object] | None,
    progress: Callable[[int], None] | None,
) -> None:
    """Copy every extent into the image while ``check`` runs here; then make sure no file changed.

    ``prepare`` runs in the copying thread first and returns the image's file descriptor and
    the extents (pycdlib laying out and writing the descriptors and directory records: pure
    Python that would otherwise delay the check; the check mostly waits for its workers). An
    exception there (the image does not fit) is raised here after ``check``, whose refusal
    comes first.
    ``progress(bytes copied)`` is called from this thread only: after the check, while waiting.

    Raises
    ------
    MediaError
        A file changed (or went) while the image was made.
    Exception
        Whatever ``check`` raises (a refusal): the copy is stopped first.
    """
    copier = _Copier(prepare)
    copier.start()
    try:
        if check is not None:
            check()
        _wait(copier, progress)
    except BaseException:
        copier.stop.set()
        copier.join()
        raise
    if copier.error is not None:
        raise copier.error
    moved = changed(copier.extents)
    if moved:
        sample = ", ".join(repr(w) for w in moved[:5]) + (", ..." if len(moved) > 5 else "")
        count = "1 file" if len(moved) == 1 else f"{len(moved)} files"
        raise MediaError(
            f"{count} changed while the image was made ({sample}); nothing was written",
            hint="make sure nothing writes to the folder, then run the command again",
        )


def _wait(copier: _Copier, progress: Callable[[int], None] | None) -> None:
    while copier.is_alive():
        if progress is not None:
            progress(copier.done)
        copier.join(_POLL)
    if progress is not None:
        progress(copier.done)
