"""Issue 12: a header with one huge OB element (500 MB in a folder, sparse on disk; 144 MiB in a
~7 MB zip) is judged in bounded time and memory: the element is never loaded, and its length
beyond ELEMENT_LENGTH_LIMIT is an error naming the limit; the instance is not imported."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from hostile_media import big_element_parts, write_big_element

from mediatool.limits import ELEMENT_LENGTH_LIMIT

#: peak resident memory allowed for one command (the goal of the issue is 500 MB)
MEMORY_LIMIT = 300 * 1024**2


#: Runs a command and writes its peak resident memory (wait4) to the file argv[1]. Linux counts in
#: ru_maxrss the memory of the process that started the command (the exec'd process inherits its
#: high-water mark), so the command is started from this small fresh process, not from pytest
#: (hundreds of MB after other tests).
_PEAK = (
    "import os, subprocess, sys; p = subprocess.Popen(sys.argv[2:]); _, s, u = os.wait4(p.pid, 0);"
    "open(sys.argv[1], 'w').write(str(u.ru_maxrss * 1024)); sys.exit(os.waitstatus_to_exitcode(s))"
)


def _measured(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run the CLI; (result, seconds, peak resident bytes of that one process, from wait4)."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp, "peak")
        cmd = [sys.executable, "-m", "mediatool", *map(str, args)]
        done = subprocess.run(
            [sys.executable, "-c", _PEAK, str(peak), *cmd], capture_output=True, text=True
        )
        return done, time.monotonic() - start, int(peak.read_text())


@pytest.fixture
def big_folder(tmp_path: Path) -> Path:
    head, tail = big_element_parts(tmp_path)
    media = tmp_path / "folder"
    (media / "DICOM").mkdir(parents=True)
    with (media / "DICOM" / "IM1").open("wb") as out:
        write_big_element(out, head, tail, 500 * 1024**2, sparse=True)
    return media


@pytest.fixture
def big_zip(tmp_path: Path) -> Path:
    head, tail = big_element_parts(tmp_path)
    dest = tmp_path / "big.zip"
    with (
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("IM1", "w", force_zip64=True) as out,
    ):
        write_big_element(out, head, tail, ELEMENT_LENGTH_LIMIT + 16 * 1024**2, sparse=False)
    return dest


@pytest.mark.parametrize("kind", ["big_folder", "big_zip"])
def test_a_huge_header_element_is_an_error_in_bounded_memory(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    media: Path = request.getfixturevalue(kind)
    done, seconds, peak = _measured("validate", media, "--json", "--jobs", "1")
    assert done.returncode == 1, done.stderr
    (found,) = [
        f for f in json.loads(done.stdout)["findings"] if f["code"] == "read.element-too-long"
    ]
    assert f"more than the limit of {ELEMENT_LENGTH_LIMIT} bytes" in found["message"]
    assert "(0011,1010)" in found["message"]
    assert peak < MEMORY_LIMIT, f"validate peaked at {peak / 1024**2:.0f} MB"
    print(f"validate {kind}: {seconds:.1f} s, {peak / 1024**2:.0f} MB")

    archive = tmp_path / "archive"
    done, seconds, peak = _measured("import", media, "--into", archive, "--json", "--jobs", "1")
    assert done.returncode == 1, done.stderr
    (outcome,) = json.loads(done.stdout)["files"]
    assert outcome["outcome"] == "not-imported" and "(0011,1010)" in outcome["reason"]
    assert not list(archive.rglob("*.dcm"))
    assert peak < MEMORY_LIMIT, f"import peaked at {peak / 1024**2:.0f} MB"
    print(f"import --into {kind}: {seconds:.1f} s, {peak / 1024**2:.0f} MB")
