"""The bytes of one instance as it goes to the destination: Part 10, our File Meta, coerced.

Without coercion the data set bytes are copied unchanged behind a new File Meta Information
(:func:`mediatool.dicom.filemeta.encode`, PS3.10 §7.1), in the Transfer Syntax the media used: no
parse, no re-encoding. With coercion the data set is read in full, edited by
:func:`.reconcile.coerce` and written again in the same Transfer Syntax; Explicit VR Big Endian
and Deflated data sets are first rewritten losslessly as Explicit VR Little Endian
(:func:`mediatool.pixels.transcode.rewrite`), because Big Endian is retired (PS3.5 A.3) and the edit
would otherwise mean re-compressing.

Converting for a PACS that refuses the Transfer Syntax is done later, per association, by
:mod:`mediatool.net.store`.
"""

from __future__ import annotations

import io
import warnings
from typing import Final

from pydicom import dcmread
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

from mediatool.dicom import filemeta
from mediatool.dicom.uids import (
    DEFLATED,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from mediatool.importer.reconcile import Coercion, coerce
from mediatool.model import InstanceInfo
from mediatool.net.store import Prepared
from mediatool.pixels import transcode

EXPLICIT_LE: Final = EXPLICIT_VR_LITTLE_ENDIAN
IMPLICIT_LE: Final = IMPLICIT_VR_LITTLE_ENDIAN
_REWRITE_FIRST: Final = frozenset({EXPLICIT_VR_BIG_ENDIAN, DEFLATED})


def _plain(data: bytes, info: InstanceInfo, ts: str, offset: int) -> Prepared:
    meta = filemeta.encode(info.sop_class_uid, info.sop_instance_uid, ts)
    return Prepared(meta + data[offset:], ts)


def prepare(data: bytes, info: InstanceInfo, coercion: Coercion) -> Prepared:
    """Part 10 bytes of the instance whose file content is ``data`` (as read from the media).

    Raises
    ------
    ValueError
        The data set cannot be read or written again (a damaged file the header scan accepted).
    """
    if not coercion.active:
        return _plain(data, info, info.transfer_syntax, info.dataset_offset)
    ts = info.transfer_syntax
    with warnings.catch_warnings():
        # Warnings are about the foreign encoding; `validate` reports them, the import goes on.
        warnings.simplefilter("ignore")
        try:
            if ts in _REWRITE_FIRST:
                data, _, _ = transcode.rewrite(data, target_ts=EXPLICIT_LE, decompress=False)
                ts = EXPLICIT_LE
            ds = dcmread(io.BytesIO(data), force=True)
            changed = coerce(ds, coercion)
            if not changed:
                offset = (
                    info.dataset_offset
                    if ts == info.transfer_syntax
                    else len(filemeta.encode(info.sop_class_uid, info.sop_instance_uid, ts))
                )
                return _plain(data, info, ts, offset)
            del ds[0x00020000:0x00030000]  # group 0002 belongs in the File Meta only (PS3.10 §7.1)
            fp = DicomBytesIO()
            fp.is_little_endian = True
            fp.is_implicit_VR = ts == IMPLICIT_LE
            write_dataset(fp, ds)
        except (ValueError, TypeError, KeyError, AttributeError, EOFError, OSError) as exc:
            raise ValueError(f"the data set cannot be rewritten: {exc}") from exc
    meta = filemeta.encode(info.sop_class_uid, info.sop_instance_uid, ts)
    return Prepared(meta + fp.getvalue(), ts, tuple(changed))
