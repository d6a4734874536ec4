"""ISO 9660 Level 1 images (``mediatool iso``, :mod:`mediatool.writers.iso`), PS3.12 Annex F.

Oracles: genisoimage's ``isoinfo`` reads the volume descriptor and the primary hierarchy;
``xorriso`` extracts the image, which must equal the folder byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import resource
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from oracles import isoinfo_listing, isoinfo_pvd, xorriso_extract

from mediatool.cli import iso as iso_cli
from mediatool.cli import main
from mediatool.cli.iso import read_fileset_id
from mediatool.errors import MediaError, MediatoolError, OutputError, PlanRejected
from mediatool.findings import Finding
from mediatool.sample import generate_sample
from mediatool.writers.iso import MEDIA_CAPACITY, check_capacity, pack

FILESET_ID = "ISO_TEST"
DATE = datetime(2024, 5, 1, 12, 30, 15)
LEVEL1_FILE = re.compile(r"^[A-Z0-9_]{1,8}\.([A-Z0-9_]{1,3})?;1$")
LEVEL1_DIR = re.compile(r"^[A-Z0-9_]{1,8}$")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A File-set made by ``mediatool build``, plus the non-DICOM content PDI puts beside it."""
    base = tmp_path_factory.mktemp("iso")
    generate_sample(base / "in", instances=40)
    result = run(
        "build", base / "in", "--out", base / "disc", "--fileset-id", FILESET_ID, "-q", "--no-web"
    )
    assert result.exit_code == 0, result.output
    disc = base / "disc"
    (disc / "README.TXT").write_text("Patient CD made by mediatool.\n")
    (disc / "IHE_PDI").mkdir()
    (disc / "IHE_PDI" / "INDEX.HTM").write_text("<html></html>\n")
    return disc


@pytest.fixture
def fileset(built: Path, tmp_path: Path) -> Path:
    """A private copy of the File-set, free to modify."""
    return Path(shutil.copytree(built, tmp_path / "disc"))


def iso_names(folder: Path) -> set[str]:
    """The ISO 9660 paths PS3.12 F.1.2.1 asks for: ``/C1/.../CN.;1``, ``/README.TXT;1``."""
    out = set()
    for p in folder.rglob("*"):
        rel = "/" + p.relative_to(folder).as_posix()
        if p.is_dir():
            out.add(rel)
        else:
            out.add(rel + ("" if "." in p.name else ".") + ";1")
    return out


# --- the oracles ----------------------------------------------------------------------------


@pytest.mark.oracle
def test_isoinfo_shows_volume_id_and_only_level1_names(built: Path, tmp_path: Path) -> None:
    image = tmp_path / "disc.iso"
    result = run("iso", built, image, "--date", "2024-05-01")
    assert result.exit_code == 0, result.output

    pvd = isoinfo_pvd(image)
    assert pvd.is_iso9660, pvd.raw
    assert pvd.volume_id == FILESET_ID
    assert pvd.system_id == ""
    assert not pvd.joliet and not pvd.rock_ridge
    assert pvd.block_size == 2048
    assert pvd.volume_size == image.stat().st_size // 2048

    listing = isoinfo_listing(image)
    assert listing.is_iso9660, listing.raw
    assert set(listing.files) | set(listing.directories) == iso_names(built)
    assert "DICOMDIR.;1" in listing.names and "README.TXT;1" in listing.names
    for entry in listing.entries:
        rule = LEVEL1_DIR if entry.is_dir else LEVEL1_FILE
        assert rule.match(entry.name), entry.path
        assert entry.path.count("/") <= 8  # PS3.12 F.1.2.1: <= 8 levels, root = level 1
    dicom = [p for p in listing.files if p.startswith("/DICOM/")]
    assert dicom and all(p.endswith(".;1") for p in dicom)  # no extension on DICOM files


def test_volume_descriptor_bytes(built: Path, tmp_path: Path) -> None:
    """PS3.12 F.1.1 / F.2.2.1: Volume Identifier space padded, System Identifier blank."""
    image = tmp_path / "disc.iso"
    pack(built, image, volume_id=FILESET_ID, date=DATE, capacity=None)
    pvd = image.read_bytes()[16 * 2048 : 17 * 2048]
    assert pvd[1:6] == b"CD001"
    assert pvd[8:40] == b" " * 32
    assert pvd[40:72] == FILESET_ID.encode().ljust(32)
    dates = [pvd[813 + 17 * i : 830 + 17 * i] for i in range(4)]  # ECMA-119 8.4.26-29
    stamp = b"2024050112301500\x00"
    assert dates == [stamp, stamp, b"0" * 16 + b"\x00", stamp]


