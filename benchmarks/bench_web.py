"""Benchmark: IHE PDI web content and viewer renderings for ~1,200 CT images of 512x512.

Run:  python3 benchmarks/bench_web.py [--work DIR] [--instances 1200] [--repeat 1]

The input (generated once, deterministic, ``_common.generate``) is built into a File-set with
``mediatool build``; then ``write_web_content`` runs on fresh copies of it with jobs=1 and
jobs=2, with the CT window presets (4 more JPEGs per CT image, for the viewer) and without.
Figures: wall time, images per second, peak memory of the process tree and the bytes the web
content adds to the disc. ``--pixels noise`` uses ``_common.generate`` (uniform noise: the
worst case for JPEG, in time and bytes); ``--pixels phantom`` (default) writes the same
headers with a body-like phantom (air, soft tissue, lungs, spine, CT-like noise), which encodes
like real CT.
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

from _common import Run, generate, generate_phantom, measure, median

SCRIPT = (
    "import sys; from pathlib import Path; from mediatool.web import write_web_content; "
    "write_web_content(Path(sys.argv[1]), site=None, jobs=int(sys.argv[2]), "
    "presets=sys.argv[3] == '1')"
)


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def run_web(fileset: Path, work: Path, jobs: int, presets: bool) -> tuple[Run, int, int]:
    disc = work / "web_disc"
    shutil.rmtree(disc, ignore_errors=True)
    shutil.copytree(fileset, disc)
    os.sync()  # flush the copy now, not during the measured run
    try:
        run = measure([sys.executable, "-c", SCRIPT, str(disc), str(jobs), "1" if presets else "0"])
        return run, size_of(disc / "IHE_PDI"), size_of(disc / "VIEWER")
    finally:
        shutil.rmtree(disc, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench-web")
    parser.add_argument("--instances", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--pixels", choices=("phantom", "noise"), default="phantom")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    name = f"{args.pixels}{args.instances}"
    if args.pixels == "noise":
        src = generate(args.work / f"ct{args.instances}_512", args.instances, 100, size=512)
    else:
        src = generate_phantom(args.work / name, args.instances, 100)
    fileset = args.work / f"fileset_{name}"
    if not (fileset / "DICOMDIR").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "mediatool",
                "build",
                str(src),
                "--out",
                str(fileset),
                "--force",
                "--no-web",
                "-q",
            ],
            check=True,
        )
    dicom_mb = size_of(fileset) / 1e6
    print(
        f"{args.instances} CT images 512x512 ({args.pixels}), 100 a series; "
        f"File-set {dicom_mb:.0f} MB"
    )
    print(
        f"{'jobs':>4} {'presets':>7} {'seconds':>8} {'images/s':>9} {'peak MB':>8} "
        f"{'IHE_PDI MB':>10} {'VIEWER MB':>9}"
    )
    for presets in (True, False):
        for jobs in (1, 2):
            results = [run_web(fileset, args.work, jobs, presets) for _ in range(args.repeat)]
            run = median([r[0] for r in results])
            pdi, viewer = results[0][1], results[0][2]
            print(
                f"{jobs:>4} {'yes' if presets else 'no':>7} {run.seconds:>8.1f} "
                f"{args.instances / run.seconds:>9.1f} {run.peak_mb:>8.0f} "
                f"{pdi / 1e6:>10.1f} {viewer / 1e6:>9.1f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
