"""Job Request Files for Primera's PTBurn hot folder (:mod:`mediatool.writers.ptburn`).

The expected texts follow PTBurn 3 SDK (Primera Technology, revision 3.24/3.25) section 2, key by
key; the section of each refusal is in its message.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from mediatool.cli import main
from mediatool.sample import generate_sample
from mediatool.writers.burn import human
from mediatool.writers.ptburn import JobFileError, PTBurnJob, outcome, render, submit, write


def test_a_job_says_what_the_sdk_asks_for() -> None:
    job = PTBurnJob(
        "MT_0001", r"C:\PTBURNJOBS\MT_0001\disc.iso", copies=2, volume_name="PATIENT_CD",
        label=r"C:\PTBURNJOBS\MT_0001\label.BMP", importance=3,
    )  # fmt: skip
    assert render(job) == (
        "JobID = MT_0001\r\n"
        "ClientID = mediatool\r\n"
        "Importance = 3\r\n"
        "ImageFile = C:\\PTBURNJOBS\\MT_0001\\disc.iso\r\n"
        "ImageType = MODE_1_2048\r\n"
        "Copies = 2\r\n"
        "VerifyDisc = YES\r\n"
        "RejectIfNotBlank = YES\r\n"
        "DeleteFiles = NO\r\n"
        "VolumeName = PATIENT_CD\r\n"
        "PrintLabel = C:\\PTBURNJOBS\\MT_0001\\label.BMP\r\n"
    )


def test_optional_keys_are_left_out() -> None:
    text = render(PTBurnJob("J", r"D:\jobs\a.ISO", verify=False, reject_if_not_blank=False))
    assert text.splitlines() == [
        "JobID = J",
        "ClientID = mediatool",
        "ImageFile = D:\\jobs\\a.ISO",
        "ImageType = MODE_1_2048",
        "Copies = 1",
        "VerifyDisc = NO",
        "RejectIfNotBlank = NO",
        "DeleteFiles = NO",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"job_id": "X" * 33},
            r"^JobID 'X{33}' must be 1-32 ASCII characters "
            r"\(PTBurn 3 SDK 2\.1\.1\)$",
            id="long-job-id",
        ),
        pytest.param(
            {"client_id": "Müller"},
            r"^ClientID 'Müller' must be 1-32 ASCII "
            r"characters \(PTBurn 3 SDK 2\.1\.2\)$",
            id="non-ascii-client",
        ),
        pytest.param(
            {"copies": 10_001},
            r"^Copies 10001 must be 1 to 10,000 \(PTBurn 3 SDK "
            r"2\.1\.11\)$",
            id="copies",
        ),
        pytest.param({"importance": 10}, r"^Importance 10 must be 0 to 9", id="importance"),
        pytest.param(
            {"image": r"C:\a\disc.img"},
            r"must be an \.ISO image \(PTBurn 3 SDK "
            r"2\.1\.6\)$",
            id="not-iso",
        ),
        pytest.param(
            {"label": r"C:\a\label.png"},
            r"^PrintLabel 'C:\\\\a\\\\label\.png' must "
            r"be \.STD, \.JPG, \.BMP or \.PRN \(PTBurn 3 SDK 2\.1\.12\)$",
            id="png-label",
        ),
        pytest.param(
            {"image": "C:\\a\nCopies = 99\\x.iso"},
            r"^ImageFile .* must be printable "
            r"ASCII \(PTBurn 3 SDK 2\.1\.6\)$",
            id="line-break",
        ),
    ],
)
def test_values_the_format_cannot_carry_are_refused(
    changes: dict[str, object], message: str
) -> None:
    base = {"job_id": "J", "image": r"C:\a\disc.iso"}
    with pytest.raises(JobFileError, match=message):
        render(PTBurnJob(**{**base, **changes}))  # type: ignore[arg-type]


def test_the_job_file_appears_whole_and_once(tmp_path: Path) -> None:
    job = PTBurnJob("MT_0002", r"C:\PTBURNJOBS\disc.iso")
    path = write(tmp_path, job)
    assert path == tmp_path / "MT_0002.JRQ"
    assert path.read_bytes() == render(job).encode("ascii")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MT_0002.JRQ"]  # no .part left
    with pytest.raises(JobFileError, match=r"MT_0002\.JRQ' exists: a job of that JobID"):
        write(tmp_path, job)


def test_submit_puts_image_label_and_job_in_the_hot_folder(tmp_path: Path) -> None:
    image = tmp_path / "disc.iso"
    image.write_bytes(b"\0" * 4096)
    label = tmp_path / "label.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(label)
    hot = tmp_path / "share"
    hot.mkdir()
    path = submit(hot, r"\\robot\PTBurnJobs", image, PTBurnJob("MT_0003", "", copies=3), label)
    assert path.read_text(encoding="ascii").splitlines() == [
        "JobID = MT_0003",
        "ClientID = mediatool",
        r"ImageFile = \\robot\PTBurnJobs\MT_0003\disc.iso",
        "ImageType = MODE_1_2048",
        "Copies = 3",
        "VerifyDisc = YES",
        "RejectIfNotBlank = YES",
        "DeleteFiles = YES",
        r"PrintLabel = \\robot\PTBurnJobs\MT_0003\label.BMP",
    ]
    assert (hot / "MT_0003" / "disc.iso").read_bytes() == image.read_bytes()
    with Image.open(hot / "MT_0003" / "label.BMP") as bmp:
        assert (bmp.format, bmp.getpixel((4, 4))) == ("BMP", (200, 10, 10))
    with pytest.raises(JobFileError, match=r"^a job 'MT_0003' exists in"):
        submit(hot, r"\\robot\PTBurnJobs", image, PTBurnJob("MT_0003", ""))


# --- mediatool burn --ptburn ---------------------------------------------------------------


@pytest.fixture(scope="module")
def iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("ptburn")
    generate_sample(base / "in", instances=20)
    result = CliRunner().invoke(
        main, ["build", str(base / "in"), "--iso", str(base / "disc.iso"), "-q", "--no-web"]
    )
    assert result.exit_code == 0, result.output
    return base / "disc.iso"


def test_the_cli_hands_the_image_to_the_robot(iso: Path, tmp_path: Path) -> None:
    label = tmp_path / "label.png"
    Image.new("RGB", (8, 8), (0, 90, 200)).save(label)
    args = ["burn", str(iso), "--ptburn", str(tmp_path), "--copies", "2", "--verify"]
    result = CliRunner().invoke(main, [*args, "--label", str(label)])
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(iso.read_bytes()).hexdigest()
    job_id = f"MT_{digest[:12].upper()}"
    assert result.stdout.splitlines() == [
        f"Handed 2 copies of {iso} ({human(iso.stat().st_size)}) to PTBurn as job {job_id}: "
        f"{tmp_path / job_id}.JRQ; the robot verifies each disc",
        "PTBurn renames the job file .DON when the discs are done, .ERR when it failed",
    ]
    text = (tmp_path / f"{job_id}.JRQ").read_bytes().decode("ascii")
    assert f"ImageFile = C:\\PTBURNJOBS\\{job_id}\\disc.iso\r\n" in text
    assert f"PrintLabel = C:\\PTBURNJOBS\\{job_id}\\label.BMP\r\n" in text
    assert "Copies = 2\r\n" in text and "VerifyDisc = YES\r\n" in text
    assert (tmp_path / job_id / "disc.iso").read_bytes() == iso.read_bytes()
    again = CliRunner().invoke(main, [*args[:4], "--json"])  # the same image: a new JobID
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["job_id"] == f"{job_id}_2"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            ["--device", "/dev/sr0"],
            "give either --device (a drive here) or --ptburn (a robot)",
            id="device-too",
        ),
        pytest.param(["--blank"], "--blank works with --device, not with --ptburn", id="blank"),
    ],
)
def test_drive_options_do_not_go_with_the_robot(
    iso: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["burn", str(iso), "--ptburn", str(tmp_path), *extra])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: {message}"
    assert list(tmp_path.iterdir()) == []


def test_a_label_that_is_no_picture_leaves_nothing_behind(iso: Path, tmp_path: Path) -> None:
    hot = tmp_path / "share"
    hot.mkdir()
    text = tmp_path / "label.txt"
    text.write_text("not a picture")
    args = ["burn", str(iso), "--ptburn", str(hot), "--label", str(text)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: the label {str(text)!r} is no picture: PTBurn prints .STD, .JPG, .BMP or .PRN "
        "labels (2.1.12), and a PNG is converted"
    ]
    assert list(hot.iterdir()) == []


def test_the_outcome_is_read_from_the_renamed_job_file(tmp_path: Path) -> None:
    job = PTBurnJob("MT_0004", r"C:\PTBURNJOBS\disc.iso")
    path = write(tmp_path, job)
    assert outcome(tmp_path, "MT_0004") is None  # waiting
    path.rename(tmp_path / "MT_0004.don")  # PTBurn's spelling varies in case
    assert outcome(tmp_path, "MT_0004") == "done"
    (tmp_path / "MT_0004.don").rename(tmp_path / "MT_0004.ERR")
    assert outcome(tmp_path, "MT_0004") == "failed"
    assert outcome(tmp_path, "MT_0005") is None
