"""IRWF reconciliation on data sets (pure): which attributes change, and what is recorded."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from factories import make_instance
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence as DicomSequence

from mediatool.importer.reconcile import Coercion, LocalIdentity, coerce, stamp

CLOCK = dt.datetime(2024, 4, 2, 9, 30, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
STAMP = "20240402093000.123456+0200"


def _coercion(**identity: str | None) -> Coercion:
    values = {"patient_id": "LOC1", "issuer": "HOSP"} | identity
    return Coercion(
        identity=LocalIdentity(**values),  # type: ignore[arg-type]
        modifying_system="mediatool test",
        stamp=STAMP,
    )


def _roundtrip(ds: Dataset) -> Dataset:
    """Encode and decode again: what a reader of the written file sees."""
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    return dcmread(io.BytesIO(fp.getvalue()), force=True)


def test_stamp_is_a_dt_value_with_offset() -> None:
    assert stamp(lambda: CLOCK) == STAMP
    assert stamp(lambda: CLOCK.replace(tzinfo=None)) == "20240402093000.123456"


def test_patient_identity_is_coerced_and_the_old_values_kept() -> None:
    ds = make_instance(1, IssuerOfPatientID="FOREIGN", InstitutionName="St Elsewhere")
    uids = (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
    changed = coerce(ds, _coercion(name="Local^Name", birth_date="19700102", sex="F"))
    ds = _roundtrip(ds)
    assert changed == sorted(
        ["PatientID", "IssuerOfPatientID", "PatientName", "PatientBirthDate", "PatientSex"]
    )
    assert (ds.PatientID, ds.IssuerOfPatientID, str(ds.PatientName)) == (
        "LOC1",
        "HOSP",
        "Local^Name",
    )
    assert (ds.PatientBirthDate, ds.PatientSex) == ("19700102", "F")
    # UIDs never change (references on the same medium stay valid)
    assert (ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID) == uids
    # (0010,1002) Other Patient IDs Sequence: the foreign ID, its issuer, Type of Patient ID
    [other] = ds.OtherPatientIDsSequence
    assert (other.PatientID, other.IssuerOfPatientID, other.TypeOfPatientID) == (
        "PID0001",
        "FOREIGN",
        "TEXT",
    )
    # (0400,0561) Original Attributes Sequence, PS3.3 C.12.1
    [original] = ds.OriginalAttributesSequence
    assert original.ReasonForTheAttributeModification == "COERCE"
    assert original.AttributeModificationDateTime == STAMP
    assert original.ModifyingSystem == "mediatool test"
    assert original.SourceOfPreviousValues == "FOREIGN"
    [old] = original.ModifiedAttributesSequence
    assert old.PatientID == "PID0001"
    assert old.IssuerOfPatientID == "FOREIGN"
    assert str(old.PatientName) == "Test^Patient1"
    assert (old.PatientBirthDate, old.PatientSex) == ("19700101", "O")
    assert "OtherPatientIDsSequence" not in old  # it was absent: added, not modified


def test_source_of_previous_values_defaults_to_the_institution_then_empty() -> None:
    ds = make_instance(1, InstitutionName="St Elsewhere")
    coerce(ds, _coercion())
    assert ds.OriginalAttributesSequence[0].SourceOfPreviousValues == "St Elsewhere"
    ds = make_instance(1)
    coerce(ds, _coercion())
    assert ds.OriginalAttributesSequence[0].SourceOfPreviousValues == ""
    ds = make_instance(1, InstitutionName="St Elsewhere")
    coerce(ds, Coercion(identity=LocalIdentity("L"), source="Referral CD", stamp=STAMP))
    assert ds.OriginalAttributesSequence[0].SourceOfPreviousValues == "Referral CD"


def test_reconciling_twice_adds_nothing() -> None:
    ds = make_instance(1)
    assert coerce(ds, _coercion(name="Local^Name"))
    before = _roundtrip(ds)
    assert coerce(ds, _coercion(name="Local^Name")) == []
    assert len(ds.OriginalAttributesSequence) == 1
    assert len(ds.OtherPatientIDsSequence) == 1
    assert _roundtrip(ds) == before


def test_without_an_issuer_the_foreign_issuer_and_its_qualifiers_go() -> None:
    qualifiers = Dataset()
    qualifiers.UniversalEntityID = "1.2.3"
    qualifiers.UniversalEntityIDType = "ISO"
    ds = make_instance(
        1, IssuerOfPatientID="FOREIGN", IssuerOfPatientIDQualifiersSequence=[qualifiers]
    )
    coerce(ds, Coercion(identity=LocalIdentity("LOC1"), stamp=STAMP))
    assert "IssuerOfPatientID" not in ds
    assert "IssuerOfPatientIDQualifiersSequence" not in ds
    [other] = ds.OtherPatientIDsSequence
    assert other.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID == "1.2.3"
    [old] = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence
    assert old.IssuerOfPatientID == "FOREIGN"
    assert old.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityIDType == "ISO"


def test_existing_other_ids_and_original_attributes_are_extended() -> None:
    earlier = Dataset()
    earlier.PatientID = "OLDER"
    earlier.TypeOfPatientID = "TEXT"
    history = Dataset()
    history.ReasonForTheAttributeModification = "CORRECT"
    ds = make_instance(1, OtherPatientIDsSequence=[earlier], OriginalAttributesSequence=[history])
    coerce(ds, _coercion())
    assert [i.PatientID for i in ds.OtherPatientIDsSequence] == ["OLDER", "PID0001"]
    assert [i.ReasonForTheAttributeModification for i in ds.OriginalAttributesSequence] == [
        "CORRECT",
        "COERCE",
    ]
    [old] = ds.OriginalAttributesSequence[1].ModifiedAttributesSequence
    assert [i.PatientID for i in old.OtherPatientIDsSequence] == ["OLDER"]


def test_accession_number_is_coerced_and_its_issuer_removed() -> None:
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = "RIS-FOREIGN"
    ds = make_instance(1, IssuerOfAccessionNumberSequence=DicomSequence([issuer]))
    changed = coerce(ds, Coercion(accession="ACC-42", stamp=STAMP))
    assert changed == ["AccessionNumber", "IssuerOfAccessionNumberSequence"]
    assert ds.AccessionNumber == "ACC-42"
    assert ds.PatientID == "PID0001"  # identity untouched without one
    assert "OtherPatientIDsSequence" not in ds
    [old] = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence
    assert old.AccessionNumber == "A11"
    assert old.IssuerOfAccessionNumberSequence[0].LocalNamespaceEntityID == "RIS-FOREIGN"


def test_nothing_to_change_changes_nothing() -> None:
    ds = make_instance(1)
    assert coerce(ds, Coercion(identity=LocalIdentity("PID0001"), stamp=STAMP)) == []
    assert "OriginalAttributesSequence" not in ds
    assert coerce(ds, Coercion(stamp=STAMP)) == []


@pytest.mark.parametrize(
    ("charset", "name", "expected"),
    [
        pytest.param("ISO_IR 100", "Müller^Jürgen", "ISO_IR 100", id="latin1-fits"),
        pytest.param("ISO_IR 100", "Dvořák^Antonín", "ISO_IR 192", id="latin1-to-utf8"),
        pytest.param(None, "Ødegård^Åse", "ISO_IR 192", id="default-to-utf8"),
        pytest.param("ISO_IR 192", "山田^太郎", "ISO_IR 192", id="utf8-stays"),
    ],
)
def test_a_name_the_character_set_cannot_hold_switches_to_utf8(
    charset: str | None, name: str, expected: str
) -> None:
    description = "Thorax ÄÖÜ" if charset else "Thorax"
    ds = make_instance(1, SpecificCharacterSet=charset, StudyDescription=description)
    ds = _roundtrip(ds)  # values as raw bytes in the old character set, as read from media
    coerce(ds, _coercion(name=name))
    ds = _roundtrip(ds)
    assert ds.SpecificCharacterSet == expected
    assert str(ds.PatientName) == name
    assert ds.StudyDescription == description  # other text re-encoded, not garbled
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert str(old.PatientName) == "Test^Patient1"
    if expected != (charset or ""):
        assert old.get("SpecificCharacterSet", "") == (charset or "")
