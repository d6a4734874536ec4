"""A job context for the station's job kinds in tests: it records what a kind reports and
plays the user who presses Cancel (after a number of progress calls of one stage)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mediatool.station.jobs.context import JobCancelled


@dataclass
class KindsContext:
    folder: Path
    scratch: Path
    job_id: int = 1
    cancel_after: int | None = None  # progress calls of ``cancel_stage`` before "Cancel"
    cancel_stage: str = ""
    events: list[tuple[int, int | None, str]] = field(default_factory=list)
    lines: list[tuple[str, str]] = field(default_factory=list)
    audits: list[tuple[str, str, str, str]] = field(default_factory=list)

    def progress(self, done: int, total: int | None, label: str) -> None:
        self.events.append((done, total, label))
        if self.cancel_after is None or label != self.cancel_stage:
            return
        if sum(1 for e in self.events if e[2] == label) > self.cancel_after:
            raise JobCancelled

    def log(self, message: str, level: str = "info") -> None:
        self.lines.append((level, message))

    def audit(self, action: str, patient_id: str, patient_name: str, outcome: str) -> None:
        self.audits.append((action, patient_id, patient_name, outcome))


def context(base: Path, cancel_after: int | None = None, cancel_stage: str = "") -> KindsContext:
    """A fresh job folder and scratch folder below ``base``."""
    folder, scratch = base / "job", base / "scratch"
    folder.mkdir(parents=True)
    scratch.mkdir(parents=True)
    return KindsContext(folder, scratch, cancel_after=cancel_after, cancel_stage=cancel_stage)


def run(kind: str, params: dict[str, Any], ctx: KindsContext) -> dict[str, Any]:
    """Run a kind as the runner does: params come from JSON, the result must go back to JSON
    unchanged (no tuples, paths or other Python objects)."""
    from mediatool.station.jobs.kinds import KINDS

    result = KINDS[kind](json.loads(json.dumps(params)), ctx)
    assert json.loads(json.dumps(result)) == result
    return result
