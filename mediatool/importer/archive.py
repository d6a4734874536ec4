"""A local archive folder as import destination: Part 10 files by patient, study and series.

Layout, every component made safe for any file system (no separators, no ``..``, no reserved
Windows names, at most 64 characters)::

    DIR/<local Patient ID>/<Study Date>_<study key>/<Modality>_<Series Number>_<series key>/
        <SOP Instance UID>.dcm

The study and series keys are the first 10 and 8 hex digits of the SHA-1 of their UIDs: short,
stable, and distinct where two studies share a date or two series a number.

Idempotent by SOP Instance UID: what is present is the set of ``*.dcm`` names in the folder,
found again on every run (the folder is its own journal; nothing to keep in step). Each file is
written to a temporary name in its final folder, flushed to disk and renamed into place, so an
interrupted import leaves either the whole file or none (temporary names start with ``.`` and
never end in ``.dcm``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Final

from mediatool.dicom.filemeta import is_valid_uid
from mediatool.errors import MediatoolError, OutputError
from mediatool.model import InstanceInfo

_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)} | {f"LPT{i}" for i in range(10)}
)
_SUFFIX: Final = ".dcm"
_TEMPORARY: Final = re.compile(r"\..+\.(\d+)\.tmp")  # see ArchiveFolder.write


def check_apart(media: str, archive: Path) -> None:
    """The media is never modified: an archive folder inside it (or around it) would be.

    Raises
    ------
    MediatoolError
        The archive folder and the media overlap.
    """
    source = Path(media).resolve()
    if archive.resolve().is_relative_to(source) or source.is_relative_to(archive.resolve()):
        raise MediatoolError(
            f"the archive folder {str(archive)!r} overlaps the media {media!r}; "
            "choose an archive folder outside it"
        )


def safe_component(text: str, fallback: str = "UNKNOWN") -> str:
    """One path component from foreign text: ``[A-Za-z0-9._-]``, no leading dot, ≤ 64 chars."""
    name = _UNSAFE.sub("_", text.strip()).strip("_").lstrip(".")[:64]
    if not name:
        return fallback
    if name.split(".", 1)[0].upper() in _RESERVED:
        name = "_" + name
    return name


def _key(uid: str, length: int) -> str:
    return hashlib.sha1(uid.encode("utf-8", "replace")).hexdigest()[:length]


def file_stem(sop_instance_uid: str) -> str:
    """The file name (without ``.dcm``) for an instance: its UID when valid, else a safe form."""
    if is_valid_uid(sop_instance_uid):
        return sop_instance_uid
    return f"{safe_component(sop_instance_uid, 'X')[:40]}_{_key(sop_instance_uid, 12)}"


def relative_path(info: InstanceInfo, patient_id: str) -> Path:
    """Where an instance goes below the archive root (see the module docstring)."""
    patient = safe_component(patient_id)
    study = f"{safe_component(info.study_date, 'undated')}_{_key(info.study_uid, 10)}"
    series = (
        f"{safe_component(info.modality, 'OT')}_{safe_component(info.series_number, 'X')}_"
        f"{_key(info.series_uid, 8)}"
    )
    return Path(patient, study, series, file_stem(info.sop_instance_uid) + _SUFFIX)


class ArchiveFolder:
    """The destination folder. Nothing is created before the first :meth:`write`."""

    def __init__(self, root: Path, *, sync: bool = True) -> None:
        self.root = root
        self.name = str(root)
        self.sync = sync
        self._dirs: set[Path] = set()
        self.stale_removed = 0

    def present(self) -> dict[str, set[str]]:
        """File stems (see :func:`file_stem`) of the instances already in the folder, each with
        the patient folders (first component) holding it: the archive's own index.

        Temporary files an earlier run left behind (killed, or a full disk) are removed on the
        way; :attr:`stale_removed` counts them.

        Raises
        ------
        OutputError
            The destination exists but is not a folder, or cannot be listed.
        """
        self.stale_removed = 0
        if not self.root.exists():
            return {}
        if not self.root.is_dir():
            raise OutputError(f"the archive {self.name!r} is not a folder")
        stems: dict[str, set[str]] = {}
        try:
            for folder, _, names in os.walk(self.root):
                patient = Path(folder).relative_to(self.root).parts[:1]
                for n in names:
                    if n.endswith(_SUFFIX) and patient:
                        stems.setdefault(n[: -len(_SUFFIX)], set()).add(patient[0])
                    elif _TEMPORARY.fullmatch(n) and self._remove_stale(Path(folder, n)):
                        self.stale_removed += 1
        except OSError as exc:
            raise OutputError(f"cannot list the archive {self.name!r}: {exc}") from exc
        return stems

    @staticmethod
    def _remove_stale(path: Path) -> bool:
        """Remove a temporary file of a run that is no longer running (its PID is in the name)."""
        match = _TEMPORARY.fullmatch(path.name)
        pid = int(match.group(1)) if match else 0
        if pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
            return False  # that run is still going (another import into the same archive)
        except ProcessLookupError:
            pass
        except OSError:
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True

    def write(self, relative: Path, data: bytes) -> Path:
        """Write one file atomically; returns its path. Raises ``OSError`` on failure."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp")
        try:
            with tmp.open("wb") as fp:
                fp.write(data)
                if self.sync:
                    fp.flush()
                    os.fsync(fp.fileno())
            tmp.replace(target)
        except BaseException:  # a full disk, Ctrl-C: never leave the temporary file behind
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        self._dirs.add(target.parent)
        return target

    def finish(self) -> None:
        """Make the renames durable: fsync each folder written to (POSIX; a no-op elsewhere)."""
        if not self.sync:
            return
        for folder in sorted(self._dirs):
            try:
                fd = os.open(folder, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)
        self._dirs.clear()
