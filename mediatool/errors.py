"""Exceptions: "this operation cannot be carried out".

Facts about data are :class:`mediatool.findings.Finding` values, never exceptions.
Each exception carries the process exit code the CLI uses (0 ok, 1 findings, 2 could not run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediatool.findings import Finding


class MediatoolError(Exception):
    """Base of every error the CLI turns into ``Error: <message>`` and an exit code."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class SourceError(MediatoolError):
    """An input path is missing or unreadable as a whole."""


class ProfileError(MediatoolError):
    """Unknown Application Profile, or a profile file that is not valid."""


class MediaError(MediatoolError):
    """The media container (folder, ISO image, zip archive) cannot be opened."""


class OutputError(MediatoolError):
    """The destination exists, is not writable, or the disk is full."""


class PlanRejected(MediatoolError):
    """The build was refused because of findings at or above the failure threshold."""

    exit_code = 1

    def __init__(self, message: str, findings: Sequence[Finding], result: object = None) -> None:
        super().__init__(message)
        self.findings = tuple(findings)
        self.result = result  # what was planned, for a machine-readable report
