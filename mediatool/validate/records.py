"""Each Directory Record on its own: directory elements (C06-C09, C13-C15), keys per record type
(D01-D03), character set (D09), Value Representations (D10), icon (D11), ENCAP DOC (D13), and the
uniqueness of PATIENT, STUDY and SERIES records (F05-F07).

Key tables come from :mod:`mediatool.dicom.recordtypes` (PS3.3 F.5, transcribed in dicomdir.md §5),
the same tables the builder writes from. Values are read from the raw bytes where the VR allows
(ASCII VRs) and decoded by pydicom, with the record's own (0008,0005), where text is needed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, cast

from pydicom.datadict import dictionary_VR, get_entry, tag_for_keyword
from pydicom.valuerep import VALIDATORS

from mediatool.dicom.dicomdir_raw import (
    FILE_ID,
    IN_USE,
    LOWER,
    NEXT,
    PRIVATE_UID,
    RECORD_TYPE,
    REF_CLASS,
    REF_INSTANCE,
    REF_TS,
    Element,
    RawDirectory,
    RawRecord,
)
from mediatool.dicom.dicomdir_tree import DirTree
from mediatool.dicom.recordtypes import DEFINED_RECORD_TYPES, RECORD_KEYS, RETIRED_RECORD_TYPES
from mediatool.dicom.values import (
    ASCII_VRS,
    DEFINED_CHARSETS,
    TEXT_VRS,
    UID_PATTERN,
    tag_name,
    text_values,
)
from mediatool.findings import Finding, finding
from mediatool.profiles import Profile
from mediatool.validate.icon import ICON_SEQUENCE, check_icon, icon_form
from mediatool.validate.structure import INSTANCE_TYPES

CHARSET: Final = 0x00080005
#: Checked elsewhere with a more precise code: File IDs (fileids), (0008,0005) (D09).
_NOT_VR_CHECKED: Final = frozenset({CHARSET, FILE_ID})
_TYPE1_DIRECTORY: Final = (NEXT, IN_USE, LOWER, RECORD_TYPE)
_REFERENCES: Final = (REF_CLASS, REF_INSTANCE, REF_TS)
_RETIRED_ELEMENTS: Final = (0x00041504, 0x00041600)
_ENCAPSULATED_DOCUMENT: Final = 0x00420011
_STUDY_UID: Final = 0x0020000D
_UNIQUE_KEYS: Final = {
    "PATIENT": (0x00100020, "record.duplicate-patient"),
    "STUDY": (_STUDY_UID, "record.duplicate-study"),
    "SERIES": (0x0020000E, "record.duplicate-series"),
}


def vr_of(element: Element) -> str | None:
    """The element's VR: as encoded, or from the dictionary in Implicit VR (None if unknown)."""
    if element.vr is not None:
        return element.vr.decode("ascii", "replace")
    try:
        vr = dictionary_VR(element.tag)
    except KeyError:
        return None
    return vr if len(vr) == 2 else None


def _empty(element: Element | None) -> bool:
    return element is None or not element.value.strip(b" \x00")


def _directory_elements(record: RawRecord) -> list[Finding]:
    """C06, C07, C09, C13, C15."""
    out: list[Finding] = []
    where = record.where
    for tag in _TYPE1_DIRECTORY:
        if not record.has(tag):
            out.append(finding("record.missing-element", f"{tag_name(tag)} is absent", where))
    in_use = record.uint(IN_USE)
    if in_use == 0:
        out.append(
            finding(
                "record.inactive",
                "(0004,1410) Record In-use Flag is 0000H (inactive); the record and the records "
                "below it are skipped",
                where,
            )
        )
    elif in_use is not None and in_use != 0xFFFF:
        out.append(
            finding(
                "record.in-use-value",
                f"(0004,1410) Record In-use Flag is {in_use:04X}H; read as FFFFH",
                where,
            )
        )
    rtype = record.record_type or ""
    if (rtype == "PRIVATE") != record.has(PRIVATE_UID):
        what = (
            "absent in a PRIVATE record" if rtype == "PRIVATE" else f"present in a {rtype} record"
        )
        out.append(
            finding("record.private-uid", f"(0004,1432) Private Record UID is {what}", where)
        )
    refs = [t for t in _REFERENCES if record.has(t)]
    if record.has(FILE_ID) and len(refs) < len(_REFERENCES):
        missing = ", ".join(tag_name(t) for t in _REFERENCES if t not in refs)
        out.append(
            finding(
                "record.file-reference",
                f"the record has (0004,1500) Referenced File ID but no {missing}",
                where,
            )
        )
    elif not record.has(FILE_ID) and refs:
        out.append(
            finding(
                "record.file-reference",
                f"the record has {tag_name(refs[0])} but no (0004,1500) Referenced File ID",
                where,
            )
        )
    retired = [tag_name(t) for t in _RETIRED_ELEMENTS if record.has(t)]
    if retired:
        out.append(
            finding("record.retired-element", f"retired {', '.join(retired)} present", where)
        )
    return out


