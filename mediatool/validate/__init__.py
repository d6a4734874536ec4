"""``mediatool validate``: one pass over a medium (folder, ISO 9660 image, zip archive).

The checks follow ../shared/spec/validation-checklist.md; ``docs/checks.md`` maps every checklist
ID to the finding codes that report it.
"""

from __future__ import annotations

from mediatool.validate.report import SCHEMA, MediaInfo, Report, validate_media

__all__ = ["SCHEMA", "MediaInfo", "Report", "validate_media"]
