"""★ Write an accepted plan: every instance (copied, re-encoded or converted), the DICOMDIR,
the web content and the label, into a staging folder; then pack the image and/or publish it.

Nothing is written before the plan is accepted. The staging folder sits beside the destination
(same file system), so publishing is a rename: DIR appears only when complete. Sources are only
ever opened for reading. Naming, modes, publishing and the clean-up after a hard stop are
:mod:`mediatool.writers.folder`'s, the image :mod:`mediatool.writers.iso`'s; the worker
processes are :mod:`mediatool.workers`' (issue 12). :mod:`mediatool.build.volumes` writes each
volume of a split set with the same steps (:func:`materialise`, :func:`web_content`).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from pydicom.uid import UID

from mediatool import workers
from mediatool.build.plan import MediaPlan, build_policy
from mediatool.build.request import (
    DESCRIPTOR_FILE_ID,
    BuildRequest,
    capacity_of,
    image_medium,
    scan_options,
    staging_target,
)
from mediatool.conform import Action
from mediatool.dicom import filemeta
from mediatool.errors import MediatoolError, OutputError, PlanRejected
from mediatool.findings import Finding, Severity, apply_policy, fails, finding
from mediatool.model import FileID, InstanceInfo, Progress, SourceRef
from mediatool.pixels import icons as icon_maker
from mediatool.pixels import transcode
from mediatool.scan import open_source, scan_one
from mediatool.writers import folder

if TYPE_CHECKING:  # the web content and the image writers are imported when asked for: a
    # build to a folder without web content does not pay for them (start-up, issue 17)
    from mediatool.build import webfit
    from mediatool.web import Site
    from mediatool.web.content import Workers
    from mediatool.web.fileset import PatientNode


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
    from mediatool.pixels import icons

    assert task.icon_size is not None
    try:
        ds = transcode.read(data, task.source_ts)
        return icons.make_icon(ds, task.icon_size), None
    except Exception as exc:
        return None, icons.failure(exc)


def _icon_finding(task: WriteTask, reason: str) -> Finding:
    return finding(
        "build.icon-failed", f"no icon for the directory record: {reason}", task.source.display
    )


class _Made(NamedTuple):
    """One instance as it will be written, before it is: its bytes, icon, and what was said."""

    chunks: Sequence[bytes | memoryview]
    icon: bytes | None
    icon_error: str | None
    warned: list[warnings.WarningMessage]


def _copied(task: WriteTask, data: bytes) -> _Made:
    """An instance kept as it is: our File Meta (PS3.10 7.1), then its data set bytes."""
    meta = filemeta.encode(task.sop_class_uid, task.sop_instance_uid, task.target_ts)
    chunks = (meta, memoryview(data)[task.dataset_offset :])
    if task.icon_size is None:
        return _Made(chunks, None, None, [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # the GC's, not the file's
        icon, icon_error = _icon_of_copy(task, data)
    return _Made(chunks, icon, icon_error, caught)


def _converted(task: WriteTask, data: bytes) -> _Made:
    """An instance re-encoded, decoded or compressed; raises what the codec raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # the GC's, not the file's
        if task.action is Action.REENCODE and task.icon_size is None:
            content, _, _ = transcode.rewrite(
                data, target_ts=task.target_ts, decompress=False, patches=dict(task.patches)
            )
            return _Made((content,), None, None, caught)
        converted = transcode.convert(
            data,
            source_ts=task.source_ts,
            target_ts=task.target_ts,
            patches=dict(task.patches),
            new_uid=task.new_uid,
            icon_size=task.icon_size,
        )
    return _Made((converted.data,), converted.icon, converted.icon_error, caught)


#: The finding of an instance whose conversion failed: its file is not written (not on the disc).
NOT_WRITTEN: Final = "profile.cannot-convert"


def _cannot_convert(task: WriteTask, exc: Exception) -> Finding:
    reason = str(exc).splitlines()[0][:300].rstrip(":") if str(exc) else type(exc).__name__
    return finding(
        NOT_WRITTEN,
        f"cannot convert to {UID(task.target_ts).name!r}: {reason}",
        task.source.display,
    )


