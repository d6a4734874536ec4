"""Pack a File-set folder into a UDF image for a DVD (PS3.12 Annex P).

**Which UDF, and why** (profiles.md §5.2, §5.4):

- DVD, Annex P: a creator writes any one of UDF 1.02, 1.5, 2.0, 2.01 (or ISO 9660), one volume,
  one partition, UDF Interchange Level 2; readers must read all of them. Written here with
  ``genisoimage -udf`` (Debian's genisoimage): **UDF 1.02** (Domain Identifier revision 0x0102,
  one partition, Interchange Level = Maximum Interchange Level = 2; checked by
  :mod:`mediatool.media.udf` and ``udfinfo``) bridged with an ISO 9660 Level 1 tree of the same
  names, so a CD-only reader still finds the File-set. pycdlib cannot be used: its
  ``udf="2.60"`` records the Domain Identifier revision 1.02 and a Minimum UDF Read Revision of
  1.02 (``udfinfo`` reports ``udfrev=1.02``), so it offers no revision genisoimage lacks.
- BD, Annex X: UDF 2.50 (BD-RE) or 2.60 (BD-R), both with a Metadata Partition. No maintained
  tool we can drive writes a *populated* UDF 2.50/2.60 image without mounting it: mkudffs
  (udftools) makes only an empty file system (and for 2.50/2.60 only as a BD-R with a VAT,
  which Annex X forbids), wrudf writes only to packet-writing drives, pycdlib writes 1.02 (above).
  :func:`pack` therefore refuses a BD image (exit 2) instead of writing a revision Annex X does
  not allow; ``--out`` still writes the folder, for a BD authoring program to burn.

The ISO 9660 side is written without Rock Ridge or Joliet and without genisoimage's relaxing
options (profiles.md §5.6), so every tree shows the same 8.3 names.

Not reproducible byte for byte (unlike :mod:`~mediatool.writers.iso`): genisoimage 1.1.11
stamps the clock into its descriptors and ignores ``SOURCE_DATE_EPOCH`` (two runs a second
apart differ in about 30 bytes, all dates and the Volume Set Identifier).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from mediatool import external as tools
from mediatool.errors import MediatoolError, OutputError
from mediatool.writers import folder as staging
from mediatool.writers import iso as iso_writer

#: The UDF revision written for each medium (None: mediatool cannot write that medium's UDF).
REVISION: Final = {"dvd": "1.02", "bd": None}
BD_REFUSAL: Final = (
    "a BD image needs UDF 2.50 (BD-RE) or 2.60 (BD-R) (PS3.12 Annex X), and no tool mediatool "
    "can drive writes a populated UDF 2.50/2.60 image"
)
BD_HINT: Final = (
    "write the folder with --out and burn it with a BD authoring program, or use --media dvd"
)


@dataclass(frozen=True, slots=True)
class UdfResult:
    image: Path
    size: int
    revision: str
    files: int
    directories: int


def _arguments(volume_id: str) -> list[str]:
    return [
        "genisoimage",
        "-udf",  # UDF 1.02 beside the ISO 9660 tree
        "-iso-level",
        "1",
        "-V",
        volume_id,  # PS3.12 F.1.1 on the ISO side; the UDF Logical Volume Identifier too
        "-sysid",
        "",  # PS3.12 F.2.2.1
        "-A",
        iso_writer.application_id(),
        "-input-charset",
        "ascii",
        "-quiet",
    ]


def _sectors(folder: Path, volume_id: str) -> int:
    sized = tools.run([*_arguments(volume_id), "-print-size", str(folder)], "sizing the UDF image")
    return int(sized.split()[-1])


def image_size(folder: Path, volume_id: str = "") -> int | None:
    """Exact size in bytes of the image :func:`pack` would write for a DVD (None: the folder
    cannot be recorded); genisoimage lays it out without writing (``-print-size``)."""
    if not iso_writer.scan_folder(Path(folder)).ok:
        return None
    return _sectors(Path(folder), volume_id) * iso_writer.SECTOR


def pack(
    folder: Path,
    image: Path,
    *,
    medium: str,
    volume_id: str,
    capacity: int | None,
    force: bool = False,
) -> UdfResult:
    """Write ``folder`` (a File-set root) as the UDF image of ``medium`` (``dvd``) at ``image``.

    Raises
    ------
    OutputError
        ``medium`` is ``bd`` (see the module docstring); the image does not fit ``capacity``;
        ``image`` exists (without ``force``); genisoimage is missing or fails.
    PlanRejected
        A name, depth or file the File-set cannot hold (the ISO writer's refusals).
    """
    revision = REVISION.get(medium)
    if revision is None:
        raise OutputError(BD_REFUSAL, hint=BD_HINT)
    folder, image = Path(folder), Path(image)
    if not iso_writer.VOLUME_ID.match(volume_id):
        raise MediatoolError(f"volume identifier {volume_id!r} is not 0-32 of A-Z 0-9 _")
    scan = iso_writer.packable(folder, image, force, "a DVD File-set (PS3.12 P.1.3)")
    args = _arguments(volume_id)
    iso_writer.check_capacity(_sectors(folder, volume_id) * iso_writer.SECTOR, capacity)
    image.parent.mkdir(parents=True, exist_ok=True)
    staging.sweep(image)
    fd, tmp = staging.open_file(image)
    os.close(fd)
    try:
        tools.run([*args, "-o", str(tmp), str(folder)], "writing the UDF image")
        tmp.replace(image)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"writing {str(image)!r} failed: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return UdfResult(
        image,
        image.stat().st_size,
        revision,
        sum(1 for e in scan.entries if not e.is_dir),
        sum(1 for e in scan.entries if e.is_dir),
    )
