"""★ Write the IHE PDI web content, the viewer and README.TXT into a materialised File-set.

Works on any File-set folder: the tree comes from ``root/DICOMDIR`` (or, from a build, the
build's own tree: :func:`tree_of`) and the pictures from the files it references. Layout
(every name ISO 9660 level 1, 8.3, upper case)::

    README.TXT  INDEX.HTM                      root (IHE RAD TF-3 4.47, pdi.md 2.1)
    IHE_PDI/LOGO.JPG                           the site logo, when configured
    IHE_PDI/P0001/INDEX.HTM                    patient: studies
    IHE_PDI/P0001/S0001/INDEX.HTM              study: series with thumbnails, reports
    IHE_PDI/P0001/S0001/SE0001.HTM             series: its images
    IHE_PDI/P0001/S0001/SE0001/IMG00001.JPG    one JPEG per single-frame image
    IHE_PDI/P0001/S0001/SE0001/IMG00002/F00001.JPG  one per frame of a multi-frame image
    IHE_PDI/P0001/S0001/SE0001/THUMB.JPG       series thumbnail (middle image)
    IHE_PDI/P0001/S0001/SR0001.HTM             a structured report as text
    REPORTS/RPT00001.PDF                       encapsulated PDFs (not web content: outside IHE_PDI)
    VIEWER/VIEWER.HTM, VIEWER.JS, VIEWER.CSS, DATA.JS     the zero-install viewer
    VIEWER/P0001/S0001/SE0001/LUNG/IMG00001.JPG           CT window presets (SOFT LUNG BONE BRAIN)
    APP/... and AUTORUN.INF                    only with a third-party viewer (``viewer_dir``)

Output is deterministic: names follow the DICOMDIR order, JPEG/PNG carry no timestamps.
"""

from __future__ import annotations

import io
import os
import shutil
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from PIL import Image
from pydicom import dcmread

from mediatool import limits
from mediatool.dicom import dicomdir_read
from mediatool.dicom.tree import TreeLike
from mediatool.errors import MediatoolError
from mediatool.findings import Finding
from mediatool.model import FileID, Progress
from mediatool.pixels import render
from mediatool.pixels.icons import IconOrder
from mediatool.web import fileset, pages, viewer
from mediatool.web.site import DEFAULT_SITE, Site
from mediatool.web.work import Job, Outcome, run_batch, sizes_batch, web_finding
from mediatool.workers import pool

CHUNK = 16
_T = TypeVar("_T")
_R = TypeVar("_R")
#: What this module writes at the root of the File-set.
OUTPUTS = ("README.TXT", "INDEX.HTM", "AUTORUN.INF", "IHE_PDI", "VIEWER", "REPORTS", "APP")


def _make_room(root: Path, replace: bool) -> None:
    """Refuse to mix with web content already there, or (``replace``) remove it first."""
    present = [name for name in OUTPUTS if (root / name).exists()]
    if present and not replace:
        raise MediatoolError(
            f"{str(root)!r} already has {', '.join(present)}; web content is written only into "
            "a File-set without it",
            hint="pass replace=True to remove and rewrite it",
        )
    for name in present:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def read_dicomdir(root: Path) -> tuple[list[fileset.PatientNode], list[Finding]]:
    """The record tree of ``root/DICOMDIR`` through the one tolerant reader (pydicom warnings
    on decoding its values become findings)."""
    path = root / "DICOMDIR"
    try:
        if path.stat().st_size > limits.DICOMDIR_SIZE_LIMIT:
            raise MediatoolError(
                f"{str(path)!r} is larger than {limits.DICOMDIR_SIZE_LIMIT} bytes "
                "(limits.DICOMDIR_SIZE_LIMIT); web content is not written"
            )
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise MediatoolError(f"no DICOMDIR in {str(root)!r}: not a File-set folder") from exc
    except OSError as exc:
        raise MediatoolError(f"cannot read {str(path)!r}: {exc}") from exc
    directory = dicomdir_read.parse(data, "DICOMDIR")
    if directory.encoding is None:
        raise MediatoolError(f"cannot read {str(path)!r}: no DICOM data set in it")
    return _shown(root, lambda: fileset.read_tree(directory))


