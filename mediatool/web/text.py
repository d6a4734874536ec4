"""Display forms of DICOM values: person names (PS3.5 6.2 PN), dates (DA), times (TM), and an
ASCII transliteration for README.TXT and the disc label. Pure; no HTML here (the templates
escape)."""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from mediatool.dicom.values import normalise

_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_SPECIAL: Final = str.maketrans(
    {
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Ø": "O",
        "ø": "o",
        "Œ": "OE",
        "œ": "oe",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Ð": "D",
        "ð": "d",
        "Þ": "Th",
        "þ": "th",
        "ı": "i",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "·": "-",
        "—": "-",
    }
)
_SEX: Final = {"M": "Male", "F": "Female", "O": "Other"}


def _group(group: str, ideographic: bool = False) -> str:
    parts = [p.strip() for p in group.split("^")]
    parts += [""] * (5 - len(parts))
    family, given, middle, prefix, suffix = parts[:5]
    if ideographic:
        return " ".join(p for p in (family, given, middle) if p)
    first = " ".join(p for p in (prefix, given, middle) if p)
    head = ", ".join(p for p in (family, first) if p)
    return f"{head}, {suffix}" if suffix and head else head or suffix


def format_name(value: Any) -> str:
    """``Family^Given^Middle^Prefix^Suffix`` (``=``-separated representations) → readable.

    ``Yamada^Tarou=山田^太郎=やまだ^たろう`` → ``Yamada, Tarou (山田 太郎)``.
    """
    text = str(value or "").strip()
    if not text:
        return ""
    groups = text.split("=")
    alphabetic = _group(groups[0])
    others = [_group(g, ideographic=True) for g in groups[1:2] if g.strip()]
    if alphabetic and others:
        return f"{alphabetic} ({others[0]})"
    return alphabetic or (others[0] if others else "")


def alphabetic_name(value: Any) -> str:
    """The alphabetic representation only (for ASCII outputs)."""
    text = str(value or "").strip()
    first = text.split("=")[0]
    return _group(first) if first.strip() else format_name(text)


def local_date(value: str, language: str = "en") -> str:
    """:func:`format_date`, or ``DD/MM/YYYY`` in ``pt-BR`` (how a Brazilian reader writes it)."""
    shown = format_date(value)
    if language == "pt-BR" and len(shown) == 10 and shown[4] == shown[7] == "-":
        return f"{shown[8:]}/{shown[5:7]}/{shown[:4]}"
    return shown


def format_date(value: str) -> str:
    """DA ``YYYYMMDD`` → ``YYYY-MM-DD``; anything else is returned as given (stripped)."""
    v = (value or "").strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    legacy = normalise("DA", v)  # the ACR-NEMA form yyyy.mm.dd (PS3.5 6.2)
    return f"{legacy[:4]}-{legacy[4:6]}-{legacy[6:]}" if legacy else v


_MONTHS_PT: Final = (
    "jan",
    "fev",
    "mar",
    "abr",
    "mai",
    "jun",
    "jul",
    "ago",
    "set",
    "out",
    "nov",
    "dez",
)


def long_date(value: str, language: str = "en") -> str:
    """DA → ``12 Mar 2024`` (``12 mar 2024`` in ``pt-BR``): the disc label, where a reader may
    not expect ISO order."""
    v = (value or "").strip()
    if len(v) == 8 and v.isdigit() and 1 <= int(v[4:6]) <= 12:
        months = _MONTHS_PT if language == "pt-BR" else _MONTHS
        return f"{int(v[6:])} {months[int(v[4:6]) - 1]} {v[:4]}"
    return format_date(v)


def format_time(value: str) -> str:
    """TM ``HHMMSS.FFFFFF`` → ``HH:MM[:SS]``."""
    v = (value or "").strip()
    v = (normalise("TM", v) or v).split(".")[0]  # the ACR-NEMA form hh:mm:ss (PS3.5 6.2)
    if not v.isdigit() or len(v) < 2:
        return (value or "").strip()
    parts = [v[i : i + 2] for i in range(0, min(len(v), 6), 2)]
    return ":".join(parts) if len(parts) > 1 else f"{parts[0]}:00"


def format_datetime(value: str) -> str:
    v = (value or "").strip()
    if len(v) >= 8 and v[:8].isdigit():
        rest = v[8:].split("+")[0].split("-")[0]
        return f"{format_date(v[:8])} {format_time(rest)}".strip()
    return v


def format_sex(value: str) -> str:
    return _SEX.get((value or "").strip().upper(), (value or "").strip())


def to_ascii(text: str) -> str:
    """Transliterate to printable ASCII (Latin diacritics dropped; others become ``?``)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    out = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        if 32 <= ord(ch) < 127:
            out.append(ch)
        elif ch in "\t\n":
            out.append(" ")
        else:
            out.append("?")
    return "".join(out)
