"""Values of the standard: VR checks, the legacy ACR-NEMA date/time rule, element names, values
as text, warning capture and raw data sets.

One checker for both sides (PS3.5 §6.2, §9.1): ``build`` uses :func:`problem` and
:func:`normalise` before copying a key into a record (normalising the legacy ACR-NEMA forms
``YYYY.MM.DD`` and ``HH:MM:SS`` that old archives still export, and dropping what it cannot
repair), ``validate`` uses them on the records it reads (checklist D10), the comparison of a
record with its file and the web pages use :func:`normalise` too.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Final

from pydicom.charset import python_encoding
from pydicom.datadict import dictionary_description
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag

from mediatool.findings import Finding, finding

#: Specific Character Set defined terms (PS3.3 C.12.1.1.2, Tables C.12-2 to C.12-5), as far as
#: pydicom knows them, plus Latin-9 (ISO_IR 203) which pydicom 3.0 lacks. "" stands for the
#: default repertoire (an empty first value of a multi-valued (0008,0005)).
DEFINED_CHARSETS: Final = frozenset(python_encoding) | {"ISO_IR 203", "ISO 2022 IR 203"}
#: Value Representations whose values are text in the record's character set (PS3.5 6.1.2.3).
TEXT_VRS: Final = frozenset({"SH", "LO", "ST", "LT", "PN", "UC", "UT"})
#: Value Representations restricted to the default repertoire, checked from the raw bytes.
ASCII_VRS: Final = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})


def tag_name(tag: int) -> str:
    """``(0010,0010) Patient's Name`` (pydicom's dictionary name; bare tag if unknown)."""
    head = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    try:
        return f"{head} {dictionary_description(tag)}"
    except KeyError:
        return head


@contextmanager
def captured(where: str | None, out: list[Finding]) -> Iterator[None]:
    """Turn pydicom's warnings inside the block into ``read.pydicom-warning`` findings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)  # the GC's, not the file's
        yield
    for w in caught[:10]:
        text = str(w.message).splitlines()[0][:300] if str(w.message) else type(w).__name__
        out.append(finding("read.pydicom-warning", text, where))


def raw_dataset(
    elements: Iterable[tuple[int, str | None, bytes]], implicit: bool, little: bool
) -> Dataset:
    """A Dataset of raw elements (values converted by pydicom on access, charset applied)."""
    return Dataset(
        {
            BaseTag(tag): RawDataElement(
                BaseTag(tag), vr, len(value), value, 0, implicit, little, True
            )
            for tag, vr, value in elements
        }
    )


def text(ds: Dataset, keyword: str) -> str:
    """THE tolerant value → text: the value of ``keyword`` in ``ds`` as shown to a person.

    Absent, empty or undecodable values are ""; several values are joined by backslashes
    (PS3.5 6.4); the character set of ``ds`` is applied. Never raises: a value pydicom cannot
    decode is shown as missing (its warning, if any, is the caller's to capture).
    """
    try:
        value = ds.get(keyword)
    except Exception:  # a value pydicom cannot decode is shown as missing
        return ""
    if value is None:
        return ""
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(str(v) for v in value).strip()
    return str(value).strip()


def text_values(raw: bytes) -> list[str]:
    """The values of an ASCII element (backslash separated, padding removed)."""
    return [v.strip(" \x00") for v in raw.decode("latin-1").strip(" \x00").split("\\")]


_DA: Final = re.compile(r"^\d{8}$")
_TM: Final = re.compile(r"^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$")
_DT: Final = re.compile(r"^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$")
#: PS3.5 9.1: digits and dots, no leading zeros; the first arc is an ISO/IEC 9834-1 root
#: (0 ITU-T, 1 ISO, 2 joint), so "3.1.2" is not a UID (issue 11).
UID_PATTERN: Final = re.compile(r"^[012](\.(0|[1-9]\d*))*$")
_UI: Final = UID_PATTERN
_CS: Final = re.compile(r"^[A-Z0-9_ ]*$")
_IS: Final = re.compile(r"^ *[+-]?\d+ *$")
_DS: Final = re.compile(r"^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$")
_AS: Final = re.compile(r"^\d{3}[DWMY]$")
_LEGACY_DA: Final = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})$")
_LEGACY_TM: Final = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}(?:\.\d{1,6})?))?$")
_MAX_LEN: Final = {
    "CS": 16,
    "UI": 64,
    "IS": 12,
    "DS": 16,
    "DA": 8,
    "TM": 14,
    "DT": 26,
    "AS": 4,
    "SH": 16,
    "LO": 64,
    "AE": 16,
}
_PATTERN: Final = {
    "DA": _DA,
    "TM": _TM,
    "DT": _DT,
    "UI": _UI,
    "CS": _CS,
    "IS": _IS,
    "DS": _DS,
    "AS": _AS,
}
CHECKED_VRS: Final = frozenset(_PATTERN)


def problem(vr: str, value: str) -> str | None:
    """Why ``value`` (one of possibly several backslash-separated values) breaks ``vr``."""
    for part in value.split("\\"):
        part = part.rstrip("\x00 ") if vr != "UI" else part.rstrip("\x00")
        if vr in ("DA", "TM", "DT"):
            part = part.strip()
        if not part:
            continue
        limit = _MAX_LEN.get(vr)
        if limit is not None and len(part) > limit:
            return f"{part!r} is longer than {limit} characters"
        pattern = _PATTERN.get(vr)
        if pattern is not None and not pattern.match(part):
            return f"{part!r} is not a valid {vr} value"
        if vr == "DA" and not ("01" <= part[4:6] <= "12" and "01" <= part[6:8] <= "31"):
            return f"{part!r} is not a valid date"
    return None


def normalise(vr: str, value: str) -> str | None:
    """The PS3.5 form of a legacy ACR-NEMA date or time, or ``None`` if not one.

    THE legacy rule (PS3.5 §6.2, Table 6.2-1, DA and TM notes: "for reasons of backward
    compatibility with versions of this standard prior to V3.0" readers should also accept
    ``yyyy.mm.dd`` and ``hh:mm:ss.frac``): a DA of exactly four, two and two digits joined by
    dots; a TM of two-digit hours and minutes, optionally seconds and a fraction, joined by
    colons. Anything else is not a legacy form (``1:2:3`` is no time at all).
    """
    text = value.strip("\x00 ")
    if vr == "DA" and (m := _LEGACY_DA.match(text)):
        return "".join(m.groups())
    if vr == "TM" and (m := _LEGACY_TM.match(text)):
        return m.group(1) + m.group(2) + (m.group(3) or "")
    return None
