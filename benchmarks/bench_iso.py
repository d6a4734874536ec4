"""Benchmark: ``mediatool iso DIR FILE`` against ``genisoimage -iso-level 1`` on the same folder.

Run:  python3 benchmarks/bench_iso.py [--work DIR] [--repeat 3] [--instances 1200]

Input (generated once, deterministic, cached in --work): 1,200 CT images of 512x512, 16 bit,
uniform noise from a fixed seed (about 630 MB), made into a File-set folder once with
``mediatool build`` (default options, so with its web content; noise makes the JPEGs large: the
folder is about 1.4 GB, 6,036 files, hence ``--media dvd``). Then, interleaved so all see the
same machine state, each run packs that folder into a fresh image:

* ``mediatool iso DIR FILE`` — the whole command: Level 1 name checks, the full ``validate``
  pass over the folder running while the kernel copies the files (issue 17, one pass), the
  check that no file changed, then the rename;
* *pack only* — :func:`mediatool.writers.iso.pack` alone, as ``build --iso`` uses it (File-set
  ID known, no validation, no click/pydicom import), to show where the time goes;
* ``genisoimage -iso-level 1 -quiet -o FILE DIR`` — the reference.

Each run starts after ``sync`` with the previous image deleted (not timed).

Figures: median wall time over --repeat runs, peak memory of the process tree (sum of PSS),
the ratio to genisoimage (target <= 1.3) and mediatool's peak memory (target < 200 MB), and
the load average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, generate, measure, median

TARGETS = {"ratio": 1.3, "peak MB": 200}
DATE = "2024-01-01"
#: pack() alone, as ``build --iso`` calls it (the File-set ID is known, no validation).
PACK_ONLY = (
    "import sys; from pathlib import Path; from datetime import datetime;"
    "from mediatool.writers.iso import pack, MEDIA_CAPACITY;"
    "pack(Path(sys.argv[1]), Path(sys.argv[2]), volume_id='BENCH_ISO', date=datetime(2024, 1, 1),"
    " capacity=MEDIA_CAPACITY['dvd'])"
)


def fileset(src: Path, work: Path) -> Path:
    """Build the File-set folder once (kept in --work with a marker)."""
    out = work / "fileset"
    marker = work / "fileset.complete"
    if not marker.exists():
        shutil.rmtree(out, ignore_errors=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mediatool",
                "build",
                str(src),
                "--out",
                str(out),
                "-q",
                "--fileset-id",
                "BENCH_ISO",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        marker.write_text("ok")
    return out


def timed(cmd: list[str], image: Path) -> tuple[Run, int]:
    image.unlink(missing_ok=True)
    # Start every run with no dirty pages pending: otherwise the kernel's write-back of the
    # previous 600 MB image lands in the next run's time (seen: 0.3 s runs taking 1.1 s).
    os.sync()
    try:
        run = measure(cmd)
        return run, image.stat().st_size
    finally:
        image.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench-iso")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--instances", type=int, default=1200)
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.instances} CT images of 512x512 (cached in {work})", flush=True)
    src = generate(work / f"in_{args.instances}_512", args.instances, 100, size=512)
    folder = fileset(src, work)
    files = [p for p in folder.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    print(f"File-set folder: {len(files)} files, {total / 2**20:.0f} MiB", flush=True)
    print(f"load average before: {_load()}", flush=True)
    image = work / "out.iso"
    commands = {
        "mediatool iso": [
            sys.executable,
            "-m",
            "mediatool",
            "iso",
            str(folder),
            str(image),
            "-q",
            "--date",
            DATE,
            "--media",
            "dvd",
        ],
        "pack only": [sys.executable, "-c", PACK_ONLY, str(folder), str(image)],
        "genisoimage -iso-level 1": [
            "genisoimage",
            "-iso-level",
            "1",
            "-quiet",
            "-o",
            str(image),
            str(folder),
        ],
    }
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    sizes: dict[str, int] = {}
    for n in range(args.repeat):  # interleaved, so all see the same machine state
        for name, cmd in commands.items():
            run, sizes[name] = timed(cmd, image)
            runs[name].append(run)
            print(
                f"  run {n + 1}: {name:<26} {run.seconds:6.2f} s {run.peak_mb:6.0f} MB", flush=True
            )
    med = {name: median(r) for name, r in runs.items()}
    ref = med["genisoimage -iso-level 1"]
    print()
    for name, m in med.items():
        print(
            f"{name:<26} {m.seconds:6.2f} s  peak {m.peak_mb:5.0f} MB  "
            f"image {sizes[name] / 2**20:6.1f} MiB  ratio {m.seconds / ref.seconds:.2f}"
        )
    mt = med["mediatool iso"]
    print()
    print(
        f"ratio mediatool iso / genisoimage: {mt.seconds / ref.seconds:.2f} "
        f"(target <= {TARGETS['ratio']})"
    )
    print(
        f"peak memory mediatool iso:         {mt.peak_mb:.0f} MB (target < {TARGETS['peak MB']} MB)"
    )
    print(f"load average after: {_load()} ({os.cpu_count()} cores)")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
