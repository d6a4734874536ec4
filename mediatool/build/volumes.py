"""★ A build whose content does not fit one medium: plan the volumes, write each as a File-set.

Capacity is planned before anything is written and verified exactly after:

1. **Estimate** each instance's bytes on the medium: the DICOM file as it will be written (the
   input's data set for a copy, the native Pixel Data size plus header for a decoded one, the
   input size for one compressed further), rounded up to 2048-byte sectors, plus its web
   content (a JPEG of each frame, CT presets ×5, pages and viewer data) and its share of the
   DICOMDIR (a record, and an icon where the profile asks for one); each volume keeps a fixed
   reserve for the viewer and pages. :mod:`mediatool.build.span` packs the estimates.
2. **Write** every volume (instances, DICOMDIR, web content saying "disc k of n" and what the
   other discs hold) into its own folder of one staging folder.
3. **Verify**: the exact ISO 9660 image size of each folder (pycdlib lays it out without
   writing). A volume over the capacity scales up the estimates of its instances by the
   overshoot, the set is split again and written again (at most three times).
4. Publish: ``--out DIR`` gets one folder per volume (``DIR/<VOLUME_ID>``), ``--iso FILE`` one
   image per volume (``FILE_1.iso`` ...), ``--image FILE`` one image of the medium's file
   system per volume (``FILE_1.img`` ...), ``--label FILE`` one label per volume.

A set whose DICOM File-set alone fits one medium (:func:`dicom_fits`, then the exact image) is
never split for its web content: that gives way instead (:mod:`mediatool.build.webfit`).
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from mediatool.build import span, write
from mediatool.build.plan import MediaPlan, volume_plan
from mediatool.build.request import BuildRequest, image_medium, staging_target
from mediatool.conform import Action
from mediatool.dicom.tree import PatientSummary, SeriesSummary, summarise
from mediatool.errors import OutputError
from mediatool.findings import Finding, finding
from mediatool.modalities import DEFAULT_LANGUAGE
from mediatool.model import InstanceInfo, Progress
from mediatool.pixels.icons import IconOrder
from mediatool.web import load_site, make_label
from mediatool.web.fileset import PatientNode
from mediatool.web.i18n import gettext_for
from mediatool.web.text import alphabetic_name, local_date, to_ascii
from mediatool.writers import folder as folder_writer
from mediatool.writers import iso as iso_writer

SECTOR: Final = iso_writer.SECTOR
#: Per volume: ISO 9660 structures, the viewer's scripts and style, the index pages.
RESERVE: Final = 4 << 20
#: Bytes of JPEG per displayed pixel in the web content (quality 85; noisy images need more).
_JPEG_PER_PIXEL: Final = 0.5
_ATTEMPTS: Final = 3
#: A UDF image (genisoimage -udf) starts its partition after the anchor at sector 256 and keeps
#: the ISO 9660 tree beside the UDF one: about 0.8 MB more than the ISO 9660 image, whatever
#: the content (measured on the sample: 1,592 sectors against 789 for 242 files in 85 folders)
UDF_RESERVE: Final = 512 * SECTOR


def udf_image(request: BuildRequest) -> bool:
    """``--image`` of a DVD: a UDF image, larger than the ISO 9660 one of the same content."""
    return request.image is not None and image_medium(request) in (
        "dvd",
        "dvd-ram",
        "bd",
        "bd-re",
    )


def _sectors(size: float) -> int:
    return -(-int(size) // SECTOR) * SECTOR


def instance_cost(inst: InstanceInfo, action: Action, request: BuildRequest) -> int:
    """Estimated bytes the instance takes on the medium, its web content and record included."""
    pixel = inst.pixel
    dicom = inst.size - inst.dataset_offset + 512
    decoded = action is Action.DECOMPRESS or (
        action is Action.COMPRESS and pixel is not None and inst.size < pixel.native_size
    )
    if pixel is not None and decoded:
        dicom = pixel.native_size + min(inst.size, 64 << 10)
    cost = _sectors(dicom) + 1024  # DICOMDIR record
    files = 1
    icons = request.profile.icons
    if icons is not None and pixel is not None:
        cost += icons.size * icons.size + 128
    if request.web:
        cost += 2 * SECTOR  # pages and the viewer's data
        if pixel is not None:
            edge = max(pixel.rows, pixel.columns)
            scale = min(1.0, 1024 / edge) if edge else 1.0
            shown = pixel.rows * pixel.columns * scale * scale
            renderings = 5 if inst.modality == "CT" and request.presets != "off" else 1
            cost += pixel.frames * renderings * _sectors(shown * _JPEG_PER_PIXEL + 600)
            files += pixel.frames * renderings
    if udf_image(request):  # a File Entry per file, and the folders' own (measured: ~1 sector)
        # a BD's File Entries are recorded twice: the Metadata File and its Mirror (UDF 2.2.13)
        copies = 2 if image_medium(request) in ("bd", "bd-re") else 1
        cost += (files + 1) * SECTOR * copies
    return cost


def estimated_size(media_plan: MediaPlan, request: BuildRequest) -> int:
    """The estimate of the whole content on one medium (without the reserve)."""
    total = sum(
        instance_cost(i, media_plan.decisions[i.sop_instance_uid].action, request)
        for i in media_plan.tree.instances()
    )
    return total


#: The estimate of a DICOM File-set alone (sector-rounded files and records) is close to the
#: exact image: within this factor of the capacity, writing it whole is worth a try.
_DICOM_MAY_FIT: Final = 1.1


def dicom_fits(media_plan: MediaPlan, request: BuildRequest, capacity: int) -> bool:
    """The DICOM File-set alone (instances, DICOMDIR) may fit one medium by the estimates: then
    its web content must give way (:mod:`mediatool.build.webfit`), not the set."""
    alone = estimated_size(media_plan, replace(request, web=False))
    return alone <= capacity * _DICOM_MAY_FIT


def split_plan(
    media_plan: MediaPlan, request: BuildRequest, capacity: int, scale: Mapping[str, float]
) -> list[MediaPlan]:
    """The volume plans, or [] when everything fits one medium."""
    reserve = min(RESERVE, capacity // 20) + (UDF_RESERVE if udf_image(request) else 0)
    budget = capacity - reserve

    def cost(inst: InstanceInfo) -> int:
        action = media_plan.decisions[inst.sop_instance_uid].action
        return int(instance_cost(inst, action, request) * scale.get(inst.sop_instance_uid, 1.0))

    costs = [cost(i) for i in media_plan.tree.instances()]
    total = sum(costs)
    if max(costs, default=0) > budget:  # no split helps: say which medium would do
        iso_writer.check_capacity(max(costs) + reserve, capacity)
    if total <= budget and not scale:
        return []
    groups, _ = span.split(media_plan.tree, cost, budget)
    if len(groups) == 1 and not scale:
        return []
    ids = span.volume_ids(media_plan.fileset_id, len(groups))
    return [volume_plan(media_plan, group, vid) for group, vid in zip(groups, ids, strict=True)]


def _series_spread(summaries: Sequence[Sequence[PatientSummary]]) -> dict[str, list[int]]:
    """Series Instance UID → the volumes (1-based) holding some of its instances."""
    where: dict[str, list[int]] = defaultdict(list)
    for k, patients in enumerate(summaries, 1):
        for series in _all_series(patients):
            where[series.uid].append(k)
    return where


def _all_series(patients: Sequence[PatientSummary]) -> list[SeriesSummary]:
    return [se for p in patients for st in p.studies.values() for se in st.series.values()]


def span_findings(media_plan: MediaPlan) -> list[Finding]:
    volumes = media_plan.volumes
    out = [
        finding(
            "build.spanned",
            f"the content needs {len(volumes)} volumes: "
            + "; ".join(
                f"{v.fileset_id}: {v.tree.counts()['instances']} instances" for v in volumes
            ),
        )
    ]
    for uid, discs in sorted(_series_spread([summarise(v.tree) for v in volumes]).items()):
        if len(discs) > 1:
            out.append(
                finding(
                    "build.series-split",
                    f"series {uid} is larger than one medium: split by instance over volumes "
                    + ", ".join(str(k) for k in discs),
                )
            )
    return out


def _lines(patients: Sequence[PatientSummary], language: str) -> list[str]:
    _ = gettext_for(language)
    lines = []
    for patient in patients:
        name = to_ascii(alphabetic_name(patient.name)) or to_ascii(_("(no name)"))
        lines.append(f"{name} (ID {to_ascii(patient.patient_id) or '-'})")
        for study in patient.studies.values():
            modalities = " ".join(dict.fromkeys(s.modality for s in study.series.values()))
            count = sum(s.instances for s in study.series.values())
            objects = _("%(num)s objects") % {"num": count}
            lines.append(
                f"  {local_date(study.date, language) or '----------'}  "
                f"{to_ascii(study.description) or _('Study')}  [{modalities}, {objects}]"
            )
    return lines


def _split_notes(
    patients: Sequence[PatientSummary],
    k: int,
    spread: Mapping[str, list[int]],
    totals: Counter[str],
    language: str,
) -> list[str]:
    """Disc ``k``'s sentences on its series that are split over several discs."""
    _ = gettext_for(language)
    notes = []
    for study in (st for p in patients for st in p.studies.values()):
        for series in study.series.values():
            discs = spread[series.uid]
            if len(discs) < 2:
                continue
            what = series.modality + (
                f", {to_ascii(series.description)}" if series.description else ""
            )
            others = ", ".join(str(d) for d in discs if d != k)
            sentence = _(
                "series %(number)s (%(what)s) of the study of %(date)s is too large for one "
                "disc: it is split by image; this disc holds %(held)s of its %(total)s images, "
                "the rest are on disc %(others)s"
            )
            values = {
                "number": to_ascii(series.number) or "-",
                "what": what,
                "date": local_date(study.date, language) or _("unknown date"),
                "held": series.instances,
                "total": totals[series.uid],
                "others": others,
            }
            notes.append(sentence % values)
    return notes


