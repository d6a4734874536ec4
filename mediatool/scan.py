"""Header scan: each input file → :class:`InstanceInfo` (or findings saying why it is skipped).

The only code that reads input headers. It never reads pixel data (``stop_before_pixels``, large
values deferred). pydicom's warnings are captured and become ``read.pydicom-warning`` findings.
Work is spread over processes when there are many files (headers parse at ~0.5 ms each).
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, cast

from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.tag import BaseTag

from mediatool import workers
from mediatool.dicom import filemeta, integrity
from mediatool.dicom.headread import read_header
from mediatool.dicom.recordkeys import element_at, encode_keys, raw_text
from mediatool.dicom.recordtypes import RECORD_KEYS, Key, record_type_for
from mediatool.dicom.uids import (
    DEFLATED,
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    MEDIA_STORAGE_DIRECTORY,
)
from mediatool.findings import Finding, finding
from mediatool.media.zip import ZipMembers
from mediatool.modality_check import check_modality
from mediatool.model import InstanceInfo, Level, PixelInfo, Progress, ScanResult, SourceRef

DICOMDIR_SOP_CLASS: Final = MEDIA_STORAGE_DIRECTORY
_HEAD: Final = 16384
#: Inputs up to this size are read whole and their header parsed from memory: pydicom reads
#: a header element by element, and every ``tell()`` of a file object is a system call. From
#: memory the scan of a 64x64 CT image costs 0.55 instead of 0.8 ms of CPU (issue 17). Larger
#: files (whose pixel data the scan never reads) are parsed from the file.
_IN_MEMORY: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Extra directory keys per record type that a profile asks for (PS3.11), by keyword.

    ``encode_keys=False`` skips encoding the directory record keys (``validate`` compares the
    keys of existing records instead of writing new ones).
    """

    extra_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    encode_keys: bool = True
    #: Type of each extra key ("1", "1C", "2") by record type; absent: written only if present.
    key_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


#: Extra checks run on the data set just read (``validate`` compares a directory record with
#: it), with the File Meta Information as parsed raw (the data set's ``file_meta`` is empty
#: when :func:`~mediatool.dicom.headread.read_header` reused that parse). Called inside the
#: warning capture, with the stream positioned where the header read stopped (the Pixel Data
#: element, if any).
Inspect = Callable[[Dataset, BinaryIO, filemeta.RawMeta], Sequence[Finding]]


def open_source(ref: SourceRef, members: ZipMembers | None = None) -> BinaryIO:
    """Open an input for reading. A zip member is inflated (within the limits of
    :mod:`mediatool.media.zip`, the rules every reader applies) into a seekable stream;
    ``members`` keeps its archives open across calls.

    Raises ``OSError`` when the file or member cannot be read or is refused.
    """
    if ref.member is None:
        return Path(ref.path).open("rb")
    if members is not None:
        return members.open(ref.path, ref.member)
    with ZipMembers() as once:
        return once.open(ref.path, ref.member)


def _size(ref: SourceRef, fp: BinaryIO) -> int:
    fp.seek(0, os.SEEK_END)
    size = fp.tell()
    fp.seek(0)
    return size


def _looks_like_raw_dataset(head: bytes) -> bool:
    """A data set with no preamble starts with a group 0002 or 0008 tag (little endian)."""
    return head[:2] in (b"\x02\x00", b"\x08\x00") and len(head) >= 8


def _text(ds: Dataset, keyword: str) -> str:
    """A decoded value (character set applied), for names and descriptions."""
    tag = tag_for_keyword(keyword)
    raw: RawDataElement | DataElement | None = element_at(ds, tag) if tag is not None else None
    # Fast path, same result: ASCII text without ESC or a value separator decodes the same in
    # every character set (PS3.5 6.1.2.3), so pydicom's conversion can be skipped.
    if (
        isinstance(raw, RawDataElement)
        and isinstance(raw.value, bytes)
        and raw.value.isascii()
        and b"\x1b" not in raw.value
        and b"\\" not in raw.value
    ):
        return raw.value.decode("ascii").strip(" \x00").strip()
    try:
        value = ds.get(keyword)
    except Exception:
        return ""
    return "" if value is None else str(value).strip()


