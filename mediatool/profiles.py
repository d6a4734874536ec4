"""Application Profiles (PS3.11) loaded from the TOML files in ``profiles/``.

The loader checks structure the way pypa/build checks ``pyproject.toml``: one clear
:class:`ProfileError` per problem, unknown keys are errors, UID keywords are resolved through
``pydicom.uid`` with a "did you mean" for typos. Code never branches on a profile's name:
everything that differs between profiles (Transfer Syntaxes per SOP Class, conversion targets,
additional directory keys and their Type, icon rules, image constraints, medium) is in the file.
The format is documented in ``profiles/README.md``.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from mediatool.errors import ProfileError
from mediatool.findings import CODES, Severity
from mediatool.resources import data_dir

DEFAULT_PROFILE: Final = "STD-GEN-CD"
_TOP_KEYS: Final = {
    "id",
    "title",
    "source",
    "edition",
    "transcribed_from",
    "media",
    "filesystem",
    "transfer_syntaxes",
    "sop_classes",
    "dicomdir",
    "icons",
    "image_rules",
    "severity",
}
_TS_KEYS: Final = {
    "allowed",
    "convert_to",
    "lossless_compress_to",
    "lossy_compress_to",
    "lossy_allowed",
}
_SOP_KEYS: Final = {"allowed", "transfer_syntaxes"}
_ICON_KEYS: Final = {"required", "records", "size", "bits", "photometric"}
_ICON_RECORDS: Final = frozenset({"SERIES", "IMAGE"})
_ICON_PHOTOMETRIC: Final = frozenset({"MONOCHROME1", "MONOCHROME2", "PALETTE COLOR"})
_KEY_TYPES: Final = ("1", "1C", "2")
_MEDIA: Final = {"cd", "dvd", "dvd-ram", "bd", "usb"}
#: Image rule keys: the header attribute each one constrains (checklist G05).
IMAGE_RULE_FIELDS: Final = {
    "modality": "Modality",
    "samples_per_pixel": "SamplesPerPixel",
    "photometric": "PhotometricInterpretation",
    "bits_allocated": "BitsAllocated",
    "bits_stored": "BitsStored",
    "pixel_representation": "PixelRepresentation",
}
_IMAGE_RULE_KEYS: Final = {"sop_classes", "max_rows", "max_columns", "note", *IMAGE_RULE_FIELDS}


@dataclass(frozen=True)
class IconRule:
    """Icon Image Sequence (0088,0200) rules of a profile (PS3.3 F.7 as the profile narrows it)."""

    records: tuple[str, ...]  # record types that carry the icon
    size: int  # Rows = Columns
    bits: int  # Bits Allocated = Bits Stored
    photometric: tuple[str, ...]  # allowed; the first one is what build writes
    required: bool  # checklist G07: every such record must have one


@dataclass(frozen=True)
class ImageRule:
    """Values the profile allows for the images of some SOP Classes (checklist G05)."""

    sop_classes: frozenset[str] | None  # None: every image
    allowed: Mapping[str, tuple[str, ...]]  # attribute keyword -> allowed values (as text)
    max_rows: int | None = None
    max_columns: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Profile:
    id: str
    title: str
    source: str
    edition: str
    media: str
    ts_allowed: frozenset[str]
    convert_to: str
    lossy_allowed: bool
    sop_classes: frozenset[str] | None  # None: any Storage SOP Class
    extra_keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    path: str = ""
    transcribed_from: str = ""
    filesystem: str = ""
    ts_order: tuple[str, ...] = ()  # ts_allowed in the order the file lists them
    ts_by_class: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lossless_compress_to: str | None = None
    lossy_compress_to: str | None = None
    key_types: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    icons: IconRule | None = None
    image_rules: tuple[ImageRule, ...] = ()

    def allowed_ts(self, sop_class: str) -> tuple[str, ...]:
        """Transfer Syntaxes allowed for instances of ``sop_class``, in the file's order."""
        return self.ts_by_class.get(sop_class, self.ts_order or tuple(sorted(self.ts_allowed)))

    def as_dict(self) -> dict[str, Any]:
        icons = self.icons
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "edition": self.edition,
            "transcribed_from": self.transcribed_from,
            "media": self.media,
            "filesystem": self.filesystem,
            "transfer_syntaxes": {
                "allowed": list(self.ts_order),
                "convert_to": self.convert_to,
                "lossless_compress_to": self.lossless_compress_to,
                "lossy_compress_to": self.lossy_compress_to,
                "lossy_allowed": self.lossy_allowed,
                "by_sop_class": {k: list(v) for k, v in sorted(self.ts_by_class.items())},
            },
            "sop_classes": "storage" if self.sop_classes is None else sorted(self.sop_classes),
            "dicomdir_keys": {
                rtype: {kw: self.key_types.get(rtype, {}).get(kw, "1C") for kw in kws}
                for rtype, kws in sorted(self.extra_keys.items())
            },
            "icons": None
            if icons is None
            else {
                "required": icons.required,
                "records": list(icons.records),
                "size": icons.size,
                "bits": icons.bits,
                "photometric": list(icons.photometric),
            },
            "image_rules": [
                {
                    "sop_classes": None if r.sop_classes is None else sorted(r.sop_classes),
                    **{k: list(v) for k, v in r.allowed.items()},
                    "max_rows": r.max_rows,
                    "max_columns": r.max_columns,
                    "note": r.note,
                }
                for r in self.image_rules
            ],
            "severity": {k: str(v) for k, v in sorted(self.severity.items())},
            "path": self.path,
        }


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@cache
def _uid_names() -> list[str]:
    import pydicom.uid
    from pydicom.uid import UID

    return [n for n in dir(pydicom.uid) if isinstance(getattr(pydicom.uid, n), UID)]


