"""Structured Report content tree → readable text (PS3.3 C.17.3 SR Document Content Module).

Each content item becomes a node ``{"label", "value", "children"}`` of plain strings: the
Concept Name's Code Meaning as label and the item's value rendered by its (0040,A040) Value
Type: TEXT, CODE, NUM (value and UCUM unit), DATE/TIME/DATETIME, PNAME, UIDREF, and the
references IMAGE/COMPOSITE/WAVEFORM (kept as the referenced SOP Instance UID so pages can link
the image). CONTAINERs become headings. The same structure feeds the IHE_PDI report page and
the viewer's report panel. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypedDict

from pydicom.dataset import Dataset
from pydicom.uid import UID

from mediatool.web.text import format_date, format_datetime, format_name, format_time

MAX_DEPTH: Final = 40
MAX_ITEMS: Final = 5000
#: Content items left out of the readable text: (121049, DCM) Language of Content Item and
#: Descendants, which only says in which language the rest is written.
_HIDDEN: Final = frozenset({("121049", "DCM")})


class SRNode(TypedDict):
    label: str
    value: str
    ref: str  # referenced SOP Instance UID (IMAGE/COMPOSITE/WAVEFORM), else ""
    children: list[SRNode]


class SRDocument(TypedDict):
    title: str
    meta: list[tuple[str, str]]
    items: list[SRNode]


def _meaning(item: Dataset, keyword: str) -> str:
    seq = item.get(keyword)
    if not seq:
        return ""
    code = seq[0]
    return str(code.get("CodeMeaning", "") or code.get("CodeValue", "")).strip()


def _num(item: Dataset) -> str:
    values = item.get("MeasuredValueSequence")
    if not values:
        return _meaning(item, "NumericValueQualifierCodeSequence") or "(no value)"
    mv = values[0]
    number = str(mv.get("NumericValue", "")).strip()
    unit_seq = mv.get("MeasurementUnitsCodeSequence")
    unit = ""
    if unit_seq:
        code = unit_seq[0]
        unit = str(code.get("CodeValue", "")).strip()
        if unit == "1" or unit.startswith("{"):
            unit = "" if unit == "1" else str(code.get("CodeMeaning", "")).strip()
    return f"{number} {unit}".strip()


def _reference(item: Dataset) -> tuple[str, str]:
    seq = item.get("ReferencedSOPSequence")
    if not seq:
        return "(reference)", ""
    ref = seq[0]
    sop_class = str(ref.get("ReferencedSOPClassUID", ""))
    uid = str(ref.get("ReferencedSOPInstanceUID", ""))
    name = UID(sop_class).name if sop_class else "object"
    frames = ref.get("ReferencedFrameNumber")
    suffix = f", frame {frames}" if frames else ""
    return f"{name}{suffix}", uid


#: Content items whose value is one text (PS3.3 C.17.3.2.1, Value Type).
_TEXTS: dict[str, Callable[[Dataset], str]] = {
    "TEXT": lambda item: str(item.get("TextValue", "")).strip(),
    "CODE": lambda item: _meaning(item, "ConceptCodeSequence"),
    "NUM": lambda item: _num(item),
    "DATE": lambda item: format_date(str(item.get("Date", ""))),
    "TIME": lambda item: format_time(str(item.get("Time", ""))),
    "DATETIME": lambda item: format_datetime(str(item.get("DateTime", ""))),
    "PNAME": lambda item: format_name(item.get("PersonName", "")),
    "UIDREF": lambda item: str(item.get("UID", "")).strip(),
    "CONTAINER": lambda item: "",
}


def _value(item: Dataset) -> tuple[str, str]:
    kind = str(item.get("ValueType", "")).strip().upper()
    if kind in _TEXTS:
        return _TEXTS[kind](item), ""
    if kind in ("IMAGE", "COMPOSITE", "WAVEFORM"):
        return _reference(item)
    if kind in ("SCOORD", "SCOORD3D", "TCOORD"):
        return f"({kind.lower()} coordinates)", ""
    if "ReferencedContentItemIdentifier" in item:
        ids = ".".join(str(v) for v in item.ReferencedContentItemIdentifier)
        return f"(see content item {ids})", ""
    return f"({kind.lower() or 'item'})", ""


def _nodes(items: Any, depth: int, budget: list[int]) -> list[SRNode]:
    nodes: list[SRNode] = []
    if depth > MAX_DEPTH or not items:
        return nodes
    for item in items:
        if budget[0] <= 0:
            nodes.append(SRNode(label="", value="(report truncated)", ref="", children=[]))
            break
        budget[0] -= 1
        names = item.get("ConceptNameCodeSequence")
        if names and (names[0].get("CodeValue"), names[0].get("CodingSchemeDesignator")) in _HIDDEN:
            continue
        value, ref = _value(item)
        nodes.append(
            SRNode(
                label=_meaning(item, "ConceptNameCodeSequence"),
                value=value,
                ref=ref,
                children=_nodes(item.get("ContentSequence"), depth + 1, budget),
            )
        )
    return nodes


def read_document(ds: Dataset) -> SRDocument:
    """Title, status lines and the content tree of an SR (or Key Object Selection) data set."""
    title = _meaning(ds, "ConceptNameCodeSequence") or "Report"
    meta: list[tuple[str, str]] = []
    when = format_date(str(ds.get("ContentDate", "")))
    if when:
        meta.append(("Date", f"{when} {format_time(str(ds.get('ContentTime', '')))}".strip()))
    completion = str(ds.get("CompletionFlag", "")).strip()
    if completion:
        meta.append(("Completion", completion.capitalize()))
    verification = str(ds.get("VerificationFlag", "")).strip()
    if verification:
        meta.append(("Verification", verification.capitalize()))
    for observer in ds.get("VerifyingObserverSequence") or []:
        name = format_name(observer.get("VerifyingObserverName", ""))
        at = format_datetime(str(observer.get("VerificationDateTime", "")))
        org = str(observer.get("VerifyingOrganization", "")).strip()
        meta.append(("Verified by", ", ".join(p for p in (name, org, at) if p)))
    budget = [MAX_ITEMS]
    return SRDocument(title=title, meta=meta, items=_nodes(ds.get("ContentSequence"), 0, budget))


def as_text(document: SRDocument) -> str:
    """The document as indented plain text (tests, and a fallback for tools)."""
    lines = [document["title"], *(f"{k}: {v}" for k, v in document["meta"]), ""]

    def walk(nodes: list[SRNode], indent: int) -> None:
        for node in nodes:
            text = ": ".join(p for p in (node["label"], node["value"]) if p)
            lines.append("  " * indent + text)
            walk(node["children"], indent + 1)

    walk(document["items"], 0)
    return "\n".join(lines) + "\n"
