"""★ Web content never costs a disc: the DICOM File-set comes first.

When the DICOM File-set (instances, DICOMDIR) fits the medium but its web content (IHE PDI
pages and JPEGs, the viewer, its CT window presets) would push the image over the capacity, the
web content is written again, reduced one step at a time, until the image fits:

0. as asked (``--window-presets``, JPEG quality 85, longest edge 1024);
1. the CT window presets left out (``auto``; ``off`` has none, ``on`` keeps them through
   step 4 and leaves them out after it, before the web content goes);
2. JPEG quality 70;
3. JPEG quality 50, longest edge 512;
4. JPEG quality 40, longest edge 256;
5. no web content at all (README.TXT, INDEX.HTM, IHE_PDI/, VIEWER/ left out).

The IHE_PDI series pages and the viewer show the same JPEGs, so every step keeps every image
(the viewer keeps every image); fewer JPEGs per series would take images from the viewer too.
A step renders every image (one decode each); a step that surely does not fit is not rendered:
from a set of 100 images on, every 25th image is decoded and encoded once a JPEG setting
(nothing written) and a step is skipped when 90 % of its extrapolated JPEG bytes beside the
DICOM File-set's already overflow the medium (:data:`SURELY`; the last step is always tried).
So the 590 MB CT set of issue 17 renders its web content once (without presets), not twice.
The image size is measured exactly (:func:`mediatool.build.write.measured_size`) unless the
folder's bytes leave a wide margin. A reduced or left-out web content is a finding
(``web.degraded``, ``web.left-out``). Deterministic: the steps are fixed, not searched.
When the DICOM File-set alone does not fit, the web content is written as asked and the
caller splits the set into volumes as before (:mod:`mediatool.build.volumes`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mediatool.findings import Finding, finding
from mediatool.pixels.render import MAX_EDGE, JpegSettings
from mediatool.web.content import OUTPUTS, WebEstimate, Workers, estimate_web
from mediatool.web.fileset import PatientNode
from mediatool.writers import iso as iso_writer

#: JPEG quality and longest edge of the reduced steps (2 to 4 above).
_REDUCED: Final = ((70, MAX_EDGE), (50, 512), (40, 256))
#: An ISO 9660 or UDF image holds a folder's files (sector-rounded) plus its directories and
#: file entries: well under two sectors per file, and the UDF anchor's 1 MB.
_PER_FILE: Final = 2 * iso_writer.SECTOR
_FIXED: Final = 2 << 20
#: A step is not rendered when this share of its estimated JPEG bytes (from a sample of the
#: images, :func:`mediatool.web.content.estimate_web`) beside the DICOM File-set's files
#: already overflows the medium: a sampling error of up to 10 % never skips a step that fits.
SURELY: Final = 0.9


@dataclass(frozen=True, slots=True)
class Step:
    """One way to write the web content: presets or not, and how the JPEGs are made."""

    presets: bool
    jpeg: JpegSettings
    reduced: tuple[str, ...]  # what this step reduced, for the finding


def steps(presets: str) -> list[Step]:
    """The steps for ``--window-presets`` ``presets`` (on | off | auto), the first as asked."""
    out = [Step(presets != "off", JpegSettings(), ())]
    dropped: tuple[str, ...] = ()
    if presets == "auto":
        dropped = ("CT window presets left out",)
        out.append(Step(False, JpegSettings(), dropped))
    for quality, edge in _REDUCED:
        size = (f"images at most {edge} pixels",) if edge < MAX_EDGE else ()
        reduced = (*dropped, f"JPEG quality {quality}", *size)
        out.append(Step(presets == "on", JpegSettings(quality, edge), reduced))
    if presets == "on":  # asked for, but the pages and the viewer matter more
        last = out[-1]
        out.append(Step(False, last.jpeg, ("CT window presets left out", *last.reduced)))
    return out


def estimator(
    root: Path, tree: Sequence[PatientNode], jobs: int | None, workers: Workers | None = None
) -> Callable[[Step], int | None]:
    """``estimate`` for :func:`fit_web_content`: the disc bytes of a step's JPEGs from a sample
    of the images of ``tree`` (:func:`mediatool.web.content.estimate_web`, in ``workers`` when
    given), one sample a JPEG setting (steps 0 and 1 share one), made when first asked for."""
    made: dict[JpegSettings, WebEstimate | None] = {}

    def estimate(step: Step) -> int | None:
        if step.jpeg not in made:
            made[step.jpeg] = estimate_web(root, tree, step.jpeg, jobs_n=jobs, workers=workers)
        guess = made[step.jpeg]
        return None if guess is None else guess.images + (guess.presets if step.presets else 0)

    return estimate


def file_sizes(root: Path) -> list[int]:
    """The size of every file under ``root``, as ``Path.rglob`` finds them (symbolic links to
    files followed, to folders not entered), by ``os.scandir``: the walk's directory entries
    already say which is a folder, where ``rglob`` + ``stat`` + ``is_file`` asked three times
    a file (a fifth of a second of CPU a walk on the default disc's 2,500 files, issue 17)."""
    sizes: list[int] = []
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as listing:
            for entry in listing:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file():
                    sizes.append(entry.stat().st_size)
    return sizes


def _on_disc(root: Path) -> int:
    """The folder's files in 2,048-byte sectors: less than any image of it takes."""
    sector = iso_writer.SECTOR
    return sum(-(-size // sector) * sector for size in file_sizes(root))


def quick_fits(root: Path, capacity: int) -> bool:
    """True when the folder fits whatever the image's own structures take (no layout): an
    upper bound of its ISO 9660 or UDF image (2,048-byte sectors)."""
    sizes = file_sizes(root)
    sector = iso_writer.SECTOR
    files = sum(-(-s // sector) * sector for s in sizes)
    return files + _PER_FILE * len(sizes) + _FIXED <= capacity


def remove_web_content(root: Path) -> None:
    """Remove what :func:`mediatool.web.write_web_content` wrote into ``root``."""
    for name in OUTPUTS:
        path = root / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()


def fit_web_content(  # noqa: PLR0913 - what to render and measure, and how to choose
    root: Path,
    render: Callable[[Step, bool], list[Finding]],
    measure: Callable[[], int | None],
    capacity: int,
    medium: str,
    presets: str,
    *,
    split: bool = False,
    estimate: Callable[[Step], int | None] | None = None,
) -> list[Finding] | None:
    """Write the web content into ``root`` (a written File-set) by ``render(step, replace)``,
    reduced step by step until ``measure()`` (the exact image size; None: not recordable, which
    packing reports) is within ``capacity``; ``medium`` names it in the findings. When the DICOM
    File-set alone does not fit: None if the caller will ``split`` it (nothing rendered), else
    the web content as asked (packing then refuses the image). ``estimate(step)``: the disc
    bytes of the step's JPEGs from a sample (None: no estimate); a step (not the last) whose
    :data:`SURELY` share of that would already overflow is not rendered."""

    def fits() -> bool:
        if quick_fits(root, capacity):
            return True
        size = measure()
        return size is None or size <= capacity

    ladder = steps(presets)
    if not fits():  # the DICOM File-set alone is too large
        return None if split else render(ladder[0], False)
    dicom = _on_disc(root)
    rendered = False
    for n, step in enumerate(ladder):
        guess = estimate(step) if estimate is not None and n < len(ladder) - 1 else None
        if guess is not None and dicom + SURELY * guess > capacity:
            continue  # surely too large: not rendered (one decode per image, not one per step)
        found = render(step, rendered)
        rendered = True
        if fits():
            return found + _degraded(step.reduced, medium)
    remove_web_content(root)
    return [
        finding(
            "web.left-out",
            f"the web content (IHE_PDI pages, viewer) does not fit {medium} beside the DICOM "
            "File-set even reduced (" + ", ".join(ladder[-1].reduced) + "); it was left out "
            "so the set stays on one medium",
            None,
        )
    ]


def _degraded(reduced: Sequence[str], medium: str) -> list[Finding]:
    if not reduced:
        return []
    return [
        finding(
            "web.degraded",
            f"the web content was reduced to fit {medium} beside the DICOM File-set: "
            + ", ".join(reduced),
            None,
        )
    ]


__all__: Sequence[str] = [
    "Step",
    "estimator",
    "file_sizes",
    "fit_web_content",
    "quick_fits",
    "remove_web_content",
    "steps",
]
