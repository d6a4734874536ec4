"""Benchmark: this checkout against an earlier revision, side by side (issue 13: a refactor
must not make anything slower or bigger).

Run:  python3 benchmarks/bench_revisions.py --before REV [--instances 2000] [--repeat 3]

The same commands on the same generated data (CT images of 64x64 in messy folders, the
``build`` output for ``validate`` and ``import --list``), run alternately now / before so that
load on the machine hits both alike: ``build --no-web``, ``build`` with web content and an ISO,
``validate`` and ``import --list``. The earlier revision runs from a git worktree put first on
PYTHONPATH (the working folder is not the checkout, so ``python -m`` cannot pick it up). Figures:
median wall time, peak memory (PSS of the process tree), ratio now / before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import Run, generate, measure, median  # noqa: E402

DATE = "2024-03-12T10:00:00"


def _commands(src: Path, work: Path, disc: Path) -> dict[str, list[str]]:
    tool = [sys.executable, "-m", "mediatool"]
    common = ["--date", DATE, "-q", "--force"]
    return {
        "build --no-web": [*tool, "build", str(src), "--out", str(work / "a"), "--no-web", *common],
        "build + web + ISO": [
            *tool, "build", str(src), "--out", str(work / "b"), "--iso", str(work / "b.iso"),
            *common,
        ],
        "validate": [*tool, "validate", str(disc), "-q"],
        "import --list": [*tool, "import", str(disc), "--list", "-q"],
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="REV", required=True)
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    repo = HERE.parent
    work = Path(tempfile.mkdtemp(prefix="bench-revisions-")).resolve()
    os.chdir(work)
    tree = work / "before-src"
    git = ["git", "-C", str(repo), "worktree"]
    subprocess.run([*git, "add", "--detach", "-q", str(tree), args.before], check=True)
    envs = {"now": dict(os.environ), args.before: {**os.environ, "PYTHONPATH": str(tree)}}
    envs["now"].pop("PYTHONPATH", None)
    try:
        src = generate(work / "src", args.instances, 100)
        disc = work / "disc"
        measure(
            [sys.executable, "-m", "mediatool", "build", str(src), "--out", str(disc), "-q"],
            env=envs["now"],
        )
        runs: dict[tuple[str, str], list[Run]] = {}
        for _ in range(args.repeat):
            for label, cmd in _commands(src, work, disc).items():
                for name, env in envs.items():
                    runs.setdefault((label, name), []).append(measure(cmd, env=env))
        print(f"{args.instances} instances, median of {args.repeat}, before = {args.before}")
        head = ("command", "now s", "now MB", "before s", "before MB", "ratio")
        print("{:20} {:>7} {:>7} {:>8} {:>9} {:>6}".format(*head))
        for label in _commands(src, work, disc):
            now, then = median(runs[(label, "now")]), median(runs[(label, args.before)])
            print(
                f"{label:20} {now.seconds:7.2f} {now.peak_mb:7.0f} {then.seconds:8.2f} "
                f"{then.peak_mb:9.0f} {now.seconds / then.seconds:6.2f}"
            )
    finally:
        subprocess.run([*git, "remove", "--force", str(tree)], check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
