"""What an instance needs to fit an Application Profile: one decision, used by build and validate.

PS3.11 fixes the Transfer Syntaxes per SOP Class, the SOP Classes and, for some profiles, image
attribute values a File-set may hold. ``build`` acts on the decision; ``validate`` reports the
same facts as findings (:func:`check_profile`). Everything profile-specific comes from the
:class:`~mediatool.profiles.Profile` data; nothing here knows a profile by name.

Conversion rules (lossless unless ``allow_lossy``):

- a Transfer Syntax the profile allows for the SOP Class is kept (``--compress lossless``
  compresses native input to the profile's ``lossless_compress_to`` where that is allowed);
- otherwise native encodings (Implicit VR, Big Endian, Deflated) are re-encoded and compressed
  pixel data is decoded into the class's conversion target (``convert_to`` if allowed for the
  class, else the first lossless syntax the class allows, e.g. JPEG Lossless for XA on
  STD-XABC-CD), and encoded into it when that target is compressed;
- lossy compression (``--compress lossy``) is done only when the caller allows it, and makes a
  new instance (PS3.3 C.7.6.1.1.5: new SOP Instance UID, Lossy Image Compression history).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Final

from pydicom.uid import UID

from mediatool.dicom.uids import NATIVE, derive_uid, is_lossy
from mediatool.findings import Finding, finding
from mediatool.model import InstanceInfo, PixelInfo
from mediatool.pixels.codecs import cannot_encode
from mediatool.profiles import ImageRule, Profile

#: Kept for callers of the old name.
_NATIVE: Final = NATIVE
COMPRESS_MODES: Final = ("none", "lossless", "lossy")


class Action(enum.Enum):
    COPY = "copy"  # new file meta + the data set bytes unchanged
    REENCODE = "reencode"  # same values, another native encoding (or values patched)
    DECOMPRESS = "decompress"  # compressed pixel data decoded losslessly
    COMPRESS = "compress"  # pixel data (decoded if needed and) encoded in target_ts
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    target_ts: str
    findings: tuple[Finding, ...] = ()
    lossy: bool = False  # COMPRESS with loss: a new instance (new_uid)
    new_uid: str | None = None


def _decoder_available(ts: str) -> bool:
    if ts in NATIVE:
        return True
    try:
        from pydicom.pixels.decoders.base import get_decoder

        return bool(get_decoder(UID(ts)).is_available)
    except (NotImplementedError, ValueError):
        return False


def _name(uid: str) -> str:
    return UID(uid).name


def _rule_applies(rule: ImageRule, info: InstanceInfo) -> bool:
    return rule.sop_classes is None or info.sop_class_uid in rule.sop_classes


def image_problems(info: InstanceInfo, profile: Profile) -> list[str]:
    """Image attribute values the profile does not allow (checklist G05)."""
    pixel = info.pixel
    if pixel is None:
        return []
    out: list[str] = []
    for rule in profile.image_rules:
        if not _rule_applies(rule, info):
            continue
        for keyword, allowed in rule.allowed.items():
            value = info.modality if keyword == "Modality" else pixel.value(keyword)
            if value not in allowed:
                out.append(f"{keyword} is {value!r}, the profile allows {', '.join(allowed)}")
        if rule.max_rows is not None and pixel.rows > rule.max_rows:
            out.append(f"Rows is {pixel.rows}, more than {rule.max_rows}")
        if rule.max_columns is not None and pixel.columns > rule.max_columns:
            out.append(f"Columns is {pixel.columns}, more than {rule.max_columns}")
    return out


def check_profile(info: InstanceInfo, profile: Profile, where: str) -> list[Finding]:
    """Profile rules on an instance as it is (checklist G01, G02, G04, G05)."""
    out: list[Finding] = []
    if profile.sop_classes is not None and info.sop_class_uid not in profile.sop_classes:
        out.append(
            finding(
                "profile.sop-class-not-allowed",
                f"SOP Class {_name(info.sop_class_uid)!r} is not allowed by {profile.id}",
                where,
            )
        )
    elif info.transfer_syntax not in profile.allowed_ts(info.sop_class_uid):
        allowed = profile.allowed_ts(info.sop_class_uid)
        out.append(
            finding(
                "profile.ts-not-allowed",
                f"Transfer Syntax {_name(info.transfer_syntax)!r} is not allowed by "
                f"{profile.id} for {_name(info.sop_class_uid)!r} (allowed: "
                f"{', '.join(_name(t) for t in allowed)})",
                where,
            )
        )
    problems = image_problems(info, profile)
    if problems:
        out.append(
            finding(
                "profile.image-constraint",
                f"{'; '.join(problems)} ({profile.id})",
                where,
            )
        )
    return out


def conversion_target(profile: Profile, sop_class: str) -> str | None:
    """The lossless syntax build converts disallowed input of ``sop_class`` into."""
    allowed = profile.allowed_ts(sop_class)
    if profile.convert_to in allowed:
        return profile.convert_to
    return next((ts for ts in allowed if not is_lossy(ts)), None)


def _reencode(info: InstanceInfo, target: str, where: str) -> Decision:
    name = _name(info.transfer_syntax)
    return Decision(
        Action.REENCODE,
        target,
        (finding("build.reencoded", f"re-encoded from {name!r} to {_name(target)!r}", where),),
    )


def _decompress(info: InstanceInfo, target: str, where: str) -> Decision:
    name = _name(info.transfer_syntax)
    return Decision(
        Action.DECOMPRESS,
        target,
        (finding("build.decompressed", f"decoded from {name!r} to {_name(target)!r}", where),),
    )


def _compress(info: InstanceInfo, target: str, where: str, lossy: bool) -> Decision:
    name = _name(info.transfer_syntax)
    if lossy:
        new_uid = derive_uid("lossy", info.sop_instance_uid, target)
        return Decision(
            Action.COMPRESS,
            target,
            (
                finding(
                    "build.lossy",
                    f"compressed with loss from {name!r} to {_name(target)!r}: a derived "
                    f"image with the new SOP Instance UID {new_uid}",
                    where,
                ),
            ),
            lossy=True,
            new_uid=new_uid,
        )
    return Decision(
        Action.COMPRESS,
        target,
        (
            finding(
                "build.compressed", f"encoded losslessly from {name!r} to {_name(target)!r}", where
            ),
        ),
    )


def decoded_pixel(info: InstanceInfo) -> PixelInfo | None:
    """The pixel description once decoded: pydicom's decoders return colour as RGB."""
    pixel = info.pixel
    if (
        pixel is not None
        and info.transfer_syntax not in NATIVE
        and pixel.samples_per_pixel == 3
        and pixel.photometric.startswith("YBR")
    ):
        return dataclasses.replace(pixel, photometric="RGB")
    return pixel