@cache
def _sop_class_names() -> dict[str, str]:
    """SOP Class keywords (``CTImageStorage``) → UID, from pydicom's UID dictionary."""
    from pydicom._uid_dict import UID_dictionary

    return {
        entry[4]: uid
        for uid, entry in UID_dictionary.items()
        if entry[1] == "SOP Class" and entry[4]
    }


def _uid(value: object, where: str) -> str:
    """A Transfer Syntax or SOP Class given by keyword (or as a dotted UID)."""
    # pydicom is imported when a profile is read, not with this module: ``--help`` needs
    # only DEFAULT_PROFILE (start-up, issue 17)
    import pydicom.uid
    from pydicom.uid import UID

    if not isinstance(value, str) or not value:
        raise ProfileError(f"{where}: {value!r} is not a UID keyword")
    if value[0].isdigit():
        if not pydicom.uid.UID(value).is_valid:
            raise ProfileError(f"{where}: {value!r} is not a valid UID")
        return value
    uid = getattr(pydicom.uid, value, None)
    if isinstance(uid, UID):
        return str(uid)
    classes = _sop_class_names()
    if value in classes:
        return classes[value]
    names = _uid_names() + sorted(classes)
    raise ProfileError(f"{where}: unknown UID keyword {value!r}{_suggest(value, names)}")


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ProfileError(f"{where}: `{key}` must be a list")
    return value


def _table(data: Mapping[str, Any], key: str, where: str, known: set[str]) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ProfileError(f"{where}: `{key}` must be a table")
    unknown = sorted(set(value) - known)
    if unknown:
        raise ProfileError(
            f"{where}: unknown key `{key}.{unknown[0]}`{_suggest(unknown[0], sorted(known))}"
        )
    return value


def _ts_list(values: list[Any], where: str) -> tuple[str, ...]:
    from pydicom.uid import UID

    out = tuple(_uid(v, where) for v in values)
    for uid in out:
        if not UID(uid).is_transfer_syntax:
            raise ProfileError(f"{where}: {UID(uid).name!r} is not a Transfer Syntax")
    if not out:
        raise ProfileError(f"{where}: the list is empty")
    return out


