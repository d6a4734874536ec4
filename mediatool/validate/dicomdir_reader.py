"""Raw, tolerant parse of a DICOMDIR file: every Directory Record with the position of its Item tag.

The offsets of PS3.3 F.3.2.2 count bytes from the first byte of the file (preamble included) to the
Item tag (FFFE,E000) of a record, so the structure checks need the exact position of every item.
pydicom's reader silently repairs or gives up on exactly the damage we must report (wrong item
lengths, a Big Endian or Implicit VR data set, a truncated file), so the walk is done here, by
hand, bounded by the size of the file: every loop advances, nesting is capped, a length that
points past its container is clipped and reported. The keys of each record become a pydicom
:class:`~pydicom.dataset.Dataset` of raw elements, decoded lazily (with the record's own
(0008,0005), PS3.3 F.5) only when a check asks for a value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from pydicom.dataset import Dataset
from pydicom.valuerep import VR

from mediatool import filemeta
from mediatool.findings import Finding, finding
from mediatool.validate.common import raw_dataset

EXPLICIT_LE: Final = "1.2.840.10008.1.2.1"
IMPLICIT_LE: Final = "1.2.840.10008.1.2"
EXPLICIT_BE: Final = "1.2.840.10008.1.2.2"
_VRS: Final = frozenset(v.value.encode("ascii") for v in VR if len(v.value) == 2)
_LONG_VRS: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_ITEM: Final = 0xFFFEE000
_ITEM_END: Final = 0xFFFEE00D
_SEQ_END: Final = 0xFFFEE0DD
_UNDEFINED: Final = 0xFFFFFFFF
_MAX_DEPTH: Final = 32
RECORD_SEQUENCE: Final = 0x00041220

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

    @property
    def where(self) -> str:
        return f"{self.prefix} record {self.index} @{self.offset}"

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

    def uint(self, tag: int) -> int | None:
        el = self.top.get(tag)
        if el is None or self.encoding is None or len(el.value) not in (2, 4):
            return None
        fmt = self.encoding.endian + ("L" if len(el.value) == 4 else "H")
        return int(struct.unpack(fmt, el.value)[0])

    def text(self, tag: int) -> str | None:
        el = self.top.get(tag)
        return None if el is None else el.value.decode("latin-1").strip(" \x00")


def _sniff(data: bytes, pos: int, declared: str | None) -> Encoding | None:
    """The encoding of the data set starting at ``pos``, from its first element header."""
    if pos + 8 > len(data):
        return None
    le_group = struct.unpack_from("<H", data, pos)[0]
    be_group = struct.unpack_from(">H", data, pos)[0]
    little = declared != EXPLICIT_BE if le_group == be_group else le_group < be_group
    explicit = data[pos + 4 : pos + 6] in _VRS
    return Encoding(implicit=not explicit, little=little)


class _Walker:
    """Element and item walk over ``data`` (bounded, never raises on bad data)."""

    def __init__(self, data: bytes, enc: Encoding, where: str) -> None:
        self.data = data
        self.enc = enc
        self.where = where
        self.findings: list[Finding] = []
        self._u16 = struct.Struct(enc.endian + "H")
        self._u32 = struct.Struct(enc.endian + "L")

    def report(self, code: str, message: str) -> None:
        if len(self.findings) < 50:  # a wrecked file would otherwise give thousands
            self.findings.append(finding(code, message, self.where))

    def tag_at(self, pos: int) -> int:
        group = self._u16.unpack_from(self.data, pos)[0]
        elem = self._u16.unpack_from(self.data, pos + 2)[0]
        return int((group << 16) | elem)

    def header(self, pos: int, end: int) -> tuple[int, bytes | None, int, int] | None:
        """(tag, vr, length, header size) of the element at ``pos``, or None if it won't fit."""
        if pos + 8 > end:
            return None
        tag = self.tag_at(pos)
        if tag >> 16 == 0xFFFE or self.enc.implicit:
            return tag, None, int(self._u32.unpack_from(self.data, pos + 4)[0]), 8
        vr = self.data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            if pos + 12 > end:
                return None
            return tag, vr, int(self._u32.unpack_from(self.data, pos + 8)[0]), 12
        if vr not in _VRS:
            return tag, vr, -1, 8
        return tag, vr, int(self._u16.unpack_from(self.data, pos + 6)[0]), 8

    def skip_undefined(self, pos: int, end: int, depth: int) -> tuple[int, int]:
        """Walk the items of an undefined-length value; (end of content, position after)."""
        while pos + 8 <= end:
            tag = self.tag_at(pos)
            length = int(self._u32.unpack_from(self.data, pos + 4)[0])
            if tag == _SEQ_END:
                return pos, pos + 8
            if tag != _ITEM:
                self.report("dicomdir.bad-length", f"no Item tag at byte {pos} in a sequence")
                return pos, end
            if length == _UNDEFINED:
                _, pos = self.elements(pos + 8, end, depth + 1, stop_at_item_end=True)
            else:
                pos = min(pos + 8 + length, end)
        self.report("dicomdir.truncated", f"a sequence starting before byte {pos} is not closed")
        return end, end

    def elements(
        self, pos: int, end: int, depth: int, *, stop_at_item_end: bool = False
    ) -> tuple[list[Element], int]:
        """Elements from ``pos`` up to ``end`` (or an item delimiter); (elements, next position).

        Stops, without consuming it, at an Item or Sequence Delimitation tag that is not
        expected, so a record whose declared length is too long ends where the next begins.
        """
        out: list[Element] = []
        while pos < end:
            head = self.header(pos, end)
            if head is None:
                self.report("dicomdir.truncated", f"an element at byte {pos} is cut off")
                return out, end
            tag, vr, length, size = head
            if tag == _ITEM_END and stop_at_item_end:
                return out, pos + 8
            if tag >> 16 == 0xFFFE:
                return out, pos
            if length < 0:
                self.report("dicomdir.bad-length", f"invalid VR {vr!r} at byte {pos}")
                return out, end
            start = pos + size
            if length == _UNDEFINED:
                if depth >= _MAX_DEPTH:
                    self.report("dicomdir.bad-length", f"sequences nested too deep at byte {pos}")
                    return out, end
                stop, pos = self.skip_undefined(start, end, depth)
                out.append(Element(tag, vr, self.data[start:stop], start, undefined=True))
                continue
            if start + length > end:
                self.report(
                    "dicomdir.bad-length",
                    f"element ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {pos} declares "
                    f"{length} bytes, only {end - start} remain",
                )
                out.append(Element(tag, vr, self.data[start:end], start))
                return out, end
            out.append(Element(tag, vr, self.data[start : start + length], start))
            pos = start + length
        if stop_at_item_end:
            self.report("dicomdir.truncated", "an item of undefined length is not closed")
        return out, pos

    def _is_boundary(self, pos: int, end: int) -> bool:
        if pos == end:
            return True
        return pos + 4 <= end and self.tag_at(pos) in (_ITEM, _SEQ_END)

    def records(self, pos: int, end: int, prefix: str) -> tuple[list[RawRecord], int]:
        """The items of the Directory Record Sequence in [pos, end); and the position after."""
        out: list[RawRecord] = []
        while pos + 8 <= end:
            tag = self.tag_at(pos)
            if tag == _SEQ_END:
                return out, pos + 8
            if tag != _ITEM:
                nxt = self._resync(pos, end)
                self.report(
                    "dicomdir.bad-length",
                    f"no Item tag at byte {pos} in the Directory Record Sequence"
                    + (f"; reading resumes at byte {nxt}" if nxt < end else ""),
                )
                pos = nxt
                continue
            length = int(self._u32.unpack_from(self.data, pos + 4)[0])
            where = f"{prefix} record {len(out) + 1} @{pos}"
            if length == _UNDEFINED:
                elements, nxt = self.elements(pos + 8, end, 1, stop_at_item_end=True)
            else:
                elements, nxt = self._defined_item(pos, length, end, where)
            out.append(RawRecord(pos, len(out) + 1, {e.tag: e for e in elements}, self.enc, prefix))
            pos = nxt
        return out, pos

    def _defined_item(
        self, pos: int, length: int, end: int, where: str
    ) -> tuple[list[Element], int]:
        """Elements of an item of explicit length; tolerate a length that is wrong.

        The elements are walked up to the next Item tag; if they do not end where the declared
        length says, whichever of the two positions is followed by an Item tag (or the end of
        the sequence) is believed, and the mismatch is reported (dciodvfy: "Bad Explicit Value
        Length for Sequence Item").
        """
        body = pos + 8
        declared = body + length
        mark = len(self.findings)
        elements, walked = self.elements(body, end, 1)
        if walked == declared:
            return elements, walked
        if self._is_boundary(declared, end):
            del self.findings[mark:]
            elements, _ = self.elements(body, declared, 1)
            nxt = declared
        elif self._is_boundary(walked, end):
            nxt = walked
        else:
            nxt = self._resync(max(walked, body) - 1, end)
        self.findings.append(
            finding(
                "dicomdir.bad-length",
                f"item at byte {pos} declares {length} bytes but its elements take {walked - body}",
                where,
            )
        )
        return elements, nxt

    def _resync(self, pos: int, end: int) -> int:
        """The next Item tag after ``pos`` (or ``end``): recovery after damaged lengths."""
        item = struct.pack(self.enc.endian + "HH", 0xFFFE, 0xE000)
        found = self.data.find(item, pos + 1, end)
        return end if found < 0 else found


