"""Job Request Files for Primera disc publishers: a burn robot served through its hot folder.

Source: Primera Technology, Inc., *PTBurn 3 SDK: Network-capable, Text-based, Shared Folder
Burning & Printing*, revision 3.24 (September 2011) and 3.25 (March 2017), section 2 "JRQ File
Command Structure". The PTBurn service (Windows) watches a shared Job Request Folder; a client
puts a text file with the extension ``.JRQ`` there, one ``Key = Value`` per line; PTBurn burns
and prints, then renames the file ``.DON`` (done) or ``.ERR`` (failed) (section 2.1.7).

The keys written here, each as that section defines it:

- ``JobID`` (2.1.1) and ``ClientID`` (2.1.2): ASCII, at most 32 characters;
- ``Importance`` (2.1.3): 0 most important; 0-9 is valid in every revision (3.24 allows more);
- ``ImageFile`` (2.1.6): an already mastered ``.ISO`` (or ``.GI``) image, as the PTBurn
  computer names it; ``ImageType = MODE_1_2048`` (2.1.8): the block length of our images;
- ``DeleteFiles`` (2.1.7): YES deletes the job's files afterwards, only when they lie in a
  subfolder of the Job Request Folder (:func:`submit` puts them there);
- ``Copies`` (2.1.11): 1 to 10,000;
- ``PrintLabel`` (2.1.12): ``.STD`` (SureThing), ``.JPG``, ``.BMP`` or ``.PRN`` (not PNG);
- ``VolumeName`` (2.1.13): at most 32 characters;
- ``VerifyDisc`` (2.1.15) and ``RejectIfNotBlank`` (2.1.16): YES or NO (PTBurn's default for
  both is NO; a patient disc wants YES for both).

Not written: ``CloseDisc`` (2.1.10), whose values we have not seen documented, and the keys for
data folders and audio (PTBurn would master the file system itself; mediatool's image is the
File-set as validated).
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Final

from mediatool.errors import MediatoolError, OutputError

EXTENSION: Final = ".JRQ"
_NAME: Final = re.compile(r"^[\x20-\x7e]{1,32}$")  # 2.1.1, 2.1.2, 2.1.13: ASCII, <= 32
_LABEL_TYPES: Final = (".STD", ".JPG", ".BMP", ".PRN")  # 2.1.12
_IMAGE_TYPES: Final = (".ISO", ".GI")  # 2.1.6
MAX_COPIES: Final = 10_000  # 2.1.11


class JobFileError(MediatoolError):
    """A value PTBurn's Job Request File cannot carry (the message names the SDK section)."""


@dataclass(frozen=True, slots=True)
class PTBurnJob:
    """One disc job for PTBurn. Paths are as the PTBurn computer sees them (Windows paths)."""

    job_id: str
    image: str
    copies: int = 1
    client_id: str = "mediatool"
    verify: bool = True
    reject_if_not_blank: bool = True
    label: str | None = None
    volume_name: str | None = None
    importance: int | None = None
    delete_files: bool = False


def _yes(flag: bool) -> str:
    return "YES" if flag else "NO"


def _value(key: str, value: str, section: str) -> str:
    """A value as one line can carry it: printable ASCII, no line break (PTBurn reads ANSI)."""
    if not value or not all(" " <= c <= "~" for c in value):
        raise JobFileError(f"{key} {value!r} must be printable ASCII (PTBurn 3 SDK {section})")
    return value


def _check(job: PTBurnJob) -> None:
    for key, value, section in (
        ("JobID", job.job_id, "2.1.1"),
        ("ClientID", job.client_id, "2.1.2"),
        ("VolumeName", job.volume_name, "2.1.13"),
    ):
        if value is not None and not _NAME.match(value):
            raise JobFileError(
                f"{key} {value!r} must be 1-32 ASCII characters (PTBurn 3 SDK {section})"
            )
    if not 1 <= job.copies <= MAX_COPIES:
        raise JobFileError(f"Copies {job.copies} must be 1 to 10,000 (PTBurn 3 SDK 2.1.11)")
    if job.importance is not None and not 0 <= job.importance <= 9:
        raise JobFileError(f"Importance {job.importance} must be 0 to 9 (PTBurn 3 SDK 2.1.3)")
    if PureWindowsPath(job.image).suffix.upper() not in _IMAGE_TYPES:
        raise JobFileError(f"ImageFile {job.image!r} must be an .ISO image (PTBurn 3 SDK 2.1.6)")
    if job.label is not None and PureWindowsPath(job.label).suffix.upper() not in _LABEL_TYPES:
        raise JobFileError(
            f"PrintLabel {job.label!r} must be .STD, .JPG, .BMP or .PRN (PTBurn 3 SDK 2.1.12)"
        )


