"""Missing Type 1 directory keys: refuse, or (``--invent``) fill them consistently.

PS3.3 F.5 makes Patient ID, Study Date/Time/ID, Study/Series Instance UID, Modality, Series
Number and Instance Number (among others) Type 1 record keys. A file lacking one cannot get a
conformant record. Without ``--invent`` the build is refused naming file and attribute. With it,
values are filled so that the hierarchy stays whole:

1. a value that another instance of the same study (or series) already has is reused, so one
   study is never split across two patients (DCMTK's ``+I`` invents a fresh Patient ID per file
   and does exactly that);
2. otherwise a value is derived from what identifies the entity (a hash of name and birth date
   for a patient, the Study Instance UID for a Study ID, order within the series for an Instance
   Number), so the same input always gets the same invented value.
Every invented value is listed as a finding and written into both the record and the file.
"""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.filereader import read_dataset

from mediatool.dicom.recordkeys import write_pydicom
from mediatool.dicom.uids import derive_uid
from mediatool.findings import Finding, finding
from mediatool.model import InstanceInfo, Level

#: Keyword → InstanceInfo field for the keys the hierarchy itself depends on.
#: VRs of a text a placeholder can honestly fill ("UNKNOWN"); other keys are not invented.
_TEXT_VRS: Final = frozenset({"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_FIELDS: Final = {
    "PatientID": "patient_id",
    "StudyInstanceUID": "study_uid",
    "StudyDate": "study_date",
    "StudyTime": "study_time",
    "StudyID": "study_id",
    "SeriesInstanceUID": "series_uid",
    "Modality": "modality",
    "SeriesNumber": "series_number",
    "InstanceNumber": "instance_number",
}
#: Which entity shares a key, so siblings can supply it (step 1 above).
_SHARED_BY: Final = {
    "PatientID": "study_uid",
    "StudyDate": "study_uid",
    "StudyTime": "study_uid",
    "StudyID": "study_uid",
    "Modality": "series_uid",
    "SeriesNumber": "series_uid",
    "StudyInstanceUID": "series_uid",
}

Patches = dict[str, dict[str, str]]  # SOP Instance UID → {keyword: value}


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:10].upper()


def _sibling_value(
    instances: Sequence[InstanceInfo], keyword: str
) -> Callable[[InstanceInfo], str | None]:
    attr = _FIELDS.get(keyword)
    group_attr = _SHARED_BY.get(keyword)
    if attr is None or group_attr is None:
        return lambda inst: None
    known: dict[str, str] = {}
    for inst in sorted(instances, key=InstanceInfo.sort_key):
        value = getattr(inst, attr)
        group = getattr(inst, group_attr)
        if value and group and group not in known:
            known[group] = value
    return lambda inst: known.get(getattr(inst, group_attr))


def _derived(inst: InstanceInfo, keyword: str, index: dict[str, int]) -> str | None:
    """Step 2: a value derived from what identifies the entity (None: not to be invented)."""
    if keyword == "PatientID":
        return "MT" + _digest(inst.patient_name, inst.birth_date)
    if keyword == "StudyInstanceUID":
        return derive_uid(
            "study",
            inst.patient_id,
            inst.study_date,
            inst.study_time,
            inst.accession,
            inst.study_id,
        )
    if keyword == "SeriesInstanceUID":
        return derive_uid("series", inst.study_uid, inst.modality, inst.series_number)
    if keyword == "StudyID":
        return "MT" + _digest(inst.study_uid)
    if keyword in ("InstanceNumber", "SeriesNumber"):
        return str(index.get(inst.sop_instance_uid, 1))
    if keyword == "Modality":
        return "OT"
    vr = dictionary_VR(keyword)
    if vr == "DA":
        return inst.study_date or "19000101"
    if vr == "TM":
        return inst.study_time or "000000"
    if vr == "DT":
        return (inst.study_date or "19000101") + (inst.study_time or "000000")
    if vr in _TEXT_VRS:
        return "UNKNOWN"
    return None  # a number (Rows, Columns...) or binary: made up, it would mislead a viewer


