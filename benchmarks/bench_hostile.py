"""Benchmark: time and peak memory of ``validate`` and ``import`` on hostile media (issue 12,
"bounded time and memory"), with the real limits of mediatool/limits.py.

Run:  python3 benchmarks/bench_hostile.py [--work DIR] [--before REV] [--before-timeout S]

Cases, made in the work folder by the test code (tests/hostile_dicomdirs.py,
tests/hostile/hostile_media.py) and removed after: a DICOMDIR of 10^6 chained PATIENT records
(90 MB), of 10^6 random 40-byte items (40 MB), of 500 MB of zeros (sparse); an instance whose
header holds one 500 MB OB element, in a folder (sparse) and in a zip (about 12 MB, the value
compresses about 40:1). Each is judged by ``validate``, ``import --list`` and (the instances)
``import --into``.

With ``--before REV`` (e.g. 97d17c6, the last landing before issue 12) the same commands run
side by side with that revision (a git worktree, on PYTHONPATH), stopped at --before-timeout
seconds (60 by default: the issue's own limit); the ratio columns are before / now. Goal: time
roughly linear in the size read, peak memory (PSS of the process tree) under 500 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import hostile_dicomdirs as hostile  # noqa: E402
from _common import Run, measure  # noqa: E402
from hostile_media import big_element_parts, write_big_element  # noqa: E402

BIG = 500 * 1024**2
LIST = ("validate", "import --list")
ALL = (*LIST, "import --into")


def _dicomdir(make: Callable[[Path], Path]) -> Callable[[Path], Path]:
    def media(work: Path) -> Path:
        (work / "media").mkdir()
        make(work / "media" / "DICOMDIR")
        return work / "media"

    return media


def _big_folder(work: Path) -> Path:
    head, tail = big_element_parts(work)
    (work / "media" / "DICOM").mkdir(parents=True)
    with (work / "media" / "DICOM" / "IM1").open("wb") as out:
        write_big_element(out, head, tail, BIG, sparse=True)
    return work / "media"


def _big_zip(work: Path) -> Path:
    head, tail = big_element_parts(work)
    dest = work / "media.zip"
    with (
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("IM1", "w", force_zip64=True) as out,
    ):
        write_big_element(out, head, tail, BIG, sparse=False)
    return dest


CASES: list[tuple[str, Callable[[Path], Path], tuple[str, ...]]] = [
    ("10^6 chained records", _dicomdir(lambda p: hostile.chained(p, 1_000_000)), LIST),
    ("10^6 random 40-byte items", _dicomdir(lambda p: hostile.random_items(p, 1_000_000)), LIST),
    ("500 MB of zeros", _dicomdir(lambda p: hostile.zeros(p, BIG)), LIST),
    ("500 MB OB element, folder", _big_folder, ALL),
    ("500 MB OB element, zip", _big_zip, ALL),
]


def _command(label: str, media: Path, work: Path) -> list[str]:
    cmd = [sys.executable, "-m", "mediatool", label.split()[0], str(media)]
    if label == "import --list":
        cmd.append("--list")
    elif label == "import --into":
        shutil.rmtree(work / "archive", ignore_errors=True)
        cmd += ["--into", str(work / "archive")]
    return cmd


def _shown(run: Run | None) -> str:
    if run is None:
        return f"{'':>8} {'':>8}"
    seconds = f">{run.seconds:.0f}" if run.killed else f"{run.seconds:.2f}"
    return f"{seconds:>8} {run.peak_mb:8.0f}"


def _ratio(before: Run | None, now: Run) -> str:
    if before is None:
        return ""
    more = ">" if before.killed else ""
    return (
        f"{more + format(before.seconds / now.seconds, '.0f') + 'x':>8} "
        f"{more + format(before.peak_mb / max(now.peak_mb, 1), '.0f') + 'x':>8}"
    )


def _before_env(rev: str, work: Path) -> dict[str, str]:
    tree = work / "before"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(tree), rev], check=True
    )
    return {**os.environ, "PYTHONPATH": str(tree)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--before", metavar="REV", default=None)
    parser.add_argument("--before-timeout", type=float, default=60.0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.work, prefix="bench-hostile-")).resolve()
    os.chdir(work)  # `python -m` puts the working folder first on sys.path: not the checkout
    before_env = _before_env(args.before, work) if args.before else None
    try:
        print(
            f"{'case':27} {'command':14} {'now s':>8} {'now MB':>8} {'before s':>8} "
            f"{'before MB':>8} {'time':>8} {'memory':>8}"
        )
        for name, make, commands in CASES:
            case = work / "case"
            case.mkdir()
            media = make(case)
            for label in commands:
                now = measure(_command(label, media, case), check=False)
                then = None
                if before_env is not None:
                    cmd = _command(label, media, case)
                    then = measure(cmd, env=before_env, check=False, timeout=args.before_timeout)
                print(
                    f"{name:27} {label:14} {_shown(now)} {_shown(then)} {_ratio(then, now)}",
                    flush=True,
                )
            shutil.rmtree(case)
    finally:
        if before_env is not None:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "remove", "--force", str(work / "before")],
                check=False,
            )
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
