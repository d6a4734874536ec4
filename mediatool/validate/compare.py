"""A directory record against the file it references (PS3.3 F.3.2.2, F.5): checklist D03-D08,
E18-E21. (The file's own truncation, E23, is :mod:`mediatool.dicom.integrity`, run by the header
scan for build and validate alike.)

Runs inside the header read of :func:`mediatool.scan.scan_stream` (its ``inspect`` hook), in the
worker process that read the file, so no data set ever leaves the worker. Only the record's keys
travel there (:class:`RecordSpec`, a few hundred bytes). Differences found in PATIENT, STUDY and
SERIES records come back as :class:`Diff` values, so the parent can report each once per record
instead of once per file.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, cast

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.uid import UID

from mediatool.dicom.elements import LONG_VRS
from mediatool.dicom.filemeta import RawMeta, is_valid_uid
from mediatool.dicom.recordtypes import record_type_for
from mediatool.dicom.uids import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from mediatool.dicom.values import normalise, raw_dataset, tag_name
from mediatool.findings import Finding, finding

#: Identifiers of the entity levels: a difference is an error (D07), other keys a warning (D08).
IDENTIFIERS: Final = {
    "PATIENT": 0x00100020,
    "STUDY": 0x0020000D,
    "SERIES": 0x0020000E,
}
#: Keys that identify the patient or the object (issue 11): a DICOMDIR-driven viewer shows them,
#: so a record that differs from its file here shows the wrong patient: an error (D07), also in
#: a PATIENT record; the other keys of a parent record differ with a warning (D08).
IDENTIFYING: Final = {
    "PATIENT": frozenset({0x00100020, 0x00100010, 0x00100030, 0x00100040}),
    "STUDY": frozenset({0x0020000D}),
    "SERIES": frozenset({0x0020000E}),
}
_SKIP: Final = frozenset({0x00080005, 0x00880200, 0x0040A730, 0x0040A043})
_REFERENCED_IMAGES: Final = 0x00081140
_RELATED_CLASSES: Final = 0x0008001A
_TRANSFER_SYNTAX: Final = 0x00020010


#: Parent records' keys as Datasets, per worker process (by record location).
_DATASETS: dict[str, tuple[KeySet, Dataset]] = {}


@dataclass(frozen=True, slots=True)
class KeySet:
    """The keys of one directory record, raw, with what is needed to decode them."""

    level: str  # record type
    where: str
    implicit: bool
    little: bool
    elements: tuple[tuple[int, str | None, bytes], ...]

    def dataset(self) -> Dataset:
        """The keys as a Dataset; parents' are kept, since every file below them asks again."""
        if self.level not in IDENTIFIERS:
            return raw_dataset(self.elements, self.implicit, self.little)
        hit = _DATASETS.get(self.where)
        if hit is None or hit[0] is not self:
            if len(_DATASETS) > 4096:
                _DATASETS.clear()
            hit = _DATASETS[self.where] = (
                self,
                raw_dataset(self.elements, self.implicit, self.little),
            )
        return hit[1]


@dataclass(frozen=True, slots=True)
class RecordSpec:
    """What the worker needs to compare an instance record (and its parents) with the file."""

    record_type: str
    ref_class: str | None
    ref_instance: str | None
    ref_ts: str | None
    has_related: bool
    leaf: KeySet
    ancestors: tuple[KeySet, ...]  # PATIENT, STUDY, SERIES (whatever is above the record)
    profile_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()  # record type -> keywords


@dataclass(frozen=True, slots=True)
class Diff:
    """A parent record's key that differs from a file below it (reported once per record)."""

    code: str
    where: str  # the parent record
    message: str


