"""The Application Profile of a File-set being updated, read from the medium itself.

PS3.11 puts no profile identifier on the medium, and an FSU must keep the medium conformant to
the profile it was made for (PS3.11 6.2.3 / D.3.3: an FSU updates, it does not change the
profile). So when ``update`` is given no ``--profile``, the profile is the one the medium shows:

1. every in-use record that references a file names its SOP Class (0004,1510) and Transfer
   Syntax (0004,1512): the profile must allow each pair (PS3.11 Tables D.3-1, H.3-1...);
2. every record of a type the profile gives Type 1 or 2 keys (PS3.11 Tables D.3-2, H.3-2...)
   carries those keys, and the icons the profile requires (PS3.3 F.7): an XA disc's records
   carry the XA keys, a general purpose CD's do not;
3. a folder on a mounted FAT file system is a USB stick (PS3.12 Annex R): USB profiles first;
   otherwise CD, then DVD, DVD-RAM, BD, USB (the most restrictive medium that admits it).

Among the profiles that fit, the one that lists the most of the keys the records carry wins
(the records are rebuilt for the chosen profile: one listing fewer keys would drop keys the
medium has), then the one requiring the most keys, then the medium (3.), then the general
purpose profiles (:data:`PREFERRED`), then the fewest Transfer Syntaxes. When none fits
(a foreign medium in Implicit VR, say), the build's default profile is used for the added files
and a warning says so. The records are read, not the files: this costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pydicom.datadict import tag_for_keyword
from pydicom.uid import UID

from mediatool import profiles
from mediatool.dicom.dicomdir_raw import FILE_ID, REF_CLASS, REF_TS, RawDirectory
from mediatool.dicom.elements import ICON_IMAGE_SEQUENCE
from mediatool.errors import MediatoolError
from mediatool.findings import Finding, finding
from mediatool.profiles import Profile

#: Media in the order a folder that is not on a FAT file system is tried (most restrictive first).
MEDIA_ORDER: Final = ("cd", "dvd", "dvd-ram", "bd", "bd-re", "usb")
#: The general purpose profiles, preferred when several fit equally (PS3.11 Annexes D, H, J, M).
PREFERRED: Final = ("STD-GEN-CD", "STD-GEN-DVD-JPEG", "STD-GEN-USB-JPEG", "STD-GEN-BD")


@dataclass(frozen=True, slots=True)
class MediumFacts:
    """What the DICOMDIR says, as far as a profile is concerned."""

    pairs: frozenset[tuple[str, str]]  # (SOP Class UID, Transfer Syntax UID) of referenced files
    #: record type → the tags present in *every* record of that type
    keys: dict[str, frozenset[int]]
    on_fat: bool
    #: record type → the tags present in *some* record of that type
    some: dict[str, frozenset[int]] = field(default_factory=dict)


def facts(directory: RawDirectory, root: Path) -> MediumFacts:
    pairs: set[tuple[str, str]] = set()
    keys: dict[str, frozenset[int]] = {}
    some: dict[str, frozenset[int]] = {}
    for record in directory.records:
        rtype = (record.record_type or "").strip()
        present = frozenset(record.elements)
        keys[rtype] = keys[rtype] & present if rtype in keys else present
        some[rtype] = some.get(rtype, frozenset()) | present
        if record.has(FILE_ID) and record.text(REF_CLASS) and record.text(REF_TS):
            pairs.add((record.text(REF_CLASS) or "", record.text(REF_TS) or ""))
    return MediumFacts(frozenset(pairs), keys, _on_fat(root), some)


def _on_fat(root: Path) -> bool:
    from mediatool.writers import usb

    try:
        return usb.mount_of(root).fstype in usb.FAT_TYPES
    except (MediatoolError, OSError):
        return False


def _required(profile: Profile, types: tuple[str, ...] = ("1", "2")) -> dict[str, list[int]]:
    """Record type → tags of the keys of these Types the profile adds."""
    out: dict[str, list[int]] = {}
    for rtype, table in profile.key_types.items():
        tags = [tag_for_keyword(kw) for kw, t in table.items() if t in types]
        out[rtype] = [int(t) for t in tags if t is not None]
    return out


def _explained(profile: Profile, seen: MediumFacts) -> int:
    """How many of the keys the records carry this profile lists (any Type)."""
    listed = _required(profile, ("1", "1C", "2"))
    return sum(t in seen.some.get(rtype, ()) for rtype, tags in listed.items() for t in tags)


def misfits(profile: Profile, seen: MediumFacts) -> list[str]:
    """Why ``profile`` does not fit the medium (empty: it fits)."""
    out = []
    for cls, ts in sorted(seen.pairs):
        if profile.sop_classes is not None and cls not in profile.sop_classes:
            out.append(f"{UID(cls).name} is not in {profile.id}")
        elif ts not in profile.allowed_ts(cls):
            out.append(f"{UID(ts).name} is not allowed for {UID(cls).name} in {profile.id}")
    for rtype, tags in _required(profile).items():
        if rtype in seen.keys and any(t not in seen.keys[rtype] for t in tags):
            out.append(f"{rtype} records lack keys {profile.id} requires")
    icons = profile.icons
    for rtype in icons.records if icons is not None and icons.required else ():
        if rtype in seen.keys and ICON_IMAGE_SEQUENCE not in seen.keys[rtype]:
            out.append(f"{rtype} records lack the icons {profile.id} requires (PS3.3 F.7)")
    return out


def _rank(profile: Profile, seen: MediumFacts) -> tuple[int, int, int, int, int, str]:
    """The profile that lists the most of the keys the records carry first (rebuilding the
    records for a profile with fewer keys would drop them), then the most required keys; then
    the medium; then the general ones."""
    order = ("usb", *MEDIA_ORDER) if seen.on_fat else MEDIA_ORDER
    media = order.index(profile.media) if profile.media in order else len(order)
    keys = sum(len(v) for v in _required(profile).values())
    preferred = 0 if profile.id in PREFERRED else 1
    explained = _explained(profile, seen)
    return (-explained, -keys, media, preferred, len(profile.ts_allowed), profile.id)


def choose(candidates: Iterable[Profile], seen: MediumFacts) -> Profile | None:
    fitting = [p for p in candidates if not misfits(p, seen)]
    return min(fitting, key=lambda p: _rank(p, seen), default=None)


def from_medium(
    directory: RawDirectory, root: Path, extra_dir: Path | None = None
) -> tuple[Profile, list[Finding]]:
    """The profile for an update given no ``--profile``, and the finding that says why."""
    seen = facts(directory, root)
    available: Sequence[Profile] = profiles.list_profiles(extra_dir)
    chosen = choose(available, seen)
    where = str(root)
    if chosen is not None:
        why = "the USB stick's" if seen.on_fat and chosen.media == "usb" else "the medium's"
        return chosen, [
            finding(
                "update.profile",
                f"Application Profile {chosen.id}: {why} files and records fit it "
                f"({len(seen.pairs)} SOP Class/Transfer Syntax pair(s) checked)",
                where,
            )
        ]
    default = profiles.load(profiles.DEFAULT_PROFILE)
    reasons = misfits(default, seen)[:3]
    return default, [
        finding(
            "update.profile-unknown",
            "no Application Profile fits every file already on the medium ("
            + "; ".join(reasons)
            + f"); the added files are written for {default.id}",
            where,
        )
    ]