def _store(
    root: Path, task: WriteTask, chunks: Sequence[bytes | memoryview], made: set[Path] | None
) -> int:
    """Create the file at the task's File ID (never over an existing one), mode ``0666 &
    ~umask``; bytes written. ``made``: folders known to exist (each is created once a batch,
    not tried again for every file: a failed mkdir and a stat a file, issue 17)."""
    dest = root.joinpath(*task.file_id)
    workers.ensure_parent()  # never write after the build that started us is gone
    if made is None or dest.parent not in made:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(dest.parent)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        _write_all(fd, chunks)
    finally:
        os.close(fd)
    return sum(len(c) for c in chunks)


def _write_all(fd: int, chunks: Sequence[bytes | memoryview]) -> None:
    """Every byte of ``chunks``, in one system call when the kernel takes them all at once."""
    done = os.writev(fd, chunks)
    if done == sum(len(c) for c in chunks):
        return
    rest = memoryview(b"".join(chunks))[done:]
    while rest:
        rest = rest[os.write(fd, rest) :]


def write_instance(
    task: WriteTask, root: Path, made: set[Path] | None = None
) -> tuple[int, list[Finding], bytes | None]:
    """Write one instance as a Part 10 file under ``root``.

    Returns the bytes written, findings (the warnings pydicom gave while re-encoding, which
    never reach stderr as Python warnings, and, as an error, a conversion that failed: a
    compressed stream a decoder rejects is only found out here, when pixel data is read) and
    the encoded icon when the task asks for one.
    """
    if task.source.member is None:  # unbuffered: one read of the whole file (as the scan)
        with Path(task.source.path).open("rb", buffering=0) as raw:
            data = raw.readall()
    else:
        with open_source(task.source) as fp:
            data = fp.read()
    if task.action is Action.COPY:
        result = _copied(task, data)
    else:
        try:
            result = _converted(task, data)
        except Exception as exc:
            return 0, [_cannot_convert(task, exc)], None
    size = _store(root, task, result.chunks, made)
    where = task.source.display
    found = [
        finding("read.pydicom-warning", str(w.message).splitlines()[0][:300], where)
        for w in result.warned
    ]
    if result.icon_error is not None:
        found.append(_icon_finding(task, result.icon_error))
    return size, found, result.icon


def _write_batch(
    args: tuple[Sequence[WriteTask], Path],
) -> tuple[int, list[Finding], dict[str, bytes]]:
    tasks, root = args
    total = 0
    findings: list[Finding] = []
    icons: dict[str, bytes] = {}
    made: set[Path] = set()
    for task in tasks:
        size, found, icon = write_instance(task, root, made)
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

    small = len(tasks) < 2 if heavy else len(tasks) < workers.POOL_MIN_FILES
    if jobs == 1 or small:
        consume(map(_write_batch, batches))
    else:
        with workers.pool(jobs) as pool:
            consume(pool.map(_write_batch, batches))
    return total, findings


class DoesNotFit(Exception):
    """The File-set, written whole, is larger than the medium (then it is split)."""


def write_fileset(
    media_plan: MediaPlan,
    request: BuildRequest,
    *,
    progress: Progress | None = None,
    must_fit: int | None = None,
) -> None:
    """Materialise the plan in a staging folder; pack the image from it and/or publish it.

    ``must_fit``: raise :class:`DoesNotFit` (nothing published) when the exact ISO 9660 image
    of the content would be larger than this many bytes."""
    target = staging_target(request)
    assert target is not None  # run() writes only when there is an output
    site = _site(request)
    staging = folder.staging_dir(target)
    try:
        tree = _content(media_plan, staging, request, site, progress, must_fit)
        volume_id = media_plan.fileset_id
        if must_fit is not None and not image_fits(request, staging, volume_id, must_fit):
            raise DoesNotFit
        if request.label is not None:
            _label(request, staging, site, tree)
        if request.iso is not None:
            from mediatool.writers import iso as iso_writer

            iso_writer.pack(
                staging,
                request.iso,
                volume_id=media_plan.fileset_id,
                date=request.date,
                capacity=capacity_of(request),
                progress=progress,
                force=request.force,
            )
        write_media(media_plan, request, staging, capacity_of(request), None)
        if request.out is not None:
            folder.publish_folder(staging, request.out)
        else:
            _remove(staging)
    except MediatoolError:
        _remove(staging)
        raise
    except OSError as exc:
        _remove(staging)
        raise OutputError(f"writing the File-set failed: {exc}") from exc
    except BaseException:
        _remove(staging)
        raise


