"""UIDs: the ones this tool writes, and the Transfer Syntax facts pydicom does not keep.

We have no registered org root, so every UID we make lives under the ``2.25`` arc (PS3.5 §B.2:
a UUID written as a single decimal integer). Derived UIDs are UUID version 5 (name based), so the
same inputs always give the same UID: deterministic output without a counter or a clock.

Standard UIDs are pydicom's names (:mod:`pydicom.uid`); no module writes them as literals. On
top of them: which Transfer Syntaxes are lossy, which native, and the Lossy Image Compression
Method term of each lossy one (PS3.5 §8 and Annex A, PS3.3 C.7.6.1.1.5.1, profiles.md §2).
"""

from __future__ import annotations

import uuid
from typing import Final

from pydicom import uid as pu

EXPLICIT_VR_LITTLE_ENDIAN: Final = pu.ExplicitVRLittleEndian
IMPLICIT_VR_LITTLE_ENDIAN: Final = pu.ImplicitVRLittleEndian
EXPLICIT_VR_BIG_ENDIAN: Final = pu.ExplicitVRBigEndian
DEFLATED: Final = pu.DeflatedExplicitVRLittleEndian
#: (0002,0002) of a DICOMDIR, Media Storage Directory Storage (PS3.10 §8.6).
MEDIA_STORAGE_DIRECTORY: Final = pu.MediaStorageDirectoryStorage

# Service SOP Classes of the network (PS3.4 A.4 Verification, C.6 Query/Retrieve Information
# Models); pydicom.uid does not name them, and pynetdicom.sop_class takes a third of a second to
# import, too slow for modules every command loads.
VERIFICATION: Final = "1.2.840.10008.1.1"
PATIENT_ROOT_FIND: Final = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE: Final = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET: Final = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND: Final = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE: Final = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET: Final = "1.2.840.10008.5.1.4.1.2.2.3"
STORAGE_COMMITMENT_PUSH: Final = "1.2.840.10008.1.20.1"  # PS3.4 J.3
STORAGE_COMMITMENT_PUSH_INSTANCE: Final = "1.2.840.10008.1.20.1.1"  # its well-known instance
MODALITY_WORKLIST_FIND: Final = "1.2.840.10008.5.1.4.31"  # PS3.4 K.6.1

#: Encodings that change without touching pixel values: byte order, VR explicitness, deflate.
NATIVE: Final = frozenset(
    {IMPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_BIG_ENDIAN, DEFLATED}
)

#: (0028,2114) Lossy Image Compression Method of each lossy Transfer Syntax (C.7.6.1.1.5.1).
LOSSY_METHOD: Final[dict[str, str]] = {
    pu.JPEGBaseline8Bit: "ISO_10918_1",
    pu.JPEGExtended12Bit: "ISO_10918_1",
    pu.JPEGLSNearLossless: "ISO_14495_1",
    pu.JPEG2000: "ISO_15444_1",
    pu.JPEG2000MC: "ISO_15444_2",  # JPEG 2000 Part 2 multi-component
    pu.HTJ2K: "ISO_15444_15",
    **dict.fromkeys((pu.MPEG2MPML, pu.MPEG2MPMLF, pu.MPEG2MPHL, pu.MPEG2MPHLF), "ISO_13818_2"),
    **dict.fromkeys(
        (
            pu.MPEG4HP41,
            pu.MPEG4HP41F,
            pu.MPEG4HP41BD,
            pu.MPEG4HP41BDF,
            pu.MPEG4HP422D,
            pu.MPEG4HP422DF,
            pu.MPEG4HP423D,
            pu.MPEG4HP423DF,
            pu.MPEG4HP42STEREO,
            pu.MPEG4HP42STEREOF,
        ),
        "ISO_14496_10",  # MPEG-4 AVC/H.264
    ),
    pu.HEVCMP51: "ISO_23008_2",  # HEVC/H.265
    pu.HEVCM10P51: "ISO_23008_2",
}
LOSSY: Final = frozenset(LOSSY_METHOD)


def is_lossy(ts: str) -> bool:
    """True for a Transfer Syntax whose compression may lose information (PS3.5 §8)."""
    return ts in LOSSY


def is_native(ts: str) -> bool:
    return ts in NATIVE


_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mediatool")

#: (0002,0012) Implementation Class UID of every file mediatool writes (PS3.10 Table 7.1-1).
IMPLEMENTATION_CLASS_UID: Final = f"2.25.{uuid.uuid5(_NAMESPACE, 'implementation-class').int}"


def implementation_version_name(version: str) -> str:
    """(0002,0013): at most 16 characters of A-Z 0-9 _ (PS3.10 Table 7.1-1, §8.5 repertoire).

    pydicom's default ``PYDICOM 3.0.2`` breaks this rule (space and dots); we write
    ``MEDIATOOL_0_1_0``.
    """
    name = "MEDIATOOL_" + "".join(c if c.isalnum() else "_" for c in version.upper())
    return name[:16]


def derive_uid(*parts: str) -> str:
    """A UID under 2.25 derived from ``parts``: equal parts give equal UIDs (PS3.5 §B.2)."""
    return f"2.25.{uuid.uuid5(_NAMESPACE, '/'.join(parts)).int}"
