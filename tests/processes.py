"""Processes of one test or benchmark run, found by their working folder (Linux /proc): used by
tests/test_hardstop.py and benchmarks/bench_hardstop.py to see workers that outlive a kill."""

from __future__ import annotations

import os
from pathlib import Path


def processes_in(folder: Path) -> list[int]:
    """Live processes whose working directory is ``folder`` (the run's own), not this one."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = (entry / "cwd").readlink()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if cwd == folder and state != "Z":
            found.append(int(entry.name))
    return found