def _convert(info: InstanceInfo, target: str, where: str) -> Decision | None:
    """Lossless conversion of the instance into ``target``, when it can be done."""
    ts = info.transfer_syntax
    if not _decoder_available(ts):
        return None
    if target in NATIVE:
        return _reencode(info, target, where) if ts in NATIVE else _decompress(info, target, where)
    if cannot_encode(target, decoded_pixel(info)) is not None:
        return None
    return _compress(info, target, where, lossy=False)


def _reject(code: str, message: str, where: str, ts: str) -> Decision:
    return Decision(Action.REJECT, ts, (finding(code, message, where),))


def _compress_choice(
    info: InstanceInfo, profile: Profile, compress: str, allow_lossy: bool
) -> str | None:
    """The syntax ``--compress`` asks for, when it applies to this instance: native input, or
    input the profile does not allow; never a second lossy compression."""
    ts = info.transfer_syntax
    allowed = profile.allowed_ts(info.sop_class_uid)
    if compress == "none" or info.pixel is None or not _decoder_available(ts):
        return None
    if ts not in NATIVE and ts in allowed:
        return None
    if compress == "lossy" and (not allow_lossy or is_lossy(ts)):
        return None
    target = profile.lossless_compress_to if compress == "lossless" else profile.lossy_compress_to
    if target is None or target not in allowed or cannot_encode(target, decoded_pixel(info)):
        return None
    return target


def decide(
    info: InstanceInfo,
    profile: Profile,
    *,
    patched: bool = False,
    compress: str = "none",
    allow_lossy: bool = False,
) -> Decision:
    """How ``build`` writes this instance under ``profile``."""
    where = info.source.display
    problems = [
        f
        for f in check_profile(info, profile, where)
        if f.code in ("profile.sop-class-not-allowed", "profile.image-constraint")
    ]
    ts = info.transfer_syntax
    if problems:
        return Decision(Action.REJECT, ts, tuple(problems))
    wanted = _compress_choice(info, profile, compress, allow_lossy)
    if wanted is not None and wanted != ts:
        return _compress(info, wanted, where, lossy=is_lossy(wanted))
    allowed = profile.allowed_ts(info.sop_class_uid)
    if ts in allowed:
        action = Action.REENCODE if (info.needs_reencode or patched) else Action.COPY
        return Decision(action, ts)
    target = conversion_target(profile, info.sop_class_uid)
    decision = _convert(info, target, where) if target is not None else None
    if decision is not None:
        return decision
    lossy_target = profile.lossy_compress_to
    if (
        allow_lossy
        and lossy_target in allowed
        and lossy_target is not None
        and _decoder_available(ts)
        and cannot_encode(lossy_target, decoded_pixel(info)) is None
    ):
        return _compress(info, lossy_target, where, lossy=True)
    reason = (
        f"cannot be converted losslessly to {_name(target)!r}"
        if target is not None
        else "and the profile allows no lossless syntax for it"
    )
    if target is not None and not _decoder_available(ts):
        reason += " (no decoder for it is installed)"
    elif target is not None and target not in NATIVE:
        reason += f" ({cannot_encode(target, decoded_pixel(info))})"
    return _reject(
        "profile.cannot-convert",
        f"Transfer Syntax {_name(ts)!r} is not allowed by {profile.id} for "
        f"{_name(info.sop_class_uid)!r} and {reason}",
        where,
        ts,
    )
