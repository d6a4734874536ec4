"""What README.TXT says about the software that made the disc and the viewer on it.

IHE RAD TF-3 4.47 (RAD-47, Portable Media Creator; pdi.md 2.4) asks README.TXT for the
institution that created the media (its contact), the creating application (product name,
software version and its vendor) and, when a viewer or other executable content is on the
medium, what it is and its minimum system requirements.
"""

from __future__ import annotations

import textwrap
from importlib import metadata
from typing import Any, Final

import mediatool
from mediatool.web.i18n import N_, Gettext

PRODUCT: Final = "mediatool"
VENDOR: Final = N_("the mediatool project (open source, MIT licence)")
#: The zero-install viewer on every disc with web content (VIEWER/): ES5 JavaScript, images as
#: pre-rendered JPEG, read from file:// without a server.
VIEWER_REQUIREMENTS: Final = N_(
    "a web browser with JavaScript switched on (Chrome or Edge 80, Firefox 78, Safari 13 or "
    "later) on any operating system; a screen of 1024 x 768 or more; nothing to install, no "
    "network"
)


def vendor_contact() -> str:
    """Where to reach the vendor: the project address the installed package declares."""
    try:
        meta = metadata.metadata(PRODUCT)
    except metadata.PackageNotFoundError:
        return _NO_CONTACT
    urls: list[str] = [u.split(",", 1)[-1].strip() for u in meta.get_all("Project-URL") or []]
    urls += [str(u) for u in meta.get_all("Home-page") or []]
    return urls[0] if urls else _NO_CONTACT


_NO_CONTACT: Final = N_("through the institution that made this disc")


#: Strings of a Windows program's version resource (VS_VERSIONINFO StringFileInfo) that
#: README.TXT shows for a third-party viewer.
_VERSION_KEYS: Final = {"ProductName": "name", "ProductVersion": "version", "CompanyName": "vendor"}


def exe_version_info(data: bytes) -> dict[str, str]:
    """``ProductName``, ``ProductVersion``, ``CompanyName`` of a Windows program, from its
    version resource: each String entry is its key in UTF-16LE, a NUL, zero padding to a
    32-bit boundary, then the value in UTF-16LE up to a NUL. Absent or unreadable: left out."""
    found: dict[str, str] = {}
    for key, field in _VERSION_KEYS.items():
        at = data.find(key.encode("utf-16-le") + b"\0\0")
        if at < 0 or at % 2:
            continue
        start = at + 2 * len(key) + 2
        while data[start : start + 2] == b"\0\0" and start < at + 2 * len(key) + 8:
            start += 2
        end = start
        while end + 1 < len(data) and data[end : end + 2] != b"\0\0" and end - start < 256:
            end += 2
        value = data[start:end].decode("utf-16-le", "replace").strip()
        if value and value.isprintable():
            found[field] = value
    return found


def _same(message: str) -> str:
    return message


def creator(_: Gettext = _same) -> dict[str, str]:
    """The creating application (RAD TF-3 4.47; pdi.md 2.4 item 2); ``_``: the disc's gettext."""
    contact = vendor_contact()
    return {
        "name": PRODUCT,
        "version": mediatool.__version__,
        "vendor": _(VENDOR),
        "contact": _(contact) if contact == _NO_CONTACT else contact,
    }


def browser_viewer(_: Gettext = _same) -> dict[str, Any]:
    """The viewer mediatool writes to VIEWER/ (pdi.md 2.4 item 4); ``_``: the disc's gettext."""
    requirements = _(VIEWER_REQUIREMENTS)
    return {
        "name": "mediatool browser viewer",
        "version": mediatool.__version__,
        "vendor": _(VENDOR),
        "requirements": requirements,
        "requirement_lines": textwrap.wrap(requirements, 62),
    }
