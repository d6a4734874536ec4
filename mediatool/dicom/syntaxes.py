"""Facts about Transfer Syntaxes that pydicom does not keep: which are lossy, which are native,
and the Lossy Image Compression Method term of each lossy one.

Sources: PS3.5 §8 and Annex A (Transfer Syntax definitions), PS3.3 C.7.6.1.1.5.1 (Lossy Image
Compression Method defined terms), profiles.md §2.
"""

from __future__ import annotations

from typing import Final

EXPLICIT_VR_LITTLE_ENDIAN: Final = "1.2.840.10008.1.2.1"

#: Encodings that change without touching pixel values: byte order, VR explicitness, deflate.
NATIVE: Final = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)

#: (0028,2114) Lossy Image Compression Method of each lossy Transfer Syntax (C.7.6.1.1.5.1).
LOSSY_METHOD: Final = {
    "1.2.840.10008.1.2.4.50": "ISO_10918_1",  # JPEG Baseline
    "1.2.840.10008.1.2.4.51": "ISO_10918_1",  # JPEG Extended
    "1.2.840.10008.1.2.4.81": "ISO_14495_1",  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.91": "ISO_15444_1",  # JPEG 2000
    "1.2.840.10008.1.2.4.93": "ISO_15444_2",  # JPEG 2000 Part 2 multi-component
    "1.2.840.10008.1.2.4.203": "ISO_15444_15",  # HTJ2K
    "1.2.840.10008.1.2.4.100": "ISO_13818_2",  # MPEG2 MP@ML
    "1.2.840.10008.1.2.4.100.1": "ISO_13818_2",
    "1.2.840.10008.1.2.4.101": "ISO_13818_2",
    "1.2.840.10008.1.2.4.101.1": "ISO_13818_2",
    "1.2.840.10008.1.2.4.102": "ISO_14496_10",  # MPEG-4 AVC/H.264
    "1.2.840.10008.1.2.4.102.1": "ISO_14496_10",
    "1.2.840.10008.1.2.4.103": "ISO_14496_10",
    "1.2.840.10008.1.2.4.103.1": "ISO_14496_10",
    "1.2.840.10008.1.2.4.104": "ISO_14496_10",
    "1.2.840.10008.1.2.4.104.1": "ISO_14496_10",
    "1.2.840.10008.1.2.4.105": "ISO_14496_10",
    "1.2.840.10008.1.2.4.105.1": "ISO_14496_10",
    "1.2.840.10008.1.2.4.106": "ISO_14496_10",
    "1.2.840.10008.1.2.4.106.1": "ISO_14496_10",
    "1.2.840.10008.1.2.4.107": "ISO_23008_2",  # HEVC/H.265
    "1.2.840.10008.1.2.4.108": "ISO_23008_2",
}
LOSSY: Final = frozenset(LOSSY_METHOD)


def is_lossy(ts: str) -> bool:
    """True for a Transfer Syntax whose compression may lose information (PS3.5 §8)."""
    return ts in LOSSY


def is_native(ts: str) -> bool:
    return ts in NATIVE
