"""The raw ISO 9660 directory records of one directory, read from the image bytes.

pycdlib silently shortens a file whose Data Length reaches past the end of the image, so the
image would look sound. The reader checks every file's extent against what the record really
says (ISO 9660 §9.1: Location of Extent and Data Length, both-byte orders, the little-endian
half is the one read), from these raw values.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Final

from mediatool.limits import ISO_DIRECTORY_LIMIT

#: Directory Record fields (ISO 9660 §9.1): length, Location of Extent (LE), Data Length (LE),
#: File Flags, File Identifier length; offsets inside the record.
_LENGTH, _EXTENT, _DATA_LENGTH, _FLAGS, _ID_LENGTH, _ID = 0, 2, 10, 25, 32, 33
_MIN_RECORD: Final = 34
_U32: Final = struct.Struct("<I")

Extents = dict[bytes, list[tuple[int, int]]]


def directory_extents(
    image: BinaryIO, extent: int, length: int, block: int, image_size: int
) -> Extents:
    """File Identifier → [(byte offset, Data Length)] of each record in the directory, in
    recorded order (a multi-extent file has several). Never raises: a directory that cannot be
    read gives what could be read."""
    start = extent * block
    length = max(0, min(length, ISO_DIRECTORY_LIMIT, image_size - start))
    image.seek(start)
    data = image.read(length)
    out: Extents = {}
    pos = 0
    while pos + _MIN_RECORD <= len(data):
        size = data[pos + _LENGTH]
        if size == 0:  # records do not cross a sector boundary: the rest of it is padding
            pos = (pos // block + 1) * block
            continue
        record = data[pos : pos + size]
        pos += size
        if size < _MIN_RECORD or len(record) < size:
            continue
        identifier = record[_ID : _ID + record[_ID_LENGTH]]
        location = _U32.unpack_from(record, _EXTENT)[0]
        data_length = _U32.unpack_from(record, _DATA_LENGTH)[0]
        out.setdefault(identifier, []).append((location * block, data_length))
    return out
