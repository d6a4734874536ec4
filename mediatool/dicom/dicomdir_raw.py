"""A DICOMDIR as found in the file: its records, elements and encoding (PS3.3 F.3, PS3.10 §8.6).

The values the tolerant reader (:mod:`.dicomdir_read`, with the byte walk of
:mod:`.dicomdir_walk`) produces and the validate and import checks consume. No parsing here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from pydicom.dataset import Dataset
from pydicom.valuerep import VR

from mediatool.dicom import filemeta
from mediatool.dicom.uids import (
    EXPLICIT_VR_BIG_ENDIAN,
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
)
from mediatool.dicom.values import raw_dataset
from mediatool.findings import Finding

EXPLICIT_LE: Final = EXPLICIT_VR_LITTLE_ENDIAN
IMPLICIT_LE: Final = IMPLICIT_VR_LITTLE_ENDIAN
EXPLICIT_BE: Final = EXPLICIT_VR_BIG_ENDIAN
VR_CODES: Final = frozenset(v.value.encode("ascii") for v in VR if len(v.value) == 2)
RECORD_SEQUENCE: Final = 0x00041220
#: (0004,1130) File-set ID (PS3.3 F.3.2.1).
FILESET_ID: Final = 0x00041130

# Directory Information elements of a record (PS3.3 Table F.3-3).
NEXT: Final = 0x00041400
IN_USE: Final = 0x00041410
LOWER: Final = 0x00041420
RECORD_TYPE: Final = 0x00041430
PRIVATE_UID: Final = 0x00041432
FILE_ID: Final = 0x00041500
REF_CLASS: Final = 0x00041510
REF_INSTANCE: Final = 0x00041511
REF_TS: Final = 0x00041512
REF_RELATED: Final = 0x0004151A


@dataclass(frozen=True, slots=True)
class Encoding:
    implicit: bool
    little: bool

    @property
    def uid(self) -> str:
        if self.implicit:
            return IMPLICIT_LE
        return EXPLICIT_LE if self.little else EXPLICIT_BE

    @property
    def endian(self) -> str:
        return "<" if self.little else ">"


@dataclass(slots=True)
class Element:
    tag: int
    vr: bytes | None  # None in Implicit VR
    value: bytes
    value_pos: int  # file position of the value
    undefined: bool = False


@dataclass(slots=True)
class RawRecord:
    """One item of the Directory Record Sequence as found in the file."""

    offset: int  # file position of its Item tag (what offsets point at)
    index: int  # 1-based position in the sequence (dciodvfy's [n])
    elements: dict[int, Element]
    encoding: Encoding
    prefix: str = "DICOMDIR"
    #: Which patient/study/series the record belongs to, once the hierarchy is known
    #: (:func:`mediatool.validate.structure.describe`); shown in ``where``.
    context: str = ""

    @property
    def where(self) -> str:
        base = f"{self.prefix} record {self.index} @{self.offset}"
        return f"{base} ({self.context})" if self.context else base

    def has(self, tag: int) -> bool:
        return tag in self.elements

    def uint(self, tag: int) -> int | None:
        """An UL or US value, or ``None`` when absent or not 2/4 bytes long."""
        el = self.elements.get(tag)
        if el is None:
            return None
        if len(el.value) == 4:
            return int(struct.unpack(self.encoding.endian + "L", el.value)[0])
        if len(el.value) == 2:
            return int(struct.unpack(self.encoding.endian + "H", el.value)[0])
        return None

    def text(self, tag: int) -> str | None:
        """An ASCII value (CS, UI) without padding, or ``None`` when absent."""
        el = self.elements.get(tag)
        if el is None:
            return None
        return el.value.decode("latin-1").strip(" \x00")

    @property
    def record_type(self) -> str | None:
        return self.text(RECORD_TYPE)

    @property
    def file_id(self) -> tuple[str, ...] | None:
        """Referenced File ID components (CS, backslash separated; spaces not significant)."""
        value = self.text(FILE_ID)
        if value is None:
            return None
        return tuple(c.strip(" ") for c in value.split("\\"))

    def raw_elements(self) -> list[tuple[int, str | None, bytes]]:
        return [
            (el.tag, el.vr.decode("ascii") if el.vr else None, el.value)
            for el in self.elements.values()
        ]

    def dataset(self) -> Dataset:
        """The record's elements as a pydicom Dataset (values decoded on access)."""
        return raw_dataset(self.raw_elements(), self.encoding.implicit, self.encoding.little)


@dataclass(slots=True)
class RawDirectory:
    """Everything the checks need from the DICOMDIR file."""

    size: int
    meta: filemeta.RawMeta
    encoding: Encoding | None  # as actually found; None if no data set could be read
    top: dict[int, Element] = field(default_factory=dict)  # data set elements except records
    has_sequence: bool = False
    records: list[RawRecord] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    where: str = "DICOMDIR"
    #: The limit (mediatool/limits.py) that stopped the reading; the records are then not
    #: judged (``records`` is empty) and the finding ``dicomdir.limit`` says which limit.
    limit: str | None = None
    #: Position of the first record (or 0: the data set) where the structure is damaged
    #: (bad length, truncation); offsets and records past it only echo that damage.
    damage_at: int | None = None

    def uint(self, tag: int) -> int | None:
        el = self.top.get(tag)
        if el is None or self.encoding is None or len(el.value) not in (2, 4):
            return None
        fmt = self.encoding.endian + ("L" if len(el.value) == 4 else "H")
        return int(struct.unpack(fmt, el.value)[0])

    def text(self, tag: int) -> str | None:
        el = self.top.get(tag)
        return None if el is None else el.value.decode("latin-1").strip(" \x00")
