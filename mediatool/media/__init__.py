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

if TYPE_CHECKING:
    from mediatool.media.base import MediaEntry, MediaReader
    from mediatool.media.fat import FatReader
    from mediatool.media.folder import FolderReader
    from mediatool.media.iso import IsoReader
    from mediatool.media.udf import UdfReader
    from mediatool.media.zip import ZipReader

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

#: Each reader's module, imported on first use: a build from a folder does not import the image
#: readers (pycdlib) it never opens (start-up, issue 17).
_WHERE: Final = {
    "FatReader": "fat",
    "FolderReader": "folder",
    "IsoReader": "iso",
    "MediaEntry": "base",
    "MediaReader": "base",
    "UdfReader": "udf",
    "ZipReader": "zip",
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


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
    from mediatool.media.folder import FolderReader

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
    # the image readers (pycdlib, the FAT tools) only for an image: a folder needs none of them
    from mediatool.media.fat import FatReader, is_fat_image
    from mediatool.media.iso import IsoReader
    from mediatool.media.udf import UdfReader
    from mediatool.media.zip import ZIP_MAGIC, ZipReader

    head, volume = _magic(Path(path), shown)
    if volume == _ISO_MAGIC[1]:
        return UdfReader(path) if _udf(Path(path), shown) else IsoReader(path)
    if head[:4] in ZIP_MAGIC:
        return ZipReader(path)
    if volume == _UDF_MAGIC[1]:  # a UDF-only image (DVD-RAM, BD): our own UDF reader
        return UdfReader(path)
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
