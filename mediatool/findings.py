"""Findings: facts about data, returned (never raised), each with a stable code.

Every code lives in :data:`CODES` with its default severity, the rule it rests on and, where one
exists, the number of the check in ``validation-checklist.md`` (A01 ... I05). Severity policy is
applied in one place, :func:`apply_policy`, never where a problem is detected.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final


class Severity(enum.IntEnum):
    """Ordered like logging levels, so ``severity >= Severity.WARNING`` reads naturally."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Code:
    severity: Severity
    ref: str | None
    title: str
    check: str | None = None  # number in validation-checklist.md
    #: What the person reading the finding should do about it: one short sentence, shown in the
    #: code table and with the finding (issue 11: "every finding says what to do").
    action: str | None = None


E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: notice (info)

# Source of each rule: ../shared/spec digests of PS3.10, PS3.3 Annex F, PS3.11, PS3.12, IHE PDI.
CODES: Final[Mapping[str, Code]] = {
    # --- inputs and reading (build and import) -----------------------------------------------
    "source.not-dicom": Code(N, "PS3.10 7.1", "Input file is not a DICOM file and is skipped"),
    "source.unreadable": Code(E, None, "An input file cannot be read"),
    "source.zip-unsafe-member": Code(
        W, None, "A zip member name leaves the archive root and is not read"
    ),
    "source.zip-too-large": Code(
        W, None, "A zip member is larger than the safety limit and is not read"
    ),
    "read.truncated": Code(E, "PS3.10 7.2", "Data set is truncated or cannot be parsed", "E23"),
    "read.pydicom-warning": Code(W, "PS3.5", "The DICOM reader warned about the encoding"),
    "read.missing-identifier": Code(
        E, "PS3.3 C.12.1", "SOP Class UID or SOP Instance UID missing in the data set"
    ),
    "read.dicomdir-input": Code(
        N, "PS3.10 8.6", "A DICOMDIR among the inputs is not copied (a new one is written)"
    ),
    # --- Part 10 file meta (filemeta.check; validate reports them, build corrects them) ---------
    "meta.no-preamble": Code(
        E, "PS3.10 7.1", "No 128-byte preamble and 'DICM' prefix (raw data set)", "E06"
    ),
    "meta.preamble-not-zero": Code(
        W, "PS3.10 7.5", "Preamble is not all zero and not a recognised dual format", "E07"
    ),
    "meta.preamble-executable": Code(
        E, "PS3.10 7.5", "Preamble carries an executable signature", "E07"
    ),
    "meta.group-length": Code(
        E, "PS3.10 7.1", "(0002,0000) missing or not the byte count of the group", "E08"
    ),
    "meta.version": Code(E, "PS3.10 7.1", "(0002,0001) missing or not 00H 01H", "E09"),
    "meta.missing-type1": Code(
        E, "PS3.10 7.1", "A Type 1 File Meta element is missing or empty", "E10"
    ),
    "meta.encoding": Code(
        E,
        "PS3.10 7.1",
        "File Meta not Explicit VR LE, odd length, VR UN, out of order or truncated",
        "E11",
    ),
    "meta.version-name": Code(
        W, "PS3.10 7.1", "(0002,0013) longer than 16 or outside A-Z 0-9 _", "E12"
    ),
    "meta.unknown-element": Code(N, "PS3.10 7.1", "Unknown (0002,xxxx) elements present", "E13"),
    "meta.sop-class-mismatch": Code(
        E, "PS3.10 7.1", "(0002,0002) differs from the data set's SOP Class UID", "E14"
    ),
    "meta.sop-instance-mismatch": Code(
        E, "PS3.10 7.1", "(0002,0003) differs from the data set's SOP Instance UID", "E15"
    ),
    "meta.transfer-syntax-mismatch": Code(
        E, "PS3.10 7.2", "(0002,0010) does not match the encoding of the data set", "E16"
    ),
    "meta.group-in-dataset": Code(
        E, "PS3.10 7.1", "Group 0002 elements inside the data set", "E17"
    ),
    "meta.bad-uid": Code(E, "PS3.5 9.1", "A UID in the File Meta is not valid UID syntax", "E22"),
    # --- what build did to make a file conform (never errors: they describe a repair) ----------
    "build.reencoded": Code(
        N, "PS3.11 D.3.1", "Data set re-encoded in a Transfer Syntax the profile allows", "G01"
    ),
    "build.decompressed": Code(
        N,
        "PS3.11 D.3.1",
        "Compressed pixel data decoded losslessly to a Transfer Syntax the profile allows",
        "G01",
    ),
    "build.compressed": Code(
        N,
        "PS3.11",
        "Pixel data encoded losslessly in a Transfer Syntax the profile allows or requires",
        "G01",
    ),
    "build.lossy": Code(
        W,
        "PS3.3 C.7.6.1.1.5",
        "Pixel data compressed with loss (--allow-lossy): a derived image with a new SOP Instance UID",
        "G01",
    ),
    "build.lossy-reference": Code(
        W,
        "PS3.3 C.7.6.1.1.5",
        "An object on the media references an instance that was replaced by its lossy derived image",
        "F14",
    ),
    "build.icon-failed": Code(
        W, "PS3.3 F.7", "No icon could be made for a record the profile gives an icon", "G07"
    ),
    "build.spanned": Code(
        N,
        "PS3.11 D.3.3",
        "The content does not fit one medium: it is split into several File-sets, one per volume",
    ),
    "build.series-split": Code(
        N, "PS3.11 D.3.3", "A series larger than one medium is split by instance across volumes"
    ),
    # --- hierarchy and consistency -------------------------------------------------------------
    "hierarchy.duplicate-identical": Code(
        N,
        "PS3.3 F.2.1 f",
        "The same instance was given twice with identical content; kept once",
        "F04",
    ),
    "hierarchy.duplicate-conflict": Code(
        E, "PS3.3 C.12.1", "Two different files carry the same SOP Instance UID", "F04"
    ),
    "hierarchy.patient-conflict": Code(
        W, "PS3.3 C.7.1.1", "One Patient ID with conflicting names, birth dates or sex", "F08"
    ),
    "hierarchy.study-two-patients": Code(
        E, "PS3.3 F.5.2", "One Study Instance UID under two patients", "F12"
    ),
    "hierarchy.series-two-studies": Code(
        E, "PS3.3 F.5.3", "One Series Instance UID under two studies", "F12"
    ),
    "hierarchy.study-inconsistent": Code(
        W, "PS3.3 C.7.2.1", "Study-level attributes differ between instances of one study", "F10"
    ),
    "hierarchy.series-inconsistent": Code(
        W, "PS3.3 C.7.3.1", "Series-level attributes differ between instances of one series", "F11"
    ),
    "hierarchy.missing-key": Code(
        E, "PS3.3 F.5", "A Type 1 directory key is missing or empty in the instance", "D01"
    ),
    "hierarchy.key-normalised": Code(
        W,
        "PS3.5 6.2",
        "A key in a legacy ACR-NEMA date/time form was written in the PS3.5 form",
        "D10",
    ),
    "hierarchy.key-invalid": Code(
        W, "PS3.5 6.2", "A key value breaks its VR and is left out of the record", "D10"
    ),
    "hierarchy.invented": Code(
        N, "PS3.3 F.5", "A missing Type 1 key was invented (--invent)", "D01"
    ),
    "hierarchy.no-record-type": Code(
        E, "PS3.3 F.4", "No directory record type is defined for the SOP Class", "E21"
    ),
    # --- profile ---------------------------------------------------------------------------------
    "profile.ts-not-allowed": Code(
        E, "PS3.11", "Transfer Syntax not allowed by the Application Profile", "G01"
    ),
    "profile.sop-class-not-allowed": Code(
        E, "PS3.11", "SOP Class not allowed by the Application Profile", "G02"
    ),
    "profile.cannot-convert": Code(
        E,
        "PS3.11",
        "Transfer Syntax cannot be converted losslessly to one the profile allows",
        "G01",
    ),
    "profile.image-constraint": Code(
        E, "PS3.11", "Image attribute values not allowed by the Application Profile", "G05"
    ),
    "profile.icon-missing": Code(
        E, "PS3.11", "A record the Application Profile requires an icon on has none", "G07"
    ),
    "profile.icon-form": Code(
        E,
        "PS3.11",
        "An icon is not of the size, bits or photometric interpretation the profile requires",
        "D12",
    ),
    # --- File IDs ---------------------------------------------------------------------------------
    "fileid.too-many-components": Code(
        E, "PS3.10 8.2", "File ID has more than 8 components", "E03"
    ),
    "fileid.component-length": Code(
        E, "PS3.10 8.2", "File ID component empty or longer than 8 characters", "E03"
    ),
    "fileid.bad-character": Code(
        E, "PS3.10 8.5", "File ID uses characters outside A-Z 0-9 _", "E03"
    ),
    "fileid.fileset-id": Code(
        E, "PS3.10 8.5", "File-set ID longer than 16 characters or outside A-Z 0-9 _", "B06"
    ),
    # --- media container (mediatool/media) --------------------------------------------------
    # Facts the readers find while opening a folder, ISO 9660 image or zip archive
    # (MediaReader.container_findings). "where" is the media-relative POSIX path, None for the
    # volume as a whole.
    "media.unsafe-name": Code(
        E,
        None,
        "A name is absolute or has '..', '/', '\\', NUL or undecodable bytes; not read",
        "I02",
    ),
    "media.link-outside-root": Code(
        E, None, "A symbolic link points outside the media root; it is not followed", "I02"
    ),
    "media.link-not-followed": Code(
        W,
        None,
        "A symbolic link (to a folder, dangling, or in a zip or Rock Ridge) is not followed",
        "I02",
    ),
    "media.special-file": Code(
        E, None, "A device, fifo, socket or other non-regular file is on the media; not read", "I02"
    ),
    "media.unreadable": Code(E, None, "A file or folder on the media cannot be listed or read"),
    "media.duplicate-name": Code(
        W, None, "Two entries on the media have the same name; only the first is read"
    ),
    "media.zip-too-large": Code(
        E, None, "A zip member inflates beyond the size or ratio limit (zip bomb); not read", "I02"
    ),
    "media.zip-member-unsupported": Code(
        E, None, "A zip member is encrypted or uses an unsupported compression; not read"
    ),
    "media.iso-not-level1": Code(
        E,
        "PS3.12 F.2.2",
        "ISO 9660 name not Level 1 (8.3 d-characters, directory names <= 8) or file not single-extent",
        "A03",
    ),
    "media.iso-name-form": Code(
        E,
        "PS3.12 F.1.2.1",
        "ISO 9660 file identifier without the '.' separator or without version ';1'",
        "A04",
    ),
    "media.iso-system-id": Code(
        W,
        "PS3.12 F.2.2.1",
        "ISO 9660 System Identifier is not blank (and not CD-RTOS CD-BRIDGE)",
        "A06",
    ),
    "media.iso-file-attributes": Code(
        W, "PS3.12 F.1.3", "File has an Extended Attribute Record or File Flags bit 3/4 set", "A07"
    ),
    "media.iso-too-deep": Code(
        E, "PS3.12 F.1.2.1", "Directory hierarchy deeper than 8 levels (root = level 1)", "A08"
    ),
    "media.iso-extensions": Code(
        N, "PS3.12 F.1.2.1", "Joliet, Rock Ridge or UDF trees are present beside ISO 9660", "A09"
    ),
    "media.hidden-file": Code(
        W, "PS3.12 P.2.1.5", "File recorded with the ISO 9660 'hidden' (existence) flag", "I03"
    ),
    # --- validate: DICOMDIR, directory records, referenced files (mediatool/validate) ---------
    # Facts `mediatool validate` finds on a File-set. "where" is the media-relative File ID or
    # path, or "DICOMDIR record N @OFFSET" (N: 1-based item of (0004,1220), OFFSET: byte
    # position of its Item tag, as dciodvfy and dcdirdmp count them).
    "dicomdir.missing": Code(E, "PS3.10 8.6", "No DICOMDIR in the root of the File-set", "A01"),
    "dicomdir.not-at-root": Code(
        E,
        "PS3.12 F.1.2.2",
        "The only DICOMDIR is in a folder, not in the root of the medium",
        "A01",
    ),
    "dicomdir.several": Code(E, "PS3.12 F.1.2.2", "More than one DICOMDIR on the medium", "A02"),
    "dicomdir.volume-id": Code(
        E, "PS3.12 F.1.1", "ISO 9660 Volume Identifier differs from the File-set ID", "A05"
    ),
    "dicomdir.name-case": Code(
        W, "PS3.10 8.5", "DICOMDIR found only by a tolerant name match (case, '.', ';1')", "A14"
    ),
    "dicomdir.unreadable": Code(
        E, "PS3.10 7.1", "The DICOMDIR is not a readable DICOM file (no data set)", "B01"
    ),
    "dicomdir.sop-class": Code(
        E, "PS3.10 8.6", "(0002,0002) of the DICOMDIR is not Media Storage Directory Storage", "B02"
    ),
    "dicomdir.transfer-syntax": Code(
        E, "PS3.10 8.6", "The DICOMDIR is not encoded in Explicit VR Little Endian", "B04"
    ),
    "dicomdir.bad-length": Code(
        E,
        "PS3.5 7.5",
        "An element, item or sequence length in the DICOMDIR does not fit its content",
        "B05",
    ),
    "dicomdir.truncated": Code(
        E, "PS3.10 7.2", "The DICOMDIR ends inside an element or an open sequence", "B05"
    ),
    "dicomdir.fileset-id-missing": Code(
        E, "PS3.3 F.3.2.1", "(0004,1130) File-set ID (Type 2) is absent", "B06"
    ),
    "dicomdir.descriptor": Code(
        E, "PS3.3 F.3.2.1", "File-set Descriptor File ID invalid or its file missing", "B07"
    ),
    "dicomdir.descriptor-is-dicom": Code(
        W, "PS3.3 F.3.2.1", "The File-set Descriptor File is a DICOM file", "B07"
    ),
    "dicomdir.descriptor-charset": Code(
        W,
        "PS3.3 F.3.2.1",
        "(0004,1142) missing for a non-ASCII descriptor, or not a defined term",
        "B08",
    ),
    "dicomdir.no-records": Code(
        E,
        "PS3.11 D.3.3",
        "No Directory Information: Directory Record Sequence absent or empty",
        "B09",
    ),
    "dicomdir.consistency-flag": Code(
        E, "PS3.3 F.3.2.2", "(0004,1212) File-set Consistency Flag absent or not 0000H", "B10"
    ),
    "dicomdir.consistency-flag-set": Code(
        W, "PS3.3 F.3.2.2", "(0004,1212) is FFFFH (retired 'inconsistent' value)", "B10"
    ),
    "dicomdir.sop-common": Code(
        N,
        "PS3.3 F.3.1",
        "SOP Class/Instance UID in the DICOMDIR data set (Basic Directory has no SOP Common)",
        "B11",
    ),
    "dicomdir.bad-offset": Code(
        E, "PS3.3 F.3.2.2", "An offset is not 0 and not the position of a record's Item tag", "C01"
    ),
    "dicomdir.sequence-order": Code(
        W,
        "PS3.3 F.3.2.2",
        "Offsets unusable: the hierarchy was read from the order of the records",
        "C01",
    ),
    "dicomdir.root-offsets": Code(
        E, "PS3.3 F.3.2.2", "(0004,1200)/(0004,1202) do not give the first/last root record", "C02"
    ),
    "dicomdir.offset-cycle": Code(
        E, "PS3.3 F.2.1", "Offsets form a loop (a record is its own next or descendant)", "C03"
    ),
    "dicomdir.record-reached-twice": Code(
        E, "PS3.3 F.2.1", "A record is reached from two places (two parents or two chains)", "C04"
    ),
    "dicomdir.unreachable-record": Code(
        E, "PS3.3 F.2.1", "A record referencing a file cannot be reached from the root", "C05"
    ),
    "dicomdir.unreachable-empty-record": Code(
        W,
        "PS3.3 F.2.1",
        "A record without a Referenced File ID cannot be reached from the root",
        "C05",
    ),
    "record.inactive": Code(
        W,
        "PS3.3 F.3.2.2",
        "Record In-use Flag is 0000H (retired: inactive); record and subtree skipped",
        "C06",
    ),
    "record.in-use-value": Code(
        W, "PS3.3 F.3.2.2", "Record In-use Flag is neither FFFFH nor 0000H; read as FFFFH", "C06"
    ),
    "record.missing-element": Code(
        E, "PS3.3 F.3.2.2", "A Type 1 directory element of the record is absent", "C07"
    ),
    "record.unknown-type": Code(
        E, "PS3.3 F.3.2.2", "Directory Record Type is not a defined term", "C08"
    ),
    "record.retired-type": Code(W, "PS3.3 F.4", "Directory Record Type is retired", "C08"),
    "record.private-uid": Code(
        E,
        "PS3.3 F.3.2.2",
        "(0004,1432) Private Record UID absent in a PRIVATE record, or present in another",
        "C09",
    ),
    "record.bad-parent": Code(
        E, "PS3.3 F.4", "Record type not allowed below its parent (Table F.4-1)", "C10"
    ),
    "record.incomplete-hierarchy": Code(
        E, "PS3.11 D.3.3", "Instance record not below SERIES, STUDY and PATIENT records", "C11"
    ),
    "record.empty-entity": Code(
        W, "PS3.3 F.2", "PATIENT, STUDY or SERIES record with no instance record below it", "C12"
    ),
    "record.file-reference": Code(
        E,
        "PS3.3 F.3.2.2",
        "(0004,1500) and (0004,1510)/(0004,1511)/(0004,1512) not all present together",
        "C13",
    ),
    "record.no-file-reference": Code(
        E, "PS3.3 F.5", "Instance-level record without (0004,1500) Referenced File ID", "C14"
    ),
    "record.retired-element": Code(
        W, "PS3.3 F.6.2", "Retired MRDR elements (0004,1504)/(0004,1600) present", "C15"
    ),
    "record.missing-key": Code(
        E, "PS3.3 F.5", "A Type 1 key of the record is absent or empty", "D01"
    ),
    "record.missing-type2-key": Code(E, "PS3.3 F.5", "A Type 2 key of the record is absent", "D02"),
    "record.missing-conditional-key": Code(
        E, "PS3.3 F.5", "A conditional (1C) key is absent although its condition holds", "D03"
    ),
    "record.key-mismatch": Code(
        E, "PS3.3 F.5", "A key of the instance record differs from the referenced file", "D06"
    ),
    "record.ancestor-mismatch": Code(
        E,
        "PS3.3 F.5.1",
        "Patient ID, Study or Series Instance UID of a parent record differs from the file",
        "D07",
    ),
    "record.ancestor-differs": Code(
        W, "PS3.3 F.5", "A PATIENT, STUDY or SERIES key differs from a file below it", "D08"
    ),
    "record.referenced-images": Code(
        W,
        "PS3.11 H.3.3",
        "Referenced Image Sequence of the record is not a copy of the file's",
        "D05",
    ),
    "record.charset-missing": Code(
        E, "PS3.3 F.5", "Non-ASCII key values without (0008,0005) in the record", "D09"
    ),
    "record.charset-unknown": Code(
        E, "PS3.3 C.12.1.1.2", "(0008,0005) value is not a defined term", "D09"
    ),
    "record.bad-value": Code(
        E, "PS3.5 6.2", "A key value violates its Value Representation", "D10"
    ),
    "record.icon": Code(
        E, "PS3.3 F.7", "Icon Image Sequence does not follow the Icon Image Key rules", "D11"
    ),
    "record.encapsulated-document": Code(
        E, "PS3.3 F.5.32", "ENCAP DOC record carries (0042,0011) Encapsulated Document", "D13"
    ),
    "record.duplicate-patient": Code(
        E, "PS3.3 F.5.1", "Two PATIENT records with the same Patient ID", "F05"
    ),
    "record.duplicate-study": Code(
        E, "PS3.3 F.5.2", "Two STUDY records with the same Study Instance UID", "F06"
    ),
    "record.duplicate-series": Code(
        E, "PS3.3 F.5.3", "Two SERIES records with the same Series Instance UID", "F07"
    ),
    "file.missing": Code(E, "PS3.3 F.2.1", "The referenced file is not on the media", "E01"),
    "file.tolerant-name": Code(
        W,
        "PS3.10 8.5",
        "Referenced file found only by a tolerant name match (case, '.', ';1', extension)",
        "E02",
    ),
    "file.outside-fileset": Code(
        E,
        "PS3.10 8.6",
        "Referenced File ID leaves the File-set root or names DICOMDIR or the descriptor; not opened",
        "E04",
    ),
    "file.referenced-twice": Code(
        E, "PS3.3 F.2.1 f", "The same file is referenced by two records", "E05"
    ),
    "file.not-dicom": Code(E, "PS3.10 7.1", "A referenced file is not a DICOM instance", "E06"),
    "file.sop-class-mismatch": Code(
        E, "PS3.3 F.3.2.2", "(0004,1510) differs from the file's SOP Class UID", "E18"
    ),
    "file.sop-instance-mismatch": Code(
        E, "PS3.3 F.3.2.2", "(0004,1511) differs from the file's SOP Instance UID", "E19"
    ),
    "file.transfer-syntax-mismatch": Code(
        E, "PS3.3 F.3.2.2", "(0004,1512) differs from the file's Transfer Syntax", "E20"
    ),
    "file.record-type": Code(
        E, "PS3.3 F.5", "Directory Record Type inappropriate for the file's SOP Class", "E21"
    ),
    "file.pixel-data-truncated": Code(
        E, "PS3.10 7.2", "The file ends before the end of its Pixel Data", "E23"
    ),
    "file.not-referenced": Code(
        E, "PS3.3 F.2.1 e", "DICOM file on the media not referenced by any directory record", "F01"
    ),
    "file.non-dicom": Code(
        N, "PS3.3 F.2.1 d", "Non-DICOM files on the media (not referenced, as allowed)", "F02"
    ),
    "file.duplicate-identical": Code(
        W,
        "PS3.3 F.2.1 f",
        "Two files on the media are byte-identical copies of one instance",
        "F04",
    ),
    "inventory.empty": Code(E, "PS3.10 8.1", "No DICOM instance on the media"),
    "inventory.possible-same-patient": Code(
        N, None, "Same Patient's Name and Birth Date under different Patient IDs", "F09"
    ),
    "profile.key-missing": Code(
        E, "PS3.11", "A key the Application Profile adds to the record is absent", "D04"
    ),
    "validate.check-failed": Code(
        E, None, "A check could not run to its end on this input (its other findings stand)"
    ),
    # --- Modality (0008,0060) (mediatool/modality_check.py; build, validate and import) ---------
    "modality.retired": Code(
        N,
        "PS3.3 C.7.3.1.1.1",
        "Modality is a retired defined term",
        action="Nothing to do for old data; new equipment should send the current term named",
    ),
    "modality.unknown": Code(
        W,
        "PS3.3 C.7.3.1.1.1",
        "Modality is not a defined term of PS3.3",
        action="Check the sending equipment's configuration; viewers may not group or hang the series",
    ),
    "modality.sop-class-mismatch": Code(
        W,
        "PS3.3 A",
        "Modality contradicts the IOD of the SOP Class",
        action="Check the object at its source: a wrong Modality misleads worklists and hanging protocols",
    ),
    # --- web content (mediatool/web) -------------------------------------------------------------
    "web.unreadable": Code(W, "PS3.10 7", "A file the DICOMDIR references could not be read"),
    "web.render-failed": Code(W, None, "An image could not be rendered for the web content"),
    "web.not-shown": Code(
        N, "IHE RAD TF-3 4.47", "An object is listed but not shown in the web content"
    ),
    "web.presets-left-out": Code(
        N, "PS3.12 F.2.1.1", "CT window presets left out of the viewer so that the disc fits"
    ),
    # --- import (mediatool import): one reason per file, IHE PDI RAD-47 and IRWF ------------------
    "import.not-dicom": Code(
        N, "PS3.10 7.1", "A file on the media is not DICOM; nothing to import"
    ),
    "import.dicomdir": Code(
        N, "PS3.10 8.6", "The DICOMDIR indexes the media; it is not an instance to import"
    ),
    "import.unreadable": Code(E, "IHE RAD-47", "A file on the media cannot be read; not imported"),
    "import.damaged": Code(
        E, "PS3.10 7.2", "A DICOM file cannot be parsed or has no SOP Instance UID; not imported"
    ),
    "import.listed-missing": Code(
        E, "PS3.10 8.6", "The DICOMDIR lists a file that is not on the media"
    ),
    "import.not-selected": Code(
        N,
        "IHE RAD-47",
        "Outside the chosen studies or patient (--study, --patient); left by choice",
    ),
    "import.duplicate": Code(
        N, "PS3.4 B.4.1", "An identical second copy of an instance on the media; imported once"
    ),
    "import.duplicate-conflict": Code(
        E,
        "PS3.4 B.4.1",
        "Another file has the same SOP Instance UID with other content; not imported",
    ),
    "import.already-present": Code(
        N, "PS3.4 B.4.1", "Already at the destination (same SOP Instance UID); not sent again"
    ),
    "import.no-local-patient": Code(
        E, "IHE IRWF", "No local identity for this patient of the media; not imported"
    ),
    "import.not-reconciled": Code(
        W, "IHE IRWF", "Imported under the Patient ID of the media, without reconciliation"
    ),
    "import.coerced": Code(
        N,
        "PS3.3 C.12.1.1.9",
        "Identifying attributes coerced to local values; originals kept in (0400,0561)",
    ),
    "import.converted": Code(
        N,
        "PS3.5 10",
        "Sent in another Transfer Syntax (lossless) because the PACS refused the original",
    ),
    "import.sop-class-refused": Code(
        E, "PS3.7 D.3.3.2", "The PACS accepted no presentation context for the SOP Class; not sent"
    ),
    "import.cannot-convert": Code(
        E, "PS3.5 10", "The PACS refused the Transfer Syntax and lossless conversion failed"
    ),
    "import.refused": Code(E, "PS3.4 B.2.3", "The PACS answered the C-STORE with a failure status"),
    "import.stored-with-warning": Code(
        W, "PS3.4 B.2.3", "The PACS stored the instance with a warning status"
    ),
    "import.send-failed": Code(
        E, "PS3.8 9.1", "Association aborted, timed out or refused, and the retries did not succeed"
    ),
    "import.interrupted": Code(
        E, None, "The import stopped before this file; run the same command again to resume"
    ),
    "import.not-committed": Code(
        E, "PS3.4 J.3", "The PACS did not confirm Storage Commitment for the instance"
    ),
    "import.write-failed": Code(
        E, None, "The instance could not be written into the archive folder"
    ),
    # --- retrieve from a PACS (build --from-pacs) ----------------------------------------------
    "retrieve.sub-operations-failed": Code(
        E, "PS3.4 C.4.3.1.6", "The PACS reports failed C-STORE sub-operations of a retrieve"
    ),
    "retrieve.incomplete": Code(
        E, "PS3.4 C.4.3.1.6", "Sub-operations of a retrieve were not done (remaining or cancelled)"
    ),
    "retrieve.interrupted": Code(
        E, "PS3.8 9.1", "The retrieve got no final response (association aborted or time-out)"
    ),
    "retrieve.refused": Code(
        E, "PS3.4 C.4.3.1.6", "The PACS answered the retrieve with a failure status"
    ),
    "retrieve.not-received": Code(E, None, "Fewer instances arrived than the PACS reports as sent"),
    "retrieve.nothing-received": Code(E, None, "No instance of a study arrived"),
    "retrieve.warning": Code(
        W, "PS3.4 C.4.3.1.6", "Sub-operations of a retrieve ended with a warning"
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One fact about the data: what, where, which rule."""

    code: str
    severity: Severity
    message: str
    where: str | None = None
    ref: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "where": self.where,
            "ref": self.ref,
            "check": CODES[self.code].check if self.code in CODES else None,
        }


def finding(code: str, message: str, where: str | None = None) -> Finding:
    """Make a finding with the registry's default severity and rule reference."""
    entry = CODES[code]
    return Finding(code, entry.severity, message, where, entry.ref)


def worst(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (``None`` when there are none)."""
    return max((f.severity for f in findings), default=None)


def apply_policy(
    findings: Iterable[Finding], overrides: Mapping[str, Severity] | None = None
) -> list[Finding]:
    """Apply per-code severity overrides (from a profile or the user) in one place."""
    if not overrides:
        return list(findings)
    return [replace(f, severity=overrides[f.code]) if f.code in overrides else f for f in findings]


def fails(findings: Iterable[Finding], threshold: Severity) -> bool:
    """True when any finding is at or above ``threshold`` (the ``--fail-on`` contract)."""
    return any(f.severity >= threshold for f in findings)


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {str(s): 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    for f in findings:
        counts[str(f.severity)] += 1
    return counts