def _transfer_syntaxes(
    data: Mapping[str, Any], path: str
) -> tuple[tuple[str, ...], str, str | None, str | None, bool]:
    from pydicom.uid import UID

    from mediatool.dicom.uids import is_lossy

    ts = data.get("transfer_syntaxes")
    if not isinstance(ts, dict):
        raise ProfileError(f"{path}: a [transfer_syntaxes] table is required")
    unknown = sorted(set(ts) - _TS_KEYS)
    if unknown:
        raise ProfileError(
            f"{path}: unknown key `transfer_syntaxes.{unknown[0]}`"
            f"{_suggest(unknown[0], sorted(_TS_KEYS))}"
        )
    where = f"{path}: transfer_syntaxes"
    allowed = _ts_list(_list(ts, "allowed", where), f"{where}.allowed")
    convert_to = _uid(ts.get("convert_to", "ExplicitVRLittleEndian"), f"{where}.convert_to")
    if convert_to not in allowed:
        raise ProfileError(f"{where}.convert_to is not in `allowed`")
    targets: list[str | None] = []
    for key in ("lossless_compress_to", "lossy_compress_to"):
        value = ts.get(key)
        targets.append(None if value is None else _uid(value, f"{where}.{key}"))
    lossless, lossy = targets
    if lossless is not None and not UID(lossless).is_compressed:
        raise ProfileError(f"{where}.lossless_compress_to must be a compressed Transfer Syntax")
    if lossless is not None and is_lossy(lossless):
        raise ProfileError(f"{where}.lossless_compress_to {UID(lossless).name!r} is lossy")
    if lossy is not None and not is_lossy(lossy):
        raise ProfileError(f"{where}.lossy_compress_to {UID(lossy).name!r} is not lossy")
    lossy_allowed = ts.get("lossy_allowed", any(is_lossy(u) for u in allowed))
    if not isinstance(lossy_allowed, bool):
        raise ProfileError(f"{where}.lossy_allowed must be true or false")
    return allowed, convert_to, lossless, lossy, lossy_allowed


def _sop_classes(
    data: Mapping[str, Any], path: str
) -> tuple[frozenset[str] | None, dict[str, tuple[str, ...]]]:
    table = _table(data, "sop_classes", path, _SOP_KEYS)
    sop = table.get("allowed", "storage")
    if sop == "storage":
        classes = None
    elif isinstance(sop, list) and sop:
        classes = frozenset(_uid(v, f"{path}: sop_classes.allowed") for v in sop)
    else:
        raise ProfileError(f'{path}: sop_classes.allowed must be "storage" or a list')
    by_class: dict[str, tuple[str, ...]] = {}
    per = table.get("transfer_syntaxes", {})
    if not isinstance(per, dict):
        raise ProfileError(f"{path}: sop_classes.transfer_syntaxes must be a table")
    for keyword, values in per.items():
        where = f"{path}: sop_classes.transfer_syntaxes.{keyword}"
        uid = _uid(keyword, where)
        if classes is not None and uid not in classes:
            raise ProfileError(f"{where}: the SOP Class is not in sop_classes.allowed")
        if not isinstance(values, list):
            raise ProfileError(f"{where} must be a list of Transfer Syntaxes")
        by_class[uid] = _ts_list(values, where)
    return classes, by_class


