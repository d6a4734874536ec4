"""Benchmark: ``mediatool import`` of a 1,000-instance disc, into a folder and into Orthanc,
side by side with DCMTK's ``storescu`` sending the same files to the same Orthanc.

Run:  python3 benchmarks/bench_import.py [--work DIR] [--repeat 3] [--instances 1000]
          [--associations N] [--skip-nagle]

The disc is the File-set ``mediatool build`` writes (DICOMDIR, no web content). Orthanc runs on
127.0.0.1 with a temporary storage folder and is emptied through its REST API before each send,
so every run stores the same 1,000 new instances. Runs are interleaved and the median of
``--repeat`` is shown, with the peak memory (PSS) of each command's process tree.

``storescu`` is run twice: as Debian ships it, and with ``TCP_NODELAY=1`` in its environment
(DCMTK's switch for turning Nagle's algorithm off). ``mediatool import`` always turns Nagle off on
its associations; so does Orthanc here (started with ``TCP_NODELAY=1``), otherwise every C-STORE
of either client waits ~40 ms for a delayed ACK. The target ratio is against the faster one.
Each ``mediatool import`` run reads every header of the disc first (to account for every file
and plan the presentation contexts), and starts a Python interpreter, pydicom and pynetdicom;
those costs are included, as ``storescu``'s start-up is. mediatool runs from compiled bytecode,
as an installed copy does (as in bench_build.py): PYTHONDONTWRITEBYTECODE is dropped, the cache
kept under --work, and one untimed import of each kind compiles it first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from _common import Run, generate, measure, median  # noqa: E402
from pacs_peers import Orthanc, build_fileset, dcmtk  # noqa: E402

TARGET = 1.5  # issue 17: at most 1.5x storescu +sd with TCP_NODELAY


def disc(work: Path, instances: int) -> Path:
    src = generate(work / f"src-{instances}", instances, 50)
    out = work / f"disc-{instances}"
    if not (out / "DICOMDIR").exists():
        shutil.rmtree(out, ignore_errors=True)
        build_fileset(src, out)
    return out


def _mediatool(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediatool", "import", *args, "-q"]


def compiled_env(work: Path) -> dict[str, str]:
    """The environment of an installed mediatool: its bytecode compiled once, kept under work
    (with PYTHONDONTWRITEBYTECODE=1 every run would compile mediatool's modules again)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return env


def warm_up(media: Path, orthanc: Orthanc, work: Path, env: dict[str, str]) -> None:
    """One untimed import into a folder and one into Orthanc: compiles the bytecode."""
    archive = work / "archive-warm-up"
    shutil.rmtree(archive, ignore_errors=True)
    measure(_mediatool(str(media), "--into", str(archive)), env=env)
    shutil.rmtree(archive, ignore_errors=True)
    orthanc.reset()
    state = Path(tempfile.mkdtemp(prefix="state-", dir=work))
    measure(_mediatool(str(media), "--to-pacs", orthanc.peer, "--state", str(state)), env=env)


def bench(media: Path, orthanc: Orthanc, work: Path, args: argparse.Namespace) -> dict[str, Run]:
    repeat, n = args.repeat, args.instances
    runs: dict[str, list[Run]] = {"folder": [], "pacs": [], "storescu": [], "storescu-nagle": []}
    storescu = dcmtk("storescu")
    host, port = "127.0.0.1", str(orthanc.dicom_port)
    nodelay = dict(os.environ, TCP_NODELAY="1")
    env = compiled_env(work)
    warm_up(media, orthanc, work, env)
    for r in range(repeat):
        archive = work / f"archive-{r}"
        shutil.rmtree(archive, ignore_errors=True)
        runs["folder"].append(measure(_mediatool(str(media), "--into", str(archive)), env=env))
        shutil.rmtree(archive, ignore_errors=True)
        orthanc.reset()
        state = Path(tempfile.mkdtemp(prefix="state-", dir=work))
        pacs = ["--to-pacs", orthanc.peer, "--state", str(state)]
        if args.associations:
            pacs += ["--associations", str(args.associations)]
        runs["pacs"].append(measure(_mediatool(str(media), *pacs), env=env))
        assert len(orthanc.get("/instances")) == n, "Orthanc did not get every instance"
        orthanc.reset()
        cmd = [storescu, "-aec", orthanc.aet, "-aet", "STORESCU", "+sd", "+r", host, port,
               str(media / "DICOM")]  # fmt: skip
        runs["storescu"].append(measure(cmd, env=nodelay))
        assert len(orthanc.get("/instances")) == n, "storescu did not send every instance"
        if r == 0 and not args.skip_nagle:  # once is enough to show what Nagle costs
            orthanc.reset()
            runs["storescu-nagle"].append(measure(cmd))
    return {k: median(v) for k, v in runs.items() if v}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mt-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--associations", type=int, help="import's --associations (its default)")
    parser.add_argument("--skip-nagle", action="store_true", help="no storescu run with Nagle on")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    media = disc(args.work, args.instances)
    folder = Path(tempfile.mkdtemp(prefix="orthanc-", dir=args.work))
    orthanc = Orthanc(folder).start()
    try:
        result = bench(media, orthanc, args.work, args)
    finally:
        orthanc.stop()
        shutil.rmtree(folder, ignore_errors=True)
    cpus = os.cpu_count()
    print(f"{args.instances} instances, median of {args.repeat}, {cpus} CPUs, Orthanc on 127.0.0.1")
    labels = {
        "folder": "mediatool import --into DIR",
        "pacs": "mediatool import --to-pacs ORTHANC",
        "storescu": "storescu +sd (TCP_NODELAY=1)",
        "storescu-nagle": "storescu +sd (as shipped)",
    }
    for key, label in labels.items():
        if key not in result:
            continue
        run = result[key]
        print(f"  {label:<36} {run.seconds:6.2f} s  {run.peak_mb:5.0f} MB")
    ratio = result["pacs"].seconds / result["storescu"].seconds
    verdict = "meets" if ratio <= TARGET else "misses"
    print(f"  ratio import/storescu: {ratio:.2f} ({verdict} the {TARGET}x target)")


if __name__ == "__main__":
    main()
