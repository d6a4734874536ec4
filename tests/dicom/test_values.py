"""dicom/values.py: THE legacy ACR-NEMA date/time rule (PS3.5 §6.2) and the tolerant value->text,
and the places that use the rule (validate's record/file comparison, the web pages)."""

from __future__ import annotations

import warnings

import pytest
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from mediatool.dicom import values
from mediatool.validate.compare import _norm
from mediatool.web.text import format_date, format_time

#: (VR, value, PS3.5 form or None when the value is not a legacy form)
LEGACY: list[tuple[str, str, str | None]] = [
    ("DA", "1997.04.24", "19970424"),
    ("DA", " 1997.04.24 ", "19970424"),
    ("DA", "1997.4.24", None),  # each part has its fixed width
    ("DA", "abcd.ef.gh", None),
    ("DA", "24/04/1997", None),
    ("DA", "19970424", None),  # already PS3.5: nothing to normalise
    ("TM", "14:04:38", "140438"),
    ("TM", "14:04", "1404"),
    ("TM", "14:04:38.25", "140438.25"),
    ("TM", "1:2:3", None),  # not a time: two digits per part
    ("TM", "12:3", None),
    ("TM", "140438", None),
    ("DT", "1997.04.24", None),  # the rule is for DA and TM only
]


@pytest.mark.parametrize(("vr", "value", "expected"), LEGACY)
def test_legacy_rule(vr: str, value: str, expected: str | None) -> None:
    assert values.normalise(vr, value) == expected


@pytest.mark.parametrize(("vr", "value", "expected"), LEGACY[:-1])
def test_record_file_comparison_uses_the_rule(vr: str, value: str, expected: str | None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the legacy form: that is the case
        element = DataElement(0x00080020 if vr == "DA" else 0x00080030, vr, value)
    assert _norm(element) == (expected or value.strip(),)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("19970424", "1997-04-24"),
        ("1997.04.24", "1997-04-24"),
        ("abcd.ef.gh", "abcd.ef.gh"),
        ("", ""),
    ],
)
def test_web_date_uses_the_rule(value: str, shown: str) -> None:
    assert format_date(value) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [("140438", "14:04:38"), ("14:04:38", "14:04:38"), ("14:04", "14:04"), ("1:2:3", "1:2:3")],
)
def test_web_time_uses_the_rule(value: str, shown: str) -> None:
    assert format_time(value) == shown


def test_text_is_tolerant() -> None:
    ds = Dataset()
    ds.PatientName = "Doe^Jane "
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    broken = values.raw_dataset([(0x00200013, "IS", b"not a number")], False, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert values.text(broken, "InstanceNumber") == "not a number"  # shown as written
    broken = values.raw_dataset([(0x00200013, "IS", b"not a number")], False, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydicom then raises: shown as missing, never raises
        assert values.text(broken, "InstanceNumber") == ""
    assert values.text(ds, "PatientName") == "Doe^Jane"
    assert values.text(ds, "ImageType") == "ORIGINAL\\PRIMARY"
    assert values.text(ds, "StudyDate") == ""
    assert values.text(ds, "NotAKeyword") == ""
