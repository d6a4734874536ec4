"""Site branding as data: the institution that makes the disc (a small TOML file).

```toml
name = "St. Example Hospital"
department = "Department of Radiology"
address = ["1 Example Street", "12345 Example City"]
phone = "+1 555 0100"
email = "imaging@example.org"
website = "www.example.org"      # shown as text, never linked (the disc makes no network request)
logo = "logo.png"                # PNG or JPEG, relative to this file; put on the disc as a JPEG
language = "pt-BR"               # "en" (default) or "pt-BR": the language of the disc's pages,
                                 # README.TXT, viewer and label (mediatool.web.i18n)
```

Every field is optional; unknown keys are errors (with a "did you mean"). The fields fill
``INDEX.HTM``, ``README.TXT`` (IHE PDI: contact of the institution that created the media),
the viewer header and the disc label. With no site file, :data:`DEFAULT_SITE` says that no
institution is configured.
"""

from __future__ import annotations

import difflib
import io
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from PIL import Image, UnidentifiedImageError

from mediatool.errors import MediatoolError
from mediatool.modalities import DEFAULT_LANGUAGE, LANGUAGES

MAX_LOGO_BYTES: Final = 5 * 1024 * 1024
MAX_TEXT: Final = 200
_TEXT_FIELDS: Final = ("name", "department", "phone", "email", "website")
_KEYS: Final = (*_TEXT_FIELDS, "address", "logo", "language")


def _same(message: str) -> str:
    return message


class SiteError(MediatoolError):
    """The site file cannot be used (missing, not TOML, wrong field)."""


@dataclass(frozen=True, slots=True)
class Site:
    """The institution; ``logo`` holds the image file's bytes (PNG or JPEG)."""

    name: str = ""
    department: str = ""
    address: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""
    website: str = ""
    logo: bytes | None = None
    language: str = DEFAULT_LANGUAGE  # of everything a person reads on the disc (web.i18n)

    @property
    def configured(self) -> bool:
        return bool(self.name)

    @property
    def display_name(self) -> str:
        return self.name or "No institution configured"

    def contact_lines(self, _: Callable[[str], str] = _same) -> list[str]:
        """Address, phone, e-mail and website as lines of text (empty ones left out); ``_``
        translates the words (the disc's gettext, :mod:`mediatool.web.i18n`)."""
        lines = list(self.address)
        if self.phone:
            lines.append(_("Phone: %(phone)s") % {"phone": self.phone})
        if self.email:
            lines.append(_("E-mail: %(email)s") % {"email": self.email})
        if self.website:
            lines.append(_("Web: %(website)s") % {"website": self.website})
        return lines


DEFAULT_SITE: Final = Site()


def _text(key: str, value: Any, path: Path) -> str:
    if not isinstance(value, str):
        raise SiteError(f"site file {str(path)!r}: `{key}` must be a string")
    text = value.strip()
    if len(text) > MAX_TEXT:
        raise SiteError(f"site file {str(path)!r}: `{key}` is longer than {MAX_TEXT} characters")
    if any(ord(c) < 32 for c in text):
        raise SiteError(f"site file {str(path)!r}: `{key}` contains a control character")
    return text


def _logo(value: Any, path: Path) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise SiteError(f"site file {str(path)!r}: `logo` must be the path of a PNG or JPEG file")
    logo_path = (path.parent / value).resolve()
    try:
        data = logo_path.read_bytes()
    except OSError as exc:
        raise SiteError(
            f"site file {str(path)!r}: cannot read the logo {str(logo_path)!r}: {exc.strerror}"
        ) from exc
    if len(data) > MAX_LOGO_BYTES:
        raise SiteError(f"site file {str(path)!r}: the logo {str(logo_path)!r} is over 5 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise SiteError(
            f"site file {str(path)!r}: the logo {str(logo_path)!r} is not a readable image"
        ) from exc
    if kind not in ("PNG", "JPEG"):
        raise SiteError(
            f"site file {str(path)!r}: the logo {str(logo_path)!r} is {kind}; use PNG or JPEG"
        )
    return data


def parse_site(data: dict[str, Any], path: Path) -> Site:
    """Validate the parsed TOML table (``path`` names it in messages, resolves the logo)."""
    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, _KEYS, n=1)
            hint = f"; did you mean `{close[0]}`?" if close else f"; known keys: {', '.join(_KEYS)}"
            raise SiteError(f"site file {str(path)!r}: unknown key `{key}`{hint}")
    fields = {key: _text(key, data[key], path) for key in _TEXT_FIELDS if key in data}
    address: tuple[str, ...] = ()
    if "address" in data:
        raw = data["address"]
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(line, str) for line in raw):
            raise SiteError(f"site file {str(path)!r}: `address` must be a list of strings")
        address = tuple(_text("address", line, path) for line in raw if line.strip())
    logo = _logo(data["logo"], path) if "logo" in data else None
    language = _language(data["language"], path) if "language" in data else DEFAULT_LANGUAGE
    return Site(address=address, logo=logo, language=language, **fields)


def _language(value: Any, path: Path) -> str:
    """One of :data:`mediatool.modalities.LANGUAGES`, with a "did you mean" for near misses."""
    if isinstance(value, str) and value in LANGUAGES:
        return value
    known = ", ".join(f'"{lang}"' for lang in LANGUAGES)
    close: list[str] = []
    if isinstance(value, str):
        folded = {lang.lower().replace("-", "_"): lang for lang in LANGUAGES}
        close = [
            folded[k]
            for k in difflib.get_close_matches(
                value.strip().lower().replace("-", "_"), list(folded), n=1
            )
        ]
    hint = f'; did you mean "{close[0]}"?' if close else f"; known languages: {known}"
    raise SiteError(f"site file {str(path)!r}: `language` {value!r} is not known{hint}")


def load_site(path: Path) -> Site:
    """Read and validate a site file; raises :class:`SiteError` with one clear message."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SiteError(f"cannot read site file {str(path)!r}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SiteError(f"site file {str(path)!r} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"site file {str(path)!r} is not valid TOML: {exc}") from exc
    return parse_site(data, path)
