"""The file system of an image against the medium of the claimed profile (PS3.12; checklist A11).

| profile medium | file systems allowed | PS3.12 |
| --- | --- | --- |
| cd | ISO 9660 (Level 1: the ISO checks A03-A08); a UDF bridge beside it is tolerated | F.2.2 |
| dvd | ISO 9660, or UDF 1.02, 1.50, 2.00, 2.01 with one partition, Interchange Level 2 | P.2 |
| bd | UDF 2.50 (BD-RE) or 2.60 (BD-R) | X.2 |
| usb | FAT16 or FAT32, the File-set in the first partition (the FAT reader checks both) | R.1 |

A folder or a zip archive has no file system of its own to judge: nothing is said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mediatool.findings import Finding, finding
from mediatool.media.base import MediaReader
from mediatool.profiles import Profile

if TYPE_CHECKING:  # only a UDF image has them, and its reader imported the module
    from mediatool.media.udf import UdfFacts

#: medium -> the UDF revisions a creator may record (Annex P creator list; Annex X)
UDF_REVISIONS: Final = {
    "dvd": (0x0102, 0x0150, 0x0200, 0x0201),
    "bd": (0x0250, 0x0260),
}
#: medium -> reader kinds (file systems) it may carry
KINDS: Final = {"cd": ("iso", "udf"), "dvd": ("iso", "udf"), "bd": ("udf",), "usb": ("fat",)}
_NAMES: Final = {
    "cd": "ISO 9660 Level 1 (PS3.12 Annex F)",
    "dvd": "UDF 1.02/1.50/2.00/2.01 or ISO 9660 (PS3.12 Annex P)",
    "bd": "UDF 2.50 or 2.60 (PS3.12 Annex X)",
    "usb": "FAT16 or FAT32 (PS3.12 Annex R)",
}
_KIND_NAMES: Final = {"iso": "ISO 9660", "udf": "UDF", "fat": "FAT"}


def check(reader: MediaReader, profile: Profile | None) -> list[Finding]:
    """A11 (and Annex P's UDF layout) for an image validated against ``profile``."""
    kind = getattr(reader, "kind", "")
    if profile is None or kind not in _KIND_NAMES or profile.media not in KINDS:
        return []
    medium = profile.media
    if kind not in KINDS[medium]:
        return [_wrong(f"the image is {_KIND_NAMES[kind]}", profile)]
    facts: UdfFacts | None = getattr(reader, "facts", None)
    if kind != "udf" or facts is None or medium == "cd":
        return []
    out = []
    if facts.revision not in UDF_REVISIONS[medium]:
        out.append(_wrong(f"the image is UDF {facts.text(facts.revision)}", profile))
    if medium == "dvd" and (facts.partitions != 1 or facts.interchange != (2, 2)):
        out.append(
            finding(
                "media.udf-layout",
                f"{facts.partitions} partition(s), Interchange Level {facts.interchange[0]} "
                f"(maximum {facts.interchange[1]}); Annex P asks for one partition and level 2",
            )
        )
    return out


def _wrong(what: str, profile: Profile) -> Finding:
    return finding(
        "media.wrong-filesystem",
        f"{what}; {profile.id} is a {profile.media.upper()} profile: {_NAMES[profile.media]}",
    )
