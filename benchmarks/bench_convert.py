"""Benchmark: conversion of compressed input to Explicit VR Little Endian (STD-GEN-CD).

Run:  python3 benchmarks/bench_convert.py [--work DIR] [--images 400] [--size 512] [--repeat 3]

Inputs (generated once, deterministic): ``--images`` CT images of ``--size`` x ``--size``,
12-bit, written by ``_common.generate``, then compressed per file

- JPEG Lossless SV1 (1.2.840.10008.1.2.4.70) by DCMTK ``dcmcjpeg +e1``,
- JPEG 2000 lossless (1.2.840.10008.1.2.4.90) by GDCM ``gdcmconv --j2k``.

Side by side in one run, on the same files, both cores each:

- ``mediatool build IN --out OUT --no-web`` (decoding through pydicom's plugins, in worker
  processes; the File-set with its DICOMDIR is part of its time),
- DCMTK ``dcmdjpeg IN OUT`` per file (JPEG only: DCMTK's free toolkit has no JPEG 2000 codec),
- GDCM ``gdcmconv --raw IN OUT`` per file,

the two per-file tools run by ``xargs -P 2``. Figures: median wall time, throughput in MB/s of
uncompressed pixel data written and in images/s, and the ratio to the slower of the two anchors
(target: mediatool no slower than it, i.e. ratio <= 1).
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

from _common import Run, generate, measure, median, run_build

KINDS = {
    "JPEG Lossless": ("dcmcjpeg", ["+e1"]),
    "JPEG 2000": ("gdcmconv", ["--j2k"]),
}


def _each_file(tool: str, args: list[str], src: Path, dest: Path) -> list[str]:
    """A shell pipeline running ``tool ARGS IN OUT`` for every file, two at a time."""
    script = (
        f'cd "{src}" && find . -type f -name "*.dcm" -print0 | '
        f'xargs -0 -P 2 -I {{}} sh -c \'mkdir -p "$(dirname "{dest}/{{}}")" && '
        f'{tool} {" ".join(args)} "{{}}" "{dest}/{{}}"\''
    )
    return ["sh", "-c", script]


def compress_inputs(plain: Path, work: Path) -> dict[str, Path]:
    out = {}
    for kind, (tool, args) in KINDS.items():
        dest = work / ("in_" + kind.replace(" ", "_").lower())
        marker = dest.with_name(dest.name + ".complete")
        if not marker.exists():
            shutil.rmtree(dest, ignore_errors=True)
            subprocess.run(_each_file(tool, args, plain, dest), check=True)
            marker.write_text("ok")
        out[kind] = dest
    return out


def run_mediatool(src: Path, work: Path) -> Run:
    return run_build(src, work, "--jobs", "2")


def run_tool(tool: str, args: list[str], src: Path, work: Path) -> Run:
    out = work / f"{tool}_out"
    shutil.rmtree(out, ignore_errors=True)
    try:
        return measure(_each_file(tool, args, src, out))
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench-convert"
    )
    parser.add_argument("--images", type=int, default=400)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    work = opts.work / f"{opts.images}x{opts.size}"
    work.mkdir(parents=True, exist_ok=True)
    plain = generate(work / "plain", opts.images, 100, size=opts.size)
    inputs = compress_inputs(plain, work)
    native_mb = opts.images * opts.size * opts.size * 2 / 1e6
    print(
        f"{opts.images} CT images {opts.size}x{opts.size} (12-bit), {native_mb:.0f} MB "
        f"uncompressed; {os.cpu_count()} cores; median of {opts.repeat}"
    )
    print(f"{'input':<14} {'tool':<22} {'seconds':>8} {'MB/s':>8} {'images/s':>9} {'peak MB':>8}")
    for kind, src in inputs.items():
        size = sum(p.stat().st_size for p in src.rglob("*.dcm")) / 1e6
        results: dict[str, Run] = {}
        results["mediatool build"] = median([run_mediatool(src, work) for _ in range(opts.repeat)])
        if kind == "JPEG Lossless":
            results["dcmdjpeg (xargs -P2)"] = median(
                [run_tool("dcmdjpeg", [], src, work) for _ in range(opts.repeat)]
            )
        results["gdcmconv --raw (-P2)"] = median(
            [run_tool("gdcmconv", ["--raw"], src, work) for _ in range(opts.repeat)]
        )
        for name, r in results.items():
            print(
                f"{kind:<14} {name:<22} {r.seconds:8.2f} {native_mb / r.seconds:8.1f} "
                f"{opts.images / r.seconds:9.1f} {r.peak_mb:8.0f}"
            )
        anchors = [r.seconds for n, r in results.items() if n != "mediatool build"]
        ratio = results["mediatool build"].seconds / max(anchors)
        print(
            f"{kind:<14} input {size:.0f} MB; mediatool / slower anchor = {ratio:.2f} "
            f"(target <= 1.00: {'met' if ratio <= 1 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
