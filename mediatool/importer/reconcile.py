"""Import reconciliation (IHE IRWF): coerce identifying attributes to local values, keep the old.

Pure: a :class:`pydicom.dataset.Dataset` in, the same data set edited, and the list of what
changed. The rules, from the standard:

* The local values replace the foreign ones: Patient ID (0010,0020), Issuer of Patient ID
  (0010,0021), and when given Patient's Name (0010,0010), Patient's Birth Date (0010,0030),
  Patient's Sex (0010,0040) and Accession Number (0008,0050). IRWF "coerce patient and procedure
  attribute values"; PS3.4 allows a Storage SCP to coerce attributes without new UIDs, so Study,
  Series and SOP Instance UIDs never change (references from presentation states, key objects
  and SR on the same disc stay valid).
* The foreign Patient ID stays discoverable: an item of Other Patient IDs Sequence (0010,1002)
  with Patient ID, Issuer of Patient ID (and its Qualifiers Sequence (0010,0024) when the media
  had one) and Type of Patient ID (0010,0022) ``TEXT`` (PS3.3 C.7.1.1, Type 1, defined terms
  TEXT, RFID, BARCODE). The retired Other Patient IDs (0010,1000) is left alone.
* The replaced values are kept in one new item of Original Attributes Sequence (0400,0561) of the
  SOP Common Module (PS3.3 C.12.1, Table C.12-1): Modified Attributes Sequence (0400,0550), one
  item holding "all the Attributes, with their previous values, that were modified or removed"
  (attributes that were absent and are added are not listed); Attribute Modification DateTime
  (0400,0562); Modifying System (0400,0563); Source of Previous Values (0400,0564), Type 2, "the
  source that provided the SOP Instance ... e.g. the Institution from which imported SOP Instances
  were received"; Reason for the Attribute Modification (0400,0565) ``COERCE``.
* Values that would not change are not touched, so reconciling an already reconciled instance
  adds nothing (idempotent).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from pydicom.charset import python_encoding
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

#: Reason for the Attribute Modification (0400,0565), PS3.3 C.12.1.1.9.1.
COERCE: Final = "COERCE"
#: Type of Patient ID (0010,0022) of the item naming the foreign ID, PS3.3 C.7.1.1.
TYPE_OF_PATIENT_ID: Final = "TEXT"
UTF8: Final = "ISO_IR 192"

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class LocalIdentity:
    """The local patient the media's instances are attached to (None: keep what the media has)."""

    patient_id: str
    issuer: str | None = None
    name: str | None = None
    birth_date: str | None = None
    sex: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "patient_id": self.patient_id,
            "issuer": self.issuer,
            "name": self.name,
            "birth_date": self.birth_date,
            "sex": self.sex,
        }


@dataclass(frozen=True, slots=True)
class Coercion:
    """What to change in each instance, and how to record it."""

    identity: LocalIdentity | None = None
    accession: str | None = None
    modifying_system: str = "mediatool"
    source: str | None = None  # Source of Previous Values; default: the foreign issuer, else
    #                            Institution Name (0008,0080), else empty (Type 2)
    stamp: str = ""  # Attribute Modification DateTime, DT, see :func:`stamp`

    @property
    def active(self) -> bool:
        return self.identity is not None or self.accession is not None


def stamp(clock: Clock | None = None) -> str:
    """Attribute Modification DateTime (DT, PS3.5 6.2) of ``clock()`` (default: now, local time
    with its UTC offset). The one wall-clock value the import writes; inject ``clock`` in tests."""
    now = (clock or (lambda: dt.datetime.now().astimezone()))()
    text = now.strftime("%Y%m%d%H%M%S.%f")
    return text + now.strftime("%z") if now.tzinfo is not None else text


def _text(ds: Dataset, keyword: str) -> str | None:
    """The value as text, or None when the attribute is absent."""
    if keyword not in ds:
        return None
    value = ds[keyword].value
    return "" if value is None else str(value).strip()


def _coercions(ds: Dataset, c: Coercion) -> dict[str, str | None]:
    """Keyword → new value (None: remove) for every attribute whose value would change."""
    wanted: dict[str, str | None] = {}
    ident = c.identity
    if ident is not None:
        wanted["PatientID"] = ident.patient_id
        foreign_id, foreign_issuer = _text(ds, "PatientID"), _text(ds, "IssuerOfPatientID")
        issuer_changes = ident.issuer is not None and ident.issuer != (foreign_issuer or "")
        if foreign_id != ident.patient_id or issuer_changes:
            # A foreign issuer (and its qualifiers) does not name the local ID's namespace.
            wanted["IssuerOfPatientID"] = ident.issuer
            wanted["IssuerOfPatientIDQualifiersSequence"] = None
        for keyword, value in (
            ("PatientName", ident.name),
            ("PatientBirthDate", ident.birth_date),
            ("PatientSex", ident.sex),
        ):
            if value is not None:
                wanted[keyword] = value
    if c.accession is not None:
        wanted["AccessionNumber"] = c.accession
        if _text(ds, "AccessionNumber") != c.accession:
            wanted["IssuerOfAccessionNumberSequence"] = None
    return {k: v for k, v in wanted.items() if _differs(ds, k, v)}


