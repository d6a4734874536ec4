"""mediatool: DICOM offline media (patient discs) built, validated and imported to the standard.

PS3.10 (media storage and file format), PS3.3 Annex F (Basic Directory IOD), PS3.11 (Application
Profiles), PS3.12 (physical media) and IHE PDI.

The public API is loaded lazily (PEP 562), so ``import mediatool`` stays cheap for the CLI:
``build_plan`` (plan a File-set from scanned instances), ``validate_media`` (check a medium),
``import_media`` (bring an outside disc into an archive or a PACS), ``open_media``.
"""

from __future__ import annotations

import importlib
from typing import Any

from mediatool.errors import MediatoolError
from mediatool.findings import Finding, Severity

__version__ = "0.1.0"

_LAZY = {
    "build_plan": "mediatool.build.plan",
    "validate_media": "mediatool.validate",
    "import_media": "mediatool.importer",
    "open_media": "mediatool.media",
}

__all__ = ["Finding", "MediatoolError", "Severity", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mediatool' has no attribute {name!r}")