def _site(request: BuildRequest) -> Site | None:
    if request.site is None:
        return None
    from mediatool.web import load_site

    return load_site(request.site)


def _label(
    request: BuildRequest, staging: Path, site: Site | None, tree: list[PatientNode]
) -> None:
    """``--label``: the printable disc label (PNG)."""
    from mediatool.web import make_label
    from mediatool.writers.iso import resolve_date

    created = (request.date or resolve_date(None)).strftime("%Y%m%d")
    png = make_label(
        staging, site=site, disc=(1, 1), created=created,
        tree=tree if request.label_from_instances else [], text=request.label_text,
    )  # fmt: skip
    assert request.label is not None
    folder.write_file_atomically(request.label, png)


def image_fits(request: BuildRequest, folder: Path, volume_id: str, capacity: int) -> bool:
    """Whether the images asked for of ``folder`` are recordable and within ``capacity``. The
    exact layout (:func:`measured_size`: as long as the ISO pack's own) is made only when the
    upper bound :func:`mediatool.build.webfit.quick_fits` leaves it open, and always for an
    ``--image`` (a USB stick's FAT allocates in clusters larger than a sector)."""
    from mediatool.build import webfit
    from mediatool.writers import iso as iso_writer

    if request.image is None and webfit.quick_fits(folder, capacity):
        return iso_writer.scan_folder(folder).ok  # what image_size answers None for
    size = measured_size(request, folder, volume_id)
    return size is not None and size <= capacity


def measured_size(request: BuildRequest, folder: Path, volume_id: str) -> int | None:
    """The exact size of the largest image asked for (``--iso`` ISO 9660, ``--image`` the
    medium's file system: a UDF image is larger than the ISO 9660 one of the same folder); the
    ISO 9660 size when no image is asked for (a folder split by ``--capacity``)."""
    from mediatool.writers import image as image_writer
    from mediatool.writers import iso as iso_writer

    sizes = []
    if request.iso is not None or request.image is None:
        sizes.append(iso_writer.image_size(folder, volume_id))
    if request.image is not None:
        sizes.append(image_writer.image_size(image_medium(request), folder, volume_id))
    return None if None in sizes else max(s for s in sizes if s is not None)


def write_media(
    volume: MediaPlan,
    request: BuildRequest,
    staging: Path,
    capacity: int | None,
    image: Path | None,
) -> None:
    """``--image`` (the medium's own file system, :mod:`mediatool.writers.image`) and ``--usb``
    (copied to the stick and read back, :mod:`mediatool.writers.usb`) from a written folder;
    ``image``: the numbered image of a volume (None: ``request.image``)."""
    target = image or request.image
    if target is not None:
        from mediatool.writers import image as image_writer

        image_writer.pack(
            image_medium(request),
            staging,
            target,
            volume_id=volume.fileset_id,
            date=request.date,
            capacity=capacity,
            force=request.force,
        )
    if request.usb is not None and image is None:  # one File-set per stick: never volumes
        from mediatool.writers import usb as usb_writer

        done = usb_writer.write_to_stick(staging, request.usb, force=request.force)
        volume.findings.append(
            finding(
                "build.read-back",
                f"{done.files} files ({done.bytes} bytes) written to the {done.fstype} stick, "
                "synced, read back and compared: identical",
                str(done.stick),
            )
        )


