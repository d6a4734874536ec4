"""The file system of an image against the medium of the claimed profile (PS3.12; checklist A11).

| profile medium | file systems allowed | PS3.12 |
| --- | --- | --- |
| cd | ISO 9660 (Level 1: the ISO checks A03-A08); a UDF bridge beside it is tolerated | F.2.2 |
| dvd | ISO 9660, or UDF 1.02, 1.50, 2.00, 2.01 with one partition, Interchange Level 2 | P.2 |
| dvd-ram | UDF 1.50 and nothing from a later revision (no Metadata Partition) | J.2 |
| bd, bd-re | UDF 2.50 (BD-RE) or 2.60 (BD-R), no VAT and no sparing table | X.2 |
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
    "dvd-ram": (0x0150,),
    "bd": (0x0250, 0x0260),
    "bd-re": (0x0250, 0x0260),
}
#: medium -> reader kinds (file systems) it may carry
KINDS: Final = {
    "cd": ("iso", "udf"),
    "dvd": ("iso", "udf"),
    "dvd-ram": ("udf",),
    "bd": ("udf",),
    "bd-re": ("udf",),
    "usb": ("fat",),
}
_NAMES: Final = {
    "cd": "ISO 9660 Level 1 (PS3.12 Annex F)",
    "dvd": "UDF 1.02/1.50/2.00/2.01 or ISO 9660 (PS3.12 Annex P)",
    "dvd-ram": "UDF 1.50 and nothing from a later revision (PS3.12 Annex J)",
    "bd": "UDF 2.50 or 2.60 (PS3.12 Annex X)",
    "bd-re": "UDF 2.50 or 2.60 (PS3.12 Annex X)",
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
    elif medium == "dvd-ram" and ("metadata" in facts.maps or facts.max_write > 0x0150):
        later = f"structures of UDF {facts.text(max(facts.max_write, 0x0250))}"
        out.append(_wrong(f"the image records {later}", profile))
    if medium == "dvd" and (facts.partitions != 1 or facts.interchange != (2, 2)):
        out.append(
            finding(
                "media.udf-layout",
                f"{facts.partitions} partition(s), Interchange Level {facts.interchange[0]} "
                f"(maximum {facts.interchange[1]}); Annex P asks for one partition and level 2",
            )
        )
    if medium in ("bd", "bd-re"):
        out.extend(_bd_layout(facts))
    return out


def _bd_layout(facts: UdfFacts) -> list[Finding]:
    """PS3.12 X.2: no VAT and no sparing table on a BD (the drive manages defects)."""
    names = {"virtual": "a VAT (virtual partition)", "sparable": "a sparing table"}
    return [
        finding("media.udf-layout", f"the volume has {names[m]}; PS3.12 Annex X forbids it on a BD")
        for m in facts.maps
        if m in names
    ]


def _wrong(what: str, profile: Profile) -> Finding:
    return finding(
        "media.wrong-filesystem",
        f"{what}; {profile.id} is a {profile.media.upper()} profile: {_NAMES[profile.media]}",
    )