def _encoding_ts(ds: Dataset, meta_ts: str | None) -> str:
    """The Transfer Syntax the data set was actually found in (checklist E16)."""
    implicit, little = ds.original_encoding
    if implicit:
        return IMPLICIT_VR_LITTLE_ENDIAN
    if not little:
        return EXPLICIT_VR_BIG_ENDIAN
    if meta_ts and meta_ts not in (IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN):
        return meta_ts
    return EXPLICIT_VR_LITTLE_ENDIAN


def _level_keys(record_type: str, options: ScanOptions) -> list[tuple[Level, str, list[Key]]]:
    def with_extra(name: str) -> list[Key]:
        base = list(RECORD_KEYS.get(name, ()))
        have = {k.keyword for k in base}
        types = options.key_types.get(name, {})
        base += [
            Key(kw, types.get(kw, "3") if types.get(kw) in ("1", "2") else "3")
            for kw in options.extra_keys.get(name, ())
            if kw not in have
        ]
        return base

    if record_type in ("PATIENT", "STUDY", "SERIES"):
        raise ValueError(record_type)
    return [
        (Level.PATIENT, "PATIENT", with_extra("PATIENT")),
        (Level.STUDY, "STUDY", with_extra("STUDY")),
        (Level.SERIES, "SERIES", with_extra("SERIES")),
        (Level.LEAF, record_type, with_extra(record_type)),
    ]


def scan_one(
    ref: SourceRef, options: ScanOptions, members: ZipMembers | None = None
) -> InstanceInfo | list[Finding]:
    """Read one input's header. Returns the instance, or findings saying why it is skipped.
    ``members``: zip archives kept open between calls (see :func:`open_source`)."""
    try:
        if ref.member is None:
            return _scan_file(ref, options)
        with open_source(ref, members) as fp:
            size = _size(ref, fp)
            if size <= _IN_MEMORY:  # (a read of _IN_MEMORY bytes would allocate them all)
                data = fp.read()
                return scan_stream(io.BytesIO(data), ref, len(data), options)
            return scan_stream(fp, ref, size, options)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        return [finding("source.not-dicom", f"not a DICOM file ({exc})", ref.display)]


def _scan_file(ref: SourceRef, options: ScanOptions) -> InstanceInfo | list[Finding]:
    """A file on disk, opened unbuffered: a small one is read whole in one call (a buffered
    reader would add its own set-up, a terminal check and seeks), a large one read through a
    buffer (pydicom reads element by element). Raises ``OSError`` as :func:`open_source`."""
    with Path(ref.path).open("rb", buffering=0) as raw:
        size = raw.seek(0, os.SEEK_END)
        raw.seek(0)
        if size <= _IN_MEMORY:
            data = raw.readall()
            return scan_stream(io.BytesIO(data), ref, len(data), options)
        with io.BufferedReader(raw) as fp:
            return scan_stream(fp, ref, size, options)


#: What a damaged or hostile data set makes pydicom (or our own checks) raise while it is read.
_PARSE_ERRORS: Final = (
    InvalidDicomError,
    EOFError,
    ValueError,
    KeyError,
    OSError,
    zipfile.BadZipFile,
    NotImplementedError,
    TypeError,
    OverflowError,
    AttributeError,
    IndexError,
    struct.error,
    LookupError,
    RecursionError,
    MemoryError,
    BytesLengthException,
)


