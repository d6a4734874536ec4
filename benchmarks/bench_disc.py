"""Benchmark: the default disc (web content, viewer, ISO) of 1,200 CT images of 512x512.

Run:  python3 benchmarks/bench_disc.py [--work DIR] [--repeat 3] [--instances 1200]

Input (generated once, deterministic, cached in --work): ``_common.generate_phantom``, 1,200
CT images of 512x512, 16 bit, a body-like phantom that encodes like real CT (about 630 MB,
12 series of 100). Interleaved, so all see the same machine state, each run writes afresh:

* ``mediatool build SRC --out DIR --iso FILE --date 2024-01-01`` with default options (web
  content and viewer, CT window presets ``auto``, the profile's CD: STD-GEN-CD);
* the anchor: copy into an 8-character File ID layout, ``dcmmkdir +r -Pgp`` and
  ``genisoimage -iso-level 1 -o FILE`` (no web content, no viewer);
* the floor: one Python process (a pool of all cores) decoding each image once
  (``pydicom.dcmread`` + ``pixel_array``), windowing it through a lookup table (``numpy.take``)
  and encoding one 512x512 JPEG with Pillow (``Image.frombuffer`` on uint8, ``quality=85``, no
  ``optimize``): what any tool that shows these images in a browser has to do.

Each run starts after ``sync`` with the previous output deleted (not timed), after one
warm-up build (not counted) with the byte-code cache on (as installed).

Figures: median wall time, peak memory of the process tree (sum of PSS), the ratio to the
anchor (goal <= 2.0), CPU seconds (user + system) of mediatool's processes and of the anchor's
(its copy and its two tools), which a busy machine changes less than wall time, the floor
per image (one core) and in total (all cores), the ISO's size and whether it fits one CD
(PS3.12 F.2.1.1: 360,000 sectors of 2,048 bytes, ``--media cd``), and the web content's steps
(``build.webfit``: the ``web.degraded`` / ``web.left-out`` finding).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Run, generate_phantom, measure, median

GOAL = 2.0
CD_BYTES = 360_000 * 2048  # mediatool.writers.iso.MEDIA_CAPACITY["cd"]
DATE = "2024-01-01"
#: As installed: Python's byte-code cache on (a PYTHONDONTWRITEBYTECODE=1 environment would
#: compile mediatool's modules on every run: 0.6 s no user pays).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def children_cpu() -> float:
    """User + system CPU seconds of the finished child processes (and theirs) so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def copy_to_layout(src: Path, dest: Path) -> None:
    """The anchor's first step: every file under an 8-character File ID (as bench_build)."""
    files = sorted(src.rglob("*.dcm"))
    for n, path in enumerate(files):
        d = dest / f"D{n // 1000:07d}"
        if n % 1000 == 0:
            d.mkdir(parents=True)
        shutil.copyfile(path, d / f"I{n % 1000:07d}")


def run_anchor(src: Path, work: Path) -> tuple[Run, int, float]:
    """The anchor's run, its ISO's size and its CPU seconds (the copy in this process, user +
    system, and dcmmkdir's and genisoimage's)."""
    layout, image = work / "anchor", work / "anchor.iso"
    shutil.rmtree(layout, ignore_errors=True)
    image.unlink(missing_ok=True)
    os.sync()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        copy_to_layout(src, layout)
        copied, cpu = time.perf_counter() - start, time.process_time() - cpu
        before = children_cpu()
        mkdir = measure(
            ["dcmmkdir", "+r", "-Pgp", "+id", str(layout), "+D", str(layout / "DICOMDIR"), "-q"]
        )
        iso = measure(["genisoimage", "-iso-level", "1", "-quiet", "-o", str(image), str(layout)])
        cpu += children_cpu() - before
        size = image.stat().st_size
        run = Run(copied + mkdir.seconds + iso.seconds, max(mkdir.peak_mb, iso.peak_mb))
        return run, size, cpu
    finally:
        shutil.rmtree(layout, ignore_errors=True)
        image.unlink(missing_ok=True)