def _keys(
    data: Mapping[str, Any], path: str
) -> tuple[dict[str, tuple[str, ...]], dict[str, dict[str, str]]]:
    """``[dicomdir.keys]``: per record type a list of keywords (Type 1C) or a table
    keyword = "1" | "1C" | "2"."""
    from pydicom.datadict import keyword_dict

    from mediatool.dicom.recordtypes import DEFINED_RECORD_TYPES

    table = _table(data, "dicomdir", path, {"keys"})
    keys = table.get("keys", {})
    if not isinstance(keys, dict):
        raise ProfileError(f"{path}: dicomdir.keys must be a table")
    extra: dict[str, tuple[str, ...]] = {}
    types: dict[str, dict[str, str]] = {}
    for rtype, entries in keys.items():
        where = f"{path}: dicomdir.keys.{rtype}"
        if rtype not in DEFINED_RECORD_TYPES:
            raise ProfileError(
                f"{path}: dicomdir.keys: unknown record type {rtype!r}"
                f"{_suggest(rtype, sorted(DEFINED_RECORD_TYPES))}"
            )
        if isinstance(entries, list):
            pairs = [(kw, "1C") for kw in entries]
        elif isinstance(entries, dict):
            pairs = list(entries.items())
        else:
            raise ProfileError(f"{where} must be a list of keywords or a table keyword = Type")
        for kw, key_type in pairs:
            if not isinstance(kw, str) or kw not in keyword_dict:
                raise ProfileError(
                    f"{where}: unknown keyword {kw!r}{_suggest(str(kw), list(keyword_dict))}"
                )
            if key_type not in _KEY_TYPES:
                raise ProfileError(f"{where}.{kw}: Type must be one of {', '.join(_KEY_TYPES)}")
        extra[rtype] = tuple(kw for kw, _ in pairs)
        types[rtype] = dict(pairs)
    return extra, types


def _icons(data: Mapping[str, Any], path: str) -> IconRule | None:
    if "icons" not in data:
        return None
    table = _table(data, "icons", path, _ICON_KEYS)
    where = f"{path}: icons"
    records = table.get("records", ["IMAGE"])
    if not isinstance(records, list) or not records or set(records) - _ICON_RECORDS:
        raise ProfileError(f"{where}.records must list record types among SERIES, IMAGE")
    size = table.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 16 <= size <= 1024:
        raise ProfileError(f"{where}.size must be a number of pixels from 16 to 1024")
    bits = table.get("bits", 8)
    if bits != 8:
        raise ProfileError(f"{where}.bits must be 8 (the icons mediatool writes; PS3.3 F.7)")
    photometric = table.get("photometric", ["MONOCHROME2"])
    if not isinstance(photometric, list) or set(photometric) - _ICON_PHOTOMETRIC:
        raise ProfileError(
            f"{where}.photometric must list values among {', '.join(sorted(_ICON_PHOTOMETRIC))}"
        )
    if "MONOCHROME2" not in photometric:
        raise ProfileError(f"{where}.photometric must include 'MONOCHROME2' (what build writes)")
    required = table.get("required", False)
    if not isinstance(required, bool):
        raise ProfileError(f"{where}.required must be true or false")
    return IconRule(
        tuple(records),
        size,
        bits,
        ("MONOCHROME2", *(p for p in photometric if p != "MONOCHROME2")),
        required,
    )


def _image_rules(data: Mapping[str, Any], path: str) -> tuple[ImageRule, ...]:
    rules = data.get("image_rules", [])
    if not isinstance(rules, list):
        raise ProfileError(f"{path}: image_rules must be an array of tables ([[image_rules]])")
    out: list[ImageRule] = []
    for n, rule in enumerate(rules, 1):
        where = f"{path}: image_rules[{n}]"
        if not isinstance(rule, dict):
            raise ProfileError(f"{where} must be a table")
        unknown = sorted(set(rule) - _IMAGE_RULE_KEYS)
        if unknown:
            hint = _suggest(unknown[0], sorted(_IMAGE_RULE_KEYS))
            raise ProfileError(f"{where}: unknown key `{unknown[0]}`{hint}")
        classes = rule.get("sop_classes")
        sop = (
            None
            if classes is None
            else frozenset(
                _uid(c, f"{where}.sop_classes") for c in _list(rule, "sop_classes", where)
            )
        )
        allowed: dict[str, tuple[str, ...]] = {}
        for key, keyword in IMAGE_RULE_FIELDS.items():
            if key in rule:
                values = _list(rule, key, where)
                allowed[keyword] = tuple(str(v) for v in values)
        limits: list[int | None] = []
        for key in ("max_rows", "max_columns"):
            value = rule.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ProfileError(f"{where}.{key} must be a positive number")
            limits.append(value)
        out.append(ImageRule(sop, allowed, limits[0], limits[1], str(rule.get("note", ""))))
    return tuple(out)