def planned(ds: Dataset, c: Coercion) -> dict[str, str | None]:
    """What :func:`coerce` would change in ``ds`` (keyword → new value, None: removed), without
    changing it: the reception desk's "before and after" shows exactly the import's rule."""
    return _coercions(ds, c)


def _differs(ds: Dataset, keyword: str, value: str | None) -> bool:
    if value is None:
        return keyword in ds
    return _text(ds, keyword) != value


def _foreign_item(ds: Dataset) -> Dataset:
    item = Dataset()
    item.PatientID = _text(ds, "PatientID") or ""
    issuer = _text(ds, "IssuerOfPatientID")
    if issuer:
        item.IssuerOfPatientID = issuer
    if "IssuerOfPatientIDQualifiersSequence" in ds:
        item.IssuerOfPatientIDQualifiersSequence = copy.deepcopy(
            ds.IssuerOfPatientIDQualifiersSequence
        )
    item.TypeOfPatientID = TYPE_OF_PATIENT_ID
    return item


def _same_item(a: Dataset, b: Dataset) -> bool:
    keys = ("PatientID", "IssuerOfPatientID", "TypeOfPatientID")
    return all(_text(a, k) == _text(b, k) for k in keys)


def _needs_utf8(ds: Dataset, values: list[str]) -> bool:
    """True when a new value cannot be written in the data set's character set."""
    odd = [v for v in values if not v.isascii()]
    if not odd:
        return False
    terms = ds.get("SpecificCharacterSet", "") or ""
    charsets = [terms] if isinstance(terms, str) else list(terms)
    if len(charsets) != 1 or charsets[0].startswith("ISO 2022"):
        return charsets != [UTF8]
    term = charsets[0].strip()
    encoding = python_encoding.get(term) if term not in ("", "ISO_IR 6") else "ascii"
    if encoding is None:
        return True
    try:
        for v in odd:
            v.encode(encoding)
    except UnicodeEncodeError:
        return True
    return False


def coerce(ds: Dataset, c: Coercion) -> list[str]:
    """Apply ``c`` to ``ds`` in place; returns the keywords changed (empty: nothing to do)."""
    changes = _coercions(ds, c)
    if not changes:
        return []
    old = Dataset()
    if _needs_utf8(ds, [v for v in changes.values() if v is not None]):
        ds.decode()  # every text value to str, so it is re-encoded in UTF-8 on writing
        if "SpecificCharacterSet" in ds:
            old.add(copy.deepcopy(ds["SpecificCharacterSet"]))
        ds.SpecificCharacterSet = UTF8
    if "PatientID" in changes:
        _add_other_patient_id(ds, old)
    for keyword in changes:
        if keyword in ds:
            old.add(copy.deepcopy(ds[keyword]))
    source = c.source
    if source is None:
        source = _text(ds, "IssuerOfPatientID") or _text(ds, "InstitutionName") or ""
    for keyword, value in changes.items():
        if value is None:
            del ds[keyword]
        else:
            setattr(ds, keyword, value)
    _record_original(ds, old, c, source)
    return sorted(changes)


def _add_other_patient_id(ds: Dataset, old: Dataset) -> None:
    item = _foreign_item(ds)
    items = ds.get("OtherPatientIDsSequence")
    if items is not None:
        if any(_same_item(i, item) for i in items):
            return
        old.add(copy.deepcopy(ds["OtherPatientIDsSequence"]))
        items.append(item)
    else:
        ds.OtherPatientIDsSequence = DicomSequence([item])


def _record_original(ds: Dataset, old: Dataset, c: Coercion, source: str) -> None:
    item = Dataset()
    item.SourceOfPreviousValues = source
    item.AttributeModificationDateTime = c.stamp
    item.ModifyingSystem = c.modifying_system
    item.ReasonForTheAttributeModification = COERCE
    # Elements sorted by tag, as a data set is encoded (PS3.5 7.1).
    modified = Dataset()
    for elem in sorted(old, key=lambda e: e.tag):
        modified.add(elem)
    item.ModifiedAttributesSequence = DicomSequence([modified])
    if "OriginalAttributesSequence" in ds:
        ds.OriginalAttributesSequence.append(item)
    else:
        ds.OriginalAttributesSequence = DicomSequence([item])
