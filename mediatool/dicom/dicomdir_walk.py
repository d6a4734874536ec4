"""The walk over a DICOMDIR's bytes behind :func:`mediatool.dicom.dicomdir_read.parse`:
elements, items and the Directory Record Sequence, bounded by :mod:`mediatool.limits`.

After a structural defect (a length that does not fit, an item delimiter without its length, a
missing Item tag) reading resumes at the next Item tag, preferring one an offset points at, so
one defect is one finding (issue 11); where records may have been lost is remembered
(``damage_at``) so that the structure checks can call their echoes echoes.
"""

from __future__ import annotations

import struct
from typing import Final

from mediatool import limits
from mediatool.dicom.dicomdir_raw import (
    LOWER,
    NEXT,
    RECORD_SEQUENCE,
    VR_CODES,
    Element,
    Encoding,
    RawDirectory,
    RawRecord,
)
from mediatool.dicom.elements import LONG_VRS
from mediatool.findings import Finding, finding

_ITEM: Final = 0xFFFEE000
_ITEM_END: Final = 0xFFFEE00D
_SEQ_END: Final = 0xFFFEE0DD
_UNDEFINED: Final = 0xFFFFFFFF
_MAX_DEPTH: Final = 32


class LimitReached(Exception):
    """A limit of :mod:`mediatool.limits` was reached: the rest of the DICOMDIR is not read."""


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class Walker:
    """Element and item walk over ``data`` (bounded, never raises on bad data).

    After a structural defect (a length that does not fit, an item delimiter without its length,
    a missing Item tag) reading resumes at the next Item tag, preferring one that an offset read
    so far points at (PS3.3 F.3.2.2), so that one defect is reported once and the records after
    it are still read: their "unreachable" or "bad offset" would only be echoes of it.
    """

    def __init__(self, data: bytes, enc: Encoding, where: str) -> None:
        self.data = data
        self.enc = enc
        self.where = where
        self.context = where  # the record being read, for the findings' location
        self.findings: list[Finding] = []
        self.counts: dict[str, int] = {}
        self.targets: set[int] = set()  # offsets read so far: where records should start
        self.element_count = 0
        self.record_pos = 0  # the Item tag of the record being read (0: outside the records)
        self.truncated = False  # the end of the data was reported
        self.cut = False  # the record being read is cut off by that end
        self.damage_at: int | None = None
        self._u16 = struct.Struct(enc.endian + "H")
        self._u32 = struct.Struct(enc.endian + "L")
        self._item = struct.pack(enc.endian + "HH", 0xFFFE, 0xE000)

    def report(self, code: str, message: str, where: str | None = None) -> None:
        if code == "dicomdir.truncated":
            self.lose()
            if self.truncated and self.record_pos >= (self.damage_at or 0):
                self.cut = True
                return  # the same end of data, seen again from inside a record
            self.truncated = True
        count = self.counts[code] = self.counts.get(code, 0) + 1
        if count <= limits.FINDINGS_PER_CODE:
            self.findings.append(finding(code, message, where or self.context))

    def lose(self) -> None:
        """Records may be lost from here on (truncation, bytes skipped to resynchronise)."""
        if self.damage_at is None:
            self.damage_at = self.record_pos

    def overflow(self) -> list[Finding]:
        """One finding per code reported more often than listed, with the count."""
        return [
            finding(code, f"{n - limits.FINDINGS_PER_CODE} more like the above", self.where)
            for code, n in self.counts.items()
            if n > limits.FINDINGS_PER_CODE
        ]

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
        if vr in LONG_VRS:
            if pos + 12 > end:
                return None
            if self.data[pos + 6 : pos + 8] != b"\0\0":
                self.report(
                    "dicomdir.reserved-not-zero",
                    f"the 2 reserved bytes of the {vr.decode()} header of {_tag(tag)} at byte "
                    f"{pos} are {self.data[pos + 6 : pos + 8].hex()}, not 0000",
                )
            return tag, vr, int(self._u32.unpack_from(self.data, pos + 8)[0]), 12
        if vr not in VR_CODES:
            return tag, vr, -1, 8
        return tag, vr, int(self._u16.unpack_from(self.data, pos + 6)[0]), 8

    def count(self, pos: int, length: int, end: int) -> None:
        """Count one element against the limits; a value that is really there (not a length
        running past ``end``, reported as such) must not exceed the value limit."""
        self.element_count += 1
        if self.element_count > limits.DICOMDIR_ELEMENT_LIMIT:
            raise LimitReached(
                f"more than {limits.DICOMDIR_ELEMENT_LIMIT} data elements "
                "(limits.DICOMDIR_ELEMENT_LIMIT)"
            )
        if limits.DICOMDIR_VALUE_LIMIT < length <= end - pos and length != _UNDEFINED:
            raise LimitReached(
                f"the element at byte {pos} declares {length} bytes, more than "
                f"{limits.DICOMDIR_VALUE_LIMIT} (limits.DICOMDIR_VALUE_LIMIT)"
            )

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

    def _after_delimiter(self, pos: int, end: int, length: int) -> int:
        """The position after the Item Delimitation Item at ``pos`` (PS3.5 7.5.2: length 0)."""
        if length == 0:
            return pos + 8
        if self._is_boundary(pos + 4, end) and not self._is_boundary(pos + 8, end):
            self.report(
                "dicomdir.bad-length",
                f"the Item Delimitation Item (FFFE,E00D) at byte {pos} lacks its 4-byte length; "
                f"the next item starts at byte {pos + 4}",
            )
            return pos + 4
        self.report(
            "dicomdir.bad-length",
            f"the Item Delimitation Item (FFFE,E00D) at byte {pos} has length {length}, not 0",
        )
        return pos + 8

    def check_order(self, tag: int, last: int, pos: int) -> bool:
        """PS3.5 7.1: ascending tags. False (stop reading the data set) on a repeated tag."""
        if tag > last:
            return True
        if tag == last:
            self.report(
                "dicomdir.element-order",
                f"element {_tag(tag)} at byte {pos} repeats the one before it; the rest of "
                "this data set is not read",
            )
            return False
        self.report(
            "dicomdir.element-order",
            f"element {_tag(tag)} at byte {pos} follows {_tag(last)}: not in ascending order",
        )
        return True

    def elements(
        self, pos: int, end: int, depth: int, *, stop_at_item_end: bool = False
    ) -> tuple[list[Element], int]:
        """Elements from ``pos`` up to ``end`` (or an item delimiter); (elements, next position).

        Stops, without consuming it, at an Item or Sequence Delimitation tag that is not
        expected, so a record whose declared length is too long ends where the next begins.
        """
        out: list[Element] = []
        last = -1
        while pos < end:
            head = self.header(pos, end)
            if head is None:
                self.report("dicomdir.truncated", f"an element at byte {pos} is cut off")
                return out, end
            tag, vr, length, size = head
            if tag == _ITEM_END and stop_at_item_end:
                return out, self._after_delimiter(pos, end, length)
            if tag >> 16 == 0xFFFE:
                return out, self._unexpected_delimiter(pos, stop_at_item_end)
            if length < 0:
                return out, self._invalid_vr(vr, pos, end)
            if not self.check_order(tag, last, pos):
                return out, self._resync(pos, end)
            last = tag
            self.count(pos, length, end)
            start = pos + size
            if length == _UNDEFINED:
                if depth >= _MAX_DEPTH:
                    self.report("dicomdir.bad-length", f"sequences nested too deep at byte {pos}")
                    return out, end
                stop, pos = self.skip_undefined(start, end, depth)
                out.append(Element(tag, vr, self.data[start:stop], start, undefined=True))
                continue
            if start + length > end:
                nxt = self._past_end(tag, pos, start, length, end)
                if not self.cut:
                    out.append(Element(tag, vr, self.data[start : max(start, nxt)], start))
                return out, nxt
            if length % 2:
                self.report(
                    "dicomdir.odd-length",
                    f"element {_tag(tag)} at byte {pos} has the odd length {length}",
                )
            out.append(Element(tag, vr, self.data[start : start + length], start))
            pos = start + length
        if stop_at_item_end:
            self.report("dicomdir.truncated", "an item of undefined length is not closed")
        return out, pos

    def _unexpected_delimiter(self, pos: int, in_undefined_item: bool) -> int:
        """An Item or Sequence Delimitation tag among elements: where the elements end."""
        if in_undefined_item:
            self.report(
                "dicomdir.bad-length",
                f"an item of undefined length ends at byte {pos} without its "
                "(FFFE,E00D) Item Delimitation Item",
            )
        return pos

    def _invalid_vr(self, vr: bytes | None, pos: int, end: int) -> int:
        nxt = self._resync(pos, end)
        self.report(
            "dicomdir.bad-length", f"invalid VR {vr!r} at byte {pos}; reading resumes at byte {nxt}"
        )
        return nxt

    def _past_end(self, tag: int, pos: int, start: int, length: int, end: int) -> int:
        """An element whose length runs past ``end``: where reading resumes."""
        if self.truncated and end == len(self.data):
            self.cut = True  # the end of the data, already reported
            return end
        nxt = self._resync(pos, end)
        self.report(
            "dicomdir.bad-length",
            f"element {_tag(tag)} at byte {pos} declares {length} bytes, only {end - start} "
            "remain" + (f"; reading resumes at byte {nxt}" if nxt < end else ""),
        )
        return nxt

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
                    self.where,
                )
                pos = nxt
                continue
            if len(out) >= limits.DICOMDIR_RECORD_LIMIT:
                raise LimitReached(
                    f"more than {limits.DICOMDIR_RECORD_LIMIT} directory records "
                    "(limits.DICOMDIR_RECORD_LIMIT)"
                )
            length = int(self._u32.unpack_from(self.data, pos + 4)[0])
            self.context = f"{prefix} record {len(out) + 1} @{pos}"
            self.record_pos = pos
            self.cut = False
            if length == _UNDEFINED:
                elements, nxt = self.elements(pos + 8, end, 1, stop_at_item_end=True)
            else:
                elements, nxt = self._defined_item(pos, length, end)
            if self.cut:  # a partial record: the truncation finding says it all
                break
            record = RawRecord(pos, len(out) + 1, {e.tag: e for e in elements}, self.enc, prefix)
            self.targets.update((record.uint(NEXT) or 0, record.uint(LOWER) or 0))
            out.append(record)
            pos = nxt
        self.context = self.where
        return out, pos

    def _defined_item(self, pos: int, length: int, end: int) -> tuple[list[Element], int]:
        """Elements of an item of explicit length; tolerate a length that is wrong.

        The elements are walked up to the next Item tag; if they do not end where the declared
        length says, whichever of the two positions is followed by an Item tag (or the end of
        the sequence) is believed, and the mismatch is reported (dciodvfy: "Bad Explicit Value
        Length for Sequence Item").
        """
        body = pos + 8
        declared = body + length
        mark = len(self.findings), dict(self.counts)
        elements, walked = self.elements(body, end, 1)
        if walked == declared or (self.cut and declared > end):
            return elements, walked
        if self._is_boundary(declared, end):
            del self.findings[mark[0] :]
            self.counts = mark[1]
            elements, _ = self.elements(body, declared, 1)
            nxt = declared
        elif self._is_boundary(walked, end):
            nxt = walked
        else:
            nxt = self._resync(max(walked, body) - 1, end)
        self.report(
            "dicomdir.bad-length",
            f"item at byte {pos} declares {length} bytes but its elements take {walked - body}",
        )
        return elements, nxt

    def _resync(self, pos: int, end: int) -> int:
        """The next Item tag after ``pos`` (or ``end``): recovery after damaged lengths.

        An Item tag that an offset read so far points at is preferred over byte patterns that
        only look like one (inside a value); the search looks at a bounded number of them.
        """
        first = found = self.data.find(self._item, pos + 1, end)
        for _ in range(64):
            if found < 0 or found in self.targets:
                break
            found = self.data.find(self._item, found + 1, end)
        if found >= 0 and found in self.targets:
            if found != first:
                self.lose()  # Item tags skipped: a record may be among them
            return found
        if first < 0:
            self.lose()
            return end
        return first