def _content(
    media_plan: MediaPlan,
    staging: Path,
    request: BuildRequest,
    site: Site | None,
    progress: Progress | None,
    must_fit: int | None = None,
) -> list[PatientNode]:
    """The instances, the DICOMDIR and the web content; with web content, each image's icon is
    made from the web content's decode of it (one decode per image, issue 13). Returns the
    record tree the web content and the label show (empty when neither is asked for)."""
    later: dict[str, int] | None = {} if request.web else None
    made = materialise(media_plan, staging, request, progress, later)
    shown = shown_tree(media_plan, staging, request)
    if request.web:
        order = icon_maker.IconOrder(later or {})
        capacity = capacity_of(request)
        if capacity is None:
            found = web_content(staging, request, site, progress, icons=order, shown=shown)
        else:
            from mediatool.web.content import Workers

            with Workers(request.jobs) as workers:  # the estimate and every rendering share them
                fitted = _fit_web_content(
                    media_plan, staging, request, site, progress, order, shown,
                    must_fit is not None, workers,
                )  # fmt: skip
            if fitted is None:
                raise DoesNotFit  # the DICOM File-set alone: split it, no web content rendered
            found = fitted
        media_plan.findings.extend(found)
        if later:
            media_plan.findings.extend(add_icons(media_plan, staging, request, made, order))
    return shown[0]


def _fit_web_content(  # noqa: PLR0913 - web_content's inputs, whether to split, the workers
    media_plan: MediaPlan,
    staging: Path,
    request: BuildRequest,
    site: Site | None,
    progress: Progress | None,
    order: icon_maker.IconOrder,
    shown: tuple[list[PatientNode], list[Finding]],
    split: bool,
    workers: Workers,
) -> list[Finding] | None:
    """The web content of one File-set reduced until the image fits the medium
    (:mod:`mediatool.build.webfit`); the icons come from its first rendering. None: the DICOM
    File-set alone does not fit (``split``: nothing rendered). The estimate and every rendering
    run in ``workers`` (forked once)."""
    from mediatool.build import webfit
    from mediatool.web import write_web_content

    capacity = capacity_of(request)
    assert capacity is not None

    def render(step: webfit.Step, replace: bool) -> list[Finding]:
        return write_web_content(
            staging,
            site=site,
            viewer_dir=request.viewer,
            jobs=request.jobs,
            progress=progress,
            presets=step.presets,
            replace=replace,
            notes=request.notes,
            icons=None if replace else order,
            shown=shown,
            jpeg=step.jpeg,
            workers=workers,
        )

    medium = request.media or request.profile.media
    where = f"the capacity of {capacity} bytes" if request.capacity else f"one {medium.upper()}"
    return webfit.fit_web_content(
        staging,
        render,
        lambda: measured_size(request, staging, media_plan.fileset_id),
        capacity,
        where,
        request.presets,
        split=split,
        estimate=webfit.estimator(staging, shown[0], request.jobs, workers),
    )


def shown_tree(
    media_plan: MediaPlan, staging: Path, request: BuildRequest
) -> tuple[list[PatientNode], list[Finding]]:
    """The plan's tree (as materialised: lossy derived images rebound) as the web content and
    the label show it, converted once, never read back from the DICOMDIR (issue 13)."""
    if not request.web and request.label is None:
        return [], []
    from mediatool.web import tree_of

    return tree_of(staging, media_plan.tree, media_plan.file_ids)


@dataclass(frozen=True, slots=True)
class InSet:
    """Where a disc stands in its set: disc ``k_of_n`` and what each disc holds
    (:func:`mediatool.build.volumes.describe`); one disc alone by default."""

    k_of_n: tuple[int, int] = (1, 1)
    described: Sequence[Mapping[str, Any]] = ()