def tree_of(
    root: Path, tree: TreeLike, file_ids: Mapping[str, FileID]
) -> tuple[list[fileset.PatientNode], list[Finding]]:
    """The record tree of the File-set a build wrote into ``root``, from the build's own tree
    (as :func:`read_dicomdir` would read it from the DICOMDIR, without reading it)."""
    return _shown(root, lambda: fileset.from_tree(tree, file_ids))


def _shown(
    root: Path, make: Callable[[], list[fileset.PatientNode]]
) -> tuple[list[fileset.PatientNode], list[Finding]]:
    """The tree ``make`` gives (pydicom warnings on decoding its values become findings), with
    the patient keys its records lack taken from the files."""
    findings: list[Finding] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # the GC's, not the file's
        tree = make()
    fill_patient_keys(root, tree)
    for w in caught:
        findings.append(web_finding("read.pydicom-warning", str(w.message)[:300], "DICOMDIR"))
    return tree, findings


def fill_patient_keys(root: Path, tree: list[fileset.PatientNode]) -> None:
    """Patient's Birth Date and Sex are optional in PATIENT records (PS3.3 F.5.1): take them
    from the patient's first instance when the record lacks them."""
    for patient in tree:
        if patient.birth_date and patient.sex:
            continue
        leaf = next((lf for st in patient.studies for se in st.series for lf in se.leaves), None)
        if leaf is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the worker reads the file again and reports
            try:
                ds = dcmread(
                    root.joinpath(*leaf.file_id),
                    stop_before_pixels=True,
                    specific_tags=["PatientBirthDate", "PatientSex"],
                )
                patient.birth_date = patient.birth_date or str(ds.get("PatientBirthDate", ""))
                patient.sex = patient.sex or str(ds.get("PatientSex", ""))
            except Exception:
                continue


def plan_jobs(
    tree: list[fileset.PatientNode],
    presets: bool,
    icon_sizes: Mapping[str, int] | None = None,
    jpeg: render.JpegSettings = render.WEB_JPEG,
) -> list[Job]:
    """Names for every leaf, chosen before any file is read (workers never coordinate), the
    size of the icon to make of it (``icon_sizes`` by SOP Instance UID) and how its JPEGs are
    made (``jpeg``)."""
    icon_sizes = icon_sizes or {}
    jobs: list[Job] = []
    pdf = 0
    for p, patient in enumerate(tree, 1):
        for s, study in enumerate(patient.studies, 1):
            for se, series in enumerate(study.series, 1):
                key = f"P{p:04d}/S{s:04d}/SE{se:04d}"
                for k, leaf in enumerate(series.leaves, 1):
                    pdf_path = ""
                    if leaf.record_type == "ENCAP DOC":
                        pdf += 1
                        pdf_path = f"REPORTS/RPT{pdf:05d}.PDF"
                    jobs.append(
                        Job(
                            index=len(jobs),
                            file_id=leaf.file_id,
                            image_dir=f"IHE_PDI/{key}",
                            stem=f"IMG{k:05d}",
                            preset_dir=f"VIEWER/{key}" if presets else "",
                            pdf_path=pdf_path,
                            icon_size=icon_sizes.get(leaf.sop_instance_uid),
                            jpeg=jpeg,
                        )
                    )
    return jobs


