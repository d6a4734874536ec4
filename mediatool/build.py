"""``mediatool build``: collect → scan → plan → (if accepted) write → publish.

The I/O edge around the pure :func:`mediatool.plan.build_plan`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, Final

from pydicom import dcmread

from mediatool import execute, sources
from mediatool.errors import MediatoolError, OutputError, PlanRejected, SourceError
from mediatool.findings import CODES, Finding, Severity, fails, finding
from mediatool.model import InstanceInfo, ScanResult, SourceRef
from mediatool.pixels import icons as icon_maker
from mediatool.plan import MediaPlan, PlanOptions, build_plan
from mediatool.profiles import Profile
from mediatool.scan import ScanOptions, open_source, scan_all, scan_one
from mediatool.web import Site, check_viewer_dir, load_site, make_label, write_web_content
from mediatool.writers import iso as iso_writer

Progress = Callable[[int, int | None, str], None]
DESCRIPTOR_FILE_ID = ("README",)


@dataclass(frozen=True)
class BuildRequest:
    sources: tuple[str, ...]
    out: Path | None
    profile: Profile
    fileset_id: str = ""
    descriptor: Path | None = None
    invent: bool = False
    force: bool = False
    dry_run: bool = False
    fail_on: Severity = Severity.ERROR
    jobs: int | None = None
    iso: Path | None = None  # also (or only) pack the File-set into this ISO 9660 image
    media: str | None = None  # cd | dvd | bd | usb: the capacity (None: the profile's, for --iso)
    capacity: int | None = None  # bytes a volume may hold (overrides media)
    compress: str = "none"  # none | lossless | lossy: --compress
    allow_lossy: bool = False
    date: datetime | None = None  # recorded in the image; None: SOURCE_DATE_EPOCH, else now
    web: bool = True  # IHE PDI web content, README.TXT, INDEX.HTM and the viewer
    site: Path | None = None  # site branding file (TOML)
    viewer: Path | None = None  # a third-party viewer copied to APP/ (writes AUTORUN.INF)
    presets: str = "auto"  # CT window presets in the viewer: on | off | auto (off if too big)
    label: Path | None = None  # write the printable disc label (PNG) here
    notes: tuple[str, ...] = ()  # plain-text notes for README.TXT (e.g. what a retrieve missed)
    skip_invalid: bool = False  # leave out the input files that would refuse the build


def _dataset_bytes(inst: InstanceInfo) -> bytes:
    with open_source(inst.source) as fp:
        fp.seek(inst.dataset_offset)
        return fp.read()


def _content_equal(a: InstanceInfo, b: InstanceInfo) -> bool:
    """Same content = same data set bytes, or (different encodings) equal parsed data sets."""
    if _dataset_bytes(a) == _dataset_bytes(b):
        return True
    if a.transfer_syntax == b.transfer_syntax and a.dataset_offset and b.dataset_offset:
        return False
    # Reading and comparing converts values. What pydicom says while doing so is silenced: the
    # encoding warnings are findings of each file's header scan already (read.pydicom-warning),
    # and a value it calls invalid (badVR.dcm's IS '1A') is content that differs, which
    # hierarchy.duplicate-conflict reports for the file.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_source(a.source) as fa, open_source(b.source) as fb:
            pa, pb = dcmread(fa, force=True), dcmread(fb, force=True)
        for ds in (pa, pb):
            for tag in [t for t in ds.keys() if t.group == 0x0002]:  # noqa: SIM118 - iterating a Dataset yields elements
                del ds[tag]
        return bool(pa == pb)


def _descriptor(path: Path | None) -> tuple[bytes | None, str | None]:
    """Read the File-set Descriptor File and choose its (0004,1142) (PS3.3 F.3.2.1)."""
    if path is None:
        return None, None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read descriptor file {str(path)!r}: {exc.strerror}") from exc
    if data.startswith(b"\x00" * 128) or b"DICM" in data[128:132]:
        raise SourceError(f"descriptor file {str(path)!r} is a DICOM file; it must be plain text")
    try:
        data.decode("ascii")
        return data, None
    except UnicodeDecodeError:
        pass
    try:
        data.decode("utf-8")
        return data, "ISO_IR 192"
    except UnicodeDecodeError:
        return data, "ISO_IR 100"


def plan(
    request: BuildRequest,
    progress: Progress | None = None,
    left_out: Mapping[str, Finding] | None = None,
) -> MediaPlan:
    """Scan and plan. ``left_out``: input files already known to fail (``--skip-invalid``
    found them only while writing: a compressed stream no decoder accepts)."""
    refs, source_findings = sources.collect(request.sources)
    options = scan_options(request.profile)
    scanned = scan_all(refs, options, jobs=request.jobs, progress=progress)
    scanned = ScanResult(
        scanned.instances,
        tuple(source_findings) + scanned.findings,
        scanned.files_seen + sum(1 for f in source_findings),
    )
    descriptor_data, charset = _descriptor(request.descriptor)
    plan_options = PlanOptions(
        fileset_id=request.fileset_id,
        invent=request.invent,
        descriptor=(DESCRIPTOR_FILE_ID, charset) if descriptor_data is not None else None,
        compress=request.compress,
        allow_lossy=request.allow_lossy,
    )
    media_plan = build_plan(scanned, request.profile, plan_options, _content_equal)
    if request.skip_invalid:
        inputs = {r.display for r in refs} | {f.where for f in source_findings if f.where}
        media_plan = _without_invalid(
            media_plan, scanned, inputs, request.profile, plan_options, left_out or {}
        )
    media_plan.descriptor_data = descriptor_data
    if request.web and request.site is None:  # README.TXT contents, IHE RAD TF-3 4.47
        media_plan.findings.append(
            finding(
                "web.no-institution",
                "no --site: README.TXT and INDEX.HTM cannot say which institution made the "
                "disc or how to reach it",
                None,
            )
        )
    if any(d.lossy for d in media_plan.decisions.values()):
        media_plan.findings.extend(lossy_references(media_plan))
    return media_plan


def _without_invalid(
    media_plan: MediaPlan,
    scanned: ScanResult,
    inputs: set[str],
    profile: Profile,
    options: PlanOptions,
    known: Mapping[str, Finding],
) -> MediaPlan:
    """``--skip-invalid``: plan again without every input file that has an error of its own,
    until none is left (leaving one out can settle another's error, e.g. a duplicate).
    Errors that belong to no single file (a conflict between studies) still refuse the build."""
    pending = dict(known)  # found while writing (run): the plan in hand still has them
    left: dict[str, Finding] = {}
    while True:
        if not pending:
            pending = {
                f.where: f
                for f in reversed(media_plan.findings)  # a file's first error is its reason
                if f.severity >= Severity.ERROR and f.where in inputs and f.where not in left
            }
        if not pending:
            break
        left.update(pending)
        pending = {}
        scanned = ScanResult(
            tuple(i for i in scanned.instances if i.source.display not in left),
            tuple(f for f in scanned.findings if f.where not in left),
            scanned.files_seen,
        )
        media_plan = build_plan(scanned, profile, options, _content_equal)
    media_plan.left_out = [(where, left[where]) for where in sorted(left)]
    media_plan.findings.extend(
        finding("build.left-out", f"left out ({why.code}): {why.message}", where)
        for where, why in media_plan.left_out
    )
    return media_plan


def left_out_notes(media_plan: MediaPlan) -> tuple[str, ...]:
    """README.TXT lines for the files ``--skip-invalid`` left out (its "Not on this disc")."""
    return tuple(
        f"{PurePath(where).name}: left out: {CODES[why.code].title} ({why.code})"
        for where, why in media_plan.left_out
    )


def scan_options(profile: Profile) -> ScanOptions:
    """The header scan's view of a profile: its additional keys and their Types."""
    return ScanOptions(
        extra_keys=dict(profile.extra_keys),
        key_types={k: dict(v) for k, v in profile.key_types.items()},
    )


def capacity_of(request: BuildRequest) -> int | None:
    """Bytes one volume may hold: ``--capacity``, else ``--media``, else (for an image) the
    profile's medium; a folder alone has no limit."""
    if request.capacity is not None:
        return request.capacity
    if request.media is not None:
        return iso_writer.MEDIA_CAPACITY[request.media]
    if request.iso is not None:
        return iso_writer.MEDIA_CAPACITY[request.profile.media]
    return None


def _check_outputs(request: BuildRequest) -> None:
    if request.viewer is not None:
        check_viewer_dir(request.viewer)
    if request.label is not None:
        execute.check_file_destination(request.label, request.sources, force=request.force)
    if request.out is not None:
        execute.check_destination(request.out, request.sources, force=request.force)
    if request.iso is not None:
        execute.check_file_destination(request.iso, request.sources, force=request.force)


def run(
    request: BuildRequest,
    progress: Progress | None = None,
    left_out: Mapping[str, Finding] | None = None,
) -> MediaPlan:
    """Plan, and unless refused or a dry run, write the File-set to ``request.out`` and/or pack
    it into the image ``request.iso`` (both then carry identical content). Content larger than
    the medium is split into volumes (:mod:`mediatool.span`), each a File-set of its own.

    ``left_out``: with ``--skip-invalid``, inputs whose conversion failed while writing (found
    only then: a compressed stream no decoder accepts); the build is planned again without them.
    """
    if not request.dry_run:
        _check_outputs(request)
    media_plan = plan(request, progress, left_out)
    _refuse(media_plan, request)
    capacity = capacity_of(request)
    try:
        _write_planned(media_plan, request, capacity, progress)
    except PlanRejected as exc:
        failed = _write_failures(exc) if request.skip_invalid else {}
        if not failed:
            raise
        return run(request, progress, {**(left_out or {}), **failed})
    return media_plan


def _refuse(media_plan: MediaPlan, request: BuildRequest) -> None:
    """Raise :class:`PlanRejected` when there is nothing to write or a finding refuses it."""
    if not media_plan.tree.patients and not media_plan.tree.root_instances:
        why = (
            f"all {len(media_plan.left_out)} DICOM input files were left out (--skip-invalid, "
            "reasons above); nothing was written"
            if media_plan.left_out
            else "no DICOM instance found in the inputs"
        )
        raise PlanRejected(why, media_plan.findings, media_plan)
    if fails(media_plan.findings, request.fail_on):
        raise PlanRejected(
            "the build was refused because of the findings above; nothing was written",
            media_plan.findings,
            media_plan,
        )


def _write_planned(
    media_plan: MediaPlan, request: BuildRequest, capacity: int | None, progress: Progress | None
) -> None:
    """Split by the estimates when the medium needs it (trying the exact size first when the
    split is narrow, :func:`_may_fit`), then write one File-set or the volumes."""
    from mediatool import volumes  # volumes uses this module's writing steps

    if capacity is not None:
        media_plan.volumes = volumes.split_plan(media_plan, request, capacity, {})
    writes = not request.dry_run and (request.out is not None or request.iso is not None)
    writing = replace(request, notes=request.notes + left_out_notes(media_plan))
    if writes and media_plan.volumes and _may_fit(media_plan, request, capacity):
        try:
            write(media_plan, writing, progress=progress, must_fit=capacity)
        except _DoesNotFit:
            pass
        else:
            media_plan.volumes = []
            return
    if media_plan.volumes:
        media_plan.findings.extend(volumes.span_findings(media_plan))
    if not writes:
        return
    if media_plan.volumes:
        volumes.write_volumes(media_plan, writing, capacity or 0, progress)
    else:
        write(media_plan, writing, progress=progress)


class _DoesNotFit(Exception):
    """The File-set, written whole, is larger than the medium (then it is split)."""


def _may_fit(media_plan: MediaPlan, request: BuildRequest, capacity: int | None) -> bool:
    """The estimates split the content, but by so little that the exact image may still fit
    (they keep a reserve and round up; on a small disc the web content's estimate was a third
    too high): then writing it whole is tried first, so a ``--capacity`` the image fits
    exactly never splits it. Costs one extra write when it does not fit after all."""
    from mediatool import volumes

    if capacity is None:
        return False
    return volumes.estimated_size(media_plan, request) <= capacity * 1.5


def _write_failures(exc: PlanRejected) -> dict[str, Finding]:
    """Input files whose writing failed (their errors come after the plan's own findings)."""
    return {
        f.where: f
        for f in reversed(exc.findings)
        if f.severity >= Severity.ERROR and f.where and f.code == "profile.cannot-convert"
    }


def write(
    media_plan: MediaPlan,
    request: BuildRequest,
    *,
    progress: Progress | None = None,
    must_fit: int | None = None,
) -> None:
    """Materialise the plan in a staging folder; pack the image from it and/or publish it.

    ``must_fit``: raise :class:`_DoesNotFit` (nothing published) when the exact ISO 9660 image
    of the content would be larger than this many bytes."""
    target = request.out if request.out is not None else request.iso
    assert target is not None  # run() writes only when there is an output
    site = load_site(request.site) if request.site is not None else None
    staging = execute.staging_dir(target)
    try:
        later: dict[str, int] | None = {} if request.web else None
        made = _materialise(media_plan, staging, request, progress, later)
        if request.web:
            order = icon_maker.IconOrder(later or {})
            media_plan.findings.extend(_web_content(staging, request, site, progress, icons=order))
            if later:
                media_plan.findings.extend(_add_icons(media_plan, staging, request, made, order))
        if must_fit is not None:
            size = iso_writer.image_size(staging, media_plan.fileset_id)
            if size is None or size > must_fit:
                raise _DoesNotFit
        if request.label is not None:
            created = (request.date or iso_writer.resolve_date(None)).strftime("%Y%m%d")
            png = make_label(staging, site=site, disc=(1, 1), created=created)
            execute.write_file_atomically(request.label, png)
        if request.iso is not None:
            iso_writer.pack(
                staging,
                request.iso,
                volume_id=media_plan.fileset_id,
                date=request.date,
                capacity=capacity_of(request),
                progress=progress,
                force=request.force,
            )
        if request.out is not None:
            execute.publish(staging, request.out)
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


def _web_content(
    staging: Path,
    request: BuildRequest,
    site: Site | None,
    progress: Progress | None,
    *,
    disc: tuple[int, int] = (1, 1),
    described: Sequence[Mapping[str, Any]] = (),
    capacity: int | None = None,
    icons: icon_maker.IconOrder | None = None,
) -> list[Finding]:
    """IHE PDI web content and the viewer, written into the staging folder (so the folder and
    the image carry the same). With presets "auto", CT window presets are dropped again when
    the disc would not fit the medium with them."""

    def render(presets: bool, replace: bool) -> list[Finding]:
        return write_web_content(
            staging,
            site=site,
            viewer_dir=request.viewer,
            disc=disc,
            jobs=request.jobs,
            progress=progress,
            presets=presets,
            replace=replace,
            volumes=described,
            notes=request.notes,
            icons=icons,
        )

    found = render(request.presets != "off", replace=False)
    if capacity is None:
        capacity = capacity_of(request) if request.iso is not None else None
    if request.presets == "auto" and capacity is not None and _size(staging) > capacity:
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


def _size(root: Path) -> int:
    """Bytes the folder takes on an ISO 9660 image (files rounded up to 2048-byte sectors)."""
    sector = iso_writer.SECTOR
    return sum(-(-p.stat().st_size // sector) * sector for p in root.rglob("*") if p.is_file())


def write_tasks(
    media_plan: MediaPlan, later: dict[str, int] | None = None
) -> list[execute.WriteTask]:
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
            execute.WriteTask(
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


def _materialise(
    media_plan: MediaPlan,
    staging: Path,
    request: BuildRequest,
    progress: Progress | None,
    later: dict[str, int] | None = None,
) -> dict[str, bytes]:
    """Write every instance, then the DICOMDIR: its icons and the records of lossy derived
    images (new SOP Instance UID, new key values) are known only once the files are written.
    Icons left for ``later`` (see :func:`write_tasks`) are black placeholders of their final
    size until :func:`_add_icons`. Returns the icons made."""
    icons: dict[str, bytes] = {}
    tasks = write_tasks(media_plan, later)
    _, written = execute.write_all(
        tasks, staging, jobs=request.jobs, progress=progress, icons=icons
    )
    media_plan.findings[:] = _one_story(media_plan.findings, written)
    if fails(written, request.fail_on):
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
    media_plan.dicomdir = media_plan.encode_dicomdir({**placeholders, **icons})
    (staging / "DICOMDIR").write_bytes(media_plan.dicomdir)
    if media_plan.descriptor_data is not None:
        staging.joinpath(*DESCRIPTOR_FILE_ID).write_bytes(media_plan.descriptor_data)
    return icons


def _add_icons(
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
    if fails(failed, request.fail_on):
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


def lossy_references(media_plan: MediaPlan) -> list[Finding]:
    """Objects on the disc that reference an instance replaced by its lossy derived image.

    They are left as they are (their own content is not ours to change, and a changed KOS or
    SR would need a new identity too); the references become dangling and are reported."""
    from pydicom import dcmread

    old = {u for u, d in media_plan.decisions.items() if d.lossy}
    out: list[Finding] = []
    for inst in media_plan.tree.instances():
        if inst.pixel is not None or inst.sop_instance_uid in old:
            continue
        try:
            with open_source(inst.source) as fp:
                ds = dcmread(fp, stop_before_pixels=True, force=True)
            found = sorted(_referenced_uids(ds) & old)
        except Exception:
            continue
        if found:
            out.append(
                finding(
                    "build.lossy-reference",
                    f"references {len(found)} instance(s) replaced by lossy derived images, "
                    f"e.g. {found[0]}; the reference is left unchanged",
                    inst.source.display,
                )
            )
    return out


def _referenced_uids(ds: Any) -> set[str]:
    found: set[str] = set()
    for element in ds:
        if element.VR == "SQ":
            for item in element.value:
                found |= _referenced_uids(item)
        elif element.tag == 0x00081155:  # (0008,1155) Referenced SOP Instance UID
            found.add(str(element.value))
    return found


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


__all__: Sequence[str] = ["BuildRequest", "plan", "run", "write"]