def render(job: PTBurnJob) -> str:
    """The Job Request File's text, CRLF line ends (a Windows service reads it).

    Raises
    ------
    JobFileError
        A value the format cannot carry (the message names the SDK section).
    """
    _check(job)
    lines = [
        ("JobID", _value("JobID", job.job_id, "2.1.1")),
        ("ClientID", _value("ClientID", job.client_id, "2.1.2")),
        *([("Importance", str(job.importance))] if job.importance is not None else []),
        ("ImageFile", _value("ImageFile", job.image, "2.1.6")),
        ("ImageType", "MODE_1_2048"),
        ("Copies", str(job.copies)),
        ("VerifyDisc", _yes(job.verify)),
        ("RejectIfNotBlank", _yes(job.reject_if_not_blank)),
        ("DeleteFiles", _yes(job.delete_files)),
        *([("VolumeName", job.volume_name)] if job.volume_name else []),
        *([("PrintLabel", _value("PrintLabel", job.label, "2.1.12"))] if job.label else []),
    ]
    return "".join(f"{key} = {value}\r\n" for key, value in lines)


def write(folder: Path, job: PTBurnJob) -> Path:
    """Put ``job`` into PTBurn's Job Request Folder as ``<JobID>.JRQ``.

    Written under another extension first and renamed, so PTBurn (which picks up ``*.JRQ``)
    never reads half a file.

    Raises
    ------
    JobFileError
        A value the format cannot carry, a JobID that is no file name, or a job of that
        JobID waiting already.
    """
    text = render(job)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", job.job_id):
        raise JobFileError(f"JobID {job.job_id!r} names the file: use A-Z a-z 0-9 _ . -")
    target = Path(folder) / f"{job.job_id}{EXTENSION}"
    if target.exists():
        raise JobFileError(f"{str(target)!r} exists: a job of that JobID is waiting")
    partial = target.with_suffix(".part")
    partial.write_bytes(text.encode("ascii"))
    partial.replace(target)
    return target


def _label_file(label: Path, folder: Path) -> str:
    """The label copied into the job's folder; a PNG (what ``build --label`` writes) becomes a
    BMP, which PTBurn prints (2.1.12) and which keeps every pixel."""
    if label.suffix.upper() in _LABEL_TYPES:
        target = folder / label.name
        shutil.copyfile(label, target)
        return target.name
    from PIL import Image, UnidentifiedImageError

    target = folder / (label.stem + ".BMP")
    try:
        with Image.open(label) as picture:
            picture.convert("RGB").save(target, format="BMP")
    except UnidentifiedImageError:
        raise JobFileError(
            f"the label {str(label)!r} is no picture: PTBurn prints .STD, .JPG, .BMP or .PRN "
            "labels (2.1.12), and a PNG is converted"
        ) from None
    return target.name


def free_job_id(folder: Path, base: str) -> str:
    """``base``, or ``base_2``, ``base_3``... : a JobID no job file or job folder in ``folder``
    uses (PTBurn keeps ``.DON``/``.ERR`` files a while after the job, 2.1.7)."""
    taken = {p.stem.upper() for p in Path(folder).iterdir()} if Path(folder).is_dir() else set()
    name, n = base, 1
    while name.upper() in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _copy_in(job_folder: Path, image: Path, label: Path | None) -> str | None:
    """Copy the image (and the label) into the job's own folder; the label's file name."""
    job_folder.mkdir()
    try:
        shutil.copyfile(image, job_folder / image.name)
        return None if label is None else _label_file(label, job_folder)
    except BaseException:
        shutil.rmtree(job_folder, ignore_errors=True)  # nothing half-submitted
        raise


def submit(
    folder: Path, robot_folder: str, image: Path, job: PTBurnJob, label: Path | None = None
) -> Path:
    """Hand ``image`` to a Primera robot: copy it (and ``label``) into ``folder/<JobID>/``, then
    write ``folder/<JobID>.JRQ`` naming them as PTBurn sees them, with ``DeleteFiles = YES``
    (2.1.7: PTBurn deletes the job's subfolder when done). ``job.image``, ``job.label`` and
    ``job.delete_files`` are set here.

    ``folder`` is the Job Request Folder as this computer reaches it (a mounted share);
    ``robot_folder`` the same folder as the PTBurn computer names it (``C:\\PTBURNJOBS``).

    Raises
    ------
    JobFileError
        A value the format cannot carry, ``folder`` is not a folder, or a job of that JobID
        exists.
    OutputError
        Copying into ``folder`` failed (nothing is left behind).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise JobFileError(
            f"{str(folder)!r} is not a folder", hint="mount PTBurn's Job Request Folder there"
        )
    job_folder = folder / job.job_id
    if free_job_id(folder, job.job_id) != job.job_id:
        raise JobFileError(f"a job {job.job_id!r} exists in {str(folder)!r} already")
    remote = PureWindowsPath(robot_folder) / job.job_id
    job = dataclasses.replace(job, image=str(remote / image.name), label=None, delete_files=True)
    render(job)  # every value is checked before anything is copied
    try:
        label_name = _copy_in(job_folder, image, label)
    except OSError as exc:
        raise OutputError(f"cannot copy the job into {str(folder)!r}: {exc}") from exc
    if label_name is not None:
        job = dataclasses.replace(job, label=str(remote / label_name))
    return write(folder, job)


def outcome(folder: Path, job_id: str) -> str | None:
    """``"done"`` or ``"failed"`` once PTBurn has renamed the job file ``.DON`` or ``.ERR``
    (2.1.7); None while it is waiting or running (for a station job that polls)."""
    names = {p.name.upper() for p in Path(folder).glob(f"{job_id}.*")}
    if f"{job_id}.DON".upper() in names:
        return "done"
    if f"{job_id}.ERR".upper() in names:
        return "failed"
    return None
