"""UIDs this tool writes.

We have no registered org root, so every UID we make lives under the ``2.25`` arc (PS3.5 §B.2:
a UUID written as a single decimal integer). Derived UIDs are UUID version 5 (name based), so the
same inputs always give the same UID: deterministic output without a counter or a clock.
"""

from __future__ import annotations

import uuid
from typing import Final

_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mediatool")

#: (0002,0012) Implementation Class UID of every file mediatool writes (PS3.10 Table 7.1-1).
IMPLEMENTATION_CLASS_UID: Final = f"2.25.{uuid.uuid5(_NAMESPACE, 'implementation-class').int}"


def implementation_version_name(version: str) -> str:
    """(0002,0013): at most 16 characters of A-Z 0-9 _ (PS3.10 Table 7.1-1, §8.5 repertoire).

    pydicom's default ``PYDICOM 3.0.2`` breaks this rule (space and dots); we write
    ``MEDIATOOL_0_1_0``.
    """
    name = "MEDIATOOL_" + "".join(c if c.isalnum() else "_" for c in version.upper())
    return name[:16]


def derive_uid(*parts: str) -> str:
    """A UID under 2.25 derived from ``parts``: equal parts give equal UIDs (PS3.5 §B.2)."""
    return f"2.25.{uuid.uuid5(_NAMESPACE, '/'.join(parts)).int}"