def _private(record: RawRecord, tag: int, element: Element) -> str | None:
    """PS3.5 7.8.1: what is wrong with the private element ``tag``, or None."""
    group, number = tag >> 16, tag & 0xFFFF
    if group in (0x0001, 0x0003, 0x0005, 0x0007, 0xFFFF):
        return f"group {group:04X} may not be used for private elements"
    if 0x0001 <= number <= 0x000F or 0x0100 <= number <= 0x0FFF:
        return "this element number is not allowed in a private group"
    if 0x0010 <= number <= 0x00FF:
        if element.vr not in (None, b"LO"):
            return f"a Private Creator must be LO, not {element.vr.decode('latin-1')}"
        return None
    if number >= 0x1000 and (group << 16 | number >> 8) not in record.elements:
        return f"its Private Creator ({group:04X},00{number >> 8:02X}) is absent"
    return None


@functools.lru_cache(maxsize=4096)
def _in_dictionary(tag: int) -> bool:
    try:
        get_entry(tag)
    except KeyError:
        return False
    return True


def _tags(record: RawRecord) -> list[Finding]:
    """Private elements against PS3.5 7.8.1; standard elements the dictionary lacks (a tag
    damaged by a bit error reads as one: issue 12)."""
    out: list[Finding] = []
    for tag, element in record.elements.items():
        name = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        if tag >> 16 & 1:
            problem = _private(record, tag, element)
            if problem:
                out.append(finding("record.private-element", f"{name}: {problem}", record.where))
            continue
        if tag & 0xFFFF == 0:
            continue  # group length (retired, allowed)
        if not _in_dictionary(tag):
            out.append(
                finding(
                    "record.unknown-element",
                    f"{name} is not a standard data element (not in the PS3.6 dictionary)",
                    record.where,
                )
            )
    return out


def _record_type(record: RawRecord) -> list[Finding]:
    """C08, C14."""
    rtype = record.record_type
    if rtype is None:
        return []
    if rtype in RETIRED_RECORD_TYPES:
        return [finding("record.retired-type", f"record type {rtype!r} is retired", record.where)]
    if rtype not in DEFINED_RECORD_TYPES:
        return [
            finding(
                "record.unknown-type", f"record type {rtype!r} is not a defined term", record.where
            )
        ]
    if rtype in INSTANCE_TYPES and not record.has(FILE_ID):
        return [
            finding(
                "record.no-file-reference",
                f"{rtype} record has no (0004,1500) Referenced File ID",
                record.where,
            )
        ]
    return []


def _keys(record: RawRecord) -> list[Finding]:
    """D01, D02, and the 1C keys whose condition is visible in the record itself (D03)."""
    out: list[Finding] = []
    rtype = record.record_type or ""
    for key in RECORD_KEYS.get(rtype, ()):
        tag = tag_for_keyword(key.keyword)
        if tag is None:
            continue
        element = record.elements.get(tag)
        required1 = key.type == "1" or (
            key.type == "1C" and tag == _STUDY_UID and not record.has(REF_INSTANCE)
        )
        if required1 and _empty(element):
            state = "absent" if element is None else "empty"
            out.append(
                finding(
                    "record.missing-key",
                    f"Type 1 key {tag_name(tag)} is {state} in the {rtype} record",
                    record.where,
                )
            )
        elif key.type == "2" and element is None:
            out.append(
                finding(
                    "record.missing-type2-key",
                    f"Type 2 key {tag_name(tag)} is absent from the {rtype} record",
                    record.where,
                )
            )
    if rtype == "SR DOCUMENT":
        flag = record.text(0x0040A493)
        if flag == "VERIFIED" and _empty(record.elements.get(0x0040A030)):
            out.append(
                finding(
                    "record.missing-conditional-key",
                    "(0040,A030) Verification DateTime is absent although (0040,A493) "
                    "Verification Flag is 'VERIFIED'",
                    record.where,
                )
            )
    if rtype == "ENCAP DOC" and record.has(_ENCAPSULATED_DOCUMENT):
        out.append(
            finding(
                "record.encapsulated-document",
                "the ENCAP DOC record carries (0042,0011) Encapsulated Document",
                record.where,
            )
        )
    return out


def _charset_and_values(record: RawRecord) -> list[Finding]:
    """D09 (character set) and D10 (ASCII Value Representations)."""
    out: list[Finding] = []
    charset = record.elements.get(CHARSET)
    non_ascii: int | None = None
    for element in record.elements.values():
        vr = vr_of(element)
        if (
            vr in TEXT_VRS
            and non_ascii is None
            and any(b > 0x7F or b == 0x1B for b in element.value)
        ):
            non_ascii = element.tag
        elif vr in ASCII_VRS and element.tag not in _NOT_VR_CHECKED:
            out += _check_ascii_value(record, element, vr)
    if charset is not None:
        unknown = [v for v in text_values(charset.value) if v not in DEFINED_CHARSETS]
        if unknown:
            out.append(
                finding(
                    "record.charset-unknown",
                    f"(0008,0005) Specific Character Set value {unknown[0]!r} is not a defined "
                    "term",
                    record.where,
                )
            )
    elif non_ascii is not None:
        out.append(
            finding(
                "record.charset-missing",
                f"{tag_name(non_ascii)} has non-ASCII characters but the record has no "
                "(0008,0005) Specific Character Set",
                record.where,
            )
        )
    return out


