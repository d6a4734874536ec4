"""``mediatool burn`` (:mod:`mediatool.writers.burn`, issue 16 "Burn and verify").

Every burn here goes through xorriso itself, onto its ``stdio:`` pseudo-drive on a file: the
same acquire / write / read-back code path as a real drive, minus the laser. The written file is
then read by independent readers (xorriso's own ISO 9660 extraction, ``mediatool validate``).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from oracles import require_tool, xorriso_extract

from mediatool.cli import main
from mediatool.sample import generate_sample
from mediatool.writers import burn, xorriso
from mediatool.writers.iso import MEDIA_CAPACITY

REPO = Path(__file__).resolve().parent.parent


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix().upper(): sha256(p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(File-set folder, its ISO image), both by ``mediatool build`` from the sample set."""
    require_tool("xorriso")
    base = tmp_path_factory.mktemp("burn")
    generate_sample(base / "in", instances=20)
    result = run(
        "build", base / "in", "--out", base / "disc", "--iso", base / "disc.iso", "-q", "--no-web",
        "--date", "2024-05-01", "--fileset-id", "BURN_TEST",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return base / "disc", base / "disc.iso"


@pytest.fixture
def image(built: tuple[Path, Path]) -> Path:
    return built[1]


def assert_holds(written: Path, image: Path) -> None:
    """``written`` begins with ``image`` byte for byte (padding may follow)."""
    data = image.read_bytes()
    with written.open("rb") as fp:
        assert sha256(fp.read(len(data))) == sha256(data)


# --- burning onto the pseudo-drive ---------------------------------------------------------


def test_an_image_is_burned_verified_and_reads_back_clean(image: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.iso"
    result = run("burn", image, "--device", f"stdio:{out}", "--verify")
    assert result.exit_code == 0, result.output
    size = image.stat().st_size
    assert result.stdout.splitlines() == [
        f"copy 1 of 1 (stdio:{out}): written {burn.human(size)}, verified",
        f"Burned 1 of 1 copies of {image} ({burn.human(size)}, SHA-256 "
        f"{sha256(image.read_bytes())[:16]}...), each read back equal",
    ]
    assert_holds(out, image)
    checked = run("validate", out)
    assert checked.exit_code == 0, checked.output


def test_a_folder_is_packed_then_burned(built: tuple[Path, Path], tmp_path: Path) -> None:
    folder, _ = built
    out = tmp_path / "out.iso"
    result = run("burn", folder, "--device", f"stdio:{out}", "--verify", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["results"][0]["verified"] is True
    extracted = xorriso_extract(out, tmp_path / "x")  # an independent ISO 9660 reader
    extracted.assert_ok()
    assert tree(tmp_path / "x") == tree(folder)
    assert extracted.volume_id == "BURN_TEST"  # the File-set ID, as `mediatool iso` packs


def test_copies_go_to_numbered_pseudo_drives(image: Path, tmp_path: Path) -> None:
    device = f"stdio:{tmp_path}/disc_{{n}}.iso"
    result = run(
        "burn", image, "--device", device, "--copies", "2", "--verify", "--eject", "--json"
    )  # --eject: nothing to open on a pseudo-drive, and no error
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    digest = sha256(image.read_bytes())
    assert document["schema"] == "mediatool.burn/1"
    assert document["sha256"] == digest and document["copies"] == 2
    assert [(r["copy"], r["device"], r["verified"], r["read_sha256"]) for r in
            document["results"]] == [
        (1, f"stdio:{tmp_path}/disc_1.iso", True, digest),
        (2, f"stdio:{tmp_path}/disc_2.iso", True, digest),
    ]  # fmt: skip
    for n in (1, 2):
        assert_holds(tmp_path / f"disc_{n}.iso", image)


def test_several_copies_to_one_file_are_refused(image: Path, tmp_path: Path) -> None:
    result = run("burn", image, "--device", f"stdio:{tmp_path}/one.iso", "--copies", "2")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: --copies 2 to the pseudo-drive 'stdio:{tmp_path}/one.iso' would write every "
        "copy to one file",
        "Hint: put {n} in the path for the copy number, e.g. stdio:/tmp/disc_{n}.iso",
    ]
    assert not (tmp_path / "one.iso").exists()


def test_without_verify_the_summary_does_not_claim_it(image: Path, tmp_path: Path) -> None:
    result = run("burn", image, "--device", f"stdio:{tmp_path}/out.iso")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith("not verified")
    assert "not read back (add --verify)" in result.stdout and "Burned" not in result.stdout


def test_a_written_medium_is_refused_unless_erased(image: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.iso"
    assert run("burn", image, "--device", f"stdio:{out}").exit_code == 0
    again = run("burn", image, "--device", f"stdio:{out}")
    assert again.exit_code == 2
    assert again.stderr.splitlines() == [
        f"Error: the medium in 'stdio:{out}' (stdio file, overwriteable: is written, is "
        "appendable) is not blank",
        "Hint: insert a blank disc, or add --blank to erase this rewritable one",
    ]
    erased = run("burn", image, "--device", f"stdio:{out}", "--blank", "--verify")
    assert erased.exit_code == 0, erased.output


# --- the medium is too small ---------------------------------------------------------------


def test_an_image_larger_than_the_medium_is_refused_before_writing(
    image: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.iso"
    size = image.stat().st_size
    small = size - 2048  # one sector short
    result = run("burn", image, "--device", f"stdio:{out}", "--capacity", str(small))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: the image needs {burn.human(size)} ({size} bytes); the medium in "
        f"'stdio:{out}' (stdio file, overwriteable: is blank) has {burn.human(small)} "
        f"({small} bytes) free; nothing was written",
        "Hint: use a DVD (4.7 GB), or span the studies over several discs: `mediatool build "
        f"SOURCE --capacity {small} --iso FILE` writes one image per disc",
    ]
    assert not out.exists()


def test_a_cd_sized_pseudo_drive_refuses_a_dvd_image(image: Path, tmp_path: Path) -> None:
    """A sparse 800 MB image (its first sectors the real one): refused before it is read."""
    big = tmp_path / "big.iso"
    big.write_bytes(image.read_bytes())
    os.truncate(big, 800 * 10**6)
    out = tmp_path / "out.iso"
    result = run("burn", big, "--device", f"stdio:{out}", "--capacity", "cd", "--verify")
    assert result.exit_code == 2
    cd = MEDIA_CAPACITY["cd"]
    assert f"has 703 MB ({cd} bytes) free; nothing was written" in result.stderr
    assert (
        "Hint: use a DVD (4.7 GB), or span the studies over several discs: `mediatool "
        "build SOURCE --media cd --iso FILE` writes one image per disc"
    ) in result.stderr
    assert not out.exists()


def test_the_pseudo_drive_reports_the_free_space_of_its_file_system(tmp_path: Path) -> None:
    """Without --capacity the limit is what xorriso reports: the file system's free space."""
    info = burn.acquire(f"stdio:{tmp_path}/out.iso")
    assert info.blank and info.erasable and info.free is not None
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert abs(info.free - free) < 64 * 2**20  # others write to the same disk meanwhile


# --- failures: nothing half-claimed --------------------------------------------------------


def test_a_changed_byte_on_the_medium_fails_verification(image: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.iso"
    assert run("burn", image, "--device", f"stdio:{out}", "--verify").exit_code == 0
    size = image.stat().st_size
    with out.open("r+b") as fp:  # one byte past the image (the padding) is not compared
        fp.seek(size + 10)
        fp.write(b"\xff")
    assert run("burn", image, "--device", f"stdio:{out}", "--verify-only").exit_code == 0
    with out.open("r+b") as fp:  # one byte inside the image is
        fp.seek(40_000)
        old = fp.read(1)
        fp.seek(40_000)
        fp.write(bytes([old[0] ^ 0xFF]))
    on_medium = sha256(out.read_bytes()[:size])
    result = run("burn", image, "--device", f"stdio:{out}", "--verify-only")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"copy 1 of 1 (stdio:{out}): read back {burn.human(size)}, FAILED"
    ]
    assert result.stderr.splitlines() == [
        "Error: copy 1 of 1 failed: the data read back differ from the image (SHA-256 "
        f"{on_medium} on the medium, {sha256(image.read_bytes())} in the image); "
        "0 of 1 copies good"
    ]
    checked = burn.verify(f"stdio:{out}", image)  # the library call a station job makes
    assert (checked.verified, checked.read_sha256, checked.ok) == (False, on_medium, False)


def test_a_write_error_names_the_copy_and_exits_1(image: Path, tmp_path: Path) -> None:
    """xorriso cannot write past the file size limit (EFBIG): a real write(2) failure, half
    way through the image (bash's ``ulimit -f`` counts 1024-byte blocks)."""
    out = tmp_path / "out.iso"
    half = image.stat().st_size // 2 // 1024
    command = [sys.executable, "-m", "mediatool", "burn", str(image), "--device", f"stdio:{out}"]
    proc = subprocess.run(
        ["bash", "-c", f'ulimit -f {half} && exec "$@"', "bash", *command, "--verify"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [f"copy 1 of 1 (stdio:{out}): not written, FAILED"]
    assert proc.stderr.startswith("Error: copy 1 of 1 failed: writing failed: Cannot write")
    assert "File too large" in proc.stderr and proc.stderr.endswith("; 0 of 1 copies good\n")
    assert "Traceback" not in proc.stderr
    assert out.stat().st_size <= half * 1024 < image.stat().st_size


@pytest.mark.parametrize(
    ("device", "message"),
    [
        pytest.param("/dev/nonexistent", "Error: no such device '/dev/nonexistent'", id="none"),
        pytest.param(
            "/dev/null",
            "Error: '/dev/null' is not a drive xorriso can use: Cannot access '/dev/null' as "
            "SG_IO CDROM drive; Cannot acquire drive 'mmc:/dev/null'",
            id="not-a-drive",
        ),
    ],
)
def test_no_drive_is_a_clear_exit_2(image: Path, device: str, message: str) -> None:
    result = run("burn", image, "--device", device, "--verify")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        message,
        "Hint: give the burner's device, e.g. /dev/sr0 (`xorriso -devices` lists the drives), "
        "or stdio:FILE to write to a file as a pseudo-drive",
    ]


def test_a_plain_file_is_not_taken_for_a_drive(image: Path, tmp_path: Path) -> None:
    """Without ``stdio:`` a path must be a drive (xorriso's ``mmc:``): no file is written."""
    result = run("burn", image, "--device", tmp_path / "out.iso")
    assert result.exit_code == 2 and "no such device" in result.stderr
    assert not (tmp_path / "out.iso").exists()


def test_xorriso_missing_says_install_it(
    image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no xorriso on PATH
    result = run("burn", image, "--device", f"stdio:{tmp_path}/out.iso", "--json")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: xorriso is not installed (not found on PATH)",
        "Hint: install xorriso (Debian and Ubuntu: apt install xorriso)",
    ]
    assert json.loads(result.stdout)["error"] == (
        "xorriso is not installed (not found on PATH) "
        "(install xorriso (Debian and Ubuntu: apt install xorriso))"
    )


def test_a_file_that_is_no_disc_image_is_refused(built: tuple[Path, Path], tmp_path: Path) -> None:
    dicomdir = built[0] / "DICOMDIR"
    result = run("burn", dicomdir, "--device", f"stdio:{tmp_path}/out.iso")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: {str(dicomdir)!r} is not a disc image (no ISO 9660 or UDF volume descriptor at "
        "sector 16); nothing was written",
        "Hint: give the .iso that `mediatool build --iso` wrote, or the File-set folder",
    ]
    assert not (tmp_path / "out.iso").exists()


def test_a_capacity_that_is_no_size_is_a_usage_error(image: Path, tmp_path: Path) -> None:
    result = run("burn", image, "--device", f"stdio:{tmp_path}/out.iso", "--capacity", "usb")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--capacity': 'usb' is not a size such as 700M or 4.7G"
    )


def test_a_folder_that_is_no_file_set_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("burn", tmp_path / "empty", "--device", f"stdio:{tmp_path}/out.iso")
    assert result.exit_code == 1
    assert "dicomdir.missing" in result.stderr and "nothing was burned" in result.stderr
    assert not (tmp_path / "out.iso").exists()


# --- the library, as a station job calls it ------------------------------------------------


def test_progress_reaches_the_callback(image: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None, str]] = []
    result = burn.burn(
        image,
        f"stdio:{tmp_path}/out.iso",
        burn.BurnOptions(verify=True),
        progress=lambda done, total, label: seen.append((done, total, label)),
    )
    assert result.ok and result.results[0].verified is True
    blocks = image.stat().st_size // xorriso.BLOCK
    assert (blocks, blocks, "Copy 1 of 1: verifying (blocks)") in seen


MEDIA_LINES = """\
Drive current: -outdev 'mmc:/dev/sr0'
Drive type   : vendor 'HL-DT-ST' product 'DVDRAM GH24NSD1' revision 'LG00'
Media current: CD-RW
Media status : is written , is closed
Media summary: 1 session, 551 data blocks, 1102k data,  0 free
Media space  : 0s
"""


def test_media_lines_are_parsed() -> None:
    info = xorriso.parse_media(MEDIA_LINES.splitlines())
    assert info == xorriso.MediumInfo(
        drive="vendor 'HL-DT-ST' product 'DVDRAM GH24NSD1' revision 'LG00'",
        medium="CD-RW",
        status="is written, is closed",
        free_blocks=0,
    )
    assert (info.blank, info.erasable, info.present, info.free) == (False, True, True, 0)
    cdr = xorriso.parse_media(["Media current: CD-R", "Media status : is written , is closed"])
    with pytest.raises(burn.DeviceError, match=r"^the medium in '/dev/sr0' \(CD-R: is written, "
                       r"is closed\) is written and cannot be erased$"):  # fmt: skip
        burn.check_medium(cdr, "/dev/sr0", 1, blank=True, capacity=None)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("xorriso : UPDATE :  107 of  143 MB written (fifo 99%) [buf  50%]  55.9x.", (107, 143)),
        ("xorriso : UPDATE : 551 of 551 blocks read in 1 s = 0.8xD", (551, 551)),
        ("Beginning to write data track.", None),
    ],
)
def test_pacifier_lines(line: str, expected: tuple[int, int] | None) -> None:
    step = xorriso.pacifier(line)
    assert (step[:2] if step else None) == expected


@pytest.mark.parametrize(
    ("medium", "erasable"),
    [
        ("CD-R", False),
        ("CD-RW", True),
        ("DVD-R sequential recording", False),
        ("DVD-RW sequential recording", True),
        ("DVD+RW", True),
        ("DVD-RAM", True),
        ("BD-R sequential recording", False),
        ("BD-RE", True),
        ("stdio file, overwriteable", True),
        ("stdio file, sequential", False),
    ],
)
def test_which_media_can_be_erased(medium: str, erasable: bool) -> None:
    """Media names as libburn's profiles spell them (xorriso -toc "Media current")."""
    info = xorriso.parse_media([f"Media current: {medium}", "Media status : is blank"])
    assert info.erasable is erasable


def test_verify_only_on_a_blank_medium_says_so(image: Path, tmp_path: Path) -> None:
    result = run("burn", image, "--device", f"stdio:{tmp_path}/new.iso", "--verify-only")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: the medium in 'stdio:{tmp_path}/new.iso' is blank: nothing to compare with "
        "the image"
    ]
