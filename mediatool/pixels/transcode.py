"""Rewrite one instance's data set in another Transfer Syntax (full read; the slow path).

Native re-encoding (Implicit VR, Big Endian, Deflated → Explicit VR Little Endian), decoding
compressed pixel data through pydicom's pixel plugins (pylibjpeg, openjpeg, rle), encoding it in
the syntax a profile asks for (:mod:`mediatool.pixels.codecs`), and the icon of the directory
record (:mod:`mediatool.pixels.icons`) from the decoded pixels. Lossy compression makes a derived
instance by the rules of PS3.3 C.7.6.1.1.5 and C.7.6.16 (see :func:`mark_lossy`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import UID

from mediatool.dicom import filemeta
from mediatool.dicom.uids import EXPLICIT_VR_LITTLE_ENDIAN, LOSSY_METHOD, NATIVE, is_lossy
from mediatool.pixels import codecs, icons

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


@dataclass(frozen=True, slots=True)
class Converted:
    data: bytes  # the Part 10 file
    sop_class_uid: str
    sop_instance_uid: str
    icon: bytes | None = None  # encoded (0088,0200), when asked for and possible
    icon_error: str | None = None
    ratio: float | None = None  # compression ratio achieved, when encoded


#: (0040,A170) Purpose of Reference of the Source Image Sequence item of a lossy derived image.
_UNCOMPRESSED_PREDECESSOR: Final = ("121320", "DCM", "Uncompressed predecessor")


def _multi(ds: Dataset, keyword: str) -> list[str]:
    value: Any = ds.get(keyword)
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes | float | int):
        return [str(value)]
    return [str(v) for v in value]


def mark_lossy(ds: Dataset, *, new_uid: str, ratio: float, target_ts: str) -> None:
    """Make ``ds`` the lossy derived image of itself (PS3.3 C.7.6.1.1.5, C.7.6.16.2.6, C.7.6.1.1.2).

    New SOP Instance UID; (0028,2110) "01"; the ratio and method appended to (0028,2112) and
    (0028,2114) (their history is kept in order); (0008,2111) Derivation Description; the
    original referenced in (0008,2112) Source Image Sequence as "Uncompressed predecessor"
    (DCM 121320); value 1 of (0008,0008) Image Type becomes DERIVED.
    """
    from pydicom.sequence import Sequence as DicomSequence

    old_uid, sop_class = str(ds.SOPInstanceUID), str(ds.SOPClassUID)
    ds.SOPInstanceUID = new_uid
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = [*_multi(ds, "LossyImageCompressionRatio"), f"{ratio:.2f}"]
    ds.LossyImageCompressionMethod = [
        *_multi(ds, "LossyImageCompressionMethod"),
        LOSSY_METHOD[target_ts],
    ]
    note = f"Lossy compression {UID(target_ts).name}, ratio {ratio:.2f}:1 (mediatool)"
    earlier = str(ds.get("DerivationDescription", "") or "")
    ds.DerivationDescription = f"{earlier}; {note}"[-1024:] if earlier else note
    purpose = Dataset()
    purpose.CodeValue, purpose.CodingSchemeDesignator, purpose.CodeMeaning = (
        _UNCOMPRESSED_PREDECESSOR
    )
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = old_uid
    item.PurposeOfReferenceCodeSequence = DicomSequence([purpose])
    existing = list(ds.get("SourceImageSequence") or [])
    ds.SourceImageSequence = DicomSequence([*existing, item])
    image_type = _multi(ds, "ImageType")
    ds.ImageType = ["DERIVED", *image_type[1:]] if image_type else ["DERIVED", "SECONDARY"]


def read(data: bytes, source_ts: str = "") -> Dataset:
    """The data set of a Part 10 file, or of a raw data set (no File Meta Information): that one
    gets the Transfer Syntax the scan found (``source_ts``), else its pixel data is undecodable."""
    from pydicom.dataset import FileMetaDataset

    ds = dcmread(io.BytesIO(data), force=True)
    if source_ts and "TransferSyntaxUID" not in getattr(ds, "file_meta", ()):
        if not hasattr(ds, "file_meta"):
            ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = UID(source_ts)
    return ds


def _native_little_endian(ds: Dataset) -> None:
    """Byte-swap a Big Endian data set and record it as Little Endian (for pixel decoding)."""
    _to_little_endian(ds)
    ds.set_original_encoding(False, True, ds.original_character_set)
    if hasattr(ds, "file_meta"):
        ds.file_meta.TransferSyntaxUID = UID(EXPLICIT_VR_LITTLE_ENDIAN)


def convert(
    data: bytes,
    *,
    source_ts: str,
    target_ts: str,
    patches: Mapping[str, str] | None = None,
    new_uid: str | None = None,
    icon_size: int | None = None,
) -> Converted:
    """Read a Part 10 file (or raw data set) and write it in ``target_ts``.

    Compressed input is decoded; a compressed ``target_ts`` is encoded (with loss only when
    ``new_uid`` is given: the derived image gets it); ``icon_size`` also makes the record's
    icon from the decoded pixels. Raises on pixel data no decoder or encoder accepts.
    """
    ds = read(data, source_ts)
    if source_ts not in NATIVE:
        ds.decompress(generate_instance_uid=False)  # same instance, another encoding
        if is_lossy(source_ts) and str(ds.get("LossyImageCompression", "")) != "01":
            ds.LossyImageCompression = "01"  # C.7.6.1.1.5: once lossy, always marked so
    elif not ds.original_encoding[1]:  # read as big endian
        _native_little_endian(ds)
    icon = icon_error = None
    if icon_size is not None:
        try:
            icon = icons.make_icon(ds, icon_size)
        except Exception as exc:
            icon_error = icons.failure(exc)
    ratio = None
    if target_ts not in NATIVE:
        ratio = codecs.compress(ds, target_ts)
        if new_uid is not None:
            mark_lossy(ds, new_uid=new_uid, ratio=ratio, target_ts=target_ts)
    content, sop_class, sop_instance = _write(ds, target_ts, patches)
    return Converted(content, sop_class, sop_instance, icon, icon_error, ratio)


def _write(
    ds: Dataset, target_ts: str, patches: Mapping[str, str] | None
) -> tuple[bytes, str, str]:
    del ds[0x00020000:0x00030000]  # group 0002 belongs in the meta only (PS3.10 §7.1)
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
    return _write(ds, target_ts, patches)
