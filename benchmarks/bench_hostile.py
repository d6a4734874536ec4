"""Benchmark: time and peak memory of ``validate`` and ``import --list`` on hostile DICOMDIRs
(issue 12 "bounded time and memory"), with the real limits of mediatool/limits.py.

Run:  python3 benchmarks/bench_hostile.py [--work DIR]

Cases (made in the work folder by tests/hostile_dicomdirs.py, removed after): 10^6 chained
PATIENT records (90 MB), 10^6 random 40-byte items (40 MB), 500 MB of zeros (sparse). Target:
time roughly
linear in the size read, peak memory (PSS of the process tree) under 500 MB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import hostile_dicomdirs as hostile  # noqa: E402
from _common import measure  # noqa: E402

CASES: list[tuple[str, Callable[[Path], Path]]] = [
    ("10^6 chained records", lambda p: hostile.chained(p, 1_000_000)),
    ("10^6 random 40-byte items", lambda p: hostile.random_items(p, 1_000_000)),
    ("500 MB of zeros", lambda p: hostile.zeros(p, 500 * 1024**2)),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.work, prefix="bench-hostile-"))
    try:
        print(f"{'case':28} {'command':14} {'seconds':>8} {'peak MB':>8}")
        for name, make in CASES:
            media = work / "media"
            media.mkdir()
            make(media / "DICOMDIR")
            for label, extra in (("validate", ["validate"]), ("import --list", ["import"])):
                cmd = [sys.executable, "-m", "mediatool", *extra, str(media)]
                cmd += ["--list"] if label == "import --list" else []
                run = measure(cmd, check=False)
                print(f"{name:28} {label:14} {run.seconds:8.2f} {run.peak_mb:8.0f}")
            shutil.rmtree(media)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
