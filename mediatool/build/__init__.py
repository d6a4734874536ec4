"""``mediatool build``: collect → scan → plan → (if accepted) write → publish.

The I/O edge around the pure :func:`mediatool.build.plan.build_plan`. The package:
:mod:`~mediatool.build.request` (what is asked), :mod:`~mediatool.build.invent` and
:mod:`~mediatool.build.plan` (pure stages), :mod:`~mediatool.build.write` (materialise, web
content, label, publish), :mod:`~mediatool.build.volumes` and :mod:`~mediatool.build.span`
(content larger than one medium). Note: ``plan`` here is the function; the stage module is
reached as ``mediatool.build.plan`` only through ``from mediatool.build.plan import ...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any

from mediatool.build import sources
from mediatool.build.plan import MediaPlan, PlanOptions, build_plan, build_policy
from mediatool.build.request import (
    DESCRIPTOR_FILE_ID,
    BuildRequest,
    capacity_of,
    scan_options,
    staging_target,
)
from mediatool.build.write import NOT_WRITTEN as _NOT_WRITTEN
from mediatool.build.write import DoesNotFit, write_fileset
from mediatool.dicom.sameness import Stored, same_instance
from mediatool.errors import PlanRejected, SourceError
from mediatool.findings import CODES, Finding, Severity, apply_policy, fails, finding
from mediatool.model import InstanceInfo, Progress, ScanResult
from mediatool.profiles import Profile
from mediatool.scan import open_source, scan_all
from mediatool.writers import folder


def _stored(inst: InstanceInfo) -> Stored:
    return Stored(
        lambda: open_source(inst.source), inst.size, inst.dataset_offset, inst.transfer_syntax
    )


def _content_equal(a: InstanceInfo, b: InstanceInfo) -> bool:
    """Duplicate inputs are one instance when their data sets are equal (dicom/sameness.py)."""
    return same_instance(_stored(a), _stored(b))


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
        fileset_uid=request.fileset_uid,
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
    media_plan.findings[:] = apply_policy(media_plan.findings, build_policy(request.profile))
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


def _check_outputs(request: BuildRequest) -> None:
    # the writers of images, sticks and web content are imported only when asked for: a build
    # to a folder does not pay for them (start-up, issue 17)
    if request.viewer is not None:
        from mediatool.web import check_viewer_dir

        check_viewer_dir(request.viewer)
    if request.label is not None:
        folder.check_file_destination(request.label, request.sources, force=request.force)
    if request.out is not None:
        folder.check_destination(request.out, request.sources, force=request.force)
    for image in (request.iso, request.image):
        if image is not None:
            folder.check_file_destination(image, request.sources, force=request.force)
    if request.usb is not None:
        from mediatool.writers import usb as usb_writer

        usb_writer.check_stick(request.usb)


def run(
    request: BuildRequest,
    progress: Progress | None = None,
    left_out: Mapping[str, Finding] | None = None,
) -> MediaPlan:
    """Plan, and unless refused or a dry run, write the File-set to ``request.out`` and/or pack
    it into the image ``request.iso`` (both then carry identical content). Content larger than
    the medium is split into volumes (:mod:`mediatool.build.span`), each a File-set of its own.

    ``left_out``: with ``--skip-invalid``, inputs whose conversion failed while writing (found
    only then: a compressed stream no decoder accepts); the build is planned again without them.

    The build's severity policy (:func:`mediatool.build.plan.build_policy`: its corrections,
    then the profile's ``[severity]``) is applied at the end to every finding, those added
    while writing (``build.*``, ``web.*``) too, and to the findings of a refusal.
    """
    policy = build_policy(request.profile)
    try:
        media_plan = _run(request, progress, left_out)
    except PlanRejected as exc:
        exc.findings = tuple(apply_policy(exc.findings, policy))
        if isinstance(exc.result, MediaPlan):  # what --json reports of a refused build
            exc.result.findings[:] = apply_policy(exc.result.findings, policy)
        raise
    media_plan.findings[:] = apply_policy(media_plan.findings, policy)
    return media_plan


def _run(
    request: BuildRequest,
    progress: Progress | None,
    left_out: Mapping[str, Finding] | None,
) -> MediaPlan:
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
        return _run(request, progress, {**(left_out or {}), **failed})
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
    split is narrow, :func:`_may_fit`, or when the DICOM File-set alone fits: its web content
    then gives way, :mod:`mediatool.build.webfit`), then write one File-set or the volumes."""
    writes = not request.dry_run and staging_target(request) is not None
    writing = replace(request, notes=request.notes + left_out_notes(media_plan))
    if capacity is None:  # no medium to fit: one File-set (volumes is not even imported)
        if writes:
            write_fileset(media_plan, writing, progress=progress)
        return
    from mediatool.build import volumes

    media_plan.volumes = volumes.split_plan(media_plan, request, capacity, {})
    if writes and media_plan.volumes and _may_fit(media_plan, request, capacity):
        try:
            write_fileset(media_plan, writing, progress=progress, must_fit=capacity)
        except DoesNotFit:
            pass
        else:
            media_plan.volumes = []
            return
    if media_plan.volumes and writes:
        volumes.write_volumes(media_plan, writing, capacity or 0, progress)
    elif writes:
        write_fileset(media_plan, writing, progress=progress)
    if media_plan.volumes:  # the volumes as written: writing splits again a volume over capacity
        media_plan.findings.extend(volumes.span_findings(media_plan))


def _may_fit(media_plan: MediaPlan, request: BuildRequest, capacity: int | None) -> bool:
    """The estimates split the content, but by so little that the exact image may still fit
    (they keep a reserve and round up; on a small disc the web content's estimate was a third
    too high): then writing it whole is tried first, so a ``--capacity`` the image fits
    exactly never splits it. Costs one extra write when it does not fit after all. Also when
    the DICOM File-set alone fits by the estimates: web content never costs a disc."""
    from mediatool.build import volumes

    if capacity is None:
        return False
    if request.web and volumes.dicom_fits(media_plan, request, capacity):
        return True
    return volumes.estimated_size(media_plan, request) <= capacity * 1.5


def _write_failures(exc: PlanRejected) -> dict[str, Finding]:
    """Input files whose writing failed (their errors come after the plan's own findings): not
    on the disc, whatever severity a profile gives their finding."""
    return {f.where: f for f in reversed(exc.findings) if f.where and f.code == _NOT_WRITTEN}


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


__all__: Sequence[str] = [
    "BuildRequest",
    "capacity_of",
    "left_out_notes",
    "plan",
    "run",
    "scan_options",
    "write_fileset",
]
