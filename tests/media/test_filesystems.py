"""Each medium in its own file system (issue 16, PS3.12): ``build --image`` and ``build --usb``,
read back by independent readers (isoinfo and xorriso for ISO 9660, udfinfo, 7-Zip and udfclient
for UDF, fsck.fat and mdir for FAT), by ``mediatool validate``, and in headless Chromium from
the extracted tree. The UDF 1.50/2.50/2.60 images (DVD-RAM, BD-RE, BD-R) are our own writer's
(:mod:`mediatool.udf`); tests/media/test_udf_images.py has their hostile and large cases."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import oracles
import pytest
from click.testing import CliRunner, Result
from factories import study_folder
from web_helpers import chromium_executable
from webcdp import Browser, Page, chromium

from mediatool.cli import main
from mediatool.errors import OutputError, PlanRejected
from mediatool.media import FatReader, MediaEntry, MediaReader, UdfReader, open_media
from mediatool.media.base import DamagedMedia
from mediatool.media.fat import read_volume
from mediatool.sample import generate_sample
from mediatool.writers import fat as fat_writer
from mediatool.writers import usb

pytestmark = pytest.mark.oracle
DATE = "2024-03-12"
PROFILE = {
    "cd": "STD-GEN-CD",
    "dvd": "STD-GEN-DVD-JPEG",
    "usb": "STD-GEN-USB-JPEG",
    "bd": "STD-GEN-BD",
    "bd-re": "STD-GEN-BD",
    "dvd-ram": "STD-GEN-DVD-RAM",
}
#: medium -> udfinfo's udfrev (Minimum Read) and udfwriterev, 7-Zip's Version (the LVD's Domain
#: Identifier): UDF 2.60 §2 (BD-R), 2.50 (BD-RE), 1.50 (DVD-RAM, PS3.12 Annex J)
OUR_UDF = {
    "bd": ("2.50", "2.60", "2.60"),
    "bd-re": ("2.50", "2.50", "2.50"),
    "dvd-ram": ("1.50", "1.50", "1.50"),
}
MTOOLS = {"MTOOLSRC": os.devnull, "MTOOLS_SKIP_CHECK": "1"}
LOADED = "[...document.images].every(i => i.complete && i.naturalWidth > 0)"
IMAGE_SHOWN = (
    "(() => { const i = document.getElementById('image');"
    " return i.complete && i.naturalWidth > 0 && i.getAttribute('src'); })()"
)


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def tool(
    *args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    exe = oracles.require_tool(str(args[0]))
    return subprocess.run(
        [exe, *map(str, args[1:])],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C", **(env or {})},
        check=False,
        timeout=120,
    )


def read_entry(reader: MediaReader, entry: MediaEntry) -> bytes:
    with reader.open(entry) as fp:
        return fp.read()


def files_below(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return study_folder(tmp_path_factory.mktemp("fs") / "in", patients=2, series=2, instances=2)


@pytest.fixture(scope="module")
def images(inputs: Path) -> dict[str, Path]:
    """The same instances built as a folder and as the image of each medium."""
    out: dict[str, Path] = {}
    for medium, profile in PROFILE.items():
        base = inputs.parent / medium
        result = cli("build", str(inputs), "--media", medium, "--profile", profile,
                     "--out", str(base / "DISC"), "--image", str(base / "disc.img"),
                     "--date", DATE, "-q")  # fmt: skip
        assert result.exit_code == 0, result.output
        out[medium] = base / "disc.img"
    return out


def clean_validation(image: Path, medium: str) -> dict[str, object]:
    result = cli("validate", str(image), "--profile", PROFILE[medium], "--json")
    doc = json.loads(result.stdout)
    errors = [f for f in doc["findings"] if f["severity"] != "info"]
    assert result.exit_code == 0 and errors == [], errors
    return dict(doc)


# --- CD: ISO 9660 Level 1, as --iso -----------------------------------------------------------


def test_cd_image_is_the_iso_image(images: dict[str, Path], inputs: Path) -> None:
    iso = inputs.parent / "cd" / "same.iso"
    assert cli("build", str(inputs), "--iso", str(iso), "--date", DATE, "-q").exit_code == 0
    assert images["cd"].read_bytes() == iso.read_bytes()
    pvd = oracles.isoinfo_pvd(images["cd"])
    assert pvd.returncode == 0 and pvd.volume_id == "2_PAT_20240312"
    doc = clean_validation(images["cd"], "cd")
    assert doc["media"]["kind"] == "iso"  # type: ignore[index]


# --- DVD: UDF 1.02 with an ISO 9660 bridge ----------------------------------------------------


def test_dvd_image_is_udf_102_read_by_udfinfo_and_7zip(images: dict[str, Path]) -> None:
    folder = files_below(images["dvd"].parent / "DISC")
    info = tool("udfinfo", images["dvd"])
    assert info.returncode == 0, info.stderr
    fields = dict(line.split("=", 1) for line in info.stdout.splitlines() if "=" in line)
    assert fields["udfrev"] == "1.02" and fields["integrity"] == "closed"
    assert int(fields["numfiles"]) == len(folder)
    assert fields["lvid"] == "2_PAT_20240312"
    listing = tool("7z", "l", "-slt", "-tudf", images["dvd"])
    assert listing.returncode == 0, listing.stdout
    names = re.findall(r"^Path = (.+)$", listing.stdout, re.M)
    assert set(folder) <= set(names)  # 7-Zip lists the folders too
    bridge = oracles.isoinfo_listing(images["dvd"])
    assert bridge.returncode == 0 and bridge.is_iso9660


def test_dvd_image_validates_through_its_udf_tree(images: dict[str, Path]) -> None:
    doc = clean_validation(images["dvd"], "dvd")
    assert doc["media"]["kind"] == "udf"  # type: ignore[index]
    notes = {f["code"]: f["message"] for f in doc["findings"]}  # type: ignore[attr-defined]
    assert notes["media.filesystem"].startswith(
        "UDF 1.02 (Minimum UDF Read Revision 1.02), 1 partition(s), Interchange Level 2"
    )
    with open_media(images["dvd"]) as reader:
        assert isinstance(reader, UdfReader)
        folder = files_below(images["dvd"].parent / "DISC")
        read = {e.path: read_entry(reader, e) for e in reader.entries()}
    assert read == folder


def dirs_below(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir()}


def udfclient_tree(image: Path, dest: Path) -> Path:
    """The image's tree as Debian's udfclient (NetBSD's UDF code) copies it out."""
    listed = tool("udfclient", "-b", "2048", image, stdin="ls\nquit\n")
    volumes: list[str] = re.findall(r"^d\S+\s+-?\d+\s+-?\d+\s+\d+\s+(\S+)$", listed.stdout, re.M)
    assert listed.returncode == 0 and len(set(volumes)) == 1, listed.stdout
    dest.mkdir()
    got = tool("udfclient", "-b", "2048", image, stdin=f"lcd {dest}\nmget {volumes[0]}\nquit\n")
    assert got.returncode == 0, got.stdout
    return dest / volumes[0]


@pytest.mark.parametrize("medium", sorted(OUR_UDF))
def test_our_udf_images_are_read_by_udfinfo_7zip_and_udfclient(
    images: dict[str, Path], medium: str, tmp_path: Path
) -> None:
    image, disc = images[medium], images[medium].parent / "DISC"
    folder, dirs = files_below(disc), dirs_below(disc)
    info = tool("udfinfo", image)
    assert info.returncode == 0, info.stderr
    fields = dict(line.split("=", 1) for line in info.stdout.splitlines() if "=" in line)
    read, write, version = OUR_UDF[medium]
    assert (fields["udfrev"], fields["udfwriterev"], fields["integrity"]) == (read, write, "closed")
    assert (int(fields["numfiles"]), int(fields["numdirs"])) == (len(folder), len(dirs))
    assert fields["lvid"] == "2_PAT_20240312" and fields["impid"] == "*mediatool"
    listing = tool("7z", "l", "-slt", image)
    assert listing.returncode == 0 and f"\nVersion = {version}\n" in listing.stdout, listing.stdout
    assert "ERROR" not in listing.stdout and "WARNING" not in listing.stdout, listing.stdout
    assert (
        set(re.findall(r"^Path = (.+)$", listing.stdout, re.M)) == {str(image)} | set(folder) | dirs
    )
    assert files_below(extract(medium, image, tmp_path / "7z")) == folder
    assert files_below(udfclient_tree(image, tmp_path / "udfclient")) == folder


@pytest.mark.parametrize("medium", sorted(OUR_UDF))
def test_our_udf_images_validate_through_our_reader(images: dict[str, Path], medium: str) -> None:
    doc = clean_validation(images[medium], medium)
    assert doc["media"]["kind"] == "udf"  # type: ignore[index]
    notes = {f["code"]: f["message"] for f in doc["findings"]}  # type: ignore[attr-defined]
    read, _, version = OUR_UDF[medium]
    layout = "a Metadata Partition and no" if medium != "dvd-ram" else "no"
    assert notes["media.filesystem"] == (
        f"UDF {version} (Minimum UDF Read Revision {read}), 1 partition(s), Interchange Level 2 "
        f"(maximum 2), with {layout} ISO 9660 bridge"
    )
    with open_media(images[medium]) as reader:
        assert isinstance(reader, UdfReader)
        read_back = {e.path: read_entry(reader, e) for e in reader.entries()}
    assert read_back == files_below(images[medium].parent / "DISC")


# --- USB: FAT16/FAT32 image ------------------------------------------------------------------


def test_usb_image_is_fat16_checked_by_fsck_and_mdir(images: dict[str, Path]) -> None:
    check = tool("fsck.fat", "-n", images["usb"])
    assert check.returncode == 0, check.stdout + check.stderr
    listing = tool("mdir", "-i", images["usb"], "-b", "-/", "::/", env=MTOOLS)
    assert listing.returncode == 0, listing.stderr
    folder = files_below(images["usb"].parent / "DISC")
    assert {line.removeprefix("::/") for line in listing.stdout.split()} >= set(folder)
    with images["usb"].open("rb") as fp:
        head = fp.read(512)
    assert head[54:62] == b"FAT16   " and head[43:54] == b"2_PAT_20240"


def test_usb_image_validates_and_reads_back_what_was_built(images: dict[str, Path]) -> None:
    doc = clean_validation(images["usb"], "usb")
    assert doc["media"]["kind"] == "fat"  # type: ignore[index]
    with open_media(images["usb"]) as reader:
        assert isinstance(reader, FatReader)
        read = {e.path: read_entry(reader, e) for e in reader.entries()}
    assert read == files_below(images["usb"].parent / "DISC")


def test_a_truncated_fat_image_fails_validation(images: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.img"
    cut.write_bytes(images["usb"].read_bytes()[:100_000])
    result = cli("validate", str(cut), "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1 and doc["media"]["kind"] == "fat"
    assert [(f["code"], f["message"]) for f in doc["findings"]] == [
        (
            "media.fat-damaged",
            "the image has 100000 of the 16777216 bytes its boot sector declares: it is truncated",
        )
    ]


def test_fat_size_and_type() -> None:
    assert fat_writer.plan_size(100_000, 10) == (16, 16 * 2**20)
    assert fat_writer.plan_size(1900 * 2**20, 10)[0] == 32
    assert fat_writer.volume_label("") == "NO NAME"


def test_the_first_partition_is_read_and_only_it(images: dict[str, Path], tmp_path: Path) -> None:
    """Annex R.1: a partitioned stick carries the File-set in its first partition."""
    volume = images["usb"].read_bytes()
    mbr = bytearray(512)
    struct.pack_into("<B3xBxxxII", mbr, 446, 0x00, 0x0E, 2048, len(volume) // 512)
    mbr[510:512] = b"\x55\xaa"
    partitioned = tmp_path / "stick.img"
    partitioned.write_bytes(bytes(mbr) + bytes(2048 * 512 - 512) + volume)
    with open_media(partitioned) as reader:
        assert [f.message for f in reader.container_findings() if f.code == "media.filesystem"] == [
            "FAT16 (in the first partition)"
        ]
        assert any(e.path == "DICOMDIR" for e in reader.entries())
    other = bytearray(partitioned.read_bytes())
    other[446 + 4] = 0x83
    other[2048 * 512 : 2048 * 512 + 512] = bytes(512)  # no FAT in the first partition
    (tmp_path / "linux.img").write_bytes(bytes(other))
    with pytest.raises(DamagedMedia) as caught:
        open_media(tmp_path / "linux.img")
    assert caught.value.finding.code == "media.fat-not-first-partition"


def test_exfat_and_fat12_are_named() -> None:
    exfat = bytearray(512)
    exfat[3:11] = b"EXFAT   "
    exfat[510:512] = b"\x55\xaa"
    assert read_volume(bytes(exfat)) == (
        "media.wrong-filesystem",
        "the file system is exFAT; PS3.12 Annex R needs FAT16 or FAT32",
    )


def test_a_fat12_image_is_not_a_usb_fileset(images: dict[str, Path], tmp_path: Path) -> None:
    small = tmp_path / "floppy.img"
    small.write_bytes(bytes(1440 * 1024))
    assert tool("mkfs.fat", "-F", "12", small).returncode == 0
    assert tool("mcopy", "-i", small, images["usb"].parent / "DISC" / "README.TXT", "::/",
                env=MTOOLS).returncode == 0  # fmt: skip
    result = cli("validate", str(small), "--profile", "STD-GEN-USB-JPEG", "--json")
    codes = {(f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]}
    assert ("media.wrong-filesystem", "FAT12; PS3.12 Annex R needs FAT16 or FAT32") in codes
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("medium", "profile", "message"),
    [
        pytest.param("usb", "STD-GEN-CD", "the image is FAT; STD-GEN-CD is a CD profile: "
                     "ISO 9660 Level 1 (PS3.12 Annex F)", id="fat-for-cd"),
        pytest.param("dvd", "STD-GEN-BD", "the image is UDF 1.02; STD-GEN-BD is a BD profile: "
                     "UDF 2.50 or 2.60 (PS3.12 Annex X)", id="udf102-for-bd"),
        pytest.param("cd", "STD-GEN-USB-JPEG", "the image is ISO 9660; STD-GEN-USB-JPEG is a "
                     "USB profile: FAT16 or FAT32 (PS3.12 Annex R)", id="iso-for-usb"),
        pytest.param("bd", "STD-GEN-DVD-JPEG", "the image is UDF 2.60; STD-GEN-DVD-JPEG is a DVD "
                     "profile: UDF 1.02/1.50/2.00/2.01 or ISO 9660 (PS3.12 Annex P)",
                     id="bd-for-dvd"),
        pytest.param("bd-re", "STD-GEN-DVD-RAM", "the image is UDF 2.50; STD-GEN-DVD-RAM is a "
                     "DVD-RAM profile: UDF 1.50 and nothing from a later revision (PS3.12 Annex J)",
                     id="udf250-for-dvd-ram"),
        pytest.param("dvd", "STD-GEN-DVD-RAM", "the image is UDF 1.02; STD-GEN-DVD-RAM is a "
                     "DVD-RAM profile: UDF 1.50 and nothing from a later revision (PS3.12 Annex J)",
                     id="udf102-for-dvd-ram"),
    ],
)  # fmt: skip
def test_the_file_system_must_be_the_mediums(
    images: dict[str, Path], medium: str, profile: str, message: str
) -> None:
    result = cli("validate", str(images[medium]), "--profile", profile, "--json")
    found = [f for f in json.loads(result.stdout)["findings"]
             if f["code"] == "media.wrong-filesystem"]  # fmt: skip
    assert [(f["message"], f["check"]) for f in found] == [(message, "A11")]
    assert result.exit_code == 1


def test_a_missing_tool_is_named_with_its_package(
    images: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("validate", str(images["usb"]))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: mcopy is not installed\nHint: install mtools (Debian: apt install mtools)\n"
    )
    with pytest.raises(OutputError, match=r"^genisoimage is not installed$"):
        from mediatool import external

        external.find("genisoimage")


@pytest.mark.parametrize(
    ("medium", "said"),
    [("dvd", ["udfrev=1.02"]), ("bd", ["udfwriterev=2.60", "integrity=closed"])],
)
def test_a_spanned_build_gives_one_udf_image_per_volume(
    tmp_path: Path, medium: str, said: list[str]
) -> None:
    generate_sample(tmp_path / "in", instances=60)
    image = tmp_path / f"{medium}.img"
    # 1.8 MB: less than the DICOM File-set alone (1,808,384 bytes as a UDF image), so it spans;
    # with room for the DICOM its web content would give way instead (issue 17)
    result = cli("build", str(tmp_path / "in"), "--media", medium, "--image", str(image),
                 "--capacity", "1800000", "--invent", "--skip-invalid", "--json", "-q")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    volumes = json.loads(result.stdout)["volumes"]
    assert [v["image"] for v in volumes] == [
        str(tmp_path / f"{medium}_{k}.img") for k in range(1, len(volumes) + 1)
    ]
    assert len(volumes) >= 2 and not image.exists()
    for volume in volumes:
        path = Path(volume["image"])
        assert path.stat().st_size <= 1800000
        info = tool("udfinfo", path)
        assert info.returncode == 0 and all(s in info.stdout for s in said), info.stdout
        check = cli("validate", str(path), "--json")
        doc = json.loads(check.stdout)
        assert check.exit_code == 0 and doc["media"]["kind"] == "udf", doc["findings"]
        assert doc["media"]["fileset_id"] == volume["volume_id"]


def test_the_stick_gets_only_fat_safe_names(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    (staging / "DICOM").mkdir(parents=True)
    (staging / "DICOMDIR").write_bytes(b"x")
    (staging / "DICOM" / "long name.dcm").write_bytes(b"y")
    stick = tmp_path / "STICK"
    stick.mkdir()
    with pytest.raises(PlanRejected) as caught:
        usb.write_to_stick(staging, stick, mountinfo=fake_mount(tmp_path, stick, "vfat"))
    assert [(f.code, f.where) for f in caught.value.findings] == [
        ("media.iso-not-level1", "DICOM/long name.dcm")
    ]
    assert list(stick.iterdir()) == []


# --- USB: straight onto a mounted stick --------------------------------------------------------


def fake_mount(tmp_path: Path, stick: Path, fstype: str) -> Path:
    """A mount table (proc(5) mountinfo) with ``stick`` mounted as ``fstype``."""
    table = tmp_path / "mountinfo"
    point = str(stick.resolve()).replace(" ", "\\040")
    table.write_text(
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
        f"36 1 8:17 / {point} rw,nosuid - {fstype} /dev/sdb1 rw,fmask=0022\n"
    )
    return table


def test_a_stick_that_is_not_fat_is_refused(inputs: Path, tmp_path: Path) -> None:
    real = usb.mount_of(tmp_path)  # the real mount table: tmp_path is ext4, overlay, tmpfs...
    assert real.fstype not in usb.FAT_TYPES
    result = cli("build", str(inputs), "--usb", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: the stick at {str(tmp_path)!r} is {real.fstype} ({real.source}); PS3.12 "
        "Annex R needs FAT16 or FAT32\nHint: reformat it as FAT32 (e.g. mkfs.fat -F 32 on its "
        "partition), then build again\n"
    )
    assert list(tmp_path.iterdir()) == []
    stick = tmp_path / "my stick"
    stick.mkdir()
    table = fake_mount(tmp_path, stick, "exfat")
    with pytest.raises(OutputError, match=r"is exfat \(/dev/sdb1\); PS3\.12 Annex R needs FAT"):
        usb.check_stick(stick, table)


def test_writing_to_a_fat_stick_syncs_and_reads_back(
    images: dict[str, Path], inputs: Path, tmp_path: Path
) -> None:
    stick = tmp_path / "STICK"
    stick.mkdir()
    (stick / "OTHER.TXT").write_text("kept")
    env = {usb.MOUNTINFO_ENV: str(fake_mount(tmp_path, stick, "vfat"))}
    args = ("build", str(inputs), "--usb", str(stick), "--profile", PROFILE["usb"],
            "--date", DATE, "--json")  # fmt: skip
    result = cli(*args, env=env)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    folder = files_below(images["usb"].parent / "DISC")
    read_back = [f for f in doc["findings"] if f["code"] == "build.read-back"]
    assert [f["message"].split(" (")[0] for f in read_back] == [f"{len(folder)} files"]
    assert doc["usb"] == str(stick)
    assert files_below(stick) == {**folder, "OTHER.TXT": b"kept"}
    again = cli(*args, env=env)
    assert again.exit_code == 2 and "already holds DICOM, DICOMDIR" in again.stderr
    assert cli(*args, "--force", env=env).exit_code == 0
    assert files_below(stick) == {**folder, "OTHER.TXT": b"kept"}
    inner = cli("build", str(inputs), "--usb", str(stick / "DICOM"), env=env)
    assert inner.exit_code == 2
    assert f"Hint: give --usb {stick.resolve()}\n" in inner.stderr


def test_mountinfo_escapes_and_the_longest_mount_point(tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_text(
        "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 8:2 / /media/my\\040stick rw - vfat /dev/sdb1 rw\n"
    )
    mount = usb.mount_of(Path("/media/my stick/DICOM"), table)
    assert (mount.point, mount.fstype) == (Path("/media/my stick"), "vfat")
    assert usb.mount_of(Path("/media/other"), table).fstype == "ext4"


# --- the viewer opens from each extracted image ------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(chromium_executable()) as b:
        yield b


def extract(medium: str, image: Path, dest: Path) -> Path:
    if medium == "cd":
        report = oracles.xorriso_extract(image, dest)
        assert report.returncode == 0 and not report.errors, report
        for folder, _, names in os.walk(dest):
            Path(folder).chmod(0o755)
            for name in names:  # ISO 9660 names without Rock Ridge keep ";1" for xorriso
                if name.endswith(";1"):
                    Path(folder, name).rename(Path(folder, name[:-2].removesuffix(".")))
    elif medium in ("dvd", *OUR_UDF):
        done = tool("7z", "x", "-tudf", f"-o{dest}", image)
        assert done.returncode == 0, done.stdout
    else:
        dest.mkdir()
        done = tool("mcopy", "-s", "-n", "-i", image, "::*", dest, env=MTOOLS)
        assert done.returncode == 0, done.stderr
    return dest


@pytest.mark.parametrize("medium", ["cd", "dvd", "usb", "bd", "bd-re", "dvd-ram"])
def test_the_viewer_opens_from_the_extracted_image(
    browser: Browser, images: dict[str, Path], medium: str, tmp_path: Path
) -> None:
    root = extract(medium, images[medium], tmp_path / "tree")
    assert files_below(root) == files_below(images[medium].parent / "DISC")
    page = Page(browser)
    page.open((root / "INDEX.HTM").as_uri())
    page.wait_for(LOADED)
    page.open(page.evaluate("document.querySelector('a.pname').href"))
    page.open(page.evaluate("document.querySelector('td a').href"))
    page.wait_for(LOADED)
    page.open(page.evaluate("document.querySelector('.cta a.button').href"))
    assert page.wait_for(IMAGE_SHOWN).lower().endswith(".jpg")
    assert page.errors() == []
    for url in page.requests():
        assert url.startswith(f"{root.as_uri()}/") or url.startswith("data:"), url


def test_readers_by_content_not_by_name(images: dict[str, Path], tmp_path: Path) -> None:
    kinds: dict[str, str] = {}
    for medium, image in images.items():
        renamed = tmp_path / f"{medium}.bin"
        renamed.write_bytes(image.read_bytes())
        with open_media(renamed) as reader:
            kinds[medium] = type(reader).__name__
    assert kinds == {
        "cd": "IsoReader",
        "dvd": "UdfReader",
        "usb": "FatReader",
        "bd": "UdfReader",
        "bd-re": "UdfReader",
        "dvd-ram": "UdfReader",
    }
