"""Start-up (issue 17): a command imports what it uses, and the header read that skips
pydicom's second parse of the File Meta reads what ``dcmread`` reads.

The imports are checked in a fresh interpreter (``sys.modules`` after the command ran); no
timing is asserted here (benchmarks/bench_build.py measures).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from factories import make_instance, study_folder, write_instance
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import FileDataset

from mediatool import workers
from mediatool.cli import COMMANDS, main
from mediatool.dicom import filemeta
from mediatool.dicom.headread import DEFER_SIZE, read_header

ROOT = Path(__file__).resolve().parent.parent

_RUN = """
import json, sys
from mediatool.cli import main
main(sys.argv[1:], prog_name="mediatool", standalone_mode=False)
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _modules_after(*args: str, cwd: Path) -> set[str]:
    """The modules a fresh interpreter holds after ``mediatool ARGS`` (run in-process)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules} | {m for m in modules if m.startswith("mediatool")}


HEAVY = {"pydicom", "numpy", "PIL", "jinja2", "pycdlib", "pynetdicom", "requests", "starlette"}


@pytest.mark.parametrize("args", [("--help",), ("build", "--help"), ("validate", "--help")])
def test_help_imports_no_heavy_module(args: tuple[str, ...], tmp_path: Path) -> None:
    found = _top(_modules_after(*args, cwd=tmp_path))
    # the options of iso and burn list the media of the ISO writer (pycdlib): listed by --help
    assert found & HEAVY <= ({"pycdlib"} if args == ("--help",) else set())
    assert "mediatool.build" not in found and "mediatool.web" not in found


def test_build_to_a_folder_imports_only_what_it_uses(tmp_path: Path) -> None:
    """No web content (jinja2, mediatool.web), no image writer or reader (pycdlib), no other
    command, no requests (pydicom's test-data downloader)."""
    src = study_folder(tmp_path / "in", patients=1, series=1, instances=2)
    out = tmp_path / "out"
    found = _top(
        _modules_after("build", str(src), "--out", str(out), "-q", "--no-web", cwd=tmp_path)
    )
    assert (out / "DICOMDIR").is_file()
    assert "pydicom" in found and "mediatool.scan" in found
    unused = {
        "jinja2",
        "pycdlib",
        "requests",
        "pynetdicom",
        "mediatool.web",
        "mediatool.writers.iso",
    }
    unused |= {"mediatool.build.volumes", "mediatool.cli.validate", "mediatool.cli.importer"}
    assert found & unused == set()


def test_every_command_is_listed_and_resolves() -> None:
    """The lazy table lists each command under its own name, in click's sorted order."""
    assert sorted(main.commands) == sorted(COMMANDS)
    for name in COMMANDS:
        assert main.commands[name].name == name
    assert main.list_commands(None) == sorted(COMMANDS)  # type: ignore[arg-type]


def test_requests_still_imports_for_others() -> None:
    """The block is only for pydicom's downloader while it starts."""
    done = subprocess.run(
        [sys.executable, "-c", "import mediatool.cli, pydicom, requests; print('ok')"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "ok"


Read = tuple[pydicom.Dataset | Exception, list[str]]


def _read_both(data: bytes) -> tuple[Read, Read]:
    """dcmread's header read and read_header's, each with the warnings it gave."""
    meta = filemeta.parse(data[:16384])

    def pydicoms(fp: io.BytesIO) -> pydicom.Dataset:
        return dcmread(
            fp, stop_before_pixels=True, defer_size=DEFER_SIZE, force=not meta.has_prefix
        )

    def ours(fp: io.BytesIO) -> pydicom.Dataset:
        return read_header(fp, meta, len(data))

    results: list[Read] = []
    for read in (pydicoms, ours):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds: pydicom.Dataset | Exception = read(io.BytesIO(data))
            except Exception as exc:  # the same failure is the same result
                ds = exc
        results.append((ds, [str(w.message) for w in caught]))
    return results[0], results[1]


def _same(first: Read, second: Read) -> None:
    (a, said_a), (b, said_b) = first, second
    assert said_a == said_b
    if isinstance(a, Exception) or isinstance(b, Exception):
        assert type(a) is type(b) and str(a) == str(b)
        return
    assert list(a.keys()) == list(b.keys())
    assert a.original_encoding == b.original_encoding
    assert a.original_character_set == b.original_character_set
    for tag in a.keys():  # noqa: SIM118 - iterating a Dataset converts each value
        x, y = a.get_item(tag, keep_deferred=True), b.get_item(tag, keep_deferred=True)
        assert _fingerprint(x) == _fingerprint(y)


def _fingerprint(element: object) -> tuple[object, ...]:
    """An element as read: raw (VR, length, bytes, offset) or converted (VR, value)."""
    if isinstance(element, RawDataElement):
        return (element.VR, element.length, element.value, element.value_tell)
    assert isinstance(element, DataElement)
    return (element.VR, element.value)


TEST_FILES = sorted(
    p.name for p in Path(str(get_testdata_file("CT_small.dcm"))).parent.iterdir() if p.is_file()
)


@pytest.mark.parametrize("name", TEST_FILES)
def test_header_read_is_dcmreads(name: str) -> None:
    """Every file pydicom bundles (explicit, implicit, big endian, deflated, compressed, no
    preamble, damaged): the same elements, encoding and warnings as ``dcmread``."""
    data = Path(str(get_testdata_file("CT_small.dcm"))).with_name(name).read_bytes()
    _same(*_read_both(data))


def test_header_read_skips_the_second_file_meta_parse(tmp_path: Path) -> None:
    """The fast path is taken for a plain Explicit VR Little Endian file (its File Meta is
    then ours, not pydicom's), and not for an implicit one."""
    plain = write_instance(tmp_path / "a.dcm", make_instance()).read_bytes()
    implicit = write_instance(tmp_path / "b.dcm", make_instance(), implicit=True).read_bytes()
    fast = read_header(io.BytesIO(plain), filemeta.parse(plain), len(plain))
    slow = read_header(io.BytesIO(implicit), filemeta.parse(implicit), len(implicit))
    assert isinstance(fast, FileDataset) and isinstance(slow, FileDataset)
    assert len(fast.file_meta) == 0 and len(slow.file_meta) > 0
    _same(*_read_both(plain))
    _same(*_read_both(implicit))
    with (tmp_path / "a.dcm").open("rb") as fp:  # a file, not in memory: pydicom splits it
        on_disk = read_header(fp, filemeta.parse(plain), len(plain))
    assert isinstance(on_disk, FileDataset) and len(on_disk.file_meta) == 0


def _damaged(plain: bytes, end: int) -> list[bytes]:
    """A plain file cut at every byte of its data set's header, and with its first elements'
    VR, length or tag spoiled: what the hand-written split must give back to pydicom, or read
    as pydicom does."""
    cut = [plain[:n] for n in range(end, len(plain) - 20)]
    spoiled = []
    for at in (end + 4, end + 4 + 26, end + 4 + 60):
        for vr in (b"ZZ", b"\x00\x01", b"ob", b"OB", b"SQ", b"UN"):
            spoiled.append(plain[:at] + vr + plain[at + 2 :])
    for at in (end + 6, end + 40):
        for length in (b"\xff\xff", b"\x00\x00", b"\x01\x00", b"\x00\x20"):
            spoiled.append(plain[:at] + length + plain[at + 2 :])
    return cut + spoiled


def test_split_by_hand_is_read_datasets(tmp_path: Path) -> None:
    """The elements split by hand (headread._split, in memory) are pydicom's: the same
    elements, positions, deferred values, encoding and warnings, or the same exception, for
    a file cut anywhere in its header or damaged in its first elements; a large value is
    deferred; the read stops at Pixel Data."""
    ds = make_instance()
    ds.add_new(0x00091010, "LO", "private")
    ds.add_new(0x00082111, "UT", "x" * (DEFER_SIZE + 2))  # deferred
    ds.add_new(0x00081140, "SQ", [make_instance(number=2)])  # a sequence of defined length
    plain = write_instance(tmp_path / "a.dcm", ds).read_bytes()
    end = filemeta.parse(plain).end
    for data in [plain, *_damaged(plain, end)]:
        _same(*_read_both(data))
    read = read_header(io.BytesIO(plain), filemeta.parse(plain), len(plain))
    assert read.get_item(0x00082111, keep_deferred=True).value is None
    assert 0x7FE00010 not in read
    assert read[0x00082111].value == "x" * (DEFER_SIZE + 2)  # read from the stream when asked


def test_few_files_start_no_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below workers.POOL_MIN_FILES, scan and copy run in the process itself."""

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a pool was started for a small build")

    monkeypatch.setattr(workers, "pool", no_pool)
    src = study_folder(tmp_path / "in", patients=1, series=2, instances=3)
    from click.testing import CliRunner

    result = CliRunner().invoke(
        main, ["build", str(src), "--out", str(tmp_path / "out"), "-q", "--no-web"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "DICOMDIR").is_file()