def describe(
    volumes: Sequence[MediaPlan], this: int, language: str = DEFAULT_LANGUAGE
) -> list[dict[str, Any]]:
    """What each disc holds, for the README and the index page of disc ``this`` (1-based): the
    summary of each volume's tree (:func:`mediatool.dicom.tree.summarise`), in ``language``
    (the site's: :mod:`mediatool.web.i18n`)."""
    _ = gettext_for(language)
    summaries = [summarise(volume.tree) for volume in volumes]
    spread = _series_spread(summaries)
    totals: Counter[str] = Counter()
    for patients in summaries:
        for series in _all_series(patients):
            totals[series.uid] += series.instances
    out = []
    for k, (volume, patients) in enumerate(zip(volumes, summaries, strict=True), 1):
        counts = volume.tree.counts()
        out.append(
            {
                "k": str(k),
                "id": volume.fileset_id,
                "this": k == this,
                "summary": _(
                    "%(patients)s patient(s), %(studies)s study(ies), %(series)s series, "
                    "%(objects)s objects"
                )
                % {
                    "patients": counts["patients"],
                    "studies": counts["studies"],
                    "series": counts["series"],
                    "objects": counts["instances"],
                },
                "lines": _lines(patients, language),
                "notes": _split_notes(patients, k, spread, totals, language),
            }
        )
    return out