@pytest.mark.oracle
def test_xorriso_extraction_equals_folder(built: Path, tmp_path: Path) -> None:
    image = tmp_path / "disc.iso"
    pack(built, image, volume_id=FILESET_ID, date=DATE, capacity=MEDIA_CAPACITY["cd"])
    report = xorriso_extract(image, tmp_path / "out")
    report.assert_ok()
    assert report.volume_id == FILESET_ID
    assert tree_digest(tmp_path / "out") == tree_digest(built)
    empty_dirs = {p.relative_to(built) for p in built.rglob("*") if p.is_dir()}
    assert empty_dirs == {
        p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*") if p.is_dir()
    }


def test_image_validates_like_the_folder(built: Path, tmp_path: Path) -> None:
    from mediatool.findings import Severity
    from mediatool.media import open_media
    from mediatool.validate import validate_media

    image = tmp_path / "disc.iso"
    pack(built, image, volume_id=FILESET_ID, date=DATE, capacity=None)
    with open_media(image) as reader:
        report = validate_media(reader)
    assert [f for f in report.findings if f.severity >= Severity.WARNING] == []


# --- reproducibility ------------------------------------------------------------------------


def test_same_date_gives_identical_bytes_whatever_the_clock_and_zone(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = tmp_path / "a.iso", tmp_path / "b.iso", tmp_path / "c.iso"
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)
    pack(built, a, volume_id=FILESET_ID, date=DATE, capacity=None)
    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.0)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        pack(built, b, volume_id=FILESET_ID, date=DATE, capacity=None)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert a.read_bytes() == b.read_bytes()
    pack(built, c, volume_id=FILESET_ID, date=DATE + timedelta(seconds=1), capacity=None)
    assert a.read_bytes() != c.read_bytes()


def test_source_date_epoch_and_offsets(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit, from_env = tmp_path / "explicit.iso", tmp_path / "env.iso"
    pack(built, explicit, volume_id=FILESET_ID, date=DATE, capacity=None)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(DATE.replace(tzinfo=UTC).timestamp())))
    result = pack(built, from_env, volume_id=FILESET_ID, date=None, capacity=None)
    assert result.date == DATE.replace(tzinfo=UTC)
    assert explicit.read_bytes() == from_env.read_bytes()

    # an aware date keeps its wall clock and records the offset in 15-minute units
    zoned = tmp_path / "zoned.iso"
    pack(
        built,
        zoned,
        volume_id="",
        date=DATE.replace(tzinfo=timezone(timedelta(hours=2))),
        capacity=None,
    )
    pvd = zoned.read_bytes()[16 * 2048 : 17 * 2048]
    assert pvd[40:72] == b" " * 32  # empty File-set ID: 32 spaces (PS3.12 F.1.1)
    assert pvd[813:830] == b"2024050112301500\x08"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(MediatoolError, match=r"SOURCE_DATE_EPOCH='yesterday' is not a number"):
        pack(built, tmp_path / "x.iso", volume_id="", date=None, capacity=None)


# --- refusals -------------------------------------------------------------------------------


def test_capacity_refused_before_writing(built: Path, tmp_path: Path) -> None:
    image = tmp_path / "out" / "disc.iso"
    with pytest.raises(
        OutputError,
        match=r"^the File-set needs \d+ bytes; the medium holds 204800 bytes: use --media cd$",
    ):
        pack(built, image, volume_id=FILESET_ID, date=DATE, capacity=100 * 2048)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("size", "media", "message"),
    [
        pytest.param(
            712 * 2**20,
            "cd",
            "the File-set needs 712 MB; a CD holds 703 MB: use --media dvd",
            id="cd-to-dvd",
        ),
        pytest.param(
            680 * 2**20,
            "cd74",
            "the File-set needs 680 MB; a 74-minute CD holds 650 MB: use --media cd",
            id="cd74-to-cd",
        ),
        pytest.param(
            5 * 10**9,
            "dvd",
            "the File-set needs 5.0 GB; a DVD holds 4.7 GB: use --media bd",
            id="dvd-to-bd",
        ),
        pytest.param(
            30 * 10**9,
            "bd",
            "the File-set needs 30.0 GB; a BD holds 25.0 GB: "
            "split the studies over several File-sets",
            id="bd-too-small",
        ),
    ],
)
def test_capacity_message(size: int, media: str, message: str) -> None:
    with pytest.raises(OutputError, match=f"^{re.escape(message)}$"):
        check_capacity(size, MEDIA_CAPACITY[media])
    check_capacity(size, None)  # usb: no limit
    check_capacity(MEDIA_CAPACITY["cd"] or 0, MEDIA_CAPACITY["cd"])  # exactly full fits


