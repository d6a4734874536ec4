"""What an instance needs to fit an Application Profile: one decision, used by build and validate.

PS3.11 fixes the Transfer Syntaxes (and for some profiles the SOP Classes) a File-set may hold.
``build`` acts on the decision; ``validate`` reports the same facts as findings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from pydicom.uid import UID

from mediatool.findings import Finding, finding
from mediatool.model import InstanceInfo
from mediatool.profiles import Profile

#: Encodings that change without touching pixel values: byte order, VR explicitness, deflate.
_NATIVE: Final = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
)


class Action(enum.Enum):
    COPY = "copy"  # new file meta + the data set bytes unchanged
    REENCODE = "reencode"  # same values, another native encoding (or values patched)
    DECOMPRESS = "decompress"  # compressed pixel data decoded losslessly
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    target_ts: str
    findings: tuple[Finding, ...] = ()


def _decoder_available(ts: str) -> bool:
    try:
        from pydicom.pixels.decoders.base import get_decoder

        return bool(get_decoder(UID(ts)).is_available)
    except (NotImplementedError, ValueError):
        return False


def check_profile(info: InstanceInfo, profile: Profile, where: str) -> list[Finding]:
    """Profile rules on an instance as it is (checklist G01, G02)."""
    out: list[Finding] = []
    if profile.sop_classes is not None and info.sop_class_uid not in profile.sop_classes:
        out.append(
            finding(
                "profile.sop-class-not-allowed",
                f"SOP Class {UID(info.sop_class_uid).name!r} is not allowed by {profile.id}",
                where,
            )
        )
    if info.transfer_syntax not in profile.ts_allowed:
        out.append(
            finding(
                "profile.ts-not-allowed",
                f"Transfer Syntax {UID(info.transfer_syntax).name!r} is not allowed by "
                f"{profile.id}",
                where,
            )
        )
    return out


def decide(info: InstanceInfo, profile: Profile, *, patched: bool = False) -> Decision:
    """How ``build`` writes this instance under ``profile`` (lossless changes only)."""
    where = info.source.display
    problems = check_profile(info, profile, where)
    if any(f.code == "profile.sop-class-not-allowed" for f in problems):
        return Decision(
            Action.REJECT,
            info.transfer_syntax,
            tuple(f for f in problems if f.code == "profile.sop-class-not-allowed"),
        )
    ts = info.transfer_syntax
    if ts in profile.ts_allowed:
        action = Action.REENCODE if (info.needs_reencode or patched) else Action.COPY
        return Decision(action, ts)
    target = profile.convert_to
    name = UID(ts).name
    if ts in _NATIVE:
        return Decision(
            Action.REENCODE,
            target,
            (
                finding(
                    "build.reencoded", f"re-encoded from {name!r} to {UID(target).name!r}", where
                ),
            ),
        )
    if UID(ts).is_compressed and not UID(target).is_compressed and _decoder_available(ts):
        return Decision(
            Action.DECOMPRESS,
            target,
            (
                finding(
                    "build.decompressed", f"decoded from {name!r} to {UID(target).name!r}", where
                ),
            ),
        )
    return Decision(
        Action.REJECT,
        ts,
        (
            finding(
                "profile.cannot-convert",
                f"Transfer Syntax {name!r} is not allowed by {profile.id} and "
                f"cannot be converted losslessly to {UID(target).name!r}",
                where,
            ),
        ),
    )
