"""Value checks for the Value Representations used in directory keys (PS3.5 §6.2, §9.1).

One checker for both sides: ``build`` uses it before copying a key into a record (normalising
the legacy ACR-NEMA forms ``YYYY.MM.DD`` and ``HH:MM:SS`` that old archives still export, and
dropping what it cannot repair), ``validate`` uses it on the records it reads (checklist D10).
"""

from __future__ import annotations

import re
from typing import Final

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
    """The PS3.5 form of a legacy ACR-NEMA date or time, or ``None`` if not one."""
    text = value.strip("\x00 ")
    if vr == "DA" and (m := _LEGACY_DA.match(text)):
        return "".join(m.groups())
    if vr == "TM" and (m := _LEGACY_TM.match(text)):
        return m.group(1) + m.group(2) + (m.group(3) or "")
    return None