def read_data_set(walker: Walker, directory: RawDirectory, start: int) -> None:
    """The data set's elements; the Directory Record Sequence read as records."""
    data, end, pos, last = walker.data, len(walker.data), start, -1
    while pos < end:
        head = walker.header(pos, end)
        if head is None:
            walker.report("dicomdir.truncated", f"the data set is cut off at byte {pos}")
            return
        tag, vr, length, size = head
        if tag >> 16 == 0xFFFE or length < 0:
            walker.report("dicomdir.bad-length", f"unexpected tag {_tag(tag)} at byte {pos}")
            return
        if not walker.check_order(tag, last, pos):
            return
        last = tag
        walker.count(pos, length if tag != RECORD_SEQUENCE else 0, end)
        value_start = pos + size
        if tag == RECORD_SEQUENCE:
            pos = _sequence(walker, directory, value_start, length)
            continue
        if length == _UNDEFINED:
            _, pos = walker.skip_undefined(value_start, end, 1)
            continue
        if value_start + length > end:
            walker.report("dicomdir.truncated", f"the element at byte {pos} is cut off")
            return
        directory.top[tag] = Element(tag, vr, data[value_start : value_start + length], value_start)
        if tag in (0x00041200, 0x00041202):
            walker.targets.add(directory.uint(tag) or 0)
        pos = value_start + length


def _sequence(walker: Walker, directory: RawDirectory, value_start: int, length: int) -> int:
    """Read (0004,1220); the position after it."""
    end = len(walker.data)
    directory.has_sequence = True
    if length == _UNDEFINED:
        seq_end = end
    else:
        seq_end = value_start + length
        if seq_end > end:
            walker.report(
                "dicomdir.truncated",
                f"the DICOMDIR ends at byte {end}, inside the (0004,1220) Directory Record "
                f"Sequence, which declares {length} bytes from byte {value_start}",
            )
            seq_end = end
    directory.records, after = walker.records(value_start, seq_end, directory.where)
    return seq_end if length != _UNDEFINED else after
