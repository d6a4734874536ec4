"""Benchmark: ``mediatool build`` against copying into a File-set layout + ``dcmmkdir +r -Pgp``.

Run:  python3 benchmarks/bench_build.py [--work DIR] [--repeat 3]

Data sets (generated once, deterministic): 10,000 CT images of 64x64 over 100 series; 8,000
images in one single series; 1,000 images (for the growth ratio). Both tools get the same
foreign-named input files; the anchor copies them into an 8-character File ID layout (the copy
is part of its time) and runs dcmmkdir on the copy. Figures: median wall time, peak resident
memory of the whole process tree, and the ratios the issues ask for (issue 17: 1k <= 1.5,
10k <= 0.6).

mediatool runs from compiled bytecode, as an installed mediatool does (pip compiles it at
install): PYTHONDONTWRITEBYTECODE is dropped for it and the bytecode cached under --work, and
an untimed first run compiles it; otherwise every run compiles ~50 modules (~0.15 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, generate, measure, median

TARGETS = {
    "1k ratio": 1.5,
    "10k ratio": 0.6,
    "single-series ratio": 0.2,
    "growth 10k/1k": 12.0,
    "peak MB": 250,
}


def copy_to_layout(src: Path, dest: Path) -> None:
    """The anchor's first step: copy every file to a PS3.10-conformant name."""
    files = sorted(p for p in src.rglob("*.dcm"))
    for n, path in enumerate(files):
        d = dest / f"D{n // 1000:07d}"
        if n % 1000 == 0:
            d.mkdir(parents=True)
        shutil.copyfile(path, d / f"I{n % 1000:07d}")


def compiled_env(work: Path) -> dict[str, str]:
    """The environment of an installed mediatool: its bytecode compiled once, kept under work."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def run_mediatool(src: Path, work: Path) -> Run:
    """Time ``mediatool build SRC --out WORK/mt_out -q --no-web`` (output removed after).

    --no-web: these figures are scan, conversion, copy and DICOMDIR; the web content has its own
    benchmark, benchmarks/bench_web.py.
    """
    out = work / "mt_out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "mediatool", "build", str(src), "--out", str(out), "-q"]
    try:
        return measure([*cmd, "--no-web"], env=compiled_env(work))
    finally:
        shutil.rmtree(out, ignore_errors=True)


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


SETS = {  # key: (label, instances, instances a series)
    "1k": ("1,000 x 64x64 (10 series)", 1000, 100),
    "10k": ("10,000 x 64x64 (100 series)", 10000, 100),
    "8k1": ("8,000 x 64x64 (1 series)", 8000, 8000),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sets", default="1k,10k,8k1", help="which data sets: 1k, 10k, 8k1")
    args = parser.parse_args()
    work: Path = args.work
    print("generating inputs (cached in", work, ")", flush=True)
    chosen = [k for k in SETS if k in args.sets.split(",")]
    sets = {k: generate(work / f"in_{k}", SETS[k][1], SETS[k][2]) for k in chosen}
    run_mediatool(next(iter(sets.values())), work)  # untimed: compiles the bytecode
    r = {k: bench(SETS[k][0], src, work, args.repeat) for k, src in sets.items()}
    print()
    rows = [
        ("1k ratio (mediatool / copy+dcmmkdir)", ("1k",), "1k ratio", lambda: r["1k"]),
        ("10k ratio (mediatool / copy+dcmmkdir)", ("10k",), "10k ratio", lambda: r["10k"]),
        ("single-series ratio", ("8k1",), "single-series ratio", lambda: r["8k1"]),
    ]
    for label, needs, target, pair in rows:
        if all(k in r for k in needs):
            m, d = pair()
            print(f"{label + ':':<39} {m.seconds / d.seconds:<6.2f} (target <= {TARGETS[target]})")
    if "1k" in r and "10k" in r:
        growth = r["10k"][0].seconds / r["1k"][0].seconds
        print(f"{'growth 10k / 1k:':<39} {growth:.1f}x   (target <= {TARGETS['growth 10k/1k']}x)")
    if "10k" in r:
        peak = r["10k"][0].peak_mb
        print(f"{'peak memory at 10k:':<39} {peak:.0f} MB (target < {TARGETS['peak MB']} MB)")


if __name__ == "__main__":
    main()