class Workers:
    """The processes that render the web content and estimate its size: forked when first
    needed, kept until closed, so a build's estimate and each of its renderings share them (a
    worker forked from a build costs some 30 ms of CPU, issue 17). Pillow's format drivers are
    loaded before the fork (``Image.preinit``, which the first ``save`` runs), so no worker
    imports them again. One worker, or fewer than two batches, run in this process."""

    def __init__(self, jobs_n: int | None) -> None:
        self.count = jobs_n or min(os.cpu_count() or 1, 8)
        self._pool: ProcessPoolExecutor | None = None

    def map(self, function: Callable[[_T], _R], batches: Sequence[_T]) -> Iterator[_R]:
        """``function`` of every batch, in order."""
        if self.count == 1 or len(batches) < 2:
            return map(function, batches)
        if self._pool is None:
            Image.preinit()
            self._pool = pool(self.count)
        return self._pool.map(function, batches)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _workers(given: Workers | None, jobs_n: int | None) -> AbstractContextManager[Workers]:
    """``given`` (its owner closes it), else workers of this call alone."""
    return nullcontext(given) if given is not None else Workers(jobs_n)


def run_jobs(
    jobs: list[Job],
    root: Path,
    *,
    jobs_n: int | None,
    progress: Progress | None,
    workers: Workers | None = None,
) -> list[Outcome]:
    with _workers(workers, jobs_n) as running:
        # Batches of at most CHUNK, at least four a worker: a small set keeps every core busy.
        chunk = min(CHUNK, max(1, -(-len(jobs) // (4 * running.count))))
        batches = [(jobs[i : i + chunk], root) for i in range(0, len(jobs), chunk)]
        outcomes: list[Outcome] = []
        for batch in running.map(run_batch, batches):
            outcomes.extend(batch)
            if progress:
                progress(len(outcomes), len(jobs), "rendering web content")
    return outcomes


#: The web content's size is estimated from every SAMPLE_EVERY-th image (at least
#: MIN_ESTIMATED images in the set; fewer are rendered step by step without an estimate).
SAMPLE_EVERY: Final = 25
MIN_ESTIMATED: Final = 100


@dataclass(frozen=True, slots=True)
class WebEstimate:
    """Disc bytes the web content's JPEGs would take (sector-rounded), from a sample."""

    images: int  # the images' own renderings (IHE_PDI, shown by the viewer too)
    presets: int  # the CT window presets (VIEWER/)


def estimate_web(
    root: Path,
    tree: Sequence[fileset.PatientNode],
    jpeg: render.JpegSettings,
    *,
    jobs_n: int | None,
    workers: Workers | None = None,
) -> WebEstimate | None:
    """The JPEG bytes of the web content of ``tree`` made with ``jpeg``, extrapolated from every
    :data:`SAMPLE_EVERY`-th image (decoded and encoded, nothing written; deterministic: the
    sample is fixed). None for a set of fewer than :data:`MIN_ESTIMATED` images."""
    planned = plan_jobs(list(tree), True, None, jpeg)
    if len(planned) < MIN_ESTIMATED:
        return None
    picked = planned[SAMPLE_EVERY // 2 :: SAMPLE_EVERY]
    sizes: list[tuple[int, int]] = []
    with _workers(workers, jobs_n) as running:
        per = max(1, -(-len(picked) // running.count))
        batches = [(picked[i : i + per], root) for i in range(0, len(picked), per)]
        for batch in running.map(sizes_batch, batches):
            sizes.extend(batch)
    scale = len(planned) / len(picked)
    return WebEstimate(
        round(sum(s[0] for s in sizes) * scale), round(sum(s[1] for s in sizes) * scale)
    )


def _collect_icons(
    tree: list[fileset.PatientNode], outcomes: Sequence[Outcome], icons: IconOrder
) -> None:
    leaves = [lf for p in tree for st in p.studies for se in st.series for lf in se.leaves]
    for outcome in outcomes:
        uid = leaves[outcome.index].sop_instance_uid
        if outcome.icon is not None:
            icons.made[uid] = outcome.icon
        elif outcome.icon_error:
            icons.failed[uid] = outcome.icon_error


def write_thumbnails(root: Path, model: pages.Model) -> None:
    """One thumbnail per image series, from its middle image."""
    for patient in model["patients"]:
        for study in patient["studies"]:
            for series in study["series"]:
                if not series["thumb"]:
                    continue
                with Image.open(root / series["thumb_source"]) as image:
                    thumb = render.thumbnail(image.convert(image.mode))
                (root / series["thumb"]).write_bytes(render.encode_jpeg(thumb))


def _write_logo(root: Path, site: Site) -> str:
    if site.logo is None:
        return ""
    with Image.open(io.BytesIO(site.logo)) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            logo = flat
        else:
            logo = image.convert("RGB")
    logo.thumbnail((480, 160), Image.Resampling.LANCZOS)
    path = "IHE_PDI/LOGO.JPG"
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(render.encode_jpeg(logo, quality=92))
    return path


def _write_files(root: Path, files: Iterable[tuple[str, bytes]]) -> None:
    for relative, data in files:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_web_content(  # noqa: PLR0913 - keyword-only settings, each with a default
    root: Path,
    *,
    site: Site | None,
    viewer_dir: Path | None = None,
    disc: tuple[int, int] = (1, 1),
    jobs: int | None = None,
    progress: Progress | None = None,
    presets: bool = True,
    replace: bool = False,
    volumes: Sequence[Mapping[str, Any]] = (),
    notes: Sequence[str] = (),
    icons: IconOrder | None = None,
    shown: tuple[Sequence[fileset.PatientNode], Sequence[Finding]] | None = None,
    jpeg: render.JpegSettings = render.WEB_JPEG,
    workers: Workers | None = None,
) -> list[Finding]:
    """Write README.TXT, INDEX.HTM, IHE_PDI/, REPORTS/ and VIEWER/ (and, with ``viewer_dir``,
    APP/ and AUTORUN.INF) into the File-set folder ``root``.

    ``volumes`` describes each disc of a set split over several (see ``pages.build_model``).
    ``presets`` renders the CT window presets the viewer offers (up to 4 more JPEGs per CT
    image). ``replace`` removes web content an earlier run (or another tool) left in ``root``;
    without it such content is an error. ``icons``: directory record icons to make from the same
    decode as the pictures (its ``made`` and ``failed`` are filled in). ``shown``: the record
    tree and its findings when the caller has them (a build: :func:`tree_of`); else they are
    read from ``root/DICOMDIR``. ``jpeg``: the quality and longest edge of the images' JPEGs
    (a build lowers them to fit the medium). ``workers``: the caller's :class:`Workers`, else
    made for this call. Raises :class:`MediatoolError` when ``root`` has no readable DICOMDIR
    or ``viewer_dir`` is unusable; problems with single objects are returned as findings."""
    site = site or DEFAULT_SITE
    if viewer_dir is not None:
        viewer.check_third_party(viewer_dir)
    tree, findings = read_dicomdir(root) if shown is None else (list(shown[0]), list(shown[1]))
    _make_room(root, replace)
    planned = plan_jobs(tree, presets, icons.sizes if icons is not None else None, jpeg)
    outcomes = run_jobs(planned, root, jobs_n=jobs, progress=progress, workers=workers)
    if icons is not None:
        _collect_icons(tree, outcomes, icons)
    findings += [f for outcome in outcomes for f in outcome.findings]
    logo = _write_logo(root, site)
    app = viewer.copy_third_party(viewer_dir, root) if viewer_dir is not None else None
    model = pages.build_model(
        tree,
        planned,
        outcomes,
        site,
        logo=logo,
        disc=disc,
        app=app,
        volumes=volumes,
        notes=notes,
    )
    write_thumbnails(root, model)
    _write_files(root, pages.render_pages(model))
    _write_files(root, viewer.viewer_files(model))
    if progress:
        progress(len(planned), len(planned), "web content written")
    return findings