def parse(data: bytes, where: str = "DICOMDIR") -> RawDirectory:
    """Parse a DICOMDIR file's bytes; facts about damage are in ``findings``. Never raises."""
    meta = filemeta.parse(data)
    start = meta.end if meta.has_prefix else 0
    declared = meta.text(0x00020010) if meta.has_prefix else None
    enc = _sniff(data, start, declared)
    directory = RawDirectory(len(data), meta, enc, where=where)
    if enc is None:
        return directory
    prefix = where
    walker = _Walker(data, enc, where)
    pos = start
    end = len(data)
    while pos < end:
        head = walker.header(pos, end)
        if head is None:
            walker.report("dicomdir.truncated", f"the data set is cut off at byte {pos}")
            break
        tag, vr, length, size = head
        if tag >> 16 == 0xFFFE or length < 0:
            walker.report(
                "dicomdir.bad-length",
                f"unexpected tag ({tag >> 16:04X},{tag & 0xFFFF:04X}) at byte {pos}",
            )
            break
        value_start = pos + size
        if tag == RECORD_SEQUENCE:
            directory.has_sequence = True
            if length == _UNDEFINED:
                seq_end = end
            else:
                seq_end = value_start + length
                if seq_end > end:
                    walker.report(
                        "dicomdir.bad-length",
                        f"(0004,1220) Directory Record Sequence declares {length} bytes, "
                        f"only {end - value_start} remain",
                    )
                    seq_end = end
            directory.records, after = walker.records(value_start, seq_end, prefix)
            pos = seq_end if length != _UNDEFINED else after
            continue
        if length == _UNDEFINED:
            _, pos = walker.skip_undefined(value_start, end, 1)
            continue
        if value_start + length > end:
            walker.report("dicomdir.truncated", f"the element at byte {pos} is cut off")
            break
        directory.top[tag] = Element(tag, vr, data[value_start : value_start + length], value_start)
        pos = value_start + length
    directory.findings = walker.findings
    return directory
