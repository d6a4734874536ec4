"""Rewrite one instance's data set in another Transfer Syntax (full read; the slow path).

Lossless only: native re-encoding (Implicit VR, Big Endian, Deflated → Explicit VR Little Endian)
and decoding compressed pixel data through pydicom's pixel plugins (pylibjpeg, openjpeg, rle).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Final

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import UID

from mediatool import filemeta

_WORD: Final = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def _to_little_endian(ds: Dataset) -> None:
    """Byte-swap the word-oriented binary values of a data set read from Big Endian.

    pydicom keeps OW/OF/OL/OD/OV values as the raw bytes of the source byte order and does not
    swap them when writing another byte order, so we do it (PS3.5 §7.3).
    """
    import numpy as np

    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _to_little_endian(item)
        elif elem.VR in _WORD and isinstance(elem.value, bytes) and elem.value:
            width = _WORD[elem.VR]
            arr = np.frombuffer(elem.value, dtype=f">u{width}")
            elem.value = arr.astype(f"<u{width}").tobytes()


def rewrite(
    data: bytes,
    *,
    target_ts: str,
    decompress: bool,
    patches: Mapping[str, str] | None = None,
) -> tuple[bytes, str, str]:
    """Return (file bytes, SOP Class UID, SOP Instance UID) of the rewritten Part 10 file."""
    ds = dcmread(io.BytesIO(data), force=True)
    if decompress:
        ds.decompress(generate_instance_uid=False)  # same instance, another encoding
    elif not ds.original_encoding[1]:  # read as big endian
        _to_little_endian(ds)
    for tag in [t for t in ds.keys() if t.group == 0x0002]:  # noqa: SIM118 - iterating a Dataset yields elements
        del ds[tag]  # group 0002 belongs in the meta only (PS3.10 §7.1)
    for keyword, value in (patches or {}).items():
        patched = tag_for_keyword(keyword)
        assert patched is not None
        ds.add_new(patched, dictionary_VR(keyword), value)
    fp = DicomBytesIO()
    uid = UID(target_ts)
    fp.is_little_endian = uid.is_little_endian
    fp.is_implicit_VR = uid.is_implicit_VR
    write_dataset(fp, ds)
    sop_class = str(ds.SOPClassUID)
    sop_instance = str(ds.SOPInstanceUID)
    return (
        filemeta.encode(sop_class, sop_instance, target_ts) + fp.getvalue(),
        sop_class,
        sop_instance,
    )