def test_names_level1_cannot_carry_are_all_named(fileset: Path, tmp_path: Path) -> None:
    (fileset / "DICOM" / "lower").write_bytes(b"x")
    (fileset / "README.HTML").write_bytes(b"x")
    (fileset / "TOOLONGNAME").write_bytes(b"x")
    (fileset / "my docs").mkdir()
    (fileset / "LINK").symlink_to(fileset / "README.TXT")
    deep = fileset.joinpath("A", "B", "C", "D", "E", "F", "G")
    deep.mkdir(parents=True)  # G is directory level 8: allowed
    (deep / "H").mkdir()  # level 9
    (deep / "FILE").write_bytes(b"x")  # a file in a level 8 directory: allowed
    with pytest.raises(PlanRejected) as caught:
        pack(fileset, tmp_path / "x.iso", volume_id=FILESET_ID, date=DATE, capacity=None)
    assert {(f.code, f.where) for f in caught.value.findings} == {
        ("media.iso-not-level1", "DICOM/lower"),
        ("media.iso-not-level1", "README.HTML"),
        ("media.iso-not-level1", "TOOLONGNAME"),
        ("media.iso-not-level1", "my docs"),
        ("media.special-file", "LINK"),
        ("media.iso-too-deep", "A/B/C/D/E/F/G/H"),
    }
    assert not (tmp_path / "x.iso").exists()


def test_file_of_4_gib_refused(fileset: Path, tmp_path: Path) -> None:
    """Level 1 records each file as one extent, whose length field has 32 bits."""
    with (fileset / "BIG").open("wb") as fp:
        fp.truncate(2**32)  # sparse: costs no disk
    with pytest.raises(PlanRejected) as caught:
        pack(fileset, tmp_path / "x.iso", volume_id="", date=DATE, capacity=None)
    assert {(f.code, f.where) for f in caught.value.findings} == {("media.iso-not-level1", "BIG")}


def test_dicomdir_missing_or_twice(fileset: Path, tmp_path: Path) -> None:
    shutil.copy(fileset / "DICOMDIR", fileset / "DICOM" / "DICOMDIR")
    (fileset / "DICOMDIR").unlink()
    with pytest.raises(PlanRejected) as caught:
        pack(fileset, tmp_path / "x.iso", volume_id="", date=DATE, capacity=None)
    assert {(f.code, f.where) for f in caught.value.findings} == {
        ("dicomdir.missing", None),
        ("dicomdir.several", "DICOM/DICOMDIR"),
    }


def test_image_inside_the_folder_refused(fileset: Path) -> None:
    with pytest.raises(OutputError, match="would be inside the folder it packs"):
        pack(fileset, fileset / "X.ISO", volume_id="", date=DATE, capacity=None)


def test_bad_volume_id_refused(fileset: Path, tmp_path: Path) -> None:
    with pytest.raises(MediatoolError, match=r"volume identifier 'bad id' is not 0-32 of"):
        pack(fileset, tmp_path / "x.iso", volume_id="bad id", date=DATE, capacity=None)


# --- streaming ------------------------------------------------------------------------------


def test_streams_with_few_file_descriptors(tmp_path: Path) -> None:
    """pycdlib gets file *names* (add_file) and opens one file at a time while writing."""
    folder = tmp_path / "many"
    (folder / "DICOM").mkdir(parents=True)
    (folder / "DICOMDIR").write_bytes(b"placeholder")
    for n in range(300):
        (folder / "DICOM" / f"IM{n:06d}").write_bytes(n.to_bytes(2, "big") * 1500)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = sum(1 for _ in Path("/proc/self/fd").iterdir())
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 32, hard))
    try:
        pack(folder, tmp_path / "many.iso", volume_id="MANY", date=DATE, capacity=None)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    data = (tmp_path / "many.iso").read_bytes()
    for n in (0, 150, 299):
        assert n.to_bytes(2, "big") * 1500 in data


