"""Fuzz campaign (issue 12, "fuzz cases and misses"): seeded mutations of DICOMDIRs and of
instances through ``validate``, counting crashes, leaked Python warnings, unregistered codes and
misses.

Run:  python3 benchmarks/bench_fuzz.py [--cases 2000] [--seed 1]

Seeds: pydicom's bundled DICOMDIR variants (with the dicomdirtests file-set) and a small
File-set mediatool builds (tests/validate/validate_helpers.py). Each case applies one to four
edits (bit flip, insert, delete, truncate, or an interesting value written into an offset or item
length the raw reader found). A case is *reported* when validate finds an error or warning the
unmutated media did not have. A *miss* is a case that DCMTK's dcmdump (an independent parser)
rejects while ``validate`` reports no error and no warning: damage the validator did not see.
Half the cases mutate the DICOMDIR, half one instance file.
"""

from __future__ import annotations

import argparse
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE.parent / "tests" / "validate"))

from pydicom.data import get_testdata_file  # noqa: E402
from validate_helpers import small_fileset  # noqa: E402

from mediatool.dicom.dicomdir_read import parse  # noqa: E402
from mediatool.findings import CODES  # noqa: E402
from mediatool.media import open_media  # noqa: E402
from mediatool.validate import validate_media  # noqa: E402

INTERESTING = (0, 1, 2, 8, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF)


def _fields(data: bytes) -> list[tuple[int, int]]:
    """(position, size) of every offset and item length the raw reader finds."""
    out: list[tuple[int, int]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        directory = parse(data)
    for record in directory.records:
        out.append((record.offset + 4, 4))
        for element in record.elements.values():
            if element.tag in (0x00041400, 0x00041420) and len(element.value) == 4:
                out.append((element.value_pos, 4))
    return out


def mutate(data: bytes, rng: random.Random, fields: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            break
        kind = rng.choice(["flip", "insert", "delete", "truncate", "field", "field"])
        pos = rng.randrange(len(out))
        if kind == "flip":
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            out[pos:pos] = rng.randbytes(rng.randint(1, 16))
        elif kind == "delete":
            del out[pos : pos + rng.randint(1, 16)]
        elif kind == "truncate":
            del out[pos:]
        elif fields:
            at, size = rng.choice(fields)
            value = rng.choice([*INTERESTING, len(out)])
            if at + size <= len(out):
                out[at : at + size] = struct.pack("<L" if size == 4 else "<H", value % (1 << 32))
    return bytes(out)


def _fileset_roots(work: Path) -> list[Path]:
    pydicom_dir = Path(str(get_testdata_file("DICOMDIR", download=False))).parent
    ours = small_fileset(work / "ours")
    theirs = work / "theirs"
    theirs.mkdir()
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(pydicom_dir / folder, theirs / folder)
    shutil.copy(pydicom_dir / "DICOMDIR", theirs / "DICOMDIR")
    return [ours, theirs]


CRASHES: list[str] = []  # the exception of each crash, shown after the totals
MISSES: list[str] = []  # what dcmdump said about each miss, shown after the totals
KEEP = Path(tempfile.gettempdir()) / "bench-fuzz-misses"


def _dcmdump_rejects(path: Path) -> str | None:
    """dcmdump's first complaint, or None when it reads the file."""
    done = subprocess.run(
        ["dcmdump", "+E", str(path)],
        capture_output=True,
        timeout=30,
        check=False,
        text=True,
        errors="replace",
    )
    if done.returncode == 0:
        return None
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if lines else f"exit {done.returncode}"


def _serious(root: Path) -> set[tuple[str, str]]:
    """(code, where) of the errors and warnings ``validate`` reports on ``root``."""
    with open_media(root) as reader:
        report = validate_media(reader, jobs=1)
    return {
        (f.code, f.where or "") for f in report.findings if f.severity.name in ("ERROR", "WARNING")
    }


def run_case(
    root: Path, target: Path, seed_bytes: bytes, rng: random.Random, baseline: set[tuple[str, str]]
) -> dict[str, int]:
    fields = _fields(seed_bytes) if target.name == "DICOMDIR" else []
    target.write_bytes(mutate(seed_bytes, rng, fields))
    counts = Counter[str]()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with open_media(root) as reader:
                report = validate_media(reader, jobs=1)
        counts["leaked warnings"] += bool(caught)
        counts["unregistered codes"] += any(f.code not in CODES for f in report.findings)
        counts["check failed"] += any(f.code == "validate.check-failed" for f in report.findings)
        serious = {
            (f.code, f.where or "")
            for f in report.findings
            if f.severity.name in ("ERROR", "WARNING")
        }
        if serious - baseline:  # something the unmutated media did not have
            counts["reported"] += 1
        elif (said := _dcmdump_rejects(target)) is not None:
            counts["misses"] += 1
            KEEP.mkdir(exist_ok=True)
            kept = KEEP / f"miss{len(MISSES) + 1}-{target.name}"
            shutil.copy(target, kept)
            MISSES.append(f"{kept}: {said}")
        else:
            counts["clean (dcmdump agrees)"] += 1
    except Exception as exc:  # a crash is what this counts
        counts["crashes"] += 1
        KEEP.mkdir(exist_ok=True)
        kept = KEEP / f"crash{len(CRASHES) + 1}-{target.name}"
        shutil.copy(target, kept)
        CRASHES.append(f"{kept}: {type(exc).__name__}: {exc}"[:300])
    finally:
        target.write_bytes(seed_bytes)
    return dict(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-fuzz-"))
    try:
        roots = _fileset_roots(work)
        baselines = {root: _serious(root) for root in roots}
        totals = {"DICOMDIR": Counter[str](), "instance": Counter[str]()}
        start = time.perf_counter()
        for case in range(args.cases):
            root = rng.choice(roots)
            kind = "DICOMDIR" if case % 2 == 0 else "instance"
            if kind == "DICOMDIR":
                target = root / "DICOMDIR"
            else:
                files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "DICOMDIR")
                target = rng.choice(files)
            totals[kind].update(run_case(root, target, target.read_bytes(), rng, baselines[root]))
        seconds = time.perf_counter() - start
        print(f"{args.cases} cases in {seconds:.0f} s (seed {args.seed})")
        for kind, counts in totals.items():
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            print(f"  {kind:9} {shown}")
        for line in CRASHES[:20]:
            print(f"  crash: {line}")
        for line in MISSES[:20]:
            print(f"  miss: {line}")
        bad = sum(t[k] for t in totals.values() for k in ("crashes", "unregistered codes"))
        return 1 if bad else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