def _norm(element: DataElement, *, as_written: bool = False) -> tuple[str, ...] | bytes:
    """The value normalised for comparison ('1' and '1.0' of IS/DS are equal); with
    ``as_written``, numbers stay as the data set writes them, for messages (issue 11)."""
    value: Any = element.value
    if isinstance(value, bytes):
        return value.rstrip(b" \x00")
    items = list(value) if isinstance(value, (list, MultiValue)) else [value]
    out: list[str] = []
    for item in items:
        text = "" if item is None else str(item).strip(" \x00")
        if element.VR in ("IS", "DS") and not as_written:
            with contextlib.suppress(ValueError):
                text = repr(float(text))
        elif element.VR == "PN":
            text = text.rstrip("^= ")
        elif element.VR in ("DA", "TM"):
            text = normalise(element.VR, text) or text  # PS3.5 6.2: the ACR-NEMA form, same value
        out.append(text)
    while out and out[-1] == "":
        out.pop()
    return tuple(out)


def _shown(value: tuple[str, ...] | bytes) -> str:
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return repr("\\".join(value))


def _value(ds: Dataset, tag: int) -> tuple[str, ...] | bytes | None:
    """Normalised value, or None when absent, empty or unreadable."""
    try:
        element = ds.get(tag)
        if element is None or element.VR == "SQ":
            return None
        value = _norm(element)
    except Exception:  # an undecodable value is reported by the reader as a warning
        return None
    return value or None


def _written(ds: Dataset, tag: int, fallback: tuple[str, ...] | bytes) -> str:
    """A value for a message, as written ('1', not '1.0')."""
    try:
        element = ds.get(tag)
        return _shown(_norm(element, as_written=True)) if element is not None else "absent"
    except Exception:
        return _shown(fallback)


def _raw(ds: Dataset, tag: int) -> bytes | None:
    """The undecoded value bytes, without padding (None once pydicom has converted it)."""
    # fast path, same result: a raw element whose value is read is what get_item returns too
    # (the keys of ``_dict`` are BaseTag, an int; its values are raw until pydicom converts them)
    found = cast("dict[int, object]", ds._dict).get(tag)
    if isinstance(found, RawDataElement) and isinstance(found.value, bytes):
        return found.value.rstrip(b" \x00")
    if found is None:
        return None
    element: object = ds.get_item(tag)  # raw until pydicom converts it (typed as converted)
    if isinstance(element, RawDataElement) and isinstance(element.value, bytes):
        return element.value.rstrip(b" \x00")
    return None


class _Lazy:
    """A record's keys as a Dataset, made on first use."""

    __slots__ = ("_ds", "_keys")

    def __init__(self, keys: KeySet) -> None:
        self._keys = keys
        self._ds: Dataset | None = None

    @property
    def dataset(self) -> Dataset:
        if self._ds is None:
            self._ds = self._keys.dataset()
        return self._ds


def _uid(ds: Dataset, tag: int) -> str | None:
    raw = _raw(ds, tag)
    if raw is not None:
        return raw.decode("latin-1")
    value = ds.get(tag)
    return None if value is None else str(value.value).strip(" \x00")


def _meta_uid(ds: Dataset, meta: RawMeta, tag: int) -> str | None:
    """A File Meta UID as the file has it: from pydicom's read of the File Meta where it read
    one, else (``read_header`` reused the raw parse: ``file_meta`` is empty) from that parse,
    decoded as :func:`_uid` decodes a raw value, the last element of a tag winning as in
    pydicom's read."""
    file_meta = getattr(ds, "file_meta", None)
    if file_meta is not None and len(file_meta):
        return _uid(file_meta, tag)
    for element in reversed(meta.elements):
        if element.tag == tag:
            return element.value.rstrip(b" \x00").decode("latin-1")
    return None


def _transfer_syntax_warning(ds: Dataset, meta: RawMeta) -> None:
    """Where ``read_header`` reused the raw File Meta (``file_meta`` is empty), convert its
    Transfer Syntax UID as :func:`mediatool.dicom.integrity.pixel_truncation` converted it in
    pydicom's own read of the File Meta: an invalid value warns as before (a
    ``read.pydicom-warning`` beside ``meta.bad-uid``). A value valid to
    :func:`~mediatool.dicom.filemeta.is_valid_uid`, which is stricter than pydicom's check, gives
    no warning: not converted (most files; a File Meta Dataset per file costs 20 us)."""
    file_meta = getattr(ds, "file_meta", None)
    if file_meta is not None and len(file_meta):
        return
    element = next((e for e in reversed(meta.elements) if e.tag == _TRANSFER_SYNTAX), None)
    if element is None or is_valid_uid(element.value.decode("ascii", "replace").rstrip("\x00 ")):
        return
    tag = BaseTag(_TRANSFER_SYNTAX)
    header = 12 if element.vr is not None and element.vr.encode() in LONG_VRS else 8
    raw = RawDataElement(
        tag, element.vr, len(element.value), element.value, element.offset + header, False, True
    )
    str(FileMetaDataset({tag: raw}).get("TransferSyntaxUID", ""))