def test_progress_is_reported_in_bounded_steps(built: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int | None, str]] = []
    pack(
        built,
        tmp_path / "disc.iso",
        volume_id=FILESET_ID,
        date=DATE,
        capacity=None,
        progress=lambda done, total, label: calls.append((done, total, label)),
    )
    size = (tmp_path / "disc.iso").stat().st_size
    assert 1 < len(calls) <= 202
    assert calls[-1] == (size, size, "Writing ISO image")
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


# --- the command ----------------------------------------------------------------------------


def test_cli_writes_and_reports(built: Path, tmp_path: Path) -> None:
    image = tmp_path / "disc.iso"
    result = run("iso", built, image, "--date", "2024-05-01T12:30:15", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema"] == "mediatool.iso/1" and doc["ok"] is True
    assert doc["volume_id"] == FILESET_ID == read_fileset_id(built)
    assert doc["size"] == image.stat().st_size
    assert doc["date"] == "2024-05-01T12:30:15+00:00"
    again = tmp_path / "again.iso"
    pack(built, again, volume_id=FILESET_ID, date=DATE, capacity=None)
    assert image.read_bytes() == again.read_bytes()  # CLI and API write the same image
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_cli_existing_file_needs_force(built: Path, tmp_path: Path) -> None:
    image = tmp_path / "disc.iso"
    image.write_bytes(b"old")
    result = run("iso", built, image)
    assert result.exit_code == 2
    assert result.stderr == f"Error: '{image}' exists\nHint: use --force to replace it\n"
    assert image.read_bytes() == b"old"
    result = run("iso", built, image, "--force", "-q")
    assert result.exit_code == 0, result.output
    assert image.read_bytes()[16 * 2048 + 1 : 16 * 2048 + 6] == b"CD001"


def test_cli_missing_dicomdir_is_refused(fileset: Path, tmp_path: Path) -> None:
    (fileset / "DICOMDIR").unlink()
    result = run("iso", fileset, tmp_path / "disc.iso")
    assert result.exit_code == 1
    assert "ERROR dicomdir.missing: no DICOMDIR file in the root of the folder" in result.stderr
    assert result.stderr.endswith(
        "was not packed because of the findings above; nothing was written\n"
    )
    assert result.stdout == ""
    assert not (tmp_path / "disc.iso").exists()


def test_cli_refuses_on_validation_errors(fileset: Path, tmp_path: Path) -> None:
    victim = next(p for p in sorted((fileset / "DICOM").rglob("*")) if p.is_file())
    victim.unlink()
    result = run("iso", fileset, tmp_path / "disc.iso", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    assert ("file.missing", victim.relative_to(fileset).as_posix()) in {
        (f["code"], f["where"]) for f in doc["findings"]
    }
    assert not (tmp_path / "disc.iso").exists()


def test_cli_could_not_run(tmp_path: Path, built: Path) -> None:
    result = run("iso", tmp_path / "nowhere", tmp_path / "disc.iso")
    assert result.exit_code == 2
    assert "does not exist; give the folder that holds the DICOMDIR" in result.stderr
    result = run("iso", built, tmp_path / "disc.iso", "--date", "2024-13-01")
    assert result.exit_code == 2
    assert "'2024-13-01' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS" in result.stderr


# --- one pass: the check runs while the files are copied (issue 17) ---------------------------


def test_cli_refuses_a_file_tampered_after_the_build(fileset: Path, tmp_path: Path) -> None:
    """Nothing from the build is trusted: a file edited afterwards, its modification time put
    back, is still judged by the validation that runs while packing."""
    victim = fileset / "DICOM" / "PT000001" / "ST000001" / "SE000001" / "IM000001"
    before = victim.stat()
    data = victim.read_bytes()
    uid = re.search(rb"2\.25\.\d+", data[132:])
    assert uid is not None and data.count(uid.group()) == 2  # meta and data set
    forged = uid.group()[:-1] + (b"8" if uid.group().endswith(b"9") else b"9")
    victim.write_bytes(data.replace(uid.group(), forged))
    os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))
    result = run("iso", fileset, tmp_path / "disc.iso", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["size"] is None
    assert ("file.sop-instance-mismatch", "DICOM/PT000001/ST000001/SE000001/IM000001") in {
        (f["code"], f["where"]) for f in doc["findings"]
    }
    assert list(tmp_path.iterdir()) == [fileset]  # no image, no half-written leftover


def test_a_file_changed_while_packing_is_refused(fileset: Path, tmp_path: Path) -> None:
    """The check runs while the files are copied; a file written meanwhile (even with the
    same bytes) refuses the image: what was checked must be what was copied."""
    victim = fileset / "DICOM" / "PT000001" / "ST000001" / "SE000001" / "IM000001"
    image = tmp_path / "disc.iso"
    calls: list[str] = []

    def check() -> None:
        calls.append("check")
        victim.write_bytes(victim.read_bytes())

    with pytest.raises(MediaError) as caught:
        pack(fileset, image, volume_id=FILESET_ID, date=DATE, capacity=None, check=check)
    assert str(caught.value) == (
        "1 file changed while the image was made "
        "('DICOM/PT000001/ST000001/SE000001/IM000001'); nothing was written"
    )
    assert caught.value.hint == "make sure nothing writes to the folder, then run the command again"
    assert calls == ["check"]
    assert list(tmp_path.iterdir()) == [fileset]


def test_the_check_takes_the_listing_and_finds_what_a_walk_finds(fileset: Path) -> None:
    """The validation reads the folder through the listing the command made (no second walk,
    issue 17): with a file gone, an extra DICOM file and a page beside them, the findings are
    those of a reader that walks the folder itself."""
    from mediatool.writers import iso as iso_writer

    images = sorted(p for p in (fileset / "DICOM").rglob("*") if p.is_file())
    images[0].unlink()
    shutil.copy(images[1], fileset / "DICOM" / "EXTRA")
    (fileset / "IHE_PDI" / "PAGE.HTM").write_text("<html></html>\n")
    scan = iso_writer.scan_folder(fileset)
    assert scan.ok
    shared = iso_cli._validation(fileset, None, scan)
    walked = iso_cli._validation(fileset, None, None)
    assert shared == walked
    assert {"file.missing", "file.not-referenced", "file.non-dicom"} <= {f.code for f in shared[0]}
    assert shared[1] == FILESET_ID == read_fileset_id(fileset)


def _in_check_process(action: Callable[..., object]) -> Callable[..., object]:
    """A stand-in for the command's check that acts only in the forked check process (never
    in the test's own process, where it fails the test)."""
    parent = os.getpid()

    def check(*args: object) -> object:
        assert os.getpid() != parent, "the check ran in the command's own process"
        return action(*args)

    return check


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command forks its check process even when an earlier test left a thread running in
    this pytest process (a server's, say): otherwise it would check in its own process
    (isocheck.start) and these tests would test that path instead."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)


@pytest.mark.usefixtures("forks")
def test_a_check_process_that_dies_publishes_nothing(
    fileset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check runs in a forked process (mediatool/cli/isocheck.py): ended without a result
    (killed, crashed), it has not passed, and nothing is written."""
    monkeypatch.setattr(iso_cli, "_in_check_process", _in_check_process(lambda *args: os._exit(3)))
    result = run("iso", fileset, tmp_path / "disc.iso")
    assert result.exit_code == 2
    assert "the check of the folder ended without a result" in result.stderr
    assert list(tmp_path.iterdir()) == [fileset]


@pytest.mark.usefixtures("forks")
def test_a_check_process_that_fails_publishes_nothing(
    fileset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(iso_cli, "_in_check_process", _in_check_process(fail))
    result = run("iso", fileset, tmp_path / "disc.iso", "--volume-id", "GIVEN")
    assert result.exit_code == 2
    assert "the check of the folder failed: ValueError('boom')" in result.stderr
    assert list(tmp_path.iterdir()) == [fileset]


def test_with_other_threads_the_check_runs_in_process(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forking a process that has other threads is not safe: the command then checks in its
    own process, as before, and writes the same image."""
    pids: list[int] = []
    merged = iso_cli._merged

    def spy(*args: Any) -> list[Finding]:
        pids.append(os.getpid())
        return merged(*args)

    monkeypatch.setattr(iso_cli, "_merged", spy)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        result = run("iso", built, tmp_path / "disc.iso", "--date", "2024-05-01T12:30:15", "-q")
    finally:
        release.set()
        other.join()
    assert result.exit_code == 0, result.output
    assert pids == [os.getpid()]
    pack(built, tmp_path / "api.iso", volume_id=FILESET_ID, date=DATE, capacity=None)
    assert (tmp_path / "disc.iso").read_bytes() == (tmp_path / "api.iso").read_bytes()


@pytest.mark.usefixtures("forks")
def test_the_volume_id_read_by_the_check_process(
    fileset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image is written with a blank Volume Identifier, then given the File-set ID the
    check process's validation read (the DICOMDIR is parsed once); a File-set ID that cannot
    be a Volume Identifier stops the image."""
    validation = iso_cli._validation

    def read_as(fileset_id: str | None) -> Callable[..., object]:
        return _in_check_process(lambda *args: (validation(*args)[0], fileset_id))

    monkeypatch.setattr(iso_cli, "_validation", read_as("not a volume id"))
    result = run("iso", fileset, tmp_path / "disc.iso")
    assert result.exit_code == 2
    assert "volume identifier 'not a volume id' is not 0-32 of A-Z 0-9 _" in result.stderr
    assert list(tmp_path.iterdir()) == [fileset]
    monkeypatch.setattr(iso_cli, "_validation", read_as(None))
    result = run("iso", fileset, tmp_path / "disc.iso")
    assert result.exit_code == 2
    assert "cannot read the File-set ID from" in result.stderr
    assert list(tmp_path.iterdir()) == [fileset]
    monkeypatch.setattr(iso_cli, "_validation", read_as("FROM_CHECK"))
    assert run("iso", fileset, tmp_path / "disc.iso", "-q").exit_code == 0
    assert (tmp_path / "disc.iso").read_bytes()[16 * 2048 + 40 : 16 * 2048 + 72] == (
        b"FROM_CHECK".ljust(32)
    )


@pytest.mark.parametrize(
    "capacity", [pytest.param(None, id="fits"), pytest.param(2048, id="too-big-refusal-first")]
)
def test_a_refusing_check_stops_the_copy_and_writes_nothing(
    fileset: Path, tmp_path: Path, capacity: int | None
) -> None:
    def check() -> None:
        raise PlanRejected("refused by the check", [])

    with pytest.raises(PlanRejected, match=r"^refused by the check$"):
        pack(fileset, tmp_path / "out" / "disc.iso", volume_id=FILESET_ID, date=DATE,
             capacity=capacity, check=check)  # fmt: skip
    assert list(tmp_path.iterdir()) == [fileset] or capacity is None
    assert list(tmp_path.glob("out/*")) == []


def test_image_equals_the_one_pycdlib_writes_with_its_own_copy(built: Path, tmp_path: Path) -> None:
    """The kernel copy changes no byte: pycdlib reading the files itself (add_file) gives the
    same image."""
    import pycdlib

    from mediatool.writers import iso as iso_writer

    ours = pack(built, tmp_path / "ours.iso", volume_id=FILESET_ID, date=DATE, capacity=None)
    scan = iso_writer.scan_folder(built)
    image = pycdlib.PyCdlib()
    image.new(interchange_level=1, sys_ident="", vol_ident=FILESET_ID,
              app_ident_str=iso_writer.application_id())  # fmt: skip
    for entry in scan.entries:
        if entry.is_dir:
            image.add_directory(iso_path=entry.iso_path)
        else:
            image.add_file(str(built / entry.where), iso_path=entry.iso_path)
    iso_writer._stamp(image, iso_writer.resolve_date(DATE))
    image.write(str(tmp_path / "theirs.iso"))
    theirs = bytearray((tmp_path / "theirs.iso").read_bytes())
    pvd_date = 16 * 2048 + 830  # pycdlib stamps the clock there (writers/iso.py docstring)
    theirs[pvd_date : pvd_date + 17] = ours.iso.read_bytes()[pvd_date : pvd_date + 17]
    assert ours.iso.read_bytes() == bytes(theirs)
