"""Issue 12: a folder swapped for a link to an outside folder while the medium is read
(renameat2 RENAME_EXCHANGE in a racing process) never makes validate or the import survey read
an outside byte. The outside files carry a marker Patient ID; it must never show up."""

from __future__ import annotations

import ctypes
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_instance, write_instance
from hostile_media import built_folder

from mediatool.importer.survey import survey_media
from mediatool.media import FolderReader
from mediatool.validate import validate_media

MARKER = "OUTSIDE-MARKER-4242"
RUNS = 40
FILES = 12  # per patient: each file read is a chance for the race
SECONDS = 12  # time budget of each racing test

#: A process that exchanges two paths as fast as it can (Linux renameat2, glibc >= 2.28) and
#: counts the exchanges; it stops when its stdin closes.
_RACER = r"""
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = (p.encode() for p in sys.argv[1:3])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
n = 0
print("ready", flush=True)
while not stop.is_set():
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.exit(f"renameat2: {os.strerror(ctypes.get_errno())}")
    n += 1
if n % 2:
    libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
print(n, flush=True)
"""


def _renameat2_available() -> bool:
    return hasattr(ctypes.CDLL(None), "renameat2")


@pytest.fixture
def raced(tmp_path: Path) -> Iterator[tuple[Path, list[int]]]:
    """A File-set whose DICOM/PT000001 is exchanged with a link to an outside folder."""
    assert _renameat2_available(), "the C library lacks renameat2 (Linux, glibc >= 2.28)"
    disc = built_folder(tmp_path, instances=FILES)
    outside = tmp_path / "outside"
    for n in range(1, FILES + 1):  # the same layout as PT000001, another patient's data
        ds = make_instance(9, 1, 1, n, PatientID=MARKER, PatientName="Outside^Marker")
        write_instance(outside / "ST000001" / "SE000001" / f"IM{n:06d}", ds)
    link = tmp_path / "link"
    link.symlink_to(outside)
    racer = subprocess.Popen(
        [sys.executable, "-c", _RACER, str(link), str(disc / "DICOM" / "PT000001")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert racer.stdout is not None and racer.stdin is not None
    assert racer.stdout.readline().strip() == "ready"
    swaps: list[int] = []
    try:
        yield disc, swaps
    finally:
        racer.stdin.close()
        swaps.append(int(racer.stdout.read().strip() or 0))
        racer.stdout.close()
        assert racer.wait(timeout=30) == 0
    assert (disc / "DICOM" / "PT000001").is_dir() and not (disc / "DICOM" / "PT000001").is_symlink()


def _seen(text: str) -> bool:
    return MARKER in text


def test_validate_never_reads_outside_a_folder_raced_with_a_link(
    raced: tuple[Path, list[int]],
) -> None:
    disc, _ = raced
    outcomes: dict[str, int] = {}
    deadline = time.monotonic() + SECONDS
    for _ in range(RUNS):
        try:
            reader = FolderReader(disc)
        except Exception as exc:  # the root itself is never swapped: this must not happen
            raise AssertionError(exc) from exc
        with reader:
            report = validate_media(reader, jobs=1)
        assert MARKER not in report.inventory.patients
        assert not any(_seen(f.message) for f in report.findings)
        kind = "clean" if report.ok else "refused"
        outcomes[kind] = outcomes.get(kind, 0) + 1
        if time.monotonic() > deadline:
            break
    print(f"validate runs under the race: {outcomes}")
    assert sum(outcomes.values()) >= 5


def test_import_survey_never_reads_outside_a_folder_raced_with_a_link(
    raced: tuple[Path, list[int]],
) -> None:
    disc, _ = raced
    deadline = time.monotonic() + SECONDS
    for _ in range(RUNS):
        with FolderReader(disc) as reader:
            survey = survey_media(reader, jobs=1)
        ids = {f.info.patient_id for f in survey.files if f.info is not None}
        assert MARKER not in ids
        assert not any(_seen(f.problem) for f in survey.files)
        if time.monotonic() > deadline:
            break


def test_the_racer_really_swaps(raced: tuple[Path, list[int]]) -> None:
    """The race above is real: the folder is seen as a link at least once."""
    disc, _ = raced
    target = disc / "DICOM" / "PT000001"
    deadline = time.monotonic() + 10
    seen: str | None = None
    while seen is None:
        assert time.monotonic() < deadline, "the racing process never exchanged the folder"
        try:
            seen = str(target.readlink())  # the racer swaps back at once: read, not test first
        except OSError:
            continue  # a folder at this instant (EINVAL), or mid-exchange
    assert seen.endswith("outside")
