"""Read a File-set from a folder (a copied CD, a USB stick, a mounted image).

The folder is walked once, in sorted order, without following symbolic links. A link whose
target stays inside the root and is a regular file is listed under the link's name; a link that
leaves the root is never opened (checklist I02). Devices, fifos and sockets are never opened.
Everything the walk could not read is a finding, not an exception.

**No race leaves the root** (issue 12). The root is opened once; every folder listed and every
file read is then opened component by component relative to that descriptor, each step with
``O_NOFOLLOW`` (``O_DIRECTORY`` for folders). A folder swapped for a link to somewhere else while
the medium is read (rename-exchange) makes that one open fail; it never reads outside bytes,
because no path through the changed folder is ever resolved by name again.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Final, cast

from mediatool.errors import MediaError
from mediatool.findings import finding
from mediatool.media.base import IndexedReader, MediaEntry, unsafe_component

_NOFOLLOW: Final = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC: Final = getattr(os, "O_CLOEXEC", 0)
#: A folder on the way: a real folder, never a link to one.
_DIR_FLAGS: Final = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
#: The file itself: never block on a fifo swapped in after the walk, never follow a link.
_FILE_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _NOFOLLOW | _CLOEXEC


class FolderReader(IndexedReader):
    """A folder as a medium; ``path`` of each entry is relative to the folder, POSIX."""

    kind = "folder"

    def __init__(self, path: str | Path, listing: Iterable[tuple[str, int]] | None = None) -> None:
        """``listing``: the (path, size) of every regular file, from a walk of this folder
        that found no link, special file or unusable name (``mediatool iso``'s, which refuses
        them); the folder is then not walked again."""
        super().__init__(str(path))
        root = Path(path)
        if not root.is_dir():
            raise MediaError(f"cannot read folder {self.name!r}: not a folder")
        self._root = os.path.realpath(root)
        try:
            self._root_fd: int | None = os.open(self._root, _DIR_FLAGS)
        except OSError as exc:
            raise MediaError(f"cannot read folder {self.name!r}: {exc.strerror}") from exc
        #: entry path → components (below the root) of the file to open
        self._targets: dict[str, tuple[str, ...]] = {}
        try:
            self._set_entries(self._walk() if listing is None else self._listed(listing))
        except BaseException:
            self.close()
            raise

    # --- descriptors ---------------------------------------------------------------------------

    def _folder(self, components: Sequence[str]) -> int:
        """A new descriptor of the folder ``components`` below the root, opened one component
        at a time without following links. Raises ``OSError``."""
        if self._root_fd is None:
            raise OSError(f"folder {self.name!r} is closed")
        fd = os.open(".", _DIR_FLAGS, dir_fd=self._root_fd)
        try:
            for name in components:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except BaseException:
            os.close(fd)
            raise
        return fd

    # --- listing -------------------------------------------------------------------------------

    def _walk(self) -> list[MediaEntry]:
        found: list[MediaEntry] = []
        pending: list[tuple[str, ...]] = [()]
        while pending:
            folder = pending.pop()
            try:
                fd = self._folder(folder)
            except OSError as exc:
                self._unlisted(folder, exc)
                continue
            try:
                found += self._list(folder, fd, pending)
            finally:
                os.close(fd)
        return found

    def _list(
        self, folder: tuple[str, ...], fd: int, pending: list[tuple[str, ...]]
    ) -> list[MediaEntry]:
        found: list[MediaEntry] = []
        try:
            with os.scandir(fd) as it:
                items = sorted(it, key=lambda d: d.name)
        except OSError as exc:
            self._unlisted(folder, exc)
            return found
        for item in items:
            relpath = "/".join((*folder, item.name))
            if unsafe_component(item.name):
                self._report("media.unsafe-name", f"name {item.name!r} is not usable", relpath)
            elif _is_dir(item):
                pending.append((*folder, item.name))
            else:
                entry = self._classify(item, relpath, fd)
                if entry is not None:
                    found.append(entry)
        return found

    def _listed(self, listing: Iterable[tuple[str, int]]) -> list[MediaEntry]:
        """The entries of a listing made by the caller; each file still readable (as
        :meth:`_classify` asks), each read checked by :meth:`open` as ever."""
        found: list[MediaEntry] = []
        assert self._root_fd is not None
        for relpath, size in listing:
            if not os.access(relpath, os.R_OK, dir_fd=self._root_fd, follow_symlinks=False):
                self._report(
                    "media.unreadable", "file is not readable (permission denied)", relpath
                )
                continue
            self._targets[relpath] = tuple(relpath.split("/"))
            found.append(MediaEntry(relpath, relpath, size))
        return found

    def _unlisted(self, folder: tuple[str, ...], exc: OSError) -> None:
        if not folder:  # the medium itself cannot be listed: nothing to report findings about
            raise MediaError(f"cannot read folder {self.name!r}: {exc.strerror}") from exc
        self._report("media.unreadable", f"cannot list folder: {exc.strerror}", "/".join(folder))

    def _classify(self, item: os.DirEntry[str], relpath: str, fd: int) -> MediaEntry | None:
        """The entry for a non-directory, or None (with a finding) when it is not read."""
        try:
            if item.is_symlink():
                return self._link(relpath)
            status = item.stat(follow_symlinks=False)
        except OSError as exc:
            self._report("media.unreadable", f"cannot read file status: {exc.strerror}", relpath)
            return None
        if not stat.S_ISREG(status.st_mode):
            self._report("media.special-file", f"{_kind(status.st_mode)} is not read", relpath)
            return None
        if not os.access(item.name, os.R_OK, dir_fd=fd, follow_symlinks=False):
            self._report("media.unreadable", "file is not readable (permission denied)", relpath)
            return None
        self._targets[relpath] = tuple(relpath.split("/"))
        return MediaEntry(relpath, relpath, status.st_size)

    def _link(self, relpath: str) -> MediaEntry | None:
        link = Path(self._root, relpath)
        target = os.path.realpath(link)
        if not _inside(target, self._root):
            self._report(
                "media.link-outside-root",
                f"link to {str(link.readlink())!r} leaves the media root",
                relpath,
            )
            return None
        if not Path(target).is_file():
            what = "a folder" if Path(target).is_dir() else "nothing or a special file"
            self._report("media.link-not-followed", f"link points to {what}", relpath)
            return None
        if not os.access(target, os.R_OK):
            self._report("media.unreadable", "file is not readable (permission denied)", relpath)
            return None
        self._targets[relpath] = tuple(Path(os.path.relpath(target, self._root)).parts)
        return MediaEntry(relpath, relpath, Path(target).stat().st_size)

    def _report(self, code: str, message: str, where: str) -> None:
        self._findings.append(finding(code, message, where))

    # --- reading -------------------------------------------------------------------------------

    def open(self, entry: MediaEntry) -> BinaryIO:
        """Open the file again, checked: every component below the root must still be a real
        folder and the file a regular file (no link followed anywhere on the way).

        Raises ``OSError`` when it no longer is (changed since the walk) or cannot be read.
        """
        known = self._known(entry)
        components = self._targets[known.path]
        try:
            folder = self._folder(components[:-1])
            try:
                fd = os.open(components[-1], _FILE_FLAGS, dir_fd=folder)
            finally:
                os.close(folder)
        except OSError as exc:
            if exc.errno in _CHANGED:
                raise OSError(
                    f"{entry.path!r} now points outside the media root or is no longer "
                    "a file there (changed while it was read)"
                ) from exc
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"{entry.path!r} is no longer a regular file")
        # A raw file, not a BufferedReader: pydicom reopens a BufferedReader by its *name* for
        # a deferred value, which would resolve the path again; this stream is read itself.
        return cast(BinaryIO, io.FileIO(fd, "rb", closefd=True))

    def heads(
        self, entries: Iterable[MediaEntry], size: int
    ) -> Iterator[tuple[MediaEntry, bytes | None]]:
        """The first ``size`` bytes of each entry (``None``: it cannot be opened or read now),
        with the checks of :meth:`open` (no link followed on the way, a regular file), but
        each folder opened once for all its files and no file object made: ``validate``
        sniffs every file of a disc, thousands of web pages and JPEGs (issue 17)."""
        folder: tuple[str, ...] | None = None
        fd: int | None = None
        try:
            for entry in entries:
                components = self._targets[self._known(entry).path]
                if components[:-1] != folder:
                    if fd is not None:
                        os.close(fd)
                    folder, fd = components[:-1], None
                    with contextlib.suppress(OSError):
                        fd = self._folder(folder)
                yield entry, None if fd is None else _head(fd, components[-1], size)
        finally:
            if fd is not None:
                os.close(fd)

    def close(self) -> None:
        if self._root_fd is not None:
            os.close(self._root_fd)
            self._root_fd = None


#: What ``O_NOFOLLOW``/``O_DIRECTORY`` report when a component is now a link or not a folder.
_CHANGED: Final = frozenset({errno.ELOOP, errno.ENOTDIR})


def _head(folder: int, name: str, size: int) -> bytes | None:
    """Up to ``size`` bytes from the start of the regular file ``name`` in ``folder``; None
    when it cannot be opened (a link, gone) or read, or is no longer a regular file."""
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = b""
        while len(data) < size:
            more = os.read(fd, size - len(data))
            if not more:
                break
            data += more
        return data
    except OSError:
        return None
    finally:
        os.close(fd)


def _is_dir(item: os.DirEntry[str]) -> bool:
    """A real folder (not a link to one); False when unknown, so the file check reports it."""
    try:
        return item.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _inside(path: str, root: str) -> bool:
    """True when the real path ``path`` is ``root`` or below it."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives (Windows)
        return False


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "non-regular file"