def _numbering(instances: Sequence[InstanceInfo]) -> tuple[dict[str, int], dict[str, int]]:
    """Instance Number by order in the series, Series Number by order in the study."""
    by_series: dict[str, list[InstanceInfo]] = defaultdict(list)
    by_study: dict[str, list[str]] = defaultdict(list)
    for inst in sorted(instances, key=InstanceInfo.sort_key):
        by_series[inst.series_uid].append(inst)
        if inst.series_uid not in by_study[inst.study_uid]:
            by_study[inst.study_uid].append(inst.series_uid)
    instance_no = {
        inst.sop_instance_uid: n
        for group in by_series.values()
        for n, inst in enumerate(sorted(group, key=lambda i: i.sop_instance_uid), 1)
    }
    series_no = {
        inst.sop_instance_uid: by_study[inst.study_uid].index(inst.series_uid) + 1
        for inst in instances
    }
    return instance_no, series_no


def _patch_blob(blob: bytes, keyword: str, value: str) -> bytes:
    ds = read_dataset(io.BytesIO(blob), False, True)
    tag = tag_for_keyword(keyword)
    assert tag is not None
    ds.add_new(tag, dictionary_VR(keyword), value)
    return write_pydicom(ds)


def fill_missing(
    instances: Sequence[InstanceInfo], *, invent: bool
) -> tuple[list[InstanceInfo], list[Finding], Patches]:
    """Report missing Type 1 keys (error) or invent them (info), returning patched instances."""
    if not any(inst.missing for inst in instances):
        return list(instances), [], {}
    if not invent:
        out = [
            finding(
                "hierarchy.missing-key",
                f"Type 1 key {keyword} of the {_level_name(level, inst)} record is missing "
                "or empty (use --invent to fill it)",
                inst.source.display,
            )
            for inst in instances
            for level, keyword in inst.missing
        ]
        return list(instances), out, {}
    instance_no, series_no = _numbering(instances)
    siblings: dict[str, Callable[[InstanceInfo], str | None]] = {}
    findings: list[Finding] = []
    patches: Patches = {}
    result: list[InstanceInfo] = []
    # Patient ID first: studies and series derive their invented values from it.
    order = {"PatientID": 0, "StudyInstanceUID": 1, "SeriesInstanceUID": 2}
    for inst in instances:
        for level, keyword in sorted(inst.missing, key=lambda m: order.get(m[1], 9)):
            if keyword not in siblings:
                siblings[keyword] = _sibling_value(instances, keyword)
            index = series_no if keyword == "SeriesNumber" else instance_no
            value = siblings[keyword](inst) or _derived(inst, keyword, index)
            if value is None:
                findings.append(_not_invented(inst, level, keyword))
                continue
            keys = list(inst.keys)
            keys[level] = _patch_blob(keys[level], keyword, value)
            changes: dict[str, object] = {"keys": tuple(keys)}
            if keyword in _FIELDS:
                changes[_FIELDS[keyword]] = value
            inst = replace(inst, **changes)  # type: ignore[arg-type]
            patches.setdefault(inst.sop_instance_uid, {})[keyword] = value
            findings.append(
                finding(
                    "hierarchy.invented", f"{keyword} invented as {value!r}", inst.source.display
                )
            )
        result.append(replace(inst, missing=()))
    return result, findings, patches


def _not_invented(inst: InstanceInfo, level: Level, keyword: str) -> Finding:
    return finding(
        "hierarchy.missing-key",
        f"Type 1 key {keyword} of the {_level_name(level, inst)} record is missing or empty, "
        f"and --invent does not make up a {dictionary_VR(keyword)} value (a number or binary "
        "value of the object); leave the file out with --skip-invalid, or ask for it again",
        inst.source.display,
    )


def _level_name(level: Level, inst: InstanceInfo) -> str:
    return inst.record_type or "" if level == Level.LEAF else level.name