def web_content(
    staging: Path,
    request: BuildRequest,
    site: Site | None,
    progress: Progress | None,
    *,
    in_set: InSet = InSet(),
    icons: icon_maker.IconOrder | None = None,
    shown: tuple[list[PatientNode], list[Finding]],
) -> list[Finding]:
    """IHE PDI web content and the viewer, written into the staging folder (so the folder and
    the image carry the same). With presets "auto", CT window presets are dropped again when
    the disc would not fit the medium (``--iso``) with them: the volumes of a split set; one
    File-set with a capacity reduces its web content step by step instead
    (:func:`_fit_web_content`). ``shown``: the tree to show (:func:`shown_tree`)."""
    from mediatool.web import write_web_content

    def render(presets: bool, replace: bool) -> list[Finding]:
        return write_web_content(
            staging,
            site=site,
            viewer_dir=request.viewer,
            disc=in_set.k_of_n,
            jobs=request.jobs,
            progress=progress,
            presets=presets,
            replace=replace,
            volumes=in_set.described,
            notes=request.notes,
            icons=icons,
            shown=shown,
        )

    found = render(request.presets != "off", replace=False)
    images = request.iso is not None or request.image is not None
    capacity = capacity_of(request) if images else None
    if request.presets == "auto" and capacity is not None and folder_size(staging) > capacity:
        found = render(False, replace=True)
        found.append(
            finding(
                "web.presets-left-out",
                "the CT window presets would not fit "
                f"{(request.media or request.profile.media).upper()}; the viewer shows each "
                "image's own window",
                None,
            )
        )
    return found


