"""Materialise a plan: write every file into a staging folder, then publish it atomically.

Nothing is written before the plan is accepted. The staging folder sits beside the destination
(same file system), so publishing is a rename: DIR appears only when complete. Sources are only
ever opened for reading. Naming, modes, publishing and the clean-up after a hard stop are
:mod:`mediatool.staging`'s; the worker processes are :mod:`mediatool.workers`' (issue 12).
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.uid import UID

from mediatool import staging, transcode, workers
from mediatool.conform import Action
from mediatool.dicom import filemeta
from mediatool.errors import OutputError
from mediatool.findings import Finding, finding
from mediatool.model import FileID, SourceRef
from mediatool.scan import open_source

Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True, slots=True)
class WriteTask:
    source: SourceRef
    dataset_offset: int
    file_id: FileID
    action: Action
    target_ts: str
    sop_class_uid: str
    sop_instance_uid: str
    patches: tuple[tuple[str, str], ...] = ()
    source_ts: str = ""  # the Transfer Syntax the data set is in (needed to convert)
    new_uid: str | None = None  # lossy compression: the derived image's SOP Instance UID
    icon_size: int | None = None  # make the directory record's icon (PS3.3 F.7) of this size


def _icon_of_copy(task: WriteTask, data: bytes) -> tuple[bytes | None, str | None]:
    """The icon of an instance written unchanged (its pixel data is decoded only for it)."""
    from pydicom import dcmread

    from mediatool import icons

    assert task.icon_size is not None
    try:
        ds = dcmread(io.BytesIO(data), force=True)
        return icons.make_icon(ds, task.icon_size), None
    except Exception as exc:
        return None, str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _icon_finding(task: WriteTask, reason: str) -> Finding:
    return finding(
        "build.icon-failed", f"no icon for the directory record: {reason}", task.source.display
    )


def write_instance(task: WriteTask, root: Path) -> tuple[int, list[Finding], bytes | None]:
    """Write one instance as a Part 10 file under ``root``.

    Returns the bytes written, findings (the warnings pydicom gave while re-encoding, which
    never reach stderr as Python warnings, and, as an error, a conversion that failed: a
    compressed stream a decoder rejects is only found out here, when pixel data is read) and
    the encoded icon when the task asks for one.
    """
    where = task.source.display
    caught: list[warnings.WarningMessage] = []
    icon: bytes | None = None
    icon_error: str | None = None
    with open_source(task.source) as fp:
        data = fp.read()
    if task.action is Action.COPY:
        meta = filemeta.encode(task.sop_class_uid, task.sop_instance_uid, task.target_ts)
        chunks: Sequence[bytes | memoryview] = (meta, memoryview(data)[task.dataset_offset :])
        if task.icon_size is not None:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                icon, icon_error = _icon_of_copy(task, data)
    else:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if task.action is Action.REENCODE and task.icon_size is None:
                    content, _, _ = transcode.rewrite(
                        data, target_ts=task.target_ts, decompress=False, patches=dict(task.patches)
                    )
                else:
                    converted = transcode.convert(
                        data,
                        source_ts=task.source_ts,
                        target_ts=task.target_ts,
                        patches=dict(task.patches),
                        new_uid=task.new_uid,
                        icon_size=task.icon_size,
                    )
                    content, icon, icon_error = (
                        converted.data,
                        converted.icon,
                        converted.icon_error,
                    )
        except Exception as exc:
            reason = str(exc).splitlines()[0][:300].rstrip(":") if str(exc) else type(exc).__name__
            return (
                0,
                [
                    finding(
                        "profile.cannot-convert",
                        f"cannot convert to {UID(task.target_ts).name!r}: {reason}",
                        where,
                    )
                ],
                None,
            )
        chunks = (content,)
    dest = root.joinpath(*task.file_id)
    workers.ensure_parent()  # never write after the build that started us is gone
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("xb") as out:
        for chunk in chunks:
            out.write(chunk)
    found = [
        finding("read.pydicom-warning", str(w.message).splitlines()[0][:300], where) for w in caught
    ]
    if icon_error is not None:
        found.append(_icon_finding(task, icon_error))
    return sum(len(c) for c in chunks), found, icon


def _write_batch(
    args: tuple[Sequence[WriteTask], Path],
) -> tuple[int, list[Finding], dict[str, bytes]]:
    tasks, root = args
    total = 0
    findings: list[Finding] = []
    icons: dict[str, bytes] = {}
    for task in tasks:
        size, found, icon = write_instance(task, root)
        total += size
        findings += found
        if icon is not None:
            icons[task.sop_instance_uid] = icon
    return total, findings, icons


def write_all(
    tasks: Sequence[WriteTask],
    root: Path,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    icons: dict[str, bytes] | None = None,
) -> tuple[int, list[Finding]]:
    """Write every instance (in parallel when there are many).

    Returns bytes written and the findings raised while writing; the icons made go into
    ``icons`` (by the task's SOP Instance UID).
    """
    # Creating a file costs ~0.9 ms on the ext4 volumes measured here, mostly waiting, so twice
    # as many writers as cores keeps the cores busy (benchmarks/bench_build.py).
    jobs = jobs or min(2 * (os.cpu_count() or 1), 8)
    # Conversions and icons cost milliseconds per file, not microseconds: small batches then
    # keep every core busy to the end, and even a few files are worth spreading.
    heavy = any(t.action is not Action.COPY or t.icon_size is not None for t in tasks)
    chunk = max(1, min(16, len(tasks) // (4 * jobs))) if heavy else 64
    batches = [(tasks[i : i + chunk], root) for i in range(0, len(tasks), chunk)]
    total = done = 0
    findings: list[Finding] = []

    def consume(results: Iterable[tuple[int, list[Finding], dict[str, bytes]]]) -> None:
        nonlocal total, done
        for (batch, _), (size, found, made) in zip(batches, results, strict=True):
            total += size
            findings.extend(found)
            if icons is not None:
                icons.update(made)
            done += len(batch)
            if progress:
                progress(done, len(tasks), "writing files")

    if jobs == 1 or len(tasks) < 2 * chunk or (heavy and len(tasks) < 2):
        consume(map(_write_batch, batches))
    else:
        with workers.pool(jobs) as pool:
            consume(pool.map(_write_batch, batches))
    return total, findings


def staging_dir(dest: Path) -> Path:
    """A fresh empty folder beside ``dest`` (same file system, so publishing is a rename), made
    after the stale leftovers of interrupted runs are cleared; mode ``0777 & ~umask``."""
    target = dest.resolve()
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging.sweep(target)
        return staging.make_folder(target)
    except OSError as exc:
        raise OutputError(f"cannot create a folder in {str(parent)!r}: {exc.strerror}") from exc


def check_destination(dest: Path, sources: Sequence[str], *, force: bool) -> None:
    """Refuse a non-empty destination (unless ``force``) and any overlap with the sources.

    First the leftovers of an interrupted run are cleared (:func:`mediatool.staging.sweep`): a
    folder whose replace was cut short is put back, so it is judged as it was."""
    target = dest.resolve()
    staging.sweep(target)
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
    staging.sweep(target)
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
        staging.write_file(dest, data)
    except OSError as exc:
        raise OutputError(
            f"cannot write {what + ' ' if what else ''}{str(dest)!r}: {exc.strerror or exc}"
        ) from exc


def publish(staging_folder: Path, dest: Path) -> None:
    """Move the complete staging folder into place, replacing ``dest`` if it exists; ``dest`` is
    at every moment the old or the new complete folder (:func:`mediatool.staging.publish`).

    No global ``sync``: it waits for every dirty page of the machine and doubled the time of a
    10,000-file build; the rename is atomic, and a disc is burned from the published folder.
    """
    try:
        staging.publish(staging_folder, dest)
    except OSError as exc:
        raise OutputError(f"cannot move the result into {str(dest)!r}: {exc.strerror}") from exc