def _numbered(path: Path, k: int) -> Path:
    return path.with_name(f"{path.stem}_{k}{path.suffix}")


def _write_all(
    media_plan: MediaPlan, request: BuildRequest, root: Path, progress: Progress | None
) -> tuple[list[int], list[list[PatientNode]]]:
    """Write every volume into ``root/<VOLUME_ID>``; the exact image size of each, and the
    record tree its web content and label show (the build's own, never read back)."""
    site = load_site(request.site) if request.site is not None else None
    language = site.language if site is not None else DEFAULT_LANGUAGE
    volumes = media_plan.volumes
    sizes = []
    trees: list[list[PatientNode]] = []
    made: list[tuple[dict[str, bytes], dict[str, int]]] = []
    for volume in volumes:
        folder = root / volume.fileset_id
        folder.mkdir()
        later: dict[str, int] | None = {} if request.web else None  # made by the web content
        made.append((write.materialise(volume, folder, request, progress, later), later or {}))
        media_plan.findings.extend(volume.findings)
    for k, volume in enumerate(volumes, 1):
        folder = root / volume.fileset_id
        shown = write.shown_tree(volume, folder, request)
        trees.append(shown[0])
        if request.web:
            order = IconOrder(made[k - 1][1])
            media_plan.findings.extend(
                write.web_content(
                    folder,
                    request,
                    site,
                    progress,
                    in_set=write.InSet((k, len(volumes)), describe(volumes, k, language)),
                    icons=order,
                    shown=shown,
                )
            )
            if order.sizes:
                media_plan.findings.extend(
                    write.add_icons(volume, folder, request, made[k - 1][0], order)
                )
        size = write.measured_size(request, folder, volume.fileset_id)
        sizes.append(size if size is not None else write.folder_size(folder))
    return sizes, trees