def folder_size(root: Path) -> int:
    """Bytes the folder takes on an ISO 9660 image (files rounded up to 2048-byte sectors)."""
    from mediatool.writers.iso import SECTOR

    return sum(-(-p.stat().st_size // SECTOR) * SECTOR for p in root.rglob("*") if p.is_file())


def write_tasks(media_plan: MediaPlan, later: dict[str, int] | None = None) -> list[WriteTask]:
    """One task per instance: how to write it, and whether to make its record's icon.

    ``later``: icons the web content will make from its own decode of the file written (by SOP
    Instance UID: their size), so that each image is decoded once. Not those of lossy derived
    images: their icons show the pixels before the loss, which only the writer has."""
    rule = media_plan.profile.icons
    tasks = []
    for inst in media_plan.tree.instances():
        decision = media_plan.decisions[inst.sop_instance_uid]
        wants_icon = (
            rule is not None
            and inst.pixel is not None
            and (inst.record_type in rule.records or "SERIES" in rule.records)
        )
        if wants_icon and rule is not None and later is not None and not decision.lossy:
            later[inst.sop_instance_uid] = rule.size
            wants_icon = False
        tasks.append(
            WriteTask(
                source=inst.source,
                dataset_offset=inst.dataset_offset,
                file_id=media_plan.file_ids[inst.sop_instance_uid],
                action=decision.action,
                target_ts=decision.target_ts,
                sop_class_uid=inst.sop_class_uid,
                sop_instance_uid=inst.sop_instance_uid,
                patches=tuple(sorted(media_plan.patches.get(inst.sop_instance_uid, {}).items())),
                source_ts=inst.transfer_syntax,
                new_uid=decision.new_uid,
                icon_size=rule.size if wants_icon and rule is not None else None,
            )
        )
    return tasks


def materialise(
    media_plan: MediaPlan,
    staging: Path,
    request: BuildRequest,
    progress: Progress | None,
    later: dict[str, int] | None = None,
) -> dict[str, bytes]:
    """Write every instance, then the DICOMDIR: its icons and the records of lossy derived
    images (new SOP Instance UID, new key values) are known only once the files are written.
    Icons left for ``later`` (see :func:`write_tasks`) are black placeholders of their final
    size until :func:`add_icons`. Returns the icons made."""
    icons: dict[str, bytes] = {}
    tasks = write_tasks(media_plan, later)
    _, written = write_all(tasks, staging, jobs=request.jobs, progress=progress, icons=icons)
    media_plan.findings[:] = _one_story(media_plan.findings, written)
    judged = apply_policy(written, build_policy(request.profile))
    if fails(judged, request.fail_on) or any(f.code == NOT_WRITTEN for f in written):
        raise PlanRejected(
            "the build was refused because of the findings above; nothing was written",
            media_plan.findings,
            media_plan,
        )
    lossy = [
        i for i in media_plan.tree.instances() if media_plan.decisions[i.sop_instance_uid].lossy
    ]
    if lossy:
        _rebind_lossy(media_plan, lossy, staging, icons)
    placeholders = {uid: icon_maker.placeholder(size) for uid, size in (later or {}).items()}
    if placeholders or icons or lossy or not media_plan.dicomdir:
        media_plan.dicomdir = media_plan.encode_dicomdir({**placeholders, **icons})
    # else the plan's own DICOMDIR (build_plan, volume_plan encode it from this very tree,
    # File IDs and decisions) is the one: no icon to put in, no record to rebind; encoding it
    # again cost a serial quarter second at 10,000 instances (issue 17)
    (staging / "DICOMDIR").write_bytes(media_plan.dicomdir)
    if media_plan.descriptor_data is not None:
        staging.joinpath(*DESCRIPTOR_FILE_ID).write_bytes(media_plan.descriptor_data)
    return icons


def add_icons(
    media_plan: MediaPlan,
    staging: Path,
    request: BuildRequest,
    icons: dict[str, bytes],
    order: icon_maker.IconOrder,
) -> list[Finding]:
    """The DICOMDIR again, with the icons the web content made from its decode; the icons it
    could not make are findings (raises :class:`PlanRejected` when they fail the build)."""
    shown = {i.sop_instance_uid: i.source.display for i in media_plan.tree.instances()}
    failed = [
        finding(
            "build.icon-failed",
            f"no icon for the directory record: {reason}",
            shown.get(uid, uid),
        )
        for uid, reason in _icon_failures(order).items()
    ]
    if fails(apply_policy(failed, build_policy(request.profile)), request.fail_on):
        raise PlanRejected(
            "the build was refused because of the findings above; nothing was written",
            [*media_plan.findings, *failed],
            media_plan,
        )
    media_plan.dicomdir = media_plan.encode_dicomdir({**icons, **order.made})
    (staging / "DICOMDIR").write_bytes(media_plan.dicomdir)
    return failed


def _icon_failures(order: icon_maker.IconOrder) -> dict[str, str]:
    """Why each icon asked of the web content is missing (a record it did not see, too)."""
    unseen = [uid for uid in order.sizes if uid not in order.made and uid not in order.failed]
    return {**order.failed, **dict.fromkeys(unseen, "the web content did not reach its file")}


#: What the plan said build will do to a file; void once writing that file failed.
_PLANNED_CHANGES: Final = frozenset(
    {"build.decompressed", "build.compressed", "build.reencoded", "build.lossy"}
)


def _one_story(planned: Sequence[Finding], written: Sequence[Finding]) -> list[Finding]:
    """A file whose conversion failed gets that error, not also the notice that it was
    converted ("decoded from JPEG Extended" and then "Unable to decode"): one file, one story."""
    failed = {f.where for f in written if f.severity >= Severity.ERROR}
    kept = [f for f in planned if not (f.code in _PLANNED_CHANGES and f.where in failed)]
    return kept + list(written)


def _rebind_lossy(
    media_plan: MediaPlan, lossy: Sequence[InstanceInfo], staging: Path, icons: dict[str, bytes]
) -> None:
    """Records of lossy derived images describe the files as written: read their headers."""
    options = scan_options(media_plan.profile)
    replaced: dict[str, InstanceInfo] = {}
    for inst in lossy:
        path = staging.joinpath(*media_plan.file_ids[inst.sop_instance_uid])
        info = scan_one(SourceRef(str(path)), options)
        if isinstance(info, InstanceInfo):
            replaced[inst.sop_instance_uid] = info
    for old, new in replaced.items():
        if old in icons:
            icons[new.sop_instance_uid] = icons.pop(old)
    media_plan.replace_instances(replaced)


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
