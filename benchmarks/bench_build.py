"""Benchmark: ``mediatool build`` against copying into a File-set layout + ``dcmmkdir +r -Pgp``.

Run:  python3 benchmarks/bench_build.py [--work DIR] [--repeat 3]

Data sets (generated once, deterministic): 10,000 CT images of 64x64 over 100 series; 8,000
images in one single series; 1,000 images (for the growth ratio). Both tools get the same
foreign-named input files; the anchor copies them into an 8-character File ID layout (the copy
is part of its time) and runs dcmmkdir on the copy. Figures: median wall time, peak resident
memory of the whole process tree, and the ratios the issue asks for.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, generate, measure, median, run_build

TARGETS = {"10k ratio": 1.0, "single-series ratio": 0.2, "growth 10k/1k": 12.0, "peak MB": 250}


def copy_to_layout(src: Path, dest: Path) -> None:
    """The anchor's first step: copy every file to a PS3.10-conformant name."""
    files = sorted(p for p in src.rglob("*.dcm"))
    for n, path in enumerate(files):
        d = dest / f"D{n // 1000:07d}"
        if n % 1000 == 0:
            d.mkdir(parents=True)
        shutil.copyfile(path, d / f"I{n % 1000:07d}")


def run_mediatool(src: Path, work: Path) -> Run:
    return run_build(src, work)


def run_dcmmkdir(src: Path, work: Path) -> Run:
    layout = work / "dcmtk"
    shutil.rmtree(layout, ignore_errors=True)
    start = time.perf_counter()
    copy_to_layout(src, layout)
    copied = time.perf_counter() - start
    try:
        run = measure(
            ["dcmmkdir", "+r", "-Pgp", "+id", str(layout), "+D", str(layout / "DICOMDIR"), "-q"]
        )
        return Run(copied + run.seconds, run.peak_mb)
    finally:
        shutil.rmtree(layout, ignore_errors=True)


def bench(name: str, src: Path, work: Path, repeat: int) -> tuple[Run, Run]:
    mt: list[Run] = []
    dk: list[Run] = []
    for _ in range(repeat):  # interleaved, so both see the same machine state
        mt.append(run_mediatool(src, work))
        dk.append(run_dcmmkdir(src, work))
    m, d = median(mt), median(dk)
    print(
        f"{name:<28} mediatool {m.seconds:7.2f} s {m.peak_mb:6.0f} MB | "
        f"copy+dcmmkdir {d.seconds:7.2f} s {d.peak_mb:6.0f} MB | ratio {m.seconds / d.seconds:.2f}",
        flush=True,
    )
    return m, d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work: Path = args.work
    print("generating inputs (cached in", work, ")", flush=True)
    sets = {
        "1,000 x 64x64 (10 series)": generate(work / "in_1k", 1000, 100),
        "10,000 x 64x64 (100 series)": generate(work / "in_10k", 10000, 100),
        "8,000 x 64x64 (1 series)": generate(work / "in_8k1", 8000, 8000),
    }
    results = {name: bench(name, src, work, args.repeat) for name, src in sets.items()}
    (m1, _), (m10, d10), (ms, ds) = results.values()
    print()
    print(
        f"10k ratio (mediatool / copy+dcmmkdir): {m10.seconds / d10.seconds:.2f} "
        f"(target <= {TARGETS['10k ratio']})"
    )
    print(
        f"single-series ratio:                   {ms.seconds / ds.seconds:.2f} "
        f"(target <= {TARGETS['single-series ratio']})"
    )
    print(
        f"growth 10k / 1k:                       {m10.seconds / m1.seconds:.1f}x "
        f"(target <= {TARGETS['growth 10k/1k']}x)"
    )
    print(
        f"peak memory at 10k:                    {m10.peak_mb:.0f} MB "
        f"(target < {TARGETS['peak MB']} MB)"
    )


if __name__ == "__main__":
    main()
