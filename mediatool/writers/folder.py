"""Outputs appear whole or not at all, and a hard stop leaves nothing behind (issue 12).

Every output ``X`` (the disc folder, the ISO image, the label, the HTML report) is made beside
itself under a hidden name that says whose it is: ``.X.partial-<host>-<pid>-<random>``. A folder
that replaces another swaps places with it in one step (``renameat2(RENAME_EXCHANGE)``); only
where the file system cannot do that is the old folder first moved aside as
``.X.old-<host>-<pid>-<random>``. The owner in the name lets the next run tell its own stale
leftovers from those of a run still going (here or on another host sharing the folder): a
leftover is stale when it was made on this host by a process that no longer exists.
:func:`sweep` removes stale staging and temporary files and puts back an old folder whose
replacement never arrived, and says so on stderr.

Modes (issue 11): folders get ``0777 & ~umask``, files ``0666 & ~umask``, like any program that
creates files; the 0700/0600 of :mod:`tempfile` would keep a burn robot or a colleague out.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from mediatool.errors import OutputError

#: Test hooks: pause (until killed) at a named point, or act as if the file system could not
#: exchange two names. Used only by the tests of the crash windows (tests/test_hardstop.py).
PAUSE_ENV: Final = "MEDIATOOL_TEST_PAUSE"
NO_EXCHANGE_ENV: Final = "MEDIATOOL_TEST_NO_EXCHANGE"

_AT_FDCWD: Final = -100
_RENAME_EXCHANGE: Final = 2  # linux/fs.h
_HOST: Final = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
#: ``.X.partial-<host>-<pid>-<hex>`` / ``.X.old-<host>-<pid>-<hex>``; and ``.X.old-<pid>``, the
#: name an earlier version gave the old folder.
_OWNED: Final = re.compile(r"\.(partial|old)-(?:([0-9a-f]{8})-(\d+)-[0-9a-f]+|(\d+))")
#: What earlier versions left without an owner in the name (tempfile's names for the staging
#: folder, the label and the HTML report; 16 hex digits for the image): only mentioned.
_UNOWNED: Final = re.compile(r"\.partial-(?:[a-z0-9_]{8}|[0-9a-f]{16})|\.[a-z0-9_]{8}")


def hidden_name(dest: Path, kind: str = "partial", pid: int | None = None) -> Path:
    """A fresh hidden name beside ``dest`` that names this host and process (or ``pid``) as
    its owner."""
    owner = os.getpid() if pid is None else pid
    return dest.with_name(f".{dest.name}.{kind}-{_HOST}-{owner}-{secrets.token_hex(4)}")


def make_folder(dest: Path) -> Path:
    """A new empty staging folder beside ``dest`` (same file system: publishing is a rename)."""
    while True:
        path = hidden_name(dest)
        try:
            path.mkdir(0o777)  # the umask applies
            return path
        except FileExistsError:
            continue


def open_file(dest: Path) -> tuple[int, Path]:
    """A new temporary file beside ``dest``, open for writing, mode ``0666 & ~umask``."""
    while True:
        path = hidden_name(dest)
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:
            continue


@contextmanager
def replacing(dest: Path) -> Iterator[Path]:
    """A new, empty temporary file beside ``dest`` (umask applied, stale leftovers of
    interrupted runs swept first) for a tool or writer to fill; renamed onto ``dest`` when the
    block ends, removed when it fails. An ``OSError`` (a full disk) becomes an
    :class:`OutputError` naming ``dest``."""
    sweep(dest)
    fd, tmp = open_file(dest)
    os.close(fd)
    try:
        yield tmp
        tmp.replace(dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"writing {str(dest)!r} failed: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_file(dest: Path, data: bytes) -> None:
    """Write ``data`` beside ``dest`` and rename it into place; on any failure (a full disk)
    the temporary file is removed before the error goes on."""
    sweep(dest)
    fd, tmp = open_file(dest)
    try:
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
        tmp.replace(dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def _stale(dest: Path, name: str) -> tuple[str, int] | None:
    """``(kind, pid)`` when ``name`` is a leftover of ``dest`` whose owner is gone."""
    prefix = f".{dest.name}"
    if not name.startswith(prefix):
        return None
    match = _OWNED.fullmatch(name[len(prefix) :])
    if match is None:
        return None
    kind, host, pid, legacy = match.groups()
    if host is not None and host != _HOST:
        return None  # another host's: it may still be running
    owner = int(pid or legacy)
    return None if _alive(owner) else (kind, owner)


def _remove(path: Path) -> bool:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    return not os.path.lexists(path)


_said: set[str] = set()


def _say(message: str) -> None:
    """A message for people on stderr, once per run (several steps sweep the same place)."""
    if message not in _said:
        _said.add(message)
        print(f"mediatool: {message}", file=sys.stderr, flush=True)


def sweep(dest: Path) -> list[str]:
    """Clear the leftovers of interrupted runs writing ``dest``; return (and print on stderr)
    what was done. Never touches a leftover whose owner may still be running."""
    dest = Path(dest).absolute()
    try:
        names = sorted(p.name for p in dest.parent.iterdir())
    except OSError:
        return []
    done: list[str] = []
    for name in names:
        stale = _stale(dest, name)
        if stale is None:
            if name.startswith(f".{dest.name}") and _UNOWNED.fullmatch(name[len(dest.name) + 1 :]):
                _say(
                    f"found {name!r} beside {dest.name!r}, left by an earlier version that "
                    "did not record its owner: remove it if no build is writing there"
                )
            continue
        kind, pid = stale
        path = dest.parent / name
        if kind == "old" and not os.path.lexists(dest):
            try:
                path.rename(dest)
            except OSError:
                continue
            done.append(
                f"restored {str(dest)!r} from {name!r}: a replace by process {pid} was "
                "interrupted before the new content was in place"
            )
        elif _remove(path):
            what = "an earlier copy" if kind == "old" else "unfinished output"
            done.append(f"removed {name!r} ({what} of interrupted process {pid})")
    for message in done:
        _say(message)
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one step; False where the system cannot."""
    if os.environ.get(NO_EXCHANGE_ENV):
        return False
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    renameat2.argtypes += [ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def pause(point: str) -> None:
    """Test hook: stop here until killed when ``MEDIATOOL_TEST_PAUSE`` names ``point``."""
    if os.environ.get(PAUSE_ENV) == point:
        _say(f"paused at {point}")
        while True:
            time.sleep(60)


def publish(staging: Path, dest: Path) -> None:
    """Put the complete folder ``staging`` at ``dest``, replacing what is there.

    At every moment ``dest`` is either the old or the new complete folder: a new ``dest`` is
    one rename; an existing one is swapped with ``staging`` in one step, and the old content,
    now under the staging name, is removed (a stop before that leaves a stale staging folder
    for :func:`sweep`). Without the swap, the old folder is moved aside first; a stop between
    the two renames is repaired by :func:`sweep`, which puts it back.
    """
    if not os.path.lexists(dest):
        staging.rename(dest)
        return
    if _exchange(staging, dest):
        pause("publish-exchanged")
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = hidden_name(dest, "old")
    dest.rename(old)
    pause("publish-between-renames")
    try:
        staging.rename(dest)
    except OSError:
        old.rename(dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


# The build's folder output: checked before anything is written, staged, published whole.


def staging_dir(dest: Path) -> Path:
    """A fresh empty folder beside ``dest`` (same file system, so publishing is a rename), made
    after the stale leftovers of interrupted runs are cleared; mode ``0777 & ~umask``."""
    target = dest.resolve()
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        sweep(target)
        return make_folder(target)
    except OSError as exc:
        raise OutputError(f"cannot create a folder in {str(parent)!r}: {exc.strerror}") from exc


def check_destination(dest: Path, sources: Sequence[str], *, force: bool) -> None:
    """Refuse a non-empty destination (unless ``force``) and any overlap with the sources.

    First the leftovers of an interrupted run are cleared (:func:`sweep`): a
    folder whose replace was cut short is put back, so it is judged as it was."""
    target = dest.resolve()
    sweep(target)
    for given in sources:
        src = Path(given).resolve()
        if target == src or target.is_relative_to(src) or src.is_relative_to(target):
            raise OutputError(
                f"the output folder {str(dest)!r} overlaps the input {given!r}; "
                "choose an output folder outside the inputs"
            )
    if dest.exists() and not dest.is_dir():
        raise OutputError(f"{str(dest)!r} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise OutputError(
            f"the output folder {str(dest)!r} is not empty",
            hint="use --force to replace its content",
        )


def check_file_destination(dest: Path, sources: Sequence[str], *, force: bool) -> None:
    """An output file (ISO image, label): not inside the inputs, not over a file unless
    ``force`` (after clearing the leftovers of interrupted runs)."""
    target = dest.resolve()
    sweep(target)
    for given in sources:
        src = Path(given).resolve()
        if target == src or target.is_relative_to(src):
            raise OutputError(
                f"the output file {str(dest)!r} would be written inside the input "
                f"{given!r}; choose a place outside the inputs"
            )
    if dest.is_dir():
        raise OutputError(f"{str(dest)!r} is a folder; give the path of a file")
    if dest.exists() and not force:
        raise OutputError(f"{str(dest)!r} exists", hint="use --force to replace it")


def write_file_atomically(
    dest: Path, data: bytes, what: str = "", *, make_parents: bool = True
) -> None:
    """Write ``data`` to a temporary file beside ``dest`` and rename it into place; a failure
    (a full disk) removes the temporary file. ``what`` names the file in the message."""
    try:
        if make_parents:
            dest.parent.mkdir(parents=True, exist_ok=True)
        write_file(dest, data)
    except OSError as exc:
        raise OutputError(
            f"cannot write {what + ' ' if what else ''}{str(dest)!r}: {exc.strerror or exc}"
        ) from exc


def publish_folder(staging_folder: Path, dest: Path) -> None:
    """Move the complete staging folder into place, replacing ``dest`` if it exists; ``dest`` is
    at every moment the old or the new complete folder (:func:`publish`).

    No global ``sync``: it waits for every dirty page of the machine and doubled the time of a
    10,000-file build; the rename is atomic, and a disc is burned from the published folder.
    """
    try:
        publish(staging_folder, dest)
    except OSError as exc:
        raise OutputError(f"cannot move the result into {str(dest)!r}: {exc.strerror}") from exc