def run_mediatool(src: Path, work: Path) -> tuple[Run, int, list[str]]:
    out, image, report = work / "mt_out", work / "mt.iso", work / "mt.json"
    shutil.rmtree(out, ignore_errors=True)
    image.unlink(missing_ok=True)
    os.sync()
    cmd = [sys.executable, "-m", "mediatool", "build", str(src), "--out", str(out)]
    cmd += ["--iso", str(image), "--date", DATE, "-q", "--json"]
    try:
        run = measure(cmd, stdout=report, env=ENV)
        size = image.stat().st_size
        found = json.loads(report.read_text())["findings"]
        steps = [f["message"] for f in found if f["code"] in ("web.degraded", "web.left-out")]
        return run, size, steps
    finally:
        shutil.rmtree(out, ignore_errors=True)
        image.unlink(missing_ok=True)


def _floor_one(path: str) -> tuple[float, int]:
    """Decode one image once, window it through a table, encode one JPEG: (CPU s, bytes)."""
    import numpy as np
    from PIL import Image
    from pydicom import dcmread

    start = time.process_time()
    ds = dcmread(path)
    stored = ds.pixel_array
    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    center, width = float(ds.WindowCenter), float(ds.WindowWidth)
    levels = np.arange(int(stored.max()) + 1, dtype=np.float32) * slope + intercept
    table = np.clip(np.rint(((levels - (center - 0.5)) / (width - 1) + 0.5) * 255), 0, 255)
    pixels = np.take(table.astype(np.uint8), stored)
    image = Image.frombuffer("L", (pixels.shape[1], pixels.shape[0]), pixels, "raw", "L", 0, 1)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return time.process_time() - start, len(buffer.getvalue())


def run_floor(src: Path) -> tuple[float, float, int]:
    """(CPU seconds per image on one core, wall seconds for all on all cores, JPEG bytes)."""
    files = [str(p) for p in sorted(src.rglob("*.dcm"))]
    alone = [_floor_one(f)[0] for f in files[:200]]
    start = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        results = list(pool.map(_floor_one, files, chunksize=16))
    wall = time.perf_counter() - start
    return sorted(alone)[len(alone) // 2], wall, sum(r[1] for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench-disc")
    parser.add_argument("--instances", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    src = generate_phantom(args.work / f"phantom{args.instances}", args.instances, 100)
    load = os.getloadavg()[0]
    run_mediatool(src, args.work)  # warm-up (page cache, byte-code cache), not counted
    mt: list[Run] = []
    anchor: list[Run] = []
    mt_cpu: list[float] = []
    anchor_cpu: list[float] = []
    for _ in range(args.repeat):
        before = children_cpu()
        run, size, steps = run_mediatool(src, args.work)
        mt_cpu.append(children_cpu() - before)
        mt.append(run)
        a_run, a_size, a_cpu = run_anchor(src, args.work)
        anchor.append(a_run)
        anchor_cpu.append(a_cpu)
    per_image, floor_wall, floor_bytes = run_floor(src)
    m, a = median(mt), median(anchor)
    cores = os.cpu_count()
    print(
        f"{args.instances} CT images 512x512 (phantom), 100 a series; "
        f"load before {load:.1f}, after {os.getloadavg()[0]:.1f}"
    )
    print(
        f"mediatool build --iso (default options)  {m.seconds:7.2f} s {m.peak_mb:6.0f} MB  "
        f"ISO {size / 1e6:6.1f} MB"
    )
    print(
        f"copy + dcmmkdir + genisoimage (anchor)    {a.seconds:7.2f} s {a.peak_mb:6.0f} MB  "
        f"ISO {a_size / 1e6:6.1f} MB"
    )
    cpu, a_cpu = sorted(mt_cpu)[len(mt_cpu) // 2], sorted(anchor_cpu)[len(anchor_cpu) // 2]
    print(
        f"CPU (user + sys, all processes): mediatool {cpu:.2f} s, anchor {a_cpu:.2f} s, "
        f"ratio {cpu / a_cpu:.2f}"
    )
    print(f"ratio mediatool / anchor: {m.seconds / a.seconds:.2f} (goal <= {GOAL})")
    print(
        f"floor (dcmread + pixel_array + LUT numpy.take + Pillow frombuffer/JPEG q85, one 512x512 "
        f"JPEG an image): {per_image * 1000:.1f} ms CPU an image on one core; {floor_wall:.2f} s "
        f"wall for all {args.instances} on {cores} cores ({floor_bytes / 1e6:.1f} MB of JPEG)"
    )
    fits = "fits" if size <= CD_BYTES else "does NOT fit"
    print(f"disc: {size} bytes, {fits} one CD ({CD_BYTES} bytes, PS3.12 F.2.1.1)")
    print("web content steps: " + ("; ".join(steps) if steps else "none (as asked)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