def _check_ascii_value(record: RawRecord, element: Element, vr: str) -> list[Finding]:
    if not element.value:
        return []
    bad = _first_invalid(vr, element.value)
    if bad is None:
        return []
    return [
        finding(
            "record.bad-value",
            f"{tag_name(element.tag)} value {bad!r} is not a valid {vr}"
            + (" (its first arc must be 0, 1 or 2)" if vr == "UI" and bad[:1] not in "012" else ""),
            record.where,
        )
    ]


@functools.lru_cache(maxsize=1024)
def _first_invalid(vr: str, raw: bytes) -> str | None:
    """The first value of ``raw`` that is not a valid ``vr``, or None. Cached: the same value
    recurs in many records (SOP Class, Transfer Syntax, Instance Numbers, dates)."""
    validator = cast(Callable[[str, Any], tuple[bool, str]] | None, VALIDATORS.get(vr))
    if validator is None:
        return None
    for value in text_values(raw):
        ok, _ = validator(vr, value)
        if not ok or (vr == "UI" and value and not UID_PATTERN.match(value)):
            return value
    return None


def _duplicates(directory: RawDirectory, tree: DirTree) -> list[Finding]:
    """F05-F07: one PATIENT per Patient ID, one STUDY / SERIES per UID."""
    out: list[Finding] = []
    first: dict[tuple[str, str], RawRecord] = {}
    for i in tree.order:
        record = directory.records[i]
        rtype = record.record_type or ""
        if not tree.active[i] or rtype not in _UNIQUE_KEYS:
            continue
        tag, code = _UNIQUE_KEYS[rtype]
        value = record.text(tag)
        if not value:
            continue
        earlier = first.setdefault((rtype, value), record)
        if earlier is not record:
            out.append(
                finding(
                    code,
                    f"{tag_name(tag)} {value!r} is also in {earlier.where}",
                    record.where,
                )
            )
    return out


def _profile_keys(record: RawRecord, profile: Profile) -> list[Finding]:
    """D04 for the keys a profile makes Type 1 or 2 (those of Type 1C are compared with the
    file: :mod:`mediatool.validate.compare`)."""
    out: list[Finding] = []
    rtype = record.record_type or ""
    for keyword, key_type in profile.key_types.get(rtype, {}).items():
        tag = tag_for_keyword(keyword)
        if tag is None or key_type not in ("1", "2"):
            continue
        element = record.elements.get(tag)
        if element is None or (key_type == "1" and _empty(element)):
            state = "absent" if element is None else "empty"
            out.append(
                finding(
                    "profile.key-missing",
                    f"Type {key_type} key {tag_name(tag)} of {profile.id} is {state} in the "
                    f"{rtype} record",
                    record.where,
                )
            )
    return out


def _profile_icon(record: RawRecord, profile: Profile) -> list[Finding]:
    """D12 (icon size, bits and photometric interpretation) and G07 (icons required)."""
    rule = profile.icons
    rtype = record.record_type or ""
    if rule is None or rtype not in rule.records:
        return []
    if ICON_SEQUENCE not in record.elements:
        if not rule.required:
            return []
        return [
            finding(
                "profile.icon-missing",
                f"{profile.id} requires (0088,0200) Icon Image Sequence in {rtype} records",
                record.where,
            )
        ]
    problems = icon_form(record, rule.size, rule.bits, rule.photometric)
    if not problems:
        return []
    return [
        finding(
            "profile.icon-form",
            f"icon: {'; '.join(problems)} ({profile.id} asks for {rule.size}x{rule.size}, "
            f"{rule.bits} bits, {' or '.join(rule.photometric)})",
            record.where,
        )
    ]


def check_records(
    directory: RawDirectory, tree: DirTree, profile: Profile | None = None
) -> list[Finding]:
    """Every per-record check, on the records that are in use (C06: inactive ones skipped);
    with ``profile``, also its additional keys (D04) and icon rules (D12, G07)."""
    out: list[Finding] = []
    inactive_parent = _inactive_parents(tree)
    for i in tree.order:
        record = directory.records[i]
        if not tree.active[i]:
            if i not in inactive_parent:  # report the inactive record itself, not its subtree
                out += [f for f in _directory_elements(record) if f.code == "record.inactive"]
            continue
        out += _directory_elements(record)
        out += _record_type(record)
        out += _tags(record)
        out += _keys(record)
        out += _charset_and_values(record)
        out += check_icon(record)
        if profile is not None:
            out += _profile_keys(record, profile)
            out += _profile_icon(record, profile)
    out += _duplicates(directory, tree)
    return out


def _inactive_parents(tree: DirTree) -> set[int]:
    """Records below an inactive record (their own flag is not what made them skipped)."""
    below: set[int] = set()
    for i in tree.order:
        parent = tree.parent[i]
        if parent >= 0 and not tree.active[parent]:
            below.add(i)
    return below
