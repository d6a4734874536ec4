"""Directory record keys of one instance, encoded as they go into a Directory Record.

PS3.3 F.5: the keys of each record type (tables in :mod:`mediatool.dicom.recordtypes`, plus the
profile's), copied from the instance in its own character set, Explicit VR Little Endian, with
(0008,0005) in front only when a key needs it. Values that break their VR are normalised when
they are legacy ACR-NEMA dates or times and left out otherwise (:mod:`mediatool.dicom.values`).
Used by :mod:`mediatool.scan` (build) and :mod:`mediatool.build.invent`.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from typing import Any, Final, cast

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag

from mediatool.dicom import values
from mediatool.dicom.elements import header
from mediatool.dicom.headread import tag_key
from mediatool.dicom.recordtypes import CONCEPT_MOD_SEQUENCE_TYPES, Key
from mediatool.model import Level

_CHARSET_TAG: Final = 0x00080005
_CONTENT_SEQUENCE: Final = 0x0040A730
_RELATIONSHIP_TYPE: Final = 0x0040A010
_VERIFICATION_DATETIME: Final = 0x0040A030
_VERIFYING_OBSERVER_SEQUENCE: Final = 0x0040A073


def element_at(ds: Dataset, tag: int) -> RawDataElement | DataElement | None:
    """``ds.get_item(tag)``, without its cost where it returns the element as stored: a raw
    element whose value is not read yet (deferred, or empty of a binary VR) still goes through
    ``get_item``, which reads and converts it. The scan asks for some 40 elements a file, and
    ``get_item`` converting each key was a tenth of its CPU (issue 17)."""
    key = tag_key(tag)  # the data set's own key object, when headread split it
    el: RawDataElement | DataElement | None = ds._dict.get(key)
    if isinstance(el, RawDataElement) and el.value is None:
        found: Any = ds.get_item(key)
        return cast("RawDataElement | DataElement | None", found)
    return el


def raw_text(ds: Dataset, tag: int) -> str:
    el = element_at(ds, tag)
    if el is None or el.value is None:
        return ""
    value = el.value
    if isinstance(value, bytes):
        return value.decode("latin-1").strip(" \x00")
    return str(value).strip(" \x00")


def _concept_mod_items(ds: Dataset) -> DicomSequence | None:
    """Root content items with Relationship Type HAS CONCEPT MOD (PS3.3 F.5.25, F.5.26)."""
    seq: Any = ds.get(_CONTENT_SEQUENCE)
    if seq is None:
        return None
    items = [i for i in seq.value if raw_text(i, _RELATIONSHIP_TYPE) == "HAS CONCEPT MOD"]
    return DicomSequence(items) if items else None


def encode_keys(
    ds: Dataset, keys: Sequence[Key], record_type: str, level: Level
) -> tuple[bytes, list[tuple[Level, str]], list[tuple[str, str]]]:
    """Encode a record's keys Explicit VR LE in the instance's character set.

    (0008,0005) is put in front only when an encoded key needs it (PS3.3 F.5 "1C: required if an
    extended or replacement character set is used in one of the keys"). Type 1 keys that are
    missing or empty are returned as ``missing`` and written empty. A value that breaks its VR
    is normalised when it is a legacy date or time form, else left out (PS3.5 §6.2); both are
    returned as ``notes`` (code, message).
    """
    chosen: list[tuple[int, RawDataElement | DataElement | None, str]] = []
    missing: list[tuple[Level, str]] = []
    notes: list[tuple[str, str]] = []
    for key in keys:
        tag = _tag(key.keyword)
        if tag == _CONTENT_SEQUENCE and record_type in CONCEPT_MOD_SEQUENCE_TYPES:
            items = _concept_mod_items(ds)
            if items is not None:
                chosen.append((tag, DataElement(tag, "SQ", items), "SQ"))
            continue
        el: RawDataElement | DataElement | None = element_at(ds, tag)
        if el is None and tag == _VERIFICATION_DATETIME:
            el = _latest_verification(ds)
        el = _checked(el, key.keyword, notes)
        value = None if el is None else el.value
        vr = (getattr(el, "VR", None) if el is not None else None) or _vr(key.keyword)
        if (
            value is None
            or value in (b"", "")
            # padding counts as empty only in a text: US 32 is the bytes 20 00
            or (isinstance(value, bytes) and vr not in _BINARY and not value.strip(b" \x00"))
        ):
            if key.type == "1" or key.keyword in _ALWAYS_REQUIRED:
                missing.append((level, key.keyword))
            if key.type in ("1", "2"):
                chosen.append((tag, None, _vr(key.keyword)))
            continue
        chosen.append((tag, el, ""))
    body = _encode_elements(chosen, ds)
    charset = ds.get_item(BaseTag(_CHARSET_TAG))
    if charset is not None and (not body.isascii() or b"\x1b" in body):  # a byte > 0x7F or ESC
        body = _encode_elements([(_CHARSET_TAG, charset, ""), *chosen], ds)
    return body, missing, notes


def _checked(
    el: RawDataElement | DataElement | None, keyword: str, notes: list[tuple[str, str]]
) -> RawDataElement | DataElement | None:
    """The element if its value fits its VR, a normalised copy, or None (dropped)."""
    if el is None or el.value is None:
        return el
    vr_name = el.VR or _vr(keyword)
    if vr_name not in values.CHECKED_VRS:
        return el
    value = el.value
    if isinstance(value, bytes):
        text = value.decode("latin-1")
    elif isinstance(value, list | tuple):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    why = values.problem(vr_name, text)
    if why is None:
        return el
    fixed = values.normalise(vr_name, text)
    if fixed is not None:
        notes.append(
            (
                "hierarchy.key-normalised",
                f"{keyword} {text.strip()!r} written as {fixed!r} in the record",
            )
        )
        return DataElement(el.tag, vr_name, fixed)
    notes.append(("hierarchy.key-invalid", f"{keyword}: {why}; left out of the record"))
    return None


def _latest_verification(ds: Dataset) -> DataElement | None:
    """SR records: Verification DateTime is the most recent one of the Verifying Observer
    Sequence (PS3.3 F.5.25, "1C: required if Verification Flag is VERIFIED")."""
    seq: Any = ds.get(_VERIFYING_OBSERVER_SEQUENCE)
    if seq is None:
        return None
    times = [
        str(item.get(_VERIFICATION_DATETIME).value)
        for item in seq.value
        if item.get(_VERIFICATION_DATETIME) is not None
    ]
    return DataElement(_VERIFICATION_DATETIME, "DT", max(times)) if times else None


#: 1C keys that are in practice always required: STUDY records reference no file (F.5.2).
_ALWAYS_REQUIRED: Final = frozenset({"StudyInstanceUID"})
#: VRs whose value is binary: a 0x20 or 0x00 byte there is data, not padding (PS3.5 6.2).
_BINARY: Final = frozenset(
    {"AT", "FD", "FL", "OB", "OD", "OF", "OL", "OV", "OW", "SL", "SS", "SV", "UL", "UN", "US", "UV"}
)


@functools.cache
def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword  # keywords are checked when tables and profiles load
    return int(tag)


@functools.cache
def _vr(keyword: str) -> str:
    return str(dictionary_VR(keyword))


def _encode_elements(
    chosen: Sequence[tuple[int, RawDataElement | DataElement | None, str]], ds: Dataset
) -> bytes:
    """Encode chosen elements Explicit VR Little Endian, in tag order.

    Written by hand for the common case: a raw element read from an Explicit VR Little Endian
    file is already in its final encoding, so its bytes are copied; pydicom would build a
    Dataset and decode and re-encode every value, which was half the cost of a header scan at
    10,000 files. Anything else (sequences, implicit VR or big endian sources) goes through
    pydicom's writer.
    """
    fast = ds.original_encoding == (False, True)
    parts: list[bytes] = []
    for tag, el, vr_name in sorted(chosen, key=lambda c: c[0]):
        if el is None:
            parts.append(header(tag, vr_name.encode("ascii"), 0))
        elif fast and isinstance(el, RawDataElement) and el.VR not in (None, "SQ"):
            raw: bytes = el.value or b""
            parts.append(header(tag, el.VR.encode("ascii"), len(raw)) + raw)
        else:
            out = Dataset()
            charset = ds.get_item(BaseTag(_CHARSET_TAG))
            if charset is not None:
                out[_CHARSET_TAG] = charset
            out[tag] = el
            encoded = write_pydicom(out)
            if charset is not None and tag != _CHARSET_TAG:  # drop the (0008,0005) in front
                encoded = encoded[8 + struct.unpack_from("<H", encoded, 6)[0] :]
            parts.append(encoded)
    return b"".join(parts)


def write_pydicom(ds: Dataset) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_dataset(fp, ds)
    return fp.getvalue()