def scan_stream(
    fp: BinaryIO,
    ref: SourceRef,
    size: int,
    options: ScanOptions,
    *,
    inspect: Inspect | None = None,
) -> InstanceInfo | list[Finding]:
    """Read the header of the file open as ``fp`` (seekable, at any position).

    ``ref`` names the file in findings and in the result (an input path, or a File ID on
    media). Returns the instance, or findings saying why it is not one.
    """
    where = ref.display
    meta: filemeta.RawMeta | None = None
    try:
        fp.seek(0)
        head = fp.read(_HEAD)
        meta = filemeta.parse(head)
        meta = _complete_meta(fp, meta, size)
        refused = _refused_early(meta, head, where)
        if refused:
            return refused
        fp.seek(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", ResourceWarning)  # the GC's, not the file's
            info, extra = _parse(fp, ref, size, meta, options, inspect)
    except _PARSE_ERRORS as exc:
        if meta is None or not meta.has_prefix:
            return [finding("source.not-dicom", f"not a DICOM file ({exc})", where)]
        return [finding("read.truncated", f"cannot parse the data set: {exc}", where)]
    if isinstance(info, list):
        return info
    extra += [
        finding("read.pydicom-warning", str(w.message).splitlines()[0][:300], where) for w in caught
    ]
    if extra:
        info = _replace_findings(info, info.findings + tuple(extra))
    return info


def _complete_meta(fp: BinaryIO, meta: filemeta.RawMeta, size: int) -> filemeta.RawMeta:
    """The File Meta Information parsed from the first block, read again in full when that
    block cut it short."""
    if meta.truncated and size > _HEAD:
        fp.seek(0)
        return filemeta.parse(fp.read(1 << 20))
    return meta


def _refused_early(meta: filemeta.RawMeta, head: bytes, where: str) -> list[Finding] | None:
    """Why the file is not parsed at all (not DICOM, or a DICOMDIR), or None."""
    if not meta.has_prefix and not _looks_like_raw_dataset(head):
        return [
            finding(
                "source.not-dicom",
                "not a DICOM file (no 'DICM' prefix and no data set at the start)",
                where,
            )
        ]
    if meta.has_prefix and meta.text(0x00020002) == DICOMDIR_SOP_CLASS:
        # not parsed by pydicom: a hostile DICOMDIR may hold millions of records; the
        # DICOMDIR reader of validate reads it within mediatool/limits.py
        return _dicomdir_input(where)
    return None


def _parse(
    fp: BinaryIO,
    ref: SourceRef,
    size: int,
    meta: filemeta.RawMeta,
    options: ScanOptions,
    inspect: Inspect | None,
) -> tuple[InstanceInfo | list[Finding], list[Finding]]:
    """Read the header with pydicom (inside the caller's warning capture) and describe it;
    the integrity and ``inspect`` findings come second."""
    where = ref.display
    ds = read_header(fp, meta, size)
    too_long = integrity.element_lengths(ds, where)
    if too_long:
        return too_long, []
    extra = integrity.check(ds, fp, size, where)
    if inspect is not None:
        extra += inspect(ds, fp, meta)
    return _describe(ref, size, meta, ds, options), extra


def _dicomdir_input(where: str) -> list[Finding]:
    return [
        finding(
            "read.dicomdir-input",
            "a DICOMDIR among the inputs is not copied; a new one is written",
            where,
        )
    ]


def _replace_findings(info: InstanceInfo, findings: tuple[Finding, ...]) -> InstanceInfo:
    from dataclasses import replace

    return replace(info, findings=findings)


def _identity(ds: Dataset, meta: filemeta.RawMeta, where: str) -> tuple[str, str] | list[Finding]:
    """(SOP Class UID, SOP Instance UID) from the data set or the File Meta, or why the file is
    not an instance mediatool can place."""
    sop_class = raw_text(ds, 0x00080016) or (meta.text(0x00020002) or "")
    sop_instance = raw_text(ds, 0x00080018) or (meta.text(0x00020003) or "")
    if sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
        return _dicomdir_input(where)
    if sop_class and sop_instance:
        return sop_class, sop_instance
    if not meta.has_prefix:
        return [
            finding(
                "source.not-dicom",
                "no SOP Class UID or SOP Instance UID: not a DICOM instance",
                where,
            )
        ]
    return [
        finding(
            "read.missing-identifier",
            "(0008,0016) SOP Class UID or (0008,0018) SOP Instance UID is missing",
            where,
        )
    ]


def _encoding_findings(
    ds: Dataset, meta: filemeta.RawMeta, uids: tuple[str, str], encoding: str, where: str
) -> tuple[list[Finding], bool]:
    """File Meta and modality findings, and whether group 0002 sits inside the data set."""
    findings = filemeta.check(
        meta,
        sop_class_uid=uids[0],
        sop_instance_uid=uids[1],
        encoding_ts=encoding,
        where=where,
    )
    # plain ints: BaseTag's comparisons are Python functions (40 calls a file)
    group2 = min(map(int, ds._dict), default=0xFFFFFFFF) <= 0x0002FFFF
    if group2:
        findings.append(
            finding(
                "meta.group-in-dataset",
                "group 0002 elements inside the data set; they are not copied",
                where,
            )
        )
    findings += check_modality(uids[0], raw_text(ds, 0x00080060), where)
    return findings, group2


def _record_keys(
    ds: Dataset, record_type: str | None, options: ScanOptions, where: str
) -> tuple[tuple[bytes, bytes, bytes, bytes], list[tuple[Level, str]], list[Finding]]:
    """The encoded directory record keys per level, the keys missing, and notes about them."""
    blobs: list[bytes] = [b"", b"", b"", b""]
    missing: list[tuple[Level, str]] = []
    findings: list[Finding] = []
    if record_type is not None and options.encode_keys:
        for level, rtype, keys in _level_keys(record_type, options):
            blobs[level], miss, notes = encode_keys(ds, keys, rtype, level)
            missing += miss
            findings += [finding(code, message, where) for code, message in notes]
    return (blobs[0], blobs[1], blobs[2], blobs[3]), missing, findings


def _describe(
    ref: SourceRef, size: int, meta: filemeta.RawMeta, ds: Dataset, options: ScanOptions
) -> InstanceInfo | list[Finding]:
    where = ref.display
    uids = _identity(ds, meta, where)
    if isinstance(uids, list):
        return uids
    record_type = record_type_for(uids[0])
    meta_ts = meta.text(0x00020010) if meta.has_prefix else None
    encoding = _encoding_ts(ds, meta_ts)
    findings, group2 = _encoding_findings(ds, meta, uids, encoding, where)
    keys, missing, notes = _record_keys(ds, record_type, options, where)
    needs_reencode = (
        encoding in (IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED)
        or not meta.has_prefix
        or group2
        or (meta_ts is not None and meta_ts != encoding)
    )
    return InstanceInfo(
        source=ref,
        size=size,
        sop_class_uid=uids[0],
        sop_instance_uid=uids[1],
        transfer_syntax=encoding,
        dataset_offset=meta.end if meta.has_prefix else 0,
        record_type=record_type,
        patient_id=raw_text(ds, 0x00100020),
        patient_name=_text(ds, "PatientName"),
        birth_date=raw_text(ds, 0x00100030),
        sex=raw_text(ds, 0x00100040),
        study_uid=raw_text(ds, 0x0020000D),
        study_date=raw_text(ds, 0x00080020),
        study_time=raw_text(ds, 0x00080030),
        study_id=raw_text(ds, 0x00200010),
        accession=raw_text(ds, 0x00080050),
        study_description=_text(ds, "StudyDescription"),
        series_uid=raw_text(ds, 0x0020000E),
        modality=raw_text(ds, 0x00080060),
        series_number=raw_text(ds, 0x00200011),
        series_description=_text(ds, "SeriesDescription"),
        instance_number=raw_text(ds, 0x00200013),
        related_general_sop_classes=raw_text(ds, 0x0008001A),
        keys=keys,
        missing=tuple(missing),
        needs_reencode=needs_reencode,
        findings=tuple(findings + notes),
        pixel=_pixel_info(ds),
    )


#: Image Pixel Module elements read as numbers: tag → True when the VR is US (binary), False
#: when IS (text). Read from the raw bytes: ``Dataset.get`` converts and validates every value,
#: which cost 0.15 ms a file (a fifth of a header scan).
_PIXEL_NUMBERS: Final = {
    "Rows": (0x00280010, True),
    "Columns": (0x00280011, True),
    "BitsAllocated": (0x00280100, True),
    "BitsStored": (0x00280101, True),
    "PixelRepresentation": (0x00280103, True),
    "SamplesPerPixel": (0x00280002, True),
    "NumberOfFrames": (0x00280008, False),
}


def _int(ds: Dataset, keyword: str, default: int) -> int:
    tag, binary = _PIXEL_NUMBERS[keyword]
    el = element_at(ds, tag)
    value = None if el is None else el.value
    try:
        if isinstance(value, bytes):
            if not value.strip(b" \x00"):
                return default
            if binary:
                order = "<" if ds.original_encoding[1] is not False else ">"
                return int(struct.unpack(order + "H", value[:2])[0])
            return int(value.decode("latin-1").strip(" \x00"))
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError, struct.error):
        return default


