"""The image of a medium in that medium's file system (PS3.12): one entry point for ``build
--image``.

- cd, cd74: ISO 9660 Level 1, :mod:`~mediatool.writers.iso` (pycdlib); Annex F.
- dvd: UDF 1.02 with an ISO 9660 Level 1 bridge, :mod:`~mediatool.writers.udf` (genisoimage);
  Annex P.
- dvd-ram: UDF 1.50 (Annex J); bd-re: UDF 2.50, bd (BD-R): UDF 2.60, with a Metadata
  Partition (Annex X): :mod:`~mediatool.writers.udf` with our writer, :mod:`mediatool.udf`.
- usb: FAT16, else FAT32, no partition table, :mod:`~mediatool.writers.fat` (dosfstools,
  mtools); Annex R.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from mediatool.writers import fat, iso, udf


def pack(
    medium: str,
    folder: Path,
    image: Path,
    *,
    volume_id: str,
    date: datetime | None,
    capacity: int | None,
    force: bool = False,
) -> int:
    """Write ``folder`` as the image of ``medium`` at ``image``; its size in bytes.

    Raises what the medium's writer raises (``OutputError``, ``PlanRejected``)."""
    if medium in udf.REVISION:
        made = udf.pack(
            folder,
            image,
            medium=medium,
            volume_id=volume_id,
            date=date,
            capacity=capacity,
            force=force,
        )
        return made.size
    if medium == "usb":
        return fat.pack(folder, image, volume_id=volume_id, capacity=capacity, force=force).size
    result = iso.pack(
        folder,
        image,
        volume_id=volume_id,
        date=date,
        capacity=capacity,
        force=force,
    )
    return result.size


def image_size(medium: str, folder: Path, volume_id: str) -> int | None:
    """Size in bytes of the image :func:`pack` would write for ``medium`` (None: not recordable)."""
    if medium in udf.REVISION:
        return udf.image_size(folder, volume_id, medium)
    if medium == "usb":
        return fat.image_size(folder)
    return iso.image_size(folder, volume_id)
