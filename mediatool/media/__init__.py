"""Media readers: a folder, an ISO 9660 image, a UDF image, a FAT image or a zip archive, read
as a File-set.

:func:`open_media` picks the reader by what the path is (a directory) or by magic bytes
(``CD001`` at byte 32769 for ISO 9660, and then an ``NSR02``/``NSR03`` descriptor for UDF;
``PK`` for zip; a boot sector or partition table, ``55 AA`` at byte 510, for FAT), never by
the file name's extension.
"""

from __future__ import annotations

import importlib
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Final

from mediatool.errors import MediaError
from mediatool.media.base import MediaEntry, MediaReader
from mediatool.media.folder import FolderReader
from mediatool.media.zip import ZIP_MAGIC, ZipReader

if TYPE_CHECKING:
    from mediatool.media.fat import FatReader
    from mediatool.media.iso import IsoReader
    from mediatool.media.udf import UdfReader

__all__ = [
    "FatReader",
    "FolderReader",
    "IsoReader",
    "MediaEntry",
    "MediaReader",
    "UdfReader",
    "ZipReader",
    "open_media",
]

#: Readers of images, imported when first used: they bring pycdlib and the FAT tools, which
#: a folder (``validate DIR``, the common case) does not need (issue 17, start-up).
_LAZY: Final = {
    "FatReader": "mediatool.media.fat",
    "IsoReader": "mediatool.media.iso",
    "UdfReader": "mediatool.media.udf",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Standard Identifier of the first Volume Descriptor (ISO 9660 §8.1): sector 16, byte 1.
_ISO_MAGIC: Final = (16 * 2048 + 1, b"CD001")
#: ECMA-167 Beginning Extended Area Descriptor: a UDF image without an ISO 9660 tree.
_UDF_MAGIC: Final = (16 * 2048 + 1, b"BEA01")


def open_media(path: str | Path) -> MediaReader:
    """Open a folder, an ISO 9660, UDF or FAT image or a zip archive as a medium.

    Raises
    ------
    MediaError
        When the path is missing, unreadable, or none of these kinds.
    """
    shown = str(path)
    try:
        mode = Path(path).stat().st_mode
    except OSError as exc:
        reason = "does not exist" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise MediaError(f"cannot open media {shown!r}: {reason}") from exc
    if stat.S_ISDIR(mode):
        return FolderReader(path)
    if not stat.S_ISREG(mode):
        raise MediaError(f"cannot open media {shown!r}: not a folder or a regular file")
    head, volume = _magic(Path(path), shown)
    if volume == _ISO_MAGIC[1]:
        from mediatool.media.iso import IsoReader
        from mediatool.media.udf import UdfReader

        return UdfReader(path) if _udf(Path(path), shown) else IsoReader(path)
    if head[:4] in ZIP_MAGIC:
        return ZipReader(path)
    if volume == _UDF_MAGIC[1]:
        raise MediaError(
            f"cannot open media {shown!r}: UDF image without an ISO 9660 tree (not supported)"
        )
    from mediatool.media.fat import FatReader, is_fat_image

    if is_fat_image(head):
        return FatReader(path)
    raise MediaError(
        f"cannot open media {shown!r}: not a folder, ISO 9660, UDF or FAT image, or zip archive"
    )


def _udf(path: Path, shown: str) -> bool:
    from mediatool.media.udf import has_udf

    try:
        return has_udf(path)
    except OSError as exc:
        raise MediaError(f"cannot open media {shown!r}: {exc.strerror}") from exc


def _magic(path: Path, shown: str) -> tuple[bytes, bytes]:
    """The first sector (512 bytes) and the 5 bytes of the first Volume Descriptor's Standard
    Identifier."""
    try:
        with path.open("rb") as fp:
            head = fp.read(512)
            fp.seek(_ISO_MAGIC[0])
            return head, fp.read(5)
    except OSError as exc:
        raise MediaError(f"cannot open media {shown!r}: {exc.strerror}") from exc
