"""Rendering: results on stdout (text or one JSON document), people's messages on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any, Final, TextIO

import click

from mediatool.findings import Finding, Severity, count_by_severity

SAMPLE_SCHEMA: Final = "mediatool.sample/1"


def emit_json(document: Mapping[str, Any]) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False))


def findings_to_stderr(findings: Iterable[Finding], *, verbose: bool = False) -> None:
    """Findings for people: errors and warnings always, notices with --verbose."""
    for f in findings:
        if f.severity < Severity.WARNING and not verbose:
            continue
        where = f" {f.where}" if f.where else ""
        click.echo(f"{f.severity.name} {f.code}{where}: {f.message}", err=True)


def summary_line(findings: Iterable[Finding]) -> str:
    counts = count_by_severity(findings)
    return ", ".join(f"{n} {name}{'s' if n != 1 else ''}" for name, n in counts.items())


class Progress:
    """Progress on stderr, only when stderr is a terminal and not --quiet (design.md)."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self._last = ""

    def __call__(self, done: int, total: int | None, label: str) -> None:
        if not self.enabled:
            return
        text = f"{label}: {done}/{total}" if total else f"{label}: {done}"
        if text != self._last:
            self.stream.write("\r" + text.ljust(50))
            self.stream.flush()
            self._last = text

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()