def _references(spec: RecordSpec, ds: Dataset, meta: RawMeta, where: str) -> list[Finding]:
    """E18-E20 and the (0004,151A) condition (D03)."""
    out: list[Finding] = []
    implicit, little = ds.original_encoding
    actual = (
        IMPLICIT_VR_LITTLE_ENDIAN
        if implicit
        else (EXPLICIT_VR_LITTLE_ENDIAN if little is not False else EXPLICIT_VR_BIG_ENDIAN)
    )
    checks = (
        ("file.sop-class-mismatch", "(0004,1510)", spec.ref_class,
         [_meta_uid(ds, meta, 0x00020002), _uid(ds, 0x00080016)]),
        ("file.sop-instance-mismatch", "(0004,1511)", spec.ref_instance,
         [_meta_uid(ds, meta, 0x00020003), _uid(ds, 0x00080018)]),
        ("file.transfer-syntax-mismatch", "(0004,1512)", spec.ref_ts,
         [_meta_uid(ds, meta, 0x00020010) or actual]),
    )  # fmt: skip
    for code, name, recorded, values in checks:
        found = [v for v in values if v]
        if recorded and found and any(v != recorded for v in found):
            out.append(
                finding(
                    code,
                    f"{name} in the record is {recorded!r}, the file has {found[0]!r}"
                    + (f" and {found[1]!r}" if len(found) > 1 and found[1] != found[0] else ""),
                    where,
                )
            )
    related = _value(ds, _RELATED_CLASSES)
    if related and not spec.has_related:
        out.append(
            finding(
                "record.missing-conditional-key",
                "(0004,151A) Referenced Related General SOP Class UID in File is absent "
                "although the file has (0008,001A)",
                where,
            )
        )
    return out


def _record_type(spec: RecordSpec, ds: Dataset, where: str) -> list[Finding]:
    """E21: the record type the file's SOP Class belongs in."""
    sop_class = _uid(ds, 0x00080016) or spec.ref_class or ""
    if not sop_class or spec.record_type == "PRIVATE":
        return []
    expected = record_type_for(sop_class)
    if expected == spec.record_type:
        return []
    name = UID(sop_class).name
    belongs = f"a {expected} record" if expected else "no directory record"
    return [
        finding(
            "file.record-type",
            f"{spec.record_type} record references a {name!r} instance, which belongs in {belongs}",
            where,
        )
    ]


def _keys(
    keys: KeySet, record: _Lazy, file_ds: Dataset, where: str, leaf: bool, diffs: list[Diff]
) -> list[Finding]:
    """D06 for the instance record; D07/D08 (as diffs) for its parents."""
    out: list[Finding] = []
    for tag, _, raw in keys.elements:
        if tag >> 16 == 0x0004 or tag in _SKIP or tag == _REFERENCED_IMAGES:
            continue
        # fast path: identical bytes are identical values (most keys are copied verbatim). The
        # instance record's Dataset is made per file, so its elements are always raw: its bytes
        # are the key's own, and the Dataset is only made when a value has to be decoded.
        mine_raw = raw.rstrip(b" \x00") if leaf else _raw(record.dataset, tag)
        if mine_raw is not None and mine_raw == _raw(file_ds, tag):
            continue
        mine = _value(record.dataset, tag)
        theirs = _value(file_ds, tag)
        if mine is None or theirs is None or mine == theirs:
            continue
        text = (
            f"{tag_name(tag)} is {_written(record.dataset, tag, mine)} in the {keys.level} record"
        )
        theirs_text = _written(file_ds, tag, theirs)
        if leaf:
            out.append(finding("record.key-mismatch", f"{text}, {theirs_text} in the file", where))
        else:
            code = (
                "record.ancestor-mismatch"
                if tag in IDENTIFYING.get(keys.level, ())
                else "record.ancestor-differs"
            )
            diffs.append(Diff(code, keys.where, f"{text} but {theirs_text} in"))
    return out