def _pixel_info(ds: Dataset) -> PixelInfo | None:
    """Image Pixel Module values (PS3.3 C.7.6.3) when the object has Rows and Columns."""
    elements = cast("dict[int, object]", ds._dict)  # what ``in ds`` looks in, without Tag()
    if _ROWS not in elements or _COLUMNS not in elements:
        return None
    rows, columns = _int(ds, "Rows", 0), _int(ds, "Columns", 0)
    if rows <= 0 or columns <= 0:
        return None
    allocated = _int(ds, "BitsAllocated", 16)
    return PixelInfo(
        rows=rows,
        columns=columns,
        frames=max(_int(ds, "NumberOfFrames", 1), 1),
        samples_per_pixel=_int(ds, "SamplesPerPixel", 1),
        bits_allocated=allocated,
        bits_stored=_int(ds, "BitsStored", allocated),
        pixel_representation=_int(ds, "PixelRepresentation", 0),
        photometric=raw_text(ds, 0x00280004).upper(),
    )


_ROWS: Final = BaseTag(0x00280010)
_COLUMNS: Final = BaseTag(0x00280011)


def _scan_chunk(
    args: tuple[Sequence[SourceRef], ScanOptions],
) -> list[InstanceInfo | list[Finding]]:
    refs, options = args
    with ZipMembers() as members:  # each archive of the chunk opened once
        return [scan_one(ref, options, members) for ref in refs]


def scan_all(
    refs: Sequence[SourceRef],
    options: ScanOptions,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Scan every source; results keep the order of ``refs`` (determinism)."""
    jobs = jobs or min(os.cpu_count() or 1, 8)
    chunk = 64
    batches = [refs[i : i + chunk] for i in range(0, len(refs), chunk)]
    results: list[InstanceInfo | list[Finding]] = []

    def consume(done: Iterable[list[InstanceInfo | list[Finding]]]) -> None:
        for batch in done:
            results.extend(batch)
            if progress:
                progress(len(results), len(refs), "reading headers")

    if jobs == 1 or len(refs) < workers.POOL_MIN_FILES:
        consume(_scan_chunk((batch, options)) for batch in batches)
    else:
        with workers.pool(jobs) as pool:
            consume(pool.map(_scan_chunk, [(batch, options) for batch in batches]))
    instances = tuple(r for r in results if isinstance(r, InstanceInfo))
    findings = tuple(f for r in results if isinstance(r, list) for f in r)
    return ScanResult(instances, findings, len(refs))
