"""Hard stops leave nothing behind (issue 12) and outputs honour the umask (issue 11).

``kill -9`` of real ``build`` and ``validate`` processes at seeded moments, then: no worker
alive (read from /proc), no file written after the parent died, the destination the old or
the new complete disc, and the next run removes the stale staging and says so. The crash
windows of publish are reached through the test hook ``MEDIATOOL_TEST_PAUSE``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import random
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from processes import processes_in

from mediatool.writers import folder as staging

DATE = "2024-03-12T10:00:00"
COMMON = ("--jobs", "2", "--date", DATE, "--force", "-q")


def mediatool(*args: str) -> list[str]:
    return [sys.executable, "-m", "mediatool", *args]


def run(work: Path, *args: str, umask: int = 0o022, **kw: Any) -> subprocess.CompletedProcess[str]:
    done: subprocess.CompletedProcess[str] = subprocess.run(
        mediatool(*args), cwd=work, capture_output=True, text=True, umask=umask, **kw
    )
    return done


def leftovers(folder: Path) -> list[str]:
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.name.startswith(".") and (".partial-" in p.name or ".old-" in p.name)
    )


def files_under(folder: Path, names: Sequence[str]) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for name in names:
        base = folder / name
        for p in [base] if base.is_file() else base.rglob("*"):
            try:
                st = p.stat()
            except OSError:
                continue
            if p.is_file():
                out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wait_gone(work: Path, seconds: float = 2.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (alive := processes_in(work)) and time.monotonic() < deadline:
        time.sleep(0.02)
    return alive


def kill_at(
    work: Path, command: list[str], delay: float, *, after: str = ""
) -> tuple[int, int, list[int], bool]:
    """Run ``command``, SIGKILL it after ``delay`` s (counted from when its workers or its
    staging appear, with ``after``); return (pid, moment of death in ns, workers still alive 2 s
    later, whether it had workers running when killed)."""
    proc = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    existing = set(leftovers(work))
    while proc.poll() is None and (
        (after == "workers" and len(processes_in(work)) < 2)
        or (after == "staging" and set(leftovers(work)) <= existing)
    ):
        assert time.monotonic() < deadline, "no worker appeared"
        time.sleep(0.01)
    time.sleep(delay)
    had_workers = len(processes_in(work)) > 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    dead_at = time.time_ns()
    alive = wait_gone(work)
    for pid in alive:  # leave no orphan of our own behind, whatever the verdict
        os.kill(pid, signal.SIGKILL)
    return proc.pid, dead_at, alive, had_workers


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    """A sample input, and a first complete build: the folder OUT and the image X.iso."""
    work = tmp_path_factory.mktemp("hardstop")
    done = run(work, "sample", "src", "--instances", "250", "--seed", "7")
    assert done.returncode == 0, done.stderr
    done = run(work, "build", "src", *COMMON, "--out", "OUT", "--iso", "X.iso")
    assert done.returncode == 0, done.stderr
    yield work, tree(work / "OUT"), digest(work / "X.iso")
    for pid in processes_in(work):
        os.kill(pid, signal.SIGKILL)


def test_kill_build_at_random_moments(disc: tuple[Path, dict[str, str], str]) -> None:
    work, reference, iso_digest = disc
    rng = random.Random(12)
    outputs = (("--out", "OUT"), ("--iso", "X.iso"), ("--out", "OUT", "--iso", "X.iso"))
    hit_workers = left = 0
    previous: list[str] = []
    for k in range(8):
        before = set(leftovers(work))
        command = mediatool("build", "src", *COMMON, *outputs[k % 3], "--label", "L.png")
        after = "staging" if k % 2 else ""  # every other kill lands while it writes
        delay = rng.uniform(0.0, 1.2) if after else rng.uniform(0.5, 2.5)
        pid, dead_at, alive, had_workers = kill_at(work, command, delay, after=after)
        hit_workers += had_workers
        assert alive == [], f"kill {k}: workers {alive} outlived their parent {pid}"
        new = [n for n in leftovers(work) if n not in before]
        if after:  # this run got as far as staging, so past its sweeps: the last kill's are gone
            mine = [
                n
                for n in previous
                if n.startswith((".L.png.", *(f".{o}." for o in outputs[k % 3])))
            ]
            assert not any((work / n).exists() for n in mine), f"kill {k}: {mine} stayed"
        left += bool(new)
        previous = new
        late = {p: v for p, v in files_under(work, new).items() if v[1] > dead_at + 50_000_000}
        assert late == {}, f"kill {k}: written after the parent died: {sorted(late)[:3]}"
        assert all(str(pid) in n for n in new), f"kill {k}: {new} not named after {pid}"
        assert not (work / "OUT").exists() or tree(work / "OUT") == reference
        assert not (work / "X.iso").exists() or digest(work / "X.iso") == iso_digest
    assert hit_workers >= 1, "no kill hit running workers: the delays miss the pools"
    assert left >= 1, "no kill left a staging folder: the delays miss the writing"
    stale = leftovers(work)
    done = run(work, "build", "src", *COMMON, "--out", "OUT", "--iso", "X.iso", "--label", "L.png")
    assert done.returncode == 0, done.stderr
    assert leftovers(work) == []
    for name in stale:
        assert f"removed {name!r}" in done.stderr
    assert tree(work / "OUT") == reference
    assert digest(work / "X.iso") == iso_digest


def test_kill_validate_leaves_no_worker(disc: tuple[Path, dict[str, str], str]) -> None:
    work, _, _ = disc
    rng = random.Random(5)
    hit_workers = 0
    for k in range(3):
        command = mediatool("validate", "OUT", "--jobs", "2", "--html", "qa.html", "-q")
        _, _, alive, had_workers = kill_at(work, command, rng.uniform(0, 0.1), after="workers")
        hit_workers += had_workers
        assert alive == [], f"kill {k}: validate's workers {alive} outlived their parent"
    assert hit_workers == 3, "the kills missed validate's workers"


def plant(dest: Path, kind: str, pid: int, *, folder: bool) -> Path:
    path = staging.hidden_name(dest, kind, pid)
    if folder:
        (path / "DICOM").mkdir(parents=True)
        (path / "DICOM" / "IM1").write_bytes(b"x")
    else:
        path.write_bytes(b"x")
    return path


def test_next_run_removes_only_stale_leftovers(tmp_path: Path) -> None:
    from factories import study_folder

    src = study_folder(tmp_path / "src", patients=1, series=1, instances=2)
    out, gone = tmp_path / "OUT", dead_pid()
    stale = [
        plant(out, "partial", gone, folder=True),
        plant(tmp_path / "X.iso", "partial", gone, folder=False),
        plant(tmp_path / "L.png", "partial", gone, folder=False),
        tmp_path / f".OUT.old-{gone}",  # the name an earlier version gave a replaced folder
    ]
    stale[-1].mkdir()
    out.mkdir()  # the replacement arrived: the legacy old copy is only removed
    live = plant(out, "partial", os.getpid(), folder=True)  # a build still running
    other_host = tmp_path / f".OUT.partial-00000000-{gone}-ab"
    other_host.mkdir()
    args = ("build", str(src), *COMMON, "--out", "OUT", "--iso", "X.iso", "--label", "L.png")
    done = run(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    for path in stale:
        assert not path.exists()
        assert f"removed {path.name!r}" in done.stderr
    assert live.is_dir() and other_host.is_dir()
    assert live.name not in done.stderr
    report = plant(tmp_path / "qa.html", "partial", gone, folder=False)
    done = run(tmp_path, "validate", "OUT", "--html", "qa.html", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not report.exists() and f"removed {report.name!r}" in done.stderr


def paused(work: Path, args: Sequence[str], point: str, **env: str) -> int:
    """Run build until it pauses at ``point`` (test hook), then SIGKILL it; return its pid."""
    environment = {**os.environ, staging.PAUSE_ENV: point, **env}
    with subprocess.Popen(
        mediatool(*args), cwd=work, env=environment, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stderr is not None
        said = ""
        deadline = time.monotonic() + 30
        while f"paused at {point}" not in said:
            assert time.monotonic() < deadline and proc.poll() is None, said
            if select.select([proc.stderr], [], [], 0.5)[0]:
                said += proc.stderr.readline()
        proc.send_signal(signal.SIGKILL)
    assert wait_gone(work) == []
    return proc.pid


@pytest.mark.parametrize("exchange", [True, False], ids=["rename-exchange", "two-renames"])
def test_publish_window(tmp_path: Path, exchange: bool) -> None:
    from factories import study_folder

    study_folder(tmp_path / "src", patients=1, series=1, instances=2)
    args = ("build", "src", *COMMON, "--out", "OUT", "--no-web")
    assert run(tmp_path, *args).returncode == 0
    reference = tree(tmp_path / "OUT")
    env = {} if exchange else {staging.NO_EXCHANGE_ENV: "1"}
    point = "publish-exchanged" if exchange else "publish-between-renames"
    pid = paused(tmp_path, args, point, **env)
    hidden = leftovers(tmp_path)
    assert all(str(pid) in name for name in hidden)
    if exchange:  # the new disc is in place; the old one waits under the staging name
        assert tree(tmp_path / "OUT") == reference
        assert [n.split("-")[0] for n in hidden] == [".OUT.partial"]
    else:  # the window: OUT is gone, the old disc is aside, the new one still staged
        assert not (tmp_path / "OUT").exists()
        assert [n.split("-")[0] for n in hidden] == [".OUT.old", ".OUT.partial"]
        assert tree(tmp_path / hidden[0]) == reference
    done = run(tmp_path, "build", "src", "--jobs", "2", "--date", DATE, "--out", "OUT", "-q")
    assert done.returncode == 2  # without --force the disc, back in place, is not replaced
    assert "not empty" in done.stderr
    if not exchange:
        assert f"restored {str(tmp_path / 'OUT')!r} from {hidden[0]!r}" in done.stderr
    assert f"removed {hidden[-1]!r}" in done.stderr
    assert leftovers(tmp_path) == []
    assert tree(tmp_path / "OUT") == reference


def modes(folder: Path) -> set[tuple[str, int]]:
    kinds = {("dir", folder.stat().st_mode & 0o777)}
    for p in folder.rglob("*"):
        kinds.add(("dir" if p.is_dir() else "file", p.stat().st_mode & 0o777))
    return kinds


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_honour_the_umask(tmp_path: Path, umask: int) -> None:
    from factories import study_folder

    study_folder(tmp_path / "src", patients=1, series=1, instances=2)
    args = ("build", "src", *COMMON, "--out", "OUT", "--iso", "X.iso", "--label", "L.png")
    done = run(tmp_path, *args, umask=umask)
    assert done.returncode == 0, done.stderr
    done = run(tmp_path, "validate", "OUT", "--html", "qa.html", "-q", umask=umask)
    assert done.returncode == 0, done.stdout + done.stderr
    folder, file = 0o777 & ~umask, 0o666 & ~umask
    assert modes(tmp_path / "OUT") == {("dir", folder), ("file", file)}
    for name in ("X.iso", "L.png", "qa.html"):
        assert (tmp_path / name).stat().st_mode & 0o777 == file, name


def _limit_file_size(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_failed_writes_leave_no_temporary_file(tmp_path: Path) -> None:
    """A write that fails half way (a full disk; here the file size limit, EFBIG) removes its
    temporary file and says which file could not be written."""
    from factories import study_folder

    study_folder(tmp_path / "src", patients=1, series=1, instances=2)
    assert run(tmp_path, "build", "src", *COMMON, "--out", "OUT", "--no-web").returncode == 0
    small = functools.partial(_limit_file_size, 2048)
    done = run(tmp_path, "validate", "OUT", "--html", "qa.html", "-q", preexec_fn=small)
    assert done.returncode == 2, done.stderr
    assert "cannot write the HTML report" in done.stderr and "Traceback" not in done.stderr
    args = ("build", "src", *COMMON, "--out", "O2", "--no-web", "--label", "L.png")
    done = run(tmp_path, *args, preexec_fn=lambda: _limit_file_size(40_000))
    assert done.returncode == 2, done.stderr
    assert "L.png" in done.stderr and "Traceback" not in done.stderr
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "O2").exists() and not (tmp_path / "qa.html").exists()


def test_failed_second_rename_puts_the_old_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the one-step swap, a failure of the second rename restores the old folder."""
    monkeypatch.setenv(staging.NO_EXCHANGE_ENV, "1")
    dest = tmp_path / "OUT"
    (dest / "DICOM").mkdir(parents=True)
    (dest / "DICOMDIR").write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        staging.publish(tmp_path / "missing-staging", dest)
    assert (dest / "DICOMDIR").read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_sweep_keeps_what_is_not_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another output's leftovers, names of another form and live owners are not touched; an
    earlier version's staging (no owner in its name) is only mentioned."""
    gone = dead_pid()
    keep = [
        plant(tmp_path / "OUT2", "partial", gone, folder=True),  # another output's
        plant(tmp_path / "OUT", "partial", os.getpid(), folder=True),  # a live run's
        tmp_path / ".OUT.partial-notours",
        tmp_path / ".OUT.partial-k2j4h5g6",  # tempfile.mkdtemp's name, before issue 12
    ]
    for path in keep[-2:]:
        path.mkdir()
    stale = plant(tmp_path / "OUT", "old", gone, folder=True)
    (tmp_path / "OUT").mkdir()  # its replacement arrived: the old copy goes
    said = staging.sweep(tmp_path / "OUT")
    assert said == [f"removed {stale.name!r} (an earlier copy of interrupted process {gone})"]
    assert all(p.exists() for p in keep) and not stale.exists()
    err = capsys.readouterr().err
    assert "found '.OUT.partial-k2j4h5g6' beside 'OUT', left by an earlier version" in err
    assert "notours" not in err and keep[1].name not in err
