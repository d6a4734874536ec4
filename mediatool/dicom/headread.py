"""The header of a Part 10 file read by pydicom, without pydicom reading its File Meta again.

:mod:`mediatool.dicom.filemeta` has already parsed the preamble and group 0002 (it has to: its
findings are on the bytes as found). When that parse is clean and the data set is Explicit VR
Little Endian by its Transfer Syntax, the data set is read from where the File Meta ends with
the very calls :func:`pydicom.filereader.read_partial` makes for it, so the result is the same
data set, encoding and warnings; the preamble, File Meta and command-set reads that pydicom
would repeat cost a third of its header read (issue 17: build's scan at 10,000 files).
Anything else (no prefix, a meta cut short or implicit, group 0000, an encoding the Transfer
Syntax gives otherwise) is read by :func:`pydicom.dcmread` as before.

When the file is in memory (:func:`mediatool.scan.scan_one` reads small files whole), the
elements of such a data set are split by :func:`_split`, written by hand: pydicom's
``data_element_generator`` does the same loop through a file object (a ``read`` and a ``tell``
call an element, a generator step, a dictionary comprehension), which was a fifth of the scan's
CPU at 10,000 files (issue 17). It makes the very ``RawDataElement`` values pydicom makes, and
it hands every data set it is not sure of back to pydicom: an element of undefined length (a
sequence pydicom parses), a VR PS3.5 does not define (pydicom switches to implicit VR or guesses
a length), an item delimiter, a long length cut short. tests/test_startup.py compares both
reads on every file pydicom bundles and on damaged ones.
"""

from __future__ import annotations

import functools
import io
import struct
from typing import BinaryIO, Final, cast

from pydicom import dcmread
from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import (
    DataElement,
    RawDataElement,
    convert_raw_data_element,
    empty_value_for_VR,
)
from pydicom.dataset import Dataset, FileDataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag
from pydicom.uid import PrivateTransferSyntaxes
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, VR
from pydicom.values import convert_string

from mediatool.dicom import filemeta
from mediatool.dicom.uids import DEFLATED, EXPLICIT_VR_BIG_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

#: Large values are left unread (their length is what the checks need).
DEFER_SIZE: Final = 4096
_KNOWN_VRS: Final = frozenset(str(v) for v in VR)
_NOT_EXPLICIT_LE: Final = frozenset({IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED})
_PIXEL_TAGS: Final = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})
_CHARSET: Final = 0x00080005
_Elements = dict[BaseTag, RawDataElement | DataElement]
#: One BaseTag object a tag (the most recent few thousand): the data sets split here are keyed
#: by them, so a look-up by the same object (:func:`mediatool.dicom.recordkeys.element_at`)
#: finds it by identity; any other key costs a call of BaseTag's ``__eq__``, a Python
#: function, for each look-up (some 40 a scanned file).
tag_key: Final = functools.lru_cache(maxsize=4096)(BaseTag)
_UNDEFINED: Final = 0xFFFFFFFF
_ITEM_END: Final = 0xFFFEE00D
#: Explicit VR element header (tag, VR, 16-bit length) and the 32-bit length of the long VRs.
_SHORT: Final = struct.Struct("<HH2sH")
_LONG_LENGTH: Final = struct.Struct("<L")
#: VR bytes → (VR text, has a 32-bit length, the value of an empty element as pydicom reads it)
_VRS: Final[dict[bytes, tuple[str, bool, bytes | None]]] = {
    str(v).encode(): (
        str(v),
        str(v) in EXPLICIT_VR_LENGTH_32,
        cast("bytes | None", empty_value_for_VR(str(v), raw=True)),  # raw: bytes or None
    )
    for v in VR
    if len(str(v)) == 2
}


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
        data = fp.getvalue() if isinstance(fp, io.BytesIO) else None
        split = _split(data, meta.end) if data is not None and len(data) == size else None
        if split is not None:
            elements, position = split
            fp.seek(position)
            return _dataset(fp, elements, meta.preamble)
        fp.seek(meta.end)
        dataset = read_dataset(
            fp, False, True, stop_when=_at_pixel_data, defer_size=DEFER_SIZE
        )  # what read_partial does for an Explicit VR Little Endian Transfer Syntax
        ds = FileDataset(fp, dataset, meta.preamble, None, False, True)
        ds.set_original_encoding(False, True, dataset._character_set)
        return ds
    fp.seek(0)
    return dcmread(fp, stop_before_pixels=True, defer_size=DEFER_SIZE, force=not meta.has_prefix)


def _split(data: bytes, start: int) -> tuple[_Elements, int] | None:
    """The top-level elements of the Explicit VR Little Endian data set at ``start`` up to
    Pixel Data, as pydicom's ``read_dataset(..., stop_when=_at_pixel_data,
    defer_size=DEFER_SIZE)`` reads them, and the stream position it leaves; None when pydicom
    must read it (see the module's docstring)."""
    end = len(data)
    pos = start
    first = data[pos + 4 : pos + 6]
    if len(first) < 2 or not (0x40 < first[0] < 0x5B and 0x40 < first[1] < 0x5B):
        return None  # pydicom's check of the first element (warns, may switch to implicit)
    unpack, unpack_long, vrs = _SHORT.unpack_from, _LONG_LENGTH.unpack_from, _VRS
    elements: _Elements = {}
    while pos + 8 <= end:
        group, elem, vr_bytes, length = unpack(data, pos)
        known = vrs.get(vr_bytes)
        if known is None:
            return None
        vr, long_length, empty = known
        head = 8
        if long_length:
            if pos + 12 > end:
                return None  # pydicom fails on the cut length: its own error
            length = unpack_long(data, pos + 8)[0]
            head = 12
        tag = group << 16 | elem
        if tag in _PIXEL_TAGS:
            return elements, pos  # stop_when: positioned at the element
        if length == _UNDEFINED or tag == _ITEM_END:
            return None
        at = pos + head
        value: bytes | None
        if length > DEFER_SIZE and tag != _CHARSET:
            value, pos = None, at + length  # deferred: a seek, past the end too
        elif length:
            value = data[at : at + length]
            pos = at + length if at + length < end else end  # a read stops at the end
        else:
            value, pos = empty, at
        key = tag_key(tag)
        elements[key] = RawDataElement(key, vr, length, value, at, False, True)
    return elements, max(pos, end)  # the last header read moved to the end


def _dataset(fp: BinaryIO, elements: _Elements, preamble: bytes) -> Dataset:
    """The data set ``read_dataset`` makes of these elements (encoding and character set), as
    :func:`read_header` sets its encoding (``_character_set`` converts (0008,0005) in place).
    A ``FileDataset`` of ``fp``, as pydicom's: a deferred value is read from it when asked for."""
    ds = FileDataset(fp, elements, preamble, None, False, True)
    encoding: str | list[str] = default_encoding
    charset = elements.get(BaseTag(_CHARSET))
    if isinstance(charset, RawDataElement):
        # the generator converts it as it reads it (a warning if it is unknown), read_dataset
        # again; not in _split: nothing is said before it is sure it reads the data set
        convert_encodings(convert_string(charset.value or b"", True))
        encoding = convert_encodings(convert_raw_data_element(charset).value)
    ds.set_original_encoding(False, True, encoding)
    ds.set_original_encoding(False, True, ds._character_set)
    return ds
