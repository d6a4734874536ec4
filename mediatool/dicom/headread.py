"""The header of a Part 10 file read by pydicom, without pydicom reading its File Meta again.

:mod:`mediatool.dicom.filemeta` has already parsed the preamble and group 0002 (it has to: its
findings are on the bytes as found). When that parse is clean and the data set is Explicit VR
Little Endian by its Transfer Syntax, the data set is read from where the File Meta ends with
the very calls :func:`pydicom.filereader.read_partial` makes for it, so the result is the same
data set, encoding and warnings; the preamble, File Meta and command-set reads that pydicom
would repeat cost a third of its header read (issue 17: build's scan at 10,000 files).
Anything else (no prefix, a meta cut short or implicit, group 0000, an encoding the Transfer
Syntax gives otherwise) is read by :func:`pydicom.dcmread` as before.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Final

from pydicom import dcmread
from pydicom.dataset import Dataset, FileDataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag
from pydicom.uid import PrivateTransferSyntaxes
from pydicom.valuerep import VR

from mediatool.dicom import filemeta
from mediatool.dicom.uids import DEFLATED, EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

#: Large values are left unread (their length is what the checks need).
DEFER_SIZE: Final = 4096
_KNOWN_VRS: Final = frozenset(str(v) for v in VR)
_NOT_EXPLICIT_LE: Final = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED})
_PIXEL_TAGS: Final = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})


def _at_pixel_data(tag: BaseTag, vr: str | None, length: int) -> bool:
    return tag in _PIXEL_TAGS  # pydicom's stop_before_pixels condition


def _plain(meta: filemeta.RawMeta, fp: BinaryIO, size: int) -> bool:
    """The File Meta is one pydicom reads to the same end, and the data set after it is
    Explicit VR Little Endian by its Transfer Syntax, with no command set (group 0000)."""
    if not meta.has_prefix or not meta.explicit or meta.truncated or not meta.elements:
        return False
    if any(el.vr not in _KNOWN_VRS for el in meta.elements):
        return False
    ts = meta.text(0x00020010)
    if not ts or ts in _NOT_EXPLICIT_LE or ts in PrivateTransferSyntaxes:
        return False
    if size < meta.end + 8:
        return False
    fp.seek(meta.end)
    group = struct.unpack("<H", fp.read(2))[0]
    return group not in (0x0000, 0x0002)


def read_header(
    fp: BinaryIO, meta: filemeta.RawMeta, size: int, *, reuse_meta: bool = True
) -> Dataset:
    """The data set up to Pixel Data, as ``dcmread(fp, stop_before_pixels=True,
    defer_size=DEFER_SIZE, force=not meta.has_prefix)`` reads it; with ``reuse_meta`` (when
    possible) its ``file_meta`` is left empty: ``meta`` is the File Meta."""
    if reuse_meta and _plain(meta, fp, size):
        fp.seek(meta.end)
        dataset = read_dataset(
            fp, False, True, stop_when=_at_pixel_data, defer_size=DEFER_SIZE
        )  # what read_partial does for an Explicit VR Little Endian Transfer Syntax
        ds = FileDataset(fp, dataset, meta.preamble, None, False, True)
        ds.set_original_encoding(False, True, dataset._character_set)
        return ds
    fp.seek(0)
    return dcmread(fp, stop_before_pixels=True, defer_size=DEFER_SIZE, force=not meta.has_prefix)
