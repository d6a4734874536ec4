"""Directory Record types: which SOP Class goes in which record, and each record's keys.

Tables transcribed from ../shared/spec/dicomdir.md:
- §7 "SOP Class → Directory Record Type" (PS3.3 F.5.x "shall be used to reference", cross-checked
  with DCMTK ``sopClassToRecordType`` and pydicom 3.0.2 ``fileset.py``);
- §5 "Record keys by type" (PS3.3 Tables F.5-1 ... F.5-46);
- §4 "Allowed hierarchy" (PS3.3 Table F.4-1).
Any Storage SOP Class not listed is an IMAGE record (dicomdir.md §7 default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydicom import uid as pu

_P = "1.2.840.10008.5.1.4.1.1."


def _classes(record: str, suffixes: str, prefix: str = _P) -> dict[str, str]:
    return {prefix + s: record for s in suffixes.split()}


#: SOP Class UID → Directory Record Type (dicomdir.md §7). Root-level types are marked in
#: :data:`ROOT_RECORD_TYPES`.
SOP_CLASS_RECORD_TYPE: Final[Mapping[str, str]] = {
    **_classes(
        "SR DOCUMENT",
        "88.11 88.22 88.33 88.34 88.35 88.40 88.50 88.65 88.69 88.67 88.76 88.68 78.6 79.1 "
        "88.70 88.71 88.72 88.73 88.74 88.75 88.77",
    ),
    **_classes("KEY OBJECT DOC", "88.59"),
    **_classes(
        "PRESENTATION", "11.1 11.2 11.3 11.4 11.5 11.6 11.7 11.8 11.9 11.10 11.11 11.12 131"
    ),
    **_classes("WF PRESENTATION", "9.100.1 9.100.2"),
    **_classes(
        "WAVEFORM",
        "9.1.1 9.1.2 9.1.3 9.1.4 9.2.1 9.3.1 9.4.1 9.4.2 9.5.1 9.6.1 9.6.2 9.7.1 9.7.2 9.7.3 "
        "9.7.4 9.8.1",
    ),
    **_classes("RT DOSE", "481.2"),
    **_classes("RT STRUCTURE SET", "481.3"),
    **_classes("RT PLAN", "481.5 481.8"),
    **_classes("RT TREAT RECORD", "481.4 481.6 481.7 481.9"),
    **_classes(
        "RADIOTHERAPY",
        " ".join(f"481.{n}" for n in range(10, 23)),
    ),
    **_classes("PLAN", "34.7 34.10", prefix="1.2.840.10008.5.1.4."),
    **_classes("PLAN", "481.25"),
    **_classes("SPECTROSCOPY", "4.2"),
    **_classes("RAW DATA", "66"),
    **_classes("REGISTRATION", "66.1 66.3"),
    **_classes("FIDUCIAL", "66.2"),
    **_classes("SURFACE", "66.5"),
    **_classes("TRACT", "66.6"),
    **_classes("SURFACE SCAN", "68.1 68.2"),
    **_classes("VALUE MAP", "67"),
    **_classes("STEREOMETRIC", "77.1.5.3"),
    **_classes("MEASUREMENT", "78.1 78.2 78.3 78.4 78.5 78.7 78.8 80.1"),
    **_classes("ENCAP DOC", "104.1 104.2 104.3 104.4 104.5"),
    **_classes("ASSESSMENT", "90.1"),
    **_classes("ANNOTATION", "91.1"),
    **_classes("INVENTORY", "201.1"),
    pu.HangingProtocolStorage: "HANGING PROTOCOL",
    pu.ColorPaletteStorage: "PALETTE",
    pu.GenericImplantTemplateStorage: "IMPLANT",
    pu.ImplantAssemblyTemplateStorage: "IMPLANT ASSY",
    pu.ImplantTemplateGroupStorage: "IMPLANT GROUP",
}

#: Record types placed directly in the root Directory Entity (Table F.4-1).
ROOT_RECORD_TYPES: Final = frozenset(
    {"HANGING PROTOCOL", "PALETTE", "IMPLANT", "IMPLANT ASSY", "IMPLANT GROUP", "INVENTORY"}
)

#: SOP Classes that never get a record: the DICOMDIR itself and the protocol objects for which
#: DCMTK defines no record type (dicomdir.md §7 "Never indexed").
NO_RECORD_SOP_CLASSES: Final = frozenset(
    {pu.MediaStorageDirectoryStorage, _P + "200.1", _P + "200.3", _P + "200.7"}
)

#: Retired record types: readers tolerate them, writers never create them (dicomdir.md §4).
RETIRED_RECORD_TYPES: Final = frozenset(
    {
        "PRINT QUEUE",
        "FILM SESSION",
        "FILM BOX",
        "IMAGE BOX",
        "OVERLAY",
        "MODALITY LUT",
        "VOI LUT",
        "CURVE",
        "TOPIC",
        "VISIT",
        "RESULTS",
        "INTERPRETATION",
        "STUDY COMPONENT",
        "STORED PRINT",
        "MRDR",
        "HL7 STRUC DOC",
    }
)

_LEAF_TYPES: Final = (
    "IMAGE",
    "RT DOSE",
    "RT STRUCTURE SET",
    "RT PLAN",
    "RT TREAT RECORD",
    "PRESENTATION",
    "WAVEFORM",
    "SR DOCUMENT",
    "KEY OBJECT DOC",
    "SPECTROSCOPY",
    "RAW DATA",
    "REGISTRATION",
    "FIDUCIAL",
    "ENCAP DOC",
    "VALUE MAP",
    "STEREOMETRIC",
    "PLAN",
    "MEASUREMENT",
    "SURFACE",
    "SURFACE SCAN",
    "TRACT",
    "ASSESSMENT",
    "RADIOTHERAPY",
    "ANNOTATION",
    "WF PRESENTATION",
)

#: Table F.4-1: parent record type ("" is the root entity) → allowed child record types.
ALLOWED_CHILDREN: Final[Mapping[str, frozenset[str]]] = {
    "": frozenset({"PATIENT", "PRIVATE", *ROOT_RECORD_TYPES}),
    "PATIENT": frozenset({"STUDY", "PRIVATE"}),
    "STUDY": frozenset({"SERIES", "PRIVATE"}),
    "SERIES": frozenset({*_LEAF_TYPES, "PRIVATE"}),
}

#: Every defined (non-retired) record type.
DEFINED_RECORD_TYPES: Final = frozenset(
    {"PATIENT", "STUDY", "SERIES", "PRIVATE", *_LEAF_TYPES, *ROOT_RECORD_TYPES}
)


@dataclass(frozen=True, slots=True)
class Key:
    keyword: str
    type: str  # "1", "1C", "2", "2C", "3" as in the PS3.3 key tables


def _keys(spec: str) -> tuple[Key, ...]:
    out = []
    for item in spec.split():
        keyword, _, typ = item.partition(":")
        out.append(Key(keyword, typ))
    return tuple(out)


_CIM = "InstanceNumber:1 ContentLabel:1 ContentDescription:2 ContentCreatorName:2"
_CONTENT = "ContentDate:1 ContentTime:1"

#: Record keys per type (dicomdir.md §5, PS3.3 F.5). 1C keys are written when the instance has a
#: value; Specific Character Set (1C) is handled by the encoder, Icon Image Sequence by profiles.
RECORD_KEYS: Final[Mapping[str, tuple[Key, ...]]] = {
    "PATIENT": _keys("PatientName:2 PatientID:1"),
    "STUDY": _keys(
        "StudyDate:1 StudyTime:1 AccessionNumber:2 StudyDescription:2 StudyInstanceUID:1C StudyID:1"
    ),
    "SERIES": _keys("Modality:1 SeriesInstanceUID:1 SeriesNumber:1"),
    "IMAGE": _keys("InstanceNumber:1"),
    "RT DOSE": _keys("InstanceNumber:1 DoseSummationType:1 DoseComment:3"),
    "RT STRUCTURE SET": _keys(
        "InstanceNumber:1 StructureSetLabel:1 StructureSetDate:2 StructureSetTime:2"
    ),
    "RT PLAN": _keys("InstanceNumber:1 RTPlanLabel:1 RTPlanDate:2 RTPlanTime:2"),
    "RT TREAT RECORD": _keys("InstanceNumber:1 TreatmentDate:2 TreatmentTime:2"),
    "PRESENTATION": _keys(
        "PresentationCreationDate:1 PresentationCreationTime:1 "
        + _CIM
        + " ReferencedSeriesSequence:1C BlendingSequence:1C"
    ),
    "WF PRESENTATION": _keys(
        "PresentationCreationDate:1 PresentationCreationTime:1 "
        + _CIM
        + " ReferencedSeriesSequence:1C"
    ),
    "WAVEFORM": _keys("InstanceNumber:1 " + _CONTENT),
    "SR DOCUMENT": _keys(
        "InstanceNumber:1 CompletionFlag:1 VerificationFlag:1 "
        + _CONTENT
        + " VerificationDateTime:1C ConceptNameCodeSequence:1 ContentSequence:1C"
    ),
    "KEY OBJECT DOC": _keys(
        "InstanceNumber:1 " + _CONTENT + " ConceptNameCodeSequence:1 ContentSequence:1C"
    ),
    "SPECTROSCOPY": _keys(
        "ImageType:1 " + _CONTENT + " InstanceNumber:1 ReferencedImageEvidenceSequence:1C "
        "NumberOfFrames:1 Rows:1 Columns:1 DataPointRows:1 DataPointColumns:1"
    ),
    "RAW DATA": _keys(_CONTENT + " InstanceNumber:2"),
    "REGISTRATION": _keys(_CONTENT + " " + _CIM),
    "FIDUCIAL": _keys(_CONTENT + " " + _CIM),
    "ENCAP DOC": _keys(
        "ContentDate:2 ContentTime:2 InstanceNumber:1 DocumentTitle:2 HL7InstanceIdentifier:1C "
        "ConceptNameCodeSequence:2 MIMETypeOfEncapsulatedDocument:1"
    ),
    "VALUE MAP": _keys(_CONTENT + " " + _CIM),
    "STEREOMETRIC": (),
    "PLAN": (),
    "MEASUREMENT": _keys(_CONTENT + " " + _CIM),
    "SURFACE": _keys(_CONTENT + " " + _CIM),
    "SURFACE SCAN": _keys(_CONTENT),
    "TRACT": _keys(_CONTENT + " " + _CIM),
    "ASSESSMENT": _keys("InstanceNumber:1 InstanceCreationDate:1 InstanceCreationTime:2"),
    "RADIOTHERAPY": _keys(
        "InstanceNumber:1 UserContentLabel:1C UserContentLongLabel:1C ContentDescription:2 "
        "ContentCreatorName:2"
    ),
    "ANNOTATION": _keys(
        "InstanceNumber:1 " + _CONTENT + " ContentLabel:1 ContentDescription:2 ContentCreatorName:2"
    ),
    "INVENTORY": _keys(
        _CONTENT + " InventoryLevel:1 InventoryCompletionStatus:1 TotalNumberOfStudyRecords:1 "
        "InventoryPurpose:2 ScopeOfInventorySequence:2"
    ),
    "HANGING PROTOCOL": _keys(
        "HangingProtocolName:1 HangingProtocolDescription:1 HangingProtocolLevel:1 "
        "HangingProtocolCreator:1 HangingProtocolCreationDateTime:1 "
        "HangingProtocolDefinitionSequence:1 NumberOfPriorsReferenced:1 "
        "HangingProtocolUserIdentificationCodeSequence:2"
    ),
    "PALETTE": _keys("ContentLabel:1 ContentDescription:2"),
    "IMPLANT": _keys("Manufacturer:1 ImplantName:1 ImplantSize:1C ImplantPartNumber:1"),
    "IMPLANT ASSY": _keys(
        "ImplantAssemblyTemplateName:1 Manufacturer:1 ProcedureTypeCodeSequence:1"
    ),
    "IMPLANT GROUP": _keys(
        "ImplantTemplateGroupName:1 ImplantTemplateGroupDescription:3 ImplantTemplateGroupIssuer:1"
    ),
}

#: Keys copied only when the instance has a value (Type 1C or 3), listed above.
#: SR/KOS Content Sequence is special: only root items with Relationship Type HAS CONCEPT MOD.
CONCEPT_MOD_SEQUENCE_TYPES: Final = frozenset({"SR DOCUMENT", "KEY OBJECT DOC"})


def record_type_for(sop_class_uid: str) -> str | None:
    """The Directory Record Type for a SOP Class, or ``None`` if it has none (dicomdir.md §7)."""
    if sop_class_uid in NO_RECORD_SOP_CLASSES:
        return None
    return SOP_CLASS_RECORD_TYPE.get(sop_class_uid, "IMAGE")


def allowed_child(parent: str, child: str) -> bool:
    """Table F.4-1: may ``child`` appear in the entity below a ``parent`` record?"""
    if parent in ALLOWED_CHILDREN:
        return child in ALLOWED_CHILDREN[parent]
    if parent == "PRIVATE":
        return True
    return child == "PRIVATE"
