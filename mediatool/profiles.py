"""Application Profiles (PS3.11) loaded from the TOML files in ``profiles/``.

The loader checks structure the way pypa/build checks ``pyproject.toml``: one clear
:class:`ProfileError` per problem, unknown keys are errors, UID keywords are resolved through
``pydicom.uid`` with a "did you mean" for typos. Code never branches on a profile's name.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import pydicom.uid
from pydicom.datadict import keyword_dict
from pydicom.uid import UID

from mediatool.errors import ProfileError
from mediatool.findings import CODES, Severity
from mediatool.recordtypes import DEFINED_RECORD_TYPES
from mediatool.resources import data_dir

DEFAULT_PROFILE: Final = "STD-GEN-CD"
_TOP_KEYS: Final = {
    "id",
    "title",
    "source",
    "edition",
    "media",
    "transfer_syntaxes",
    "sop_classes",
    "dicomdir",
    "severity",
}
_MEDIA: Final = {"cd", "dvd", "bd", "usb"}


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "edition": self.edition,
            "media": self.media,
            "transfer_syntaxes": {
                "allowed": sorted(self.ts_allowed),
                "convert_to": self.convert_to,
                "lossy_allowed": self.lossy_allowed,
            },
            "sop_classes": "storage" if self.sop_classes is None else sorted(self.sop_classes),
            "dicomdir_keys": {k: list(v) for k, v in sorted(self.extra_keys.items())},
            "severity": {k: str(v) for k, v in sorted(self.severity.items())},
            "path": self.path,
        }


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _uid(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(f"{where}: {value!r} is not a UID keyword")
    if value and value[0].isdigit():
        return value
    uid = getattr(pydicom.uid, value, None)
    if isinstance(uid, UID):
        return str(uid)
    names = [n for n in dir(pydicom.uid) if isinstance(getattr(pydicom.uid, n), UID)]
    raise ProfileError(f"{where}: unknown UID keyword {value!r}{_suggest(value, names)}")


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ProfileError(f"{where}: `{key}` must be a list")
    return value


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
        raise ProfileError(f"{path}: `media` must be one of {', '.join(sorted(_MEDIA))}")
    ts = data.get("transfer_syntaxes")
    if not isinstance(ts, dict):
        raise ProfileError(f"{path}: a [transfer_syntaxes] table is required")
    allowed = frozenset(
        _uid(v, f"{path}: transfer_syntaxes.allowed")
        for v in _list(ts, "allowed", f"{path}: transfer_syntaxes")
    )
    convert_to = _uid(
        ts.get("convert_to", "ExplicitVRLittleEndian"), f"{path}: transfer_syntaxes.convert_to"
    )
    if convert_to not in allowed:
        raise ProfileError(f"{path}: transfer_syntaxes.convert_to is not in `allowed`")
    sop = data.get("sop_classes", {}).get("allowed", "storage")
    sop_classes = (
        None
        if sop == "storage"
        else frozenset(
            _uid(v, f"{path}: sop_classes.allowed")
            for v in _list(data["sop_classes"], "allowed", path)
        )
    )
    extra: dict[str, tuple[str, ...]] = {}
    for rtype, keywords in data.get("dicomdir", {}).get("keys", {}).items():
        if rtype not in DEFINED_RECORD_TYPES:
            raise ProfileError(
                f"{path}: dicomdir.keys: unknown record type {rtype!r}"
                f"{_suggest(rtype, sorted(DEFINED_RECORD_TYPES))}"
            )
        for kw in keywords:
            if kw not in keyword_dict:
                raise ProfileError(
                    f"{path}: dicomdir.keys.{rtype}: unknown keyword {kw!r}"
                    f"{_suggest(kw, list(keyword_dict))}"
                )
        extra[rtype] = tuple(keywords)
    severity: dict[str, Severity] = {}
    for code, level in data.get("severity", {}).items():
        if code not in CODES:
            raise ProfileError(
                f"{path}: severity: unknown finding code {code!r}{_suggest(code, sorted(CODES))}"
            )
        if level not in ("error", "warning", "info"):
            raise ProfileError(f"{path}: severity.{code} must be error, warning or info")
        severity[code] = Severity[level.upper()]
    return Profile(
        id=data["id"],
        title=data["title"],
        source=data["source"],
        edition=str(data.get("edition", "")),
        media=data["media"],
        ts_allowed=allowed,
        convert_to=convert_to,
        lossy_allowed=bool(ts.get("lossy_allowed", False)),
        sop_classes=sop_classes,
        extra_keys=extra,
        severity=severity,
        path=path,
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
