"""Study dates as people type them → DICOM DA matching values (pure, cheap to import)."""

from __future__ import annotations

import datetime
import re
from typing import Final

_DAY: Final = r"(\d{4}-\d{2}-\d{2}|\d{8})"
_RANGE: Final = re.compile(rf"{_DAY}?(-|\.\.)?{_DAY}?")
DATE_HELP: Final = (
    "Study date or range: 2024-03-12 or 20240312; 2024-03-01..2024-03-31 (or the DICOM form "
    "20240301-20240331); -2024-03-12 (up to), 2024-03-01- (from)."
)


def _day(text: str, given: str) -> str:
    compact = text.replace("-", "")
    try:
        datetime.date(int(compact[:4]), int(compact[4:6]), int(compact[6:]))
    except ValueError:
        where = "" if text == given else f" in {given!r}"
        raise ValueError(f"{text!r}{where} is not a calendar date") from None
    return compact


def date_range(text: str) -> str:
    """A study date as people type it → the DICOM DA matching value (PS3.4 C.2.2.2.5).

    ``2024-03-12`` and ``20240312`` → ``20240312``; ``2024-03-01..2024-03-31``,
    ``20240301-20240331`` → ``20240301-20240331``; ``-2024-03-12`` → ``-20240312``;
    ``2024-03-01-`` and ``2024-03-01..`` → ``20240301-``.

    Raises
    ------
    ValueError
        Not one of these forms, or not a calendar date.
    """
    given = text.strip()
    match = _RANGE.fullmatch(given)
    if not given or match is None or (match.group(2) and not (match.group(1) or match.group(3))):
        raise ValueError(f"{text!r} is not a date or date range; {DATE_HELP}")
    start, dash, end = match.groups()
    first = _day(start, given) if start else ""
    last = _day(end, given) if end else ""
    if not dash:
        if start and end:
            raise ValueError(f"{text!r} is not a date or date range; {DATE_HELP}")
        return first or last
    if first and last and first > last:
        raise ValueError(f"the range {text!r} ends before it starts")
    return f"{first}-{last}"
