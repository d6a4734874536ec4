"""Shared helpers for the benchmark scripts: synthetic inputs, timing, peak memory."""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian

ROOT = "1.2.826.0.1.3680043.10.1137.7"  # fixed benchmark root: deterministic inputs


def _template(size: int) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = "20240312"
    ds.StudyTime = "101500"
    ds.AccessionNumber = "ACC1"
    ds.Modality = "CT"
    ds.Manufacturer = "Bench"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Benchmark study"
    ds.SeriesDescription = "Benchmark series"
    ds.PatientName = "Bench^Patient"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.KVP = 120
    ds.StudyID = "1"
    ds.SliceThickness = 1
    ds.ImagePositionPatient = [0, 0, 0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = ROOT + ".9"
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = size
    ds.Columns = size
    ds.PixelSpacing = [0.5, 0.5]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.WindowCenter = 40
    ds.WindowWidth = 400
    return ds


def _write_batch(args: tuple[str, int, int, int, int]) -> None:
    out, start, stop, per_series, size = args
    rng = np.random.default_rng(start)
    ds = _template(size)
    for n in range(start, stop):
        series, number = divmod(n, per_series)
        patient = series // 10
        study = series // 5
        ds.PatientID = f"BENCH{patient:04d}"
        ds.StudyInstanceUID = f"{ROOT}.{study}"
        ds.SeriesInstanceUID = f"{ROOT}.{study}.{series}"
        ds.SOPInstanceUID = f"{ROOT}.{study}.{series}.{number + 1}"
        ds.SeriesNumber = series + 1
        ds.InstanceNumber = number + 1
        ds.PixelData = rng.integers(0, 4096, (size, size), dtype="<u2").tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.ImplementationClassUID = UID(ROOT + ".1")
        ds.file_meta.ImplementationVersionName = "BENCH_1"
        path = Path(out) / f"export {patient}" / f"Series {series + 1}" / f"img_{number:05d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        dcmwrite(path, ds, enforce_file_format=True)


def generate(out: Path, instances: int, per_series: int, size: int = 64) -> Path:
    """Write ``instances`` CT images, ``per_series`` a series, in messy nested folders."""
    marker = out.with_name(out.name + ".complete")
    if marker.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    step = 500
    jobs = [
        (str(out), i, min(i + step, instances), per_series, size) for i in range(0, instances, step)
    ]
    with ProcessPoolExecutor() as pool:
        list(pool.map(_write_batch, jobs))
    marker.write_text("ok")
    return out


def _phantom_batch(args: tuple[str, int, int, int]) -> None:
    out, start, stop, per_series = args
    size = 512
    rng = np.random.default_rng(start)
    y, x = np.mgrid[:size, :size].astype(np.float32) / size - 0.5
    ds = _template(size)
    for n in range(start, stop):
        series, number = divmod(n, per_series)
        z = number / per_series
        hu = np.full((size, size), -1000.0, np.float32)
        hu[(x / 0.42) ** 2 + (y / (0.30 + 0.03 * z)) ** 2 < 1] = 40.0  # body
        for cx in (-0.17, 0.17):
            hu[((x - cx) / 0.12) ** 2 + (y / (0.18 - 0.05 * z)) ** 2 < 1] = -850.0  # lungs
        hu[(x / 0.035) ** 2 + ((y - 0.2) / 0.035) ** 2 < 1] = 700.0  # spine
        hu += rng.normal(0, 12, hu.shape).astype(np.float32)
        ds.PatientID = f"PHANTOM{series // 10:04d}"
        ds.StudyInstanceUID = f"{ROOT}.5.{series // 5}"
        ds.SeriesInstanceUID = f"{ROOT}.5.{series // 5}.{series}"
        ds.SOPInstanceUID = f"{ROOT}.5.{series // 5}.{series}.{number + 1}"
        ds.SeriesNumber, ds.InstanceNumber = series + 1, number + 1
        ds.PixelData = np.clip(hu + 1024, 0, 4095).astype("<u2").tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.ImplementationClassUID = UID(ROOT + ".1")
        path = Path(out) / f"series {series + 1}" / f"img_{number:05d}.dcm"
        path.parent.mkdir(parents=True, exist_ok=True)
        dcmwrite(path, ds, enforce_file_format=True)


def generate_phantom(out: Path, instances: int, per_series: int) -> Path:
    """Write ``instances`` 512x512 CT images of a body-like phantom (air, soft tissue, lungs,
    spine, CT-like noise; encodes like real CT), ``per_series`` a series (cached: a marker)."""
    marker = out.with_name(out.name + ".complete")
    if not marker.exists():
        out.mkdir(parents=True, exist_ok=True)
        jobs = [
            (str(out), i, min(i + 200, instances), per_series) for i in range(0, instances, 200)
        ]
        with ProcessPoolExecutor() as pool:
            list(pool.map(_phantom_batch, jobs))
        marker.write_text("ok")
    return out


@dataclass
class Run:
    seconds: float
    peak_mb: float
    killed: bool = False  # stopped at the time-out given to measure()


def _tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants: the sum of their proportional set sizes
    (PSS, Linux /proc/PID/smaps_rollup), so pages that forked workers share with their parent
    are counted once, not once per process as a sum of RSS would."""
    children: dict[int, list[int]] = {}
    for entry in (p.name for p in Path("/proc").iterdir()):
        if entry.isdigit():
            try:
                with Path(f"/proc/{entry}/stat").open() as fp:
                    ppid = int(fp.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        stack.extend(children.get(p, []))
        try:
            with Path(f"/proc/{p}/smaps_rollup").open() as fp:
                for line in fp:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def measure(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
    stdout: Path | None = None,
) -> Run:
    """Wall time and peak resident memory (process tree) of one command; with ``timeout``, the
    command's process group is killed then (``Run.killed``); ``stdout``: a file for its output."""
    sink = stdout.open("wb") if stdout is not None else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=sink,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=timeout is not None,
    )
    peak = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            stop.wait(0.05)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    killed = False
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed = True
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if stdout is not None:
        sink.close()  # type: ignore[union-attr]
    stop.set()
    thread.join()
    if check and proc.returncode != 0 and not killed:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    return Run(elapsed, peak / 1024, killed)


def median(runs: Sequence[Run]) -> Run:
    return Run(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs))


def run_build(src: Path, work: Path, *extra: str) -> Run:
    """Time ``mediatool build SRC --out WORK/mt_out -q --no-web EXTRA...`` (output removed after).

    --no-web: these figures are scan, conversion, copy and DICOMDIR; the web content has its own
    benchmark, benchmarks/bench_web.py.
    """
    out = work / "mt_out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "mediatool",
        "build",
        str(src),
        "--out",
        str(out),
        "-q",
        "--no-web",
    ]
    try:
        return measure([*cmd, *extra])
    finally:
        shutil.rmtree(out, ignore_errors=True)