def _severity(data: Mapping[str, Any], path: str) -> dict[str, Severity]:
    severity: dict[str, Severity] = {}
    for code, level in data.get("severity", {}).items():
        if code not in CODES:
            raise ProfileError(
                f"{path}: severity: unknown finding code {code!r}{_suggest(code, sorted(CODES))}"
            )
        if level not in ("error", "warning", "info"):
            raise ProfileError(f"{path}: severity.{code} must be error, warning or info")
        severity[code] = Severity[level.upper()]
    return severity


def parse(data: Mapping[str, Any], path: str) -> Profile:
    """Check and convert one profile's TOML data. Raises :class:`ProfileError`."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ProfileError(
            f"{path}: unknown key `{unknown[0]}`{_suggest(unknown[0], sorted(_TOP_KEYS))}"
        )
    for key in ("id", "title", "source", "media"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ProfileError(f"{path}: `{key}` must be a non-empty string")
    if data["media"] not in _MEDIA:
        raise ProfileError(
            f"{path}: `media` must be one of {', '.join(sorted(_MEDIA))}"
            f"{_suggest(str(data['media']), sorted(_MEDIA))}"
        )
    allowed, convert_to, lossless, lossy, lossy_allowed = _transfer_syntaxes(data, path)
    sop_classes, by_class = _sop_classes(data, path)
    every = set(allowed).union(*by_class.values()) if by_class else set(allowed)
    for key, target in (("lossless_compress_to", lossless), ("lossy_compress_to", lossy)):
        if target is not None and target not in every:
            raise ProfileError(
                f"{path}: transfer_syntaxes.{key} is allowed for no SOP Class of the profile"
            )
    extra, types = _keys(data, path)
    return Profile(
        id=data["id"],
        title=data["title"],
        source=data["source"],
        edition=str(data.get("edition", "")),
        media=data["media"],
        ts_allowed=frozenset(allowed),
        convert_to=convert_to,
        lossy_allowed=lossy_allowed,
        sop_classes=sop_classes,
        extra_keys=extra,
        severity=_severity(data, path),
        path=path,
        transcribed_from=str(data.get("transcribed_from", "")),
        filesystem=str(data.get("filesystem", "")),
        ts_order=allowed,
        ts_by_class=by_class,
        lossless_compress_to=lossless,
        lossy_compress_to=lossy,
        key_types=types,
        icons=_icons(data, path),
        image_rules=_image_rules(data, path),
    )


def load_file(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read profile file {str(path)!r}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from exc
    return parse(data, str(path))


def _files(extra_dir: Path | None) -> dict[str, Path]:
    folders = [data_dir("profiles")] + ([extra_dir] if extra_dir else [])
    return {p.stem: p for folder in folders for p in sorted(folder.glob("*.toml"))}


def list_profiles(extra_dir: Path | None = None) -> list[Profile]:
    """Every profile (shipped, and those in ``extra_dir``), sorted by identifier."""
    return [load_file(p) for _, p in sorted(_files(extra_dir).items())]


@cache
def load(profile_id: str, extra_dir: Path | None = None) -> Profile:
    """Load a profile by its PS3.11 identifier. Raises :class:`ProfileError`."""
    files = _files(extra_dir)
    if profile_id not in files:
        raise ProfileError(
            f"unknown Application Profile {profile_id!r}{_suggest(profile_id, sorted(files))}",
            hint="`mediatool profiles` lists the profiles",
        )
    profile = load_file(files[profile_id])
    if profile.id != profile_id:
        raise ProfileError(
            f"{files[profile_id]}: `id` is {profile.id!r}, the file name says {profile_id!r}"
        )
    return profile
