"""``mediatool build``: collect → scan → plan → (if accepted) write → publish.

The I/O edge around the pure :func:`mediatool.plan.build_plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydicom import dcmread

from mediatool import execute, sources
from mediatool.errors import MediatoolError, OutputError, PlanRejected, SourceError
from mediatool.findings import Finding, Severity, fails, finding
from mediatool.model import InstanceInfo
from mediatool.plan import MediaPlan, PlanOptions, build_plan
from mediatool.profiles import Profile
from mediatool.scan import ScanOptions, open_source, scan_all
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
    media: str = "cd"  # cd | dvd | bd | usb: the capacity checked (PS3.12)
    date: datetime | None = None  # recorded in the image; None: SOURCE_DATE_EPOCH, else now
    web: bool = True  # IHE PDI web content, README.TXT, INDEX.HTM and the viewer
    site: Path | None = None  # site branding file (TOML)
    viewer: Path | None = None  # a third-party viewer copied to APP/ (writes AUTORUN.INF)
    presets: str = "auto"  # CT window presets in the viewer: on | off | auto (off if too big)
    label: Path | None = None  # write the printable disc label (PNG) here


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


def plan(request: BuildRequest, progress: Progress | None = None) -> MediaPlan:
    refs, source_findings = sources.collect(request.sources)
    options = ScanOptions(extra_keys=dict(request.profile.extra_keys))
    scanned = scan_all(refs, options, jobs=request.jobs, progress=progress)
    scanned = type(scanned)(
        scanned.instances,
        tuple(source_findings) + scanned.findings,
        scanned.files_seen + sum(1 for f in source_findings),
    )
    descriptor_data, charset = _descriptor(request.descriptor)
    plan_options = PlanOptions(
        fileset_id=request.fileset_id,
        invent=request.invent,
        descriptor=(DESCRIPTOR_FILE_ID, charset) if descriptor_data is not None else None,
    )
    media_plan = build_plan(scanned, request.profile, plan_options, _content_equal)
    media_plan.descriptor_data = descriptor_data
    return media_plan


def _check_outputs(request: BuildRequest) -> None:
    if request.viewer is not None:
        check_viewer_dir(request.viewer)
    if request.label is not None:
        execute.check_file_destination(request.label, request.sources, force=request.force)
    if request.out is not None:
        execute.check_destination(request.out, request.sources, force=request.force)
    if request.iso is not None:
        execute.check_file_destination(request.iso, request.sources, force=request.force)


def run(request: BuildRequest, progress: Progress | None = None) -> MediaPlan:
    """Plan, and unless refused or a dry run, write the File-set to ``request.out`` and/or pack
    it into the image ``request.iso`` (both then carry identical content)."""
    if not request.dry_run:
        _check_outputs(request)
    media_plan = plan(request, progress)
    if not media_plan.tree.patients and not media_plan.tree.root_instances:
        raise PlanRejected("no DICOM instance found in the inputs", media_plan.findings, media_plan)
    if fails(media_plan.findings, request.fail_on):
        raise PlanRejected(
            "the build was refused because of the findings above; nothing was written",
            media_plan.findings,
            media_plan,
        )
    if request.iso is not None:
        # early estimate from the input sizes; pack() checks the exact image size again
        estimate = sum(i.size for i in media_plan.tree.instances()) + len(media_plan.dicomdir)
        iso_writer.check_capacity(estimate, iso_writer.MEDIA_CAPACITY[request.media])
    if request.dry_run or (request.out is None and request.iso is None):
        return media_plan
    write(media_plan, request, progress=progress)
    return media_plan


def write(
    media_plan: MediaPlan, request: BuildRequest, *, progress: Progress | None = None
) -> None:
    """Materialise the plan in a staging folder; pack the image from it and/or publish it."""
    target = request.out if request.out is not None else request.iso
    assert target is not None  # run() writes only when there is an output
    site = load_site(request.site) if request.site is not None else None
    staging = execute.staging_dir(target)
    try:
        _materialise(media_plan, staging, request, progress)
        if request.web:
            media_plan.findings.extend(_web_content(staging, request, site, progress))
        if request.label is not None:
            created = (request.date or iso_writer.resolve_date(None)).strftime("%Y%m%d")
            png = make_label(staging, site=site, disc=(1, 1), created=created)
            execute.write_file_atomically(request.label, png)
        if request.iso is not None:
            iso_writer.pack(
                staging,
                request.iso,
                volume_id=request.fileset_id,
                date=request.date,
                capacity=iso_writer.MEDIA_CAPACITY[request.media],
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
    staging: Path, request: BuildRequest, site: Site | None, progress: Progress | None
) -> list[Finding]:
    """IHE PDI web content and the viewer, written into the staging folder (so the folder and
    the image carry the same). With presets "auto", CT window presets are dropped again when
    the disc would not fit the medium with them."""

    def render(presets: bool, replace: bool) -> list[Finding]:
        return write_web_content(
            staging,
            site=site,
            viewer_dir=request.viewer,
            disc=(1, 1),
            jobs=request.jobs,
            progress=progress,
            presets=presets,
            replace=replace,
        )

    found = render(request.presets != "off", replace=False)
    capacity = iso_writer.MEDIA_CAPACITY[request.media] if request.iso is not None else None
    if request.presets == "auto" and capacity is not None and _size(staging) > capacity:
        found = render(False, replace=True)
        found.append(
            finding(
                "web.presets-left-out",
                "the CT window presets would not fit "
                f"{request.media.upper()}; the viewer shows each image's own window",
                None,
            )
        )
    return found


def _size(root: Path) -> int:
    """Bytes the folder takes on an ISO 9660 image (files rounded up to 2048-byte sectors)."""
    sector = iso_writer.SECTOR
    return sum(-(-p.stat().st_size // sector) * sector for p in root.rglob("*") if p.is_file())


def _materialise(
    media_plan: MediaPlan, staging: Path, request: BuildRequest, progress: Progress | None
) -> None:
    tasks = [
        execute.WriteTask(
            source=inst.source,
            dataset_offset=inst.dataset_offset,
            file_id=media_plan.file_ids[inst.sop_instance_uid],
            action=media_plan.decisions[inst.sop_instance_uid].action,
            target_ts=media_plan.decisions[inst.sop_instance_uid].target_ts,
            sop_class_uid=inst.sop_class_uid,
            sop_instance_uid=inst.sop_instance_uid,
            patches=tuple(sorted(media_plan.patches.get(inst.sop_instance_uid, {}).items())),
        )
        for inst in media_plan.tree.instances()
    ]
    _, written = execute.write_all(tasks, staging, jobs=request.jobs, progress=progress)
    media_plan.findings.extend(written)
    if fails(written, request.fail_on):
        raise PlanRejected(
            "the build was refused because of the findings above; nothing was written",
            media_plan.findings,
            media_plan,
        )
    (staging / "DICOMDIR").write_bytes(media_plan.dicomdir)
    if media_plan.descriptor_data is not None:
        staging.joinpath(*DESCRIPTOR_FILE_ID).write_bytes(media_plan.descriptor_data)


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


__all__: Sequence[str] = ["BuildRequest", "plan", "run", "write"]