def write_volumes(
    media_plan: MediaPlan, request: BuildRequest, capacity: int, progress: Progress | None
) -> None:
    """Write the volumes of ``media_plan``, splitting again while one is over ``capacity``."""
    target = staging_target(request)
    assert target is not None
    root = folder_writer.staging_dir(target)
    scale: dict[str, float] = {}
    try:
        for attempt in range(_ATTEMPTS + 1):
            sizes, trees = _write_all(media_plan, request, root, progress)
            over = [
                (v, size)
                for v, size in zip(media_plan.volumes, sizes, strict=True)
                if size > capacity
            ]
            if not over:
                break
            if attempt == _ATTEMPTS:
                raise OutputError(
                    f"volume {over[0][0].fileset_id} needs {over[0][1]} bytes, more than the "
                    f"{capacity} the medium holds, after {_ATTEMPTS} new splits"
                )
            for volume, size in over:
                for inst in volume.tree.instances():
                    uid = inst.sop_instance_uid
                    scale[uid] = scale.get(uid, 1.0) * size / capacity * 1.02
            for child in root.iterdir():
                shutil.rmtree(child)
            media_plan.volumes = split_plan(media_plan, request, capacity, scale)
        _publish(media_plan, request, root, capacity, progress, trees)
    except BaseException as exc:
        shutil.rmtree(root, ignore_errors=True)
        if isinstance(exc, OSError):
            raise OutputError(f"writing the File-sets failed: {exc}") from exc
        raise


def check_outputs(request: BuildRequest, count: int) -> None:
    """The numbered images and labels must not overwrite anything (unless ``--force``)."""
    for k in range(1, count + 1):
        for path in (request.iso, request.image, request.label):
            if path is not None:
                folder_writer.check_file_destination(
                    _numbered(path, k), request.sources, force=request.force
                )


def _publish(
    media_plan: MediaPlan,
    request: BuildRequest,
    root: Path,
    capacity: int,
    progress: Progress | None,
    trees: Sequence[list[PatientNode]],
) -> None:

    volumes = media_plan.volumes
    check_outputs(request, len(volumes))
    site = load_site(request.site) if request.site is not None else None
    for k, volume in enumerate(volumes, 1):
        folder = root / volume.fileset_id
        if request.label is not None:
            created = (request.date or iso_writer.resolve_date(None)).strftime("%Y%m%d")
            disc = (k, len(volumes))
            tree = trees[k - 1] if request.label_from_instances else []
            png = make_label(
                folder, site=site, disc=disc, created=created, tree=tree, text=request.label_text
            )
            folder_writer.write_file_atomically(_numbered(request.label, k), png)
        if request.iso is not None:
            iso_writer.pack(
                folder,
                _numbered(request.iso, k),
                volume_id=volume.fileset_id,
                date=request.date,
                capacity=capacity,
                progress=progress,
                force=request.force,
            )
        numbered = _numbered(request.image, k) if request.image is not None else None
        if numbered is not None:
            write.write_media(volume, request, folder, capacity, numbered)
    if request.out is not None:
        folder_writer.publish_folder(root, request.out)
    else:
        shutil.rmtree(root, ignore_errors=True)


__all__: Sequence[str] = [
    "describe",
    "dicom_fits",
    "span_findings",
    "split_plan",
    "write_volumes",
]
