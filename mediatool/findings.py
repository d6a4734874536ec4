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
_DECLARED: Final[Mapping[str, Code]] = {
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
    "read.element-too-long": Code(
        E,
        "PS3.5 7.1",
        "A data element other than Pixel Data is longer than the limit; the instance is not read",
        action="Ask the sender for the instance without the oversized element.",
    ),
    "read.pydicom-warning": Code(W, "PS3.5", "The DICOM reader warned about the encoding"),
    "read.invalid-vr": Code(
        E,
        "PS3.5 6.2",
        "An element of an Explicit VR data set carries a VR that PS3.5 does not define",
        "E11",
        action="Ask the sender for the instance again; the file is damaged or badly encoded.",
    ),
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
    "build.left-out": Code(
        W,
        None,
        "An input file that would refuse the build was left out of the disc (--skip-invalid)",
        action="Repair or replace the file and build again if it belongs on the disc.",
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
    "media.iso-extent-outside": Code(
        E,
        "ISO 9660 9.1.3",
        "A file's extent or Data Length reaches beyond the end of the image; not read",
        "I02",
        action="Ask the sender for a new disc; the image is damaged or was made to mislead.",
    ),
    "media.iso-extent-overlap": Code(
        E,
        "ISO 9660 6.5.1",
        "A file's extent overlaps another file's; neither is read",
        "I02",
        action="Ask the sender for a new disc; reading it could mix two files' contents.",
    ),
    "media.iso-damaged": Code(
        E,
        "ISO 9660 6-9",
        "The ISO 9660 structures cannot be read (a record, table or descriptor is damaged)",
        action="Ask the sender for a new disc, or copy the original disc again.",
    ),
    "media.hidden-file": Code(
        W, "PS3.12 P.2.1.5", "File recorded with the ISO 9660 'hidden' (existence) flag", "I03"
    ),
    # --- the file system of each medium (PS3.12 Annex F, P, J, X, R; issue 16) ---------------
    "media.filesystem": Code(
        N,
        "PS3.12 F.2.2, P.2, X.2, R.1.1",
        "The image's file system (type, revision, partitions, Interchange Level)",
        action="Nothing to do; it says which file system the image carries.",
    ),
    "media.wrong-filesystem": Code(
        E,
        "PS3.12 F.2.2, P.2, J.2, X.2, R.1.1",
        "The image's file system is not one the medium of the profile allows",
        "A11",
        action="Write the image again for that medium: mediatool build --media M --image FILE.",
    ),
    "media.udf-layout": Code(
        E,
        "PS3.12 P.2, X.2",
        "The UDF volume breaks its medium's layout rules (a DVD with more than one partition or "
        "an Interchange Level other than 2; a BD with a VAT or a sparing table)",
        action="Write the image again with mediatool build --media M --image FILE.",
    ),
    "media.udf-damaged": Code(
        E,
        "ECMA-167 3/7.2, 4/14",
        "A UDF descriptor is damaged (tag checksum or CRC), points outside its partition or the "
        "image, or a directory contains itself; what it describes is not read",
        "I02",
        action="Ask the sender for a new disc; the image is damaged or was made to mislead.",
    ),
    "media.fat-not-first-partition": Code(
        E,
        "PS3.12 R.1",
        "The USB File-set is not in a FAT file system in the first partition",
        "A12",
        action="Put the File-set in the first partition, or on a stick without a partition table.",
    ),
    "media.fat-damaged": Code(
        E,
        "PS3.12 R.1.1",
        "The FAT image is truncated, or mtools cannot read its file system",
        action="Ask the sender for a new copy of the stick.",
    ),
    "media.trees-differ": Code(
        W,
        "PS3.12 P.1.3, F.1.2.1",
        "A file is in the UDF tree and not in the ISO 9660 bridge, or the other way round",
        "A09",
        action="Write the image again with mediatool build --image; its trees show the same names.",
    ),
    "build.read-back": Code(
        N,
        "PS3.12 R.1.1",
        "Every file written to the USB stick was synced, read back and found identical",
        action="Nothing to do; eject the stick safely before unplugging it.",
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
        "A key identifying the patient (ID, name, birth date, sex), study or series in a parent "
        "record differs from the file",
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
        E,
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
    # --- validate: encoding rules and limits of the DICOMDIR, record contents (issues 11, 12) ---
    "dicomdir.element-order": Code(
        E,
        "PS3.5 7.1",
        "Data elements of the DICOMDIR data set or of a record are not in ascending tag order",
        "B05",
        action="Rewrite the DICOMDIR with a conformant tool (e.g. mediatool build).",
    ),
    "dicomdir.odd-length": Code(
        E,
        "PS3.5 7.1.1",
        "A value length in the DICOMDIR is odd (it must be even)",
        "B05",
        action="Rewrite the DICOMDIR with a conformant tool (e.g. mediatool build).",
    ),
    "dicomdir.reserved-not-zero": Code(
        W,
        "PS3.5 7.1.2",
        "Reserved bytes of an explicit VR header (OB, SQ, UN...) are not 0000H",
        "B05",
        action="Tell the creator of the disc; readers ignore these bytes, strict ones may not.",
    ),
    "dicomdir.limit": Code(
        E,
        "mediatool/limits.py",
        "The DICOMDIR exceeds a safety limit (size, records, elements or value length); not read",
        "B05",
        action="Check the medium's origin; import the files without the DICOMDIR if they are needed.",
    ),
    "file.element-order": Code(
        E,
        "PS3.5 7.1",
        "Data elements of a file's data set are not in ascending tag order",
        "E11",
        action="Export the file again; strict readers reject it (mediatool build rewrites it).",
    ),
    "record.private-element": Code(
        E,
        "PS3.5 7.8.1",
        "A private element of a record is malformed: element number 0001-000F, a creator "
        "that is not LO, or a private element without its creator",
        "D10",
        action="Tell the creator of the disc; readers may misread the record's private data.",
    ),
    "record.unknown-element": Code(
        W,
        "PS3.6",
        "A record carries a standard-group element that is not in the data dictionary",
        "D10",
        action="Check the record: a damaged tag (bit error) or a non-standard writer.",
    ),
    # --- Modality (0008,0060) (mediatool/modality_check.py; build, validate and import) ---------
    "modality.retired": Code(
        N,
        "PS3.3 C.7.3.1.1.1",
        "Modality is a retired defined term",
        action="Nothing to do for old data; new equipment should send the current term named.",
    ),
    "modality.unknown": Code(
        W,
        "PS3.3 C.7.3.1.1.1",
        "Modality is not a defined term of PS3.3",
        action="Check the sending equipment's configuration; viewers may not group or hang the series.",
    ),
    "modality.sop-class-mismatch": Code(
        W,
        "PS3.3 A",
        "Modality contradicts the IOD of the SOP Class",
        action="Check the object at its source: a wrong Modality misleads worklists and hanging protocols.",
    ),
    # --- web content (mediatool/web) -------------------------------------------------------------
    "web.unreadable": Code(W, "PS3.10 7", "A file the DICOMDIR references could not be read"),
    "web.render-failed": Code(W, None, "An image could not be rendered for the web content"),
    "web.not-shown": Code(
        N, "IHE RAD TF-3 4.47", "An object is listed but not shown in the web content"
    ),
    "web.no-institution": Code(
        W,
        "IHE RAD TF-3 4.47",
        "No institution contact for README.TXT: PDI asks for the institution that made the disc",
        action="Give --site with the institution's name, address and phone.",
    ),
    "web.presets-left-out": Code(
        N, "PS3.12 F.2.1.1", "CT window presets left out of the viewer so that the disc fits"
    ),
    "web.degraded": Code(
        N,
        "PS3.12 F.2.1.1",
        "Web content reduced so that it fits the medium beside the DICOM File-set",
        action="Nothing to do; the DICOM images are complete, only the web pages are lighter.",
    ),
    "web.left-out": Code(
        W,
        "IHE RAD TF-3 4.47",
        "Web content left out: even reduced it does not fit the medium beside the DICOM set",
        action="Use a larger medium (--media dvd) if the disc must open in a browser.",
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
        E,
        "PS3.4 J.3",
        "Sent, not confirmed by the PACS: no Storage Commitment report for the instance",
        action="Keep the disc; configure our AE title, host and --listen-port on the PACS and "
        "run the same command again.",
    ),
    "import.commit-failed": Code(
        E,
        "PS3.4 J.3.3.1.1.2",
        "The PACS reported a Storage Commitment failure for the instance",
        action="Run the same command again to send it again; if it fails again, ask the PACS "
        "administrator.",
    ),
    "import.other-patient": Code(
        E,
        "IHE RAD-47",
        "The destination holds this study under another Patient ID; nothing was sent",
        action="Correct the Patient ID on the PACS (or archive) and import again, or import "
        "under the ID it has there.",
    ),
    "import.held-back": Code(
        E,
        "IHE RAD-47",
        "Not sent: another study of the same import is filed under another Patient ID",
        action="Resolve the other study's Patient ID first, then run the import again.",
    ),
    "import.pacs-not-checked": Code(
        W,
        None,
        "The PACS was not asked what it holds (--no-pacs-check); only the journal decided",
        action="Check on the PACS that the studies are filed under the right patient.",
    ),
    "import.stale-temporary": Code(
        W,
        None,
        "Temporary files of an earlier, stopped import were removed from the archive",
        action="Check that the earlier import was completed (run it again if not).",
    ),
    "import.write-failed": Code(
        E, None, "The instance could not be written into the archive folder"
    ),
    # --- update a File-set in place (mediatool update, the FSU role: PS3.10 8.3) ----------------
    "update.inconsistent": Code(
        E,
        "PS3.3 F.3.2.1",
        "The File-set Consistency Flag says an update did not finish; the DICOMDIR may be stale",
        "B10",
        action="Run the update again with --repair to rebuild the records from the files present.",
    ),
    "update.missing-file": Code(
        E,
        "PS3.3 F.3.2.2",
        "A directory record refers to a file that is not on the medium",
        action="Run the update with --repair to rebuild the records from the files present.",
    ),
    "update.unreadable-file": Code(
        E,
        "PS3.10 7.1",
        "A file on the medium cannot be read as an instance; its record cannot be kept",
        action="Restore the file, or run with --repair to leave it out of the DICOMDIR.",
    ),
    "update.left-out": Code(
        W,
        "PS3.10 7.1",
        "A file in the folder cannot be read as an instance; --repair left it out of the DICOMDIR",
        action="Check the file; remove it if it is a leftover, or ask for an intact copy.",
    ),
    "update.repaired": Code(
        W,
        "PS3.3 F.3.2.1",
        "The directory records were rebuilt from the instance files in the folder (--repair)",
        action="Check the result with mediatool validate.",
    ),
    "update.already-present": Code(
        N,
        "PS3.3 C.12.1",
        "An added instance is already on the medium with the same content; it is skipped",
        "F04",
        action="Nothing to do.",
    ),
    "update.conflict": Code(
        E,
        "PS3.3 C.12.1",
        "An added instance has the SOP Instance UID of a different instance on the medium",
        "F04",
        action="Find out which version is right; remove the old series first to replace it.",
    ),
    "update.empty": Code(
        E,
        "PS3.11 D.3.3",
        "The update would leave no instance: a DICOMDIR without records is not allowed",
        "B09",
        action="Remove fewer studies or series; to empty the medium, delete its files yourself.",
    ),
    "update.profile": Code(
        N,
        "PS3.11 6.2.3",
        "The Application Profile of the update, read from the medium's records",
        action="Give --profile to apply another profile to the added files.",
    ),
    "update.profile-unknown": Code(
        W,
        "PS3.11 6.2.3",
        "No Application Profile fits every file already on the medium",
        action="Give --profile with the profile the medium was made for.",
    ),
    "update.not-on-medium": Code(
        E,
        None,
        "A study or series to remove is not on the medium",
        action="Check the UID (mediatool validate lists the studies); nothing was changed.",
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
    "retrieve.other-patient": Code(
        W,
        "IHE RAD-47",
        "The PACS holds this study also under another Patient ID; those copies were left out",
        action="Ask the PACS administrator to merge or correct the two patients.",
    ),
    "retrieve.warning": Code(
        W, "PS3.4 C.4.3.1.6", "Sub-operations of a retrieve ended with a warning"
    ),
}


# --- what to do about each code (issue 11: "every finding says what to do") ----------------------
# One short sentence for the person reading the report. Codes added with ``action=`` in their
# Code(...) keep their own; this table fills the rest (kept apart so that codes added elsewhere
# merge without touching it). tests/test_docs.py requires an action for every code.
_FIX_DISC: Final = "Ask the creator of the disc for a corrected one"
_ACTIONS: Final[Mapping[str, str]] = {
    "source.not-dicom": "Nothing to do if the file is not an image; otherwise export it again as DICOM.",
    "source.unreadable": "Check the file's permissions and the drive, then run again.",
    "source.zip-unsafe-member": "Unpack the archive yourself and check that member before using it.",
    "source.zip-too-large": "Unpack the archive yourself and give the member as a file.",
    "read.truncated": "Export the file again from its source; a partial file cannot go on a disc.",
    "read.pydicom-warning": "Check the named file in a DICOM viewer; export it again if it looks wrong.",
    "read.missing-identifier": "Export the file again from a system that writes complete DICOM files.",
    "read.dicomdir-input": "Nothing to do: give the image files, a new DICOMDIR is written.",
    "meta.no-preamble": "Rewrite the file as a Part 10 file (mediatool build does so when it copies).",
    "meta.preamble-not-zero": "Rewrite the file with a zero preamble (mediatool build does so).",
    "meta.preamble-executable": "Do not open the file on a workstation; report it to IT security.",
    "meta.group-length": "Rewrite the File Meta (mediatool build does so when it copies the file).",
    "meta.version": "Rewrite the File Meta (mediatool build does so when it copies the file).",
    "meta.missing-type1": "Rewrite the File Meta (mediatool build does so when it copies the file).",
    "meta.encoding": "Rewrite the File Meta (mediatool build does so when it copies the file).",
    "meta.version-name": "Tell the vendor of the writing software; readers usually ignore it.",
    "meta.unknown-element": "Nothing to do; the elements are ignored by readers.",
    "meta.sop-class-mismatch": "Rewrite the File Meta from the data set (mediatool build does so).",
    "meta.sop-instance-mismatch": "Rewrite the File Meta from the data set (mediatool build does so).",
    "meta.transfer-syntax-mismatch": "Rewrite the file (mediatool build re-encodes it correctly).",
    "meta.group-in-dataset": "Export the file again; the writing software put file meta in the data set.",
    "meta.bad-uid": "Export the file again from a system that writes valid UIDs.",
    "build.reencoded": "Nothing to do: the content is unchanged, only its encoding.",
    "build.decompressed": "Nothing to do: the pixels are identical; the disc is larger.",
    "build.compressed": "Nothing to do: the pixels are identical.",
    "build.lossy": "Make sure lossy images are acceptable for the disc's purpose (not for diagnosis).",
    "build.lossy-reference": "Check that the referencing object is still useful with the derived image.",
    "build.icon-failed": "Check the named image; the disc works without that icon.",
    "build.spanned": "Label and hand over all volumes together.",
    "build.series-split": "Label and hand over all volumes together; the series needs all of them.",
    "hierarchy.duplicate-identical": "Nothing to do; the copy is left out.",
    "hierarchy.duplicate-conflict": "Find out which file is right and give only that one.",
    "hierarchy.patient-conflict": "Check the patient's demographics at the source before sending the disc.",
    "hierarchy.study-two-patients": "Correct the patient data at the source; one study has one patient.",
    "hierarchy.series-two-studies": "Correct the data at the source; one series belongs to one study.",
    "hierarchy.study-inconsistent": "Check the study's data at the source; the first value is used.",
    "hierarchy.series-inconsistent": "Check the series' data at the source; the first value is used.",
    "hierarchy.missing-key": "Export the file again with the key filled, or build with --invent.",
    "hierarchy.key-normalised": "Nothing to do; the disc has the corrected form.",
    "hierarchy.key-invalid": "Correct the value at the source if it matters for finding the study.",
    "hierarchy.invented": "Nothing to do; the invented value is marked as such in the report.",
    "hierarchy.no-record-type": "Leave the file out, or use a profile that allows its SOP Class.",
    "profile.ts-not-allowed": "Let build convert it (default), or choose a profile that allows it.",
    "profile.sop-class-not-allowed": "Leave the object out or choose a profile that allows its SOP Class.",
    "profile.cannot-convert": "Leave the file out, or build with --allow-lossy if loss is acceptable.",
    "profile.image-constraint": "Leave the image out or choose a profile that allows it.",
    "profile.icon-missing": f"{_FIX_DISC}, with the icons the profile requires.",
    "profile.icon-form": f"{_FIX_DISC}, with icons of the form the profile requires.",
    "fileid.too-many-components": f"{_FIX_DISC}; mediatool build writes conformant File IDs.",
    "fileid.component-length": f"{_FIX_DISC}; mediatool build writes conformant File IDs.",
    "fileid.bad-character": f"{_FIX_DISC}; mediatool build writes conformant File IDs.",
    "fileid.fileset-id": "Use up to 16 characters of A-Z, 0-9 and _ (e.g. PATIENT_CD_2024).",
    "media.unsafe-name": "Do not copy the medium blindly; the named entry was skipped.",
    "media.link-outside-root": "Copy the real files onto the medium instead of a link.",
    "media.link-not-followed": "Copy the real files onto the medium instead of a link.",
    "media.special-file": "Remove the entry from the medium; it is not a file.",
    "media.unreadable": "Check the drive and the disc surface; try another drive or copy the disc.",
    "media.duplicate-name": f"{_FIX_DISC}; only the first of the two entries was read.",
    "media.zip-too-large": "Unpack the archive with a tool you trust and check the member.",
    "media.zip-member-unsupported": "Unpack the archive with a tool that supports it and validate the folder.",
    "media.iso-not-level1": f"{_FIX_DISC}, written as an ISO 9660 Level 1 image (mediatool iso).",
    "media.iso-name-form": f"{_FIX_DISC}, written as an ISO 9660 Level 1 image (mediatool iso).",
    "media.iso-system-id": "Nothing urgent; some old readers may reject the disc.",
    "media.iso-file-attributes": "Nothing urgent; write the image again with mediatool iso if readers fail.",
    "media.iso-too-deep": f"{_FIX_DISC} with at most 8 folder levels.",
    "media.iso-extensions": "Nothing to do; DICOM readers use the ISO 9660 names.",
    "media.hidden-file": "Check whether the hidden file belongs on the disc.",
    "dicomdir.missing": "Import or view the files without it, or rebuild the disc with mediatool build.",
    "dicomdir.not-at-root": "Copy the File-set folder to the root of the medium.",
    "dicomdir.several": "Keep one File-set per medium; remove or separate the others.",
    "dicomdir.volume-id": "Write the image again with the File-set ID as volume label (mediatool iso).",
    "dicomdir.name-case": "Name the file DICOMDIR in capitals without extension.",
    "dicomdir.unreadable": "Import the files without the DICOMDIR, or rebuild the disc.",
    "dicomdir.sop-class": f"{_FIX_DISC}; the DICOMDIR was written by a non-conformant tool.",
    "dicomdir.transfer-syntax": f"{_FIX_DISC}; some viewers cannot read this DICOMDIR.",
    "dicomdir.bad-length": f"{_FIX_DISC}; viewers may miss or misplace the records after this point.",
    "dicomdir.truncated": f"{_FIX_DISC}; the disc was probably not finished or is damaged.",
    "dicomdir.fileset-id-missing": f"{_FIX_DISC}; the File-set ID element must be present.",
    "dicomdir.descriptor": "Put the descriptor file on the medium or remove its reference.",
    "dicomdir.descriptor-is-dicom": "Use a plain text file as the File-set descriptor.",
    "dicomdir.descriptor-charset": "Declare the descriptor's character set in (0004,1142).",
    "dicomdir.no-records": "Rebuild the disc so that the DICOMDIR lists its images.",
    "dicomdir.consistency-flag": f"{_FIX_DISC}; the DICOMDIR may not match the files.",
    "dicomdir.consistency-flag-set": "Check that the DICOMDIR matches the files; rebuild if not.",
    "dicomdir.sop-common": "Nothing to do; readers ignore these elements.",
    "dicomdir.bad-offset": f"{_FIX_DISC}; viewers that follow the offsets miss records.",
    "dicomdir.sequence-order": f"{_FIX_DISC}; viewers that follow the offsets find nothing.",
    "dicomdir.root-offsets": f"{_FIX_DISC}; viewers may miss the first or last patient.",
    "dicomdir.offset-cycle": f"{_FIX_DISC}; viewers may hang or stop reading it.",
    "dicomdir.record-reached-twice": f"{_FIX_DISC}; viewers may show records twice or misplace them.",
    "dicomdir.unreachable-record": "Import with mediatool import, which reads every file; viewers miss it.",
    "dicomdir.unreachable-empty-record": "Nothing urgent; the record carries no file.",
    "record.inactive": "Nothing to do; the record was deleted by its writer.",
    "record.in-use-value": "Nothing urgent; the record is read as in use.",
    "record.missing-element": f"{_FIX_DISC}; viewers may not read this record.",
    "record.unknown-type": f"{_FIX_DISC}; viewers skip this record.",
    "record.retired-type": "Nothing urgent; newer viewers may skip this record.",
    "record.private-uid": f"{_FIX_DISC}; the record's type is ambiguous.",
    "record.bad-parent": f"{_FIX_DISC}; viewers may not show these records in place.",
    "record.incomplete-hierarchy": f"{_FIX_DISC}; viewers browse by patient, study and series.",
    "record.empty-entity": "Nothing urgent; an empty patient, study or series shows in viewers.",
    "record.file-reference": f"{_FIX_DISC}; viewers may not open the file.",
    "record.no-file-reference": f"{_FIX_DISC}; the record points to no file.",
    "record.retired-element": "Nothing urgent; newer viewers ignore these elements.",
    "record.missing-key": f"{_FIX_DISC}; viewers show this record without the key.",
    "record.missing-type2-key": f"{_FIX_DISC}; the key must be present (it may be empty).",
    "record.missing-conditional-key": f"{_FIX_DISC}; the key is required in this case.",
    "record.key-mismatch": "Trust the file, not the DICOMDIR; viewers that read the DICOMDIR show it wrongly.",
    "record.ancestor-mismatch": "Check the patient in the images before use; viewers show the DICOMDIR's wrong value.",
    "record.ancestor-differs": "Nothing urgent; the images' own values are the ones to trust.",
    "record.referenced-images": "Nothing urgent; viewers use the file's own references.",
    "record.charset-missing": f"{_FIX_DISC}; names may show garbled in viewers.",
    "record.charset-unknown": f"{_FIX_DISC}; names may show garbled in viewers.",
    "record.bad-value": f"{_FIX_DISC}; viewers may reject or misread the value.",
    "record.icon": "Nothing urgent; viewers may show no preview for this record.",
    "record.encapsulated-document": f"{_FIX_DISC}; the document belongs in its file only.",
    "record.duplicate-patient": f"{_FIX_DISC}; viewers may show the patient twice.",
    "record.duplicate-study": f"{_FIX_DISC}; viewers may show the study twice.",
    "record.duplicate-series": f"{_FIX_DISC}; viewers may show the series twice.",
    "file.missing": "Ask the sender for the missing images; the disc is incomplete.",
    "file.tolerant-name": "Rename the file to the exact File ID, or rebuild the disc; strict readers miss it.",
    "file.outside-fileset": "Do not trust this DICOMDIR; import the files without it.",
    "file.referenced-twice": f"{_FIX_DISC}; one of the records points to the wrong file.",
    "file.not-dicom": f"{_FIX_DISC}; the referenced file is not an image.",
    "file.sop-class-mismatch": "Trust the file, not the DICOMDIR; viewers may open it wrongly.",
    "file.sop-instance-mismatch": "Trust the file, not the DICOMDIR; the record indexes another object.",
    "file.transfer-syntax-mismatch": "Trust the file, not the DICOMDIR; viewers may fail to decode it.",
    "file.record-type": f"{_FIX_DISC}; viewers may not offer to open this object.",
    "file.pixel-data-truncated": "Ask the sender for the complete image; this one is cut off.",
    "file.not-referenced": "Import with mediatool import (it reads every file); viewers will not show it.",
    "file.non-dicom": "Nothing to do; these files are allowed beside the DICOM content.",
    "file.duplicate-identical": "Nothing urgent; the copy is imported once.",
    "inventory.empty": "Check that this is the right medium; it holds no images.",
    "inventory.possible-same-patient": "Check whether these are the same person before importing.",
    "profile.key-missing": f"{_FIX_DISC}, or validate without --profile if it does not apply.",
    "validate.check-failed": "Report the message to the mediatool maintainers; the other findings stand.",
    "web.unreadable": "Check the named file; its images are missing from the web pages.",
    "web.render-failed": "Check the named image in a DICOM viewer; the web pages lack it.",
    "web.not-shown": "Nothing to do; open the object with the DICOM viewer.",
    "web.presets-left-out": "Nothing to do; the viewer's default window is used.",
    "import.not-dicom": "Nothing to do.",
    "import.dicomdir": "Nothing to do.",
    "import.unreadable": "Clean the disc or try another drive, then run the import again.",
    "import.damaged": "Ask the sender for an intact copy of this image.",
    "import.listed-missing": "Ask the sender for the missing images; the disc is incomplete.",
    "import.not-selected": "Nothing to do, unless you meant to import it: widen --study or --patient.",
    "import.duplicate": "Nothing to do.",
    "import.duplicate-conflict": "Find out which version is right before importing it by hand.",
    "import.already-present": "Nothing to do.",
    "import.no-local-patient": "Give the local identity (--patient-id, --map or --worklist) and run again.",
    "import.not-reconciled": "Reconcile the patient in the PACS with the local record.",
    "import.coerced": "Nothing to do; the original values are kept in the image.",
    "import.converted": "Nothing to do; the pixels are identical.",
    "import.sop-class-refused": "Ask the PACS administrator to accept this kind of object.",
    "import.cannot-convert": "Ask the PACS administrator to accept the image's Transfer Syntax.",
    "import.refused": "Read the PACS status in the message and ask its administrator.",
    "import.stored-with-warning": "Check the stored instance in the PACS.",
    "import.send-failed": "Check the network and the PACS, then run the same command again to resume.",
    "import.interrupted": "Run the same command again to resume.",
    "import.not-committed": "Check the instance in the PACS; run again with --commit to ask once more.",
    "import.write-failed": "Check the free space and permissions of the archive folder, then run again.",
    "retrieve.sub-operations-failed": "Ask the PACS administrator why the images could not be sent.",
    "retrieve.incomplete": "Run the build again; ask the PACS administrator if it recurs.",
    "retrieve.interrupted": "Check the network and the PACS, then run the build again.",
    "retrieve.refused": "Read the PACS status in the message and check the query (--study, --patient-id).",
    "retrieve.not-received": "Check that the PACS may send to this AE title and port (--move-aet, --port).",
    "retrieve.nothing-received": "Check that the PACS may send to this AE title and port (--move-aet, --port).",
    "retrieve.warning": "Check the report: some images of the study may be missing.",
}

#: Every finding code: default severity, rule, checklist number, and what to do about it.
CODES: Final[Mapping[str, Code]] = {
    code: entry if entry.action else replace(entry, action=_ACTIONS.get(code))
    for code, entry in _DECLARED.items()
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
            "action": CODES[self.code].action if self.code in CODES else None,
        }


def finding(code: str, message: str, where: str | None = None) -> Finding:
    """Make a finding with the registry's default severity and rule reference."""
    entry = CODES[code]
    return Finding(code, entry.severity, message, where, entry.ref)


def worst(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (``None`` when there are none)."""
    return max((f.severity for f in findings), default=None)


def apply_policy(
    findings: Iterable[Finding], *policies: Mapping[str, Severity] | None
) -> list[Finding]:
    """The severity policy, in one place: each finding gets the severity the last of
    ``policies`` that names its code gives it (a command's own rule first, e.g. build corrects
    File Meta problems or ``--allow-partial``; the profile's ``[severity]`` last), else keeps
    the registry's. Each command (build, validate, import, retrieve) applies it at its end to
    every finding it reports; where a command must judge findings before that (refuse a plan),
    it judges them through the same policy. Applying it twice gives the same result."""
    overrides: dict[str, Severity] = {}
    for policy in policies:
        overrides.update(policy or {})
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