def _image_refs(ds: Dataset) -> list[tuple[str, str]] | None:
    try:
        seq = ds.get("ReferencedImageSequence")
        if seq is None:
            return None
        return [
            (str(i.get("ReferencedSOPClassUID", "")), str(i.get("ReferencedSOPInstanceUID", "")))
            for i in seq
        ]
    except Exception:
        return None


def _has_value(ds: Dataset, tag: int) -> bool:
    try:
        element: Any = ds.get(tag)
        if element is None:
            return False
        if element.VR == "SQ":
            return len(element.value) > 0
    except Exception:
        return False
    return _value(ds, tag) is not None


def _profile_and_images(
    spec: RecordSpec, leaf: _Lazy, ds: Dataset, where: str, diffs: list[Diff]
) -> list[Finding]:
    """D04 (keys the profile adds, required when the file has a value) and D05."""
    out: list[Finding] = []
    levels = {k.level: k for k in (*spec.ancestors, spec.leaf)}
    for level, keywords in spec.profile_keys:
        keys = levels.get(level)
        if keys is None:
            continue
        present = {tag for tag, _, _ in keys.elements}
        for keyword in keywords:
            tag = tag_for_keyword(keyword)
            if tag is None or tag in present or not _has_value(ds, tag):
                continue
            text = f"{tag_name(tag)} is in the file but not in the {level} record"
            if keys is spec.leaf:
                out.append(finding("profile.key-missing", text, where))
            else:
                diffs.append(Diff("profile.key-missing", keys.where, text + ", e.g. for"))
    has_images = any(tag == _REFERENCED_IMAGES for tag, _, _ in spec.leaf.elements)
    mine = _image_refs(leaf.dataset) if has_images else None
    theirs = _image_refs(ds)
    if mine is not None and theirs is not None and mine != theirs:
        out.append(
            finding(
                "record.referenced-images",
                f"(0008,1140) Referenced Image Sequence has {len(mine)} items in the record and "
                f"{len(theirs)} in the file, or they differ",
                where,
            )
        )
    return out


def element_order(ds: Dataset, where: str) -> list[Finding]:
    """PS3.5 7.1: the data set's elements in ascending tag order (pydicom keeps them in the
    order read, and would silently sort them when writing)."""
    tags = list(cast("dict[int, object]", ds._dict))
    # as plain ints, the comparison stays in C (BaseTag compares in Python)
    numbers = list(map(int, tags))
    if all(map(operator.lt, numbers, numbers[1:])):
        return []
    for before, after in itertools.pairwise(numbers):
        if after <= before:
            return [
                finding(
                    "file.element-order",
                    f"element ({after >> 16:04X},{after & 0xFFFF:04X}) follows "
                    f"({before >> 16:04X},{before & 0xFFFF:04X}): not in ascending tag order",
                    where,
                )
            ]
    return []


def inspect(
    spec: RecordSpec | None,
    size: int,
    where: str,
    diffs: list[Diff],
    ds: Dataset,
    fp: BinaryIO,
    meta: RawMeta,
) -> Sequence[Finding]:
    """The ``inspect`` hook of :func:`mediatool.scan.scan_stream` for one file on the media."""
    # The file's own integrity (E23: truncation) is checked by scan_stream itself, for build
    # and validate alike (mediatool.dicom.integrity).
    _transfer_syntax_warning(ds, meta)
    out: list[Finding] = element_order(ds, where)
    if spec is None:
        return out
    out += _references(spec, ds, meta, where)
    out += _record_type(spec, ds, where)
    leaf = _Lazy(spec.leaf)
    out += _keys(spec.leaf, leaf, ds, where, True, diffs)
    for keys in spec.ancestors:
        out += _keys(keys, _Lazy(keys), ds, where, False, diffs)
    out += _profile_and_images(spec, leaf, ds, where, diffs)
    return out
