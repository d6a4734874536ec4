"""Benchmark: ``mediatool validate`` on the 10,000-instance File-set that ``build`` writes.

Run:  python3 benchmarks/bench_validate.py [--work DIR] [--repeat 3] [--no-busy]

Side by side in one run (interleaved, median of --repeat): ``mediatool validate DIR``; the
floor, one Python process reading every file's header once with pydicom
(``dcmread(stop_before_pixels=True)``, interpreter start and imports included, as for ours);
and dicom3tools ``dciodvfy`` on the DICOMDIR alone. Memory is the PSS of the process tree at
1,000 and 10,000 instances (it must not grow with the number of instances; target < 250 MB).

The 10,000-instance row is taken twice: on the machine as it is, and with the *other core
busy* (``yes > /dev/null`` pinned on CPU 0 while both run: a desk PC that is doing something
else). Goals (issue 17): ratio to the floor <= 1.2, and <= 1.5 with the other core busy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, generate, measure, median

GOALS = {"idle": 1.2, "busy": 1.5}

FLOOR = """
import sys
from pathlib import Path
from pydicom import dcmread
for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.is_file() and path.name != "DICOMDIR":
        with path.open("rb") as fp:
            if fp.read(132)[128:] != b"DICM":
                continue  # the disc's web content and viewer: not DICOM
            fp.seek(0)
            dcmread(fp, stop_before_pixels=True)
"""


def fileset(src: Path, out: Path) -> Path:
    if not (out / "DICOMDIR").exists():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "mediatool", "build", str(src), "--out", str(out), "-q"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return out


@contextlib.contextmanager
def other_core_busy() -> Iterator[None]:
    """``yes > /dev/null`` pinned on CPU 0 for the duration."""
    proc = subprocess.Popen(
        ["yes"],
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def bench(label: str, disc: Path, repeat: int) -> tuple[Run, Run, Run]:
    ours, floor, dciodvfy = [], [], []
    for _ in range(repeat):
        ours.append(measure([sys.executable, "-m", "mediatool", "validate", str(disc), "-q"]))
        floor.append(measure([sys.executable, "-c", FLOOR, str(disc)]))
        dciodvfy.append(measure(["dciodvfy", "-new", str(disc / "DICOMDIR")], check=False))
    m, f, d = median(ours), median(floor), median(dciodvfy)
    print(
        f"{label:<22} validate {m.seconds:6.2f} s {m.peak_mb:5.0f} MB | header floor "
        f"{f.seconds:6.2f} s {f.peak_mb:5.0f} MB | dciodvfy DICOMDIR {d.seconds:6.2f} s | "
        f"ratio to floor {m.seconds / f.seconds:.2f}",
        flush=True,
    )
    return m, f, d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-busy", action="store_true", help="skip the other-core-busy row")
    args = parser.parse_args()
    work: Path = args.work
    small = fileset(generate(work / "in_1k", 1000, 100), work / "fs_1k")
    large = fileset(generate(work / "in_10k", 10000, 100), work / "fs_10k")
    print(f"load average before: {_load()} ({os.cpu_count()} cores)", flush=True)
    m1, _, _ = bench("1,000 inst.", small, args.repeat)
    m10, f10, _ = bench("10,000 inst.", large, args.repeat)
    busy: tuple[Run, Run] | None = None
    if not args.no_busy:
        with other_core_busy():
            mb, fb, _ = bench("10,000 inst., core busy", large, args.repeat)
        busy = (mb, fb)
    print()
    ratio = m10.seconds / f10.seconds
    print(f"ratio to the header-read floor at 10k:          {ratio:.2f} (goal <= {GOALS['idle']})")
    if busy is not None:
        ratio = busy[0].seconds / busy[1].seconds
        print(
            f"ratio to the floor at 10k, the other core busy: {ratio:.2f} (goal <= {GOALS['busy']})"
        )
    print(
        f"peak memory: {m1.peak_mb:.0f} MB at 1k, {m10.peak_mb:.0f} MB at 10k (target < 250 MB,"
        " flat)"
    )
    print(f"load average after: {_load()}")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
