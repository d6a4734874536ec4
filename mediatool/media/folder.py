"""Read a File-set from a folder (a copied CD, a USB stick, a mounted image).

The folder is walked once, in sorted order, without following symbolic links. A link whose
target stays inside the root and is a regular file is listed under the link's name; a link that
leaves the root is never opened (checklist I02). Devices, fifos and sockets are never opened.
Everything the walk could not read is a finding, not an exception.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, Final

from mediatool.errors import MediaError
from mediatool.findings import finding
from mediatool.media.base import IndexedReader, MediaEntry, unsafe_component

#: Open flags: never block on a fifo swapped in after the walk, never follow a final link.
_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)


class FolderReader(IndexedReader):
    """A folder as a medium; ``path`` of each entry is relative to the folder, POSIX."""

    kind = "folder"

    def __init__(self, path: str | Path) -> None:
        super().__init__(str(path))
        root = Path(path)
        if not root.is_dir():
            raise MediaError(f"cannot read folder {self.name!r}: not a folder")
        self._root = os.path.realpath(root)
        #: entry path → real path of the file to open (inside the root)
        self._targets: dict[str, str] = {}
        self._set_entries(self._walk())

    def _walk(self) -> list[MediaEntry]:
        found: list[MediaEntry] = []
        pending = [""]
        while pending:
            rel = pending.pop()
            for item in self._list(rel):
                relpath = f"{rel}/{item.name}" if rel else item.name
                if unsafe_component(item.name):
                    self._report("media.unsafe-name", f"name {item.name!r} is not usable", relpath)
                elif _is_dir(item):
                    pending.append(relpath)
                else:
                    entry = self._classify(item, relpath)
                    if entry is not None:
                        found.append(entry)
        return found

    def _list(self, rel: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(Path(self._root, rel)) as it:
                return sorted(it, key=lambda d: d.name)
        except OSError as exc:
            if not rel:  # the medium itself cannot be listed: nothing to report findings about
                raise MediaError(f"cannot read folder {self.name!r}: {exc.strerror}") from exc
            self._report("media.unreadable", f"cannot list folder: {exc.strerror}", rel)
            return []

    def _classify(self, item: os.DirEntry[str], relpath: str) -> MediaEntry | None:
        """The entry for a non-directory, or None (with a finding) when it is not read."""
        try:
            if item.is_symlink():
                return self._link(item, relpath)
            mode = item.stat(follow_symlinks=False).st_mode
        except OSError as exc:
            self._report("media.unreadable", f"cannot read file status: {exc.strerror}", relpath)
            return None
        if not stat.S_ISREG(mode):
            self._report("media.special-file", f"{_kind(mode)} is not read", relpath)
            return None
        return self._regular(item.path, relpath)

    def _link(self, item: os.DirEntry[str], relpath: str) -> MediaEntry | None:
        target = os.path.realpath(item.path)
        if not _inside(target, self._root):
            self._report(
                "media.link-outside-root",
                f"link to {str(Path(item.path).readlink())!r} leaves the media root",
                relpath,
            )
            return None
        if not Path(target).is_file():
            what = "a folder" if Path(target).is_dir() else "nothing or a special file"
            self._report("media.link-not-followed", f"link points to {what}", relpath)
            return None
        return self._regular(target, relpath)

    def _regular(self, real: str, relpath: str) -> MediaEntry | None:
        if not os.access(real, os.R_OK):
            self._report("media.unreadable", "file is not readable (permission denied)", relpath)
            return None
        try:
            size = Path(real).stat().st_size
        except OSError as exc:
            self._report("media.unreadable", f"cannot read file status: {exc.strerror}", relpath)
            return None
        self._targets[relpath] = real
        return MediaEntry(relpath, relpath, size)

    def _report(self, code: str, message: str, where: str) -> None:
        self._findings.append(finding(code, message, where))

    def open(self, entry: MediaEntry) -> BinaryIO:
        """Open the file again checked: its real path must still be a regular file in the root.

        Raises ``OSError`` when it no longer is (changed since the walk) or cannot be read.
        """
        known = self._known(entry)
        real = os.path.realpath(self._targets[known.path])
        if not _inside(real, self._root):
            raise OSError(f"{entry.path!r} now points outside the media root")
        # builtin open: Path.open has no opener; the caller closes the stream
        stream = open(real, "rb", opener=_opener)  # noqa: SIM115
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            stream.close()
            raise OSError(f"{entry.path!r} is no longer a regular file")
        return stream


def _is_dir(item: os.DirEntry[str]) -> bool:
    """A real folder (not a link to one); False when unknown, so the file check reports it."""
    try:
        return item.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _opener(path: str, flags: int) -> int:
    return os.open(path, flags | _OPEN_FLAGS)


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
