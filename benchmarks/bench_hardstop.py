"""Kill -9 ``build`` and ``validate`` at seeded random moments and count what is left behind.

Issue 12 ("Hard stops leave nothing behind"). For each kill: hidden staging or old copies
beside the outputs (``.NAME.partial-*``, ``.NAME.old-*``, ``.mediatool-*``), worker processes
still alive after the parent died, files written after it died, and the state of the
destination (absent, the complete disc, or something else). Then one more complete build:
what is still left over after it.

    python3 benchmarks/bench_hardstop.py --kills 15 --validate-kills 5 --seed 1 [--before REV]

With ``--before REV`` (e.g. 97d17c6, the last landing before issue 12) the same seeded kills run
again against that revision (a git worktree put first on PYTHONPATH), and both totals are printed
side by side.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from processes import processes_in

DATE = "2024-03-12T10:00:00"


def mediatool(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediatool", *args]


def leftovers(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(".")
        and (".partial-" in p.name or ".old-" in p.name or p.name.startswith(".mediatool-"))
    )


def snapshot(paths: list[Path]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for base in paths:
        items = [base] if base.is_file() else [p for p in base.rglob("*") if p.is_file()]
        for p in items:
            try:
                st = p.stat()
            except OSError:
                continue
            out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def kill_once(
    command: list[str], delay: float, work: Path, wait: float, *, after: str = ""
) -> dict[str, object]:
    """SIGKILL ``command`` after ``delay`` s (counted from when its workers or its staging
    appear, with ``after``) and look at what it left."""
    existing = {p.name for p in leftovers(work)}
    proc = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and (
        (after == "workers" and len(processes_in(work)) < 2)
        or (after == "staging" and {p.name for p in leftovers(work)} <= existing)
    ):
        time.sleep(0.01)
    time.sleep(delay)
    finished = proc.poll() is not None
    running = len(processes_in(work)) - 1  # its workers at the moment of the kill
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    dead_at = time.time_ns()
    workers_at_kill = processes_in(work)
    before = snapshot(leftovers(work))
    time.sleep(wait)
    alive = processes_in(work)
    after = snapshot(leftovers(work))
    written = sum(1 for k, v in after.items() if before.get(k) != v)
    late = sum(1 for (_, mtime) in after.values() if mtime > dead_at + 50_000_000)
    for pid in alive:  # the run's own orphans: end them by id
        os.kill(pid, signal.SIGKILL)
    return {
        "finished": finished,
        "workers": running,
        "dying": len(workers_at_kill),
        "alive": len(alive),
        "written": max(written, late),
        "left": [p.name for p in leftovers(work) if p.name not in existing],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--validate-kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--instances", type=int, default=400)
    parser.add_argument("--wait", type=float, default=2.0, help="seconds to watch after a kill")
    parser.add_argument("--before", metavar="REV", default=None)
    args = parser.parse_args()
    results = {"now": _measured_run(args)}
    if args.before:
        repo = Path(__file__).resolve().parent.parent
        tree = Path(tempfile.mkdtemp(prefix="mt-hardstop-before-")) / "src"
        git = ["git", "-C", str(repo), "worktree"]
        subprocess.run([*git, "add", "--detach", "-q", str(tree), args.before], check=True)
        os.environ["PYTHONPATH"] = str(tree)  # the runs' working folder is not the checkout
        try:
            print(f"\n=== the same kills against {args.before}")
            results[args.before] = _measured_run(args)
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=False)
            shutil.rmtree(tree.parent, ignore_errors=True)
    print()
    for name, figures in results.items():
        print(f"{name:>10}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


def _measured_run(args: argparse.Namespace) -> dict[str, int]:
    work = Path(tempfile.mkdtemp(prefix="mt-hardstop-"))
    try:
        return run(work, random.Random(args.seed), args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, rng: random.Random, args: argparse.Namespace) -> dict[str, int]:
    subprocess.run(
        mediatool("sample", "src", "--instances", str(args.instances), "--seed", "7"),
        cwd=work,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    common = ["src", "--jobs", "2", "--date", DATE, "--force", "-q"]
    subprocess.run(
        mediatool("build", *common, "--out", "ref"),
        cwd=work,
        check=True,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    reference = tree(work / "ref")
    subprocess.run(
        mediatool("build", *common, "--out", "OUT"),
        cwd=work,
        check=True,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    totals = {
        "kills": 0,
        "with_leftovers": 0,
        "workers_alive": 0,
        "hit_workers": 0,
        "files_after_death": 0,
        "dest_broken": 0,
    }
    for k in range(args.kills):
        outputs = [["--out", "OUT"], ["--iso", "X.iso"], ["--out", "OUT", "--iso", "X.iso"]][k % 3]
        # every other kill lands while it writes: counted from when its staging appears
        after = "staging" if k % 2 else ""
        delay = rng.uniform(0.0, 1.2) if after else rng.uniform(0.4, 2.6)
        command = mediatool("build", *common, *outputs, "--label", "L.png")
        result = kill_once(command, delay, work, args.wait, after=after)
        dest = tree(work / "OUT") if (work / "OUT").is_dir() else None
        broken = dest != reference
        totals["kills"] += 1
        totals["with_leftovers"] += bool(result["left"])
        totals["workers_alive"] += bool(result["alive"])
        totals["hit_workers"] += bool(result["workers"])
        totals["files_after_death"] += int(result["written"])  # type: ignore[call-overload]
        totals["dest_broken"] += broken
        print(
            f"build kill {k + 1}: {' '.join(outputs)} {delay:.2f}s after "
            f"{'staging appeared' if after else 'start'}: {result}, "
            f"OUT {'absent' if dest is None else 'broken' if broken else 'complete'}"
        )
    stale = [p.name for p in leftovers(work)]
    print(f"left before the next build: {len(stale)}")
    final = subprocess.run(
        mediatool("build", *common, "--out", "OUT", "--iso", "X.iso"),
        cwd=work,
        capture_output=True,
        text=True,
    )
    final_left = [p.name for p in leftovers(work)]
    print(f"next build: exit {final.returncode}, left {final_left}")
    said = [line for line in final.stderr.splitlines() if line.startswith("mediatool: ")]
    print(f"  it said: {len(said)} lines", *said[:3], sep="\n  ")
    print("build totals:", totals)
    vtotals = {"kills": 0, "hit_workers": 0, "workers_alive": 0, "with_leftovers": 0}
    for k in range(args.validate_kills):
        delay = rng.uniform(0.0, 0.1)  # the workers read for a few tenths of a second
        result = kill_once(
            mediatool("validate", "ref", "--jobs", "2", "--html", "qa.html", "-q"),
            delay,
            work,
            args.wait,
            after="workers",
        )
        vtotals["kills"] += 1
        vtotals["workers_alive"] += bool(result["alive"])
        vtotals["hit_workers"] += bool(result["workers"])
        vtotals["with_leftovers"] += bool(result["left"])
        print(f"validate kill {k + 1} {delay:.2f}s after its workers started: {result}")
    print("validate totals:", vtotals)
    return {
        "build kills": totals["kills"],
        "with leftovers": totals["with_leftovers"],
        "left after the next build": len(final_left),
        "killed with live workers": totals["hit_workers"],
        "workers alive after": totals["workers_alive"],
        "files written after death": totals["files_after_death"],
        "validate kills": vtotals["kills"],
        "validate orphans": vtotals["workers_alive"],
    }


if __name__ == "__main__":
    main()
