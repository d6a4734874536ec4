"""Our UDF images (mediatool.udf: 1.50 DVD-RAM, 2.50 BD-RE, 2.60 BD-R; issue 16) beyond the
round trips of test_filesystems.py: byte-identical builds (and DVD images under faketime), a
file of more than 1 GiB in several extents read back by 7-Zip, hostile images for our reader
(truncated, a FID outside its partition, a directory containing itself, a bad tag CRC), PS3.12
Annex X (no VAT, no sparing table on a BD) and spanning."""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import oracles
import pytest
from click.testing import CliRunner, Result
from factories import study_folder

from mediatool.cli import main
from mediatool.errors import OutputError
from mediatool.media import UdfReader, open_media
from mediatool.udf import ecma167
from mediatool.udf.layout import EXTENT_MAX, PARTITION_START
from mediatool.writers import udf

pytestmark = pytest.mark.oracle
DATE = "2024-03-12"


def cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    exe = oracles.require_tool(str(args[0]))
    return subprocess.run([exe, *map(str, args[1:])], capture_output=True, check=False, timeout=600)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return study_folder(tmp_path_factory.mktemp("udf") / "in", patients=1, series=2, instances=2)


def build(inputs: Path, medium: str, where: Path) -> Path:
    image = where / f"{medium}.img"
    result = cli("build", str(inputs), "--media", medium, "--image", str(image),
                 "--date", DATE, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    return image


@pytest.fixture(scope="module")
def images(inputs: Path) -> dict[str, Path]:
    return {m: build(inputs, m, inputs.parent / "one") for m in ("bd", "dvd-ram", "dvd")}


# --- reproducible ------------------------------------------------------------------------------


@pytest.mark.parametrize("medium", ["bd", "dvd-ram", "dvd"])
def test_two_builds_give_the_same_bytes(images: dict[str, Path], inputs: Path, medium: str) -> None:
    time.sleep(1.1)  # another second on the clock and in the files' modification times
    again = build(inputs, medium, inputs.parent / "two")
    assert run("cmp", images[medium], again).returncode == 0
    info = run("udfinfo", again).stdout.decode()
    # the Volume Set Identifier (genisoimage's too) is derived from the File-set, not the clock
    assert re.search(r"^fullvsid=[0-9A-F]{16}PID0001_20240312$", info, re.M), info


def test_without_faketime_a_dvd_image_is_written_and_stderr_says_so_once(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    udfinfo = oracles.require_tool("udfinfo")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "genisoimage").symlink_to(oracles.require_tool("genisoimage"))
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(udf, "_warned", [])
    args = ("build", str(inputs), "--media", "dvd", "--date", DATE, "-q", "--image")
    first = cli(*args, str(tmp_path / "a.img"))
    assert first.exit_code == 0, first.output
    assert first.stderr.splitlines()[0] == (
        "mediatool: faketime is not installed: the DVD image records the clock and is not "
        "reproducible (Debian: apt install faketime)"
    )
    assert first.stderr.count("faketime") == 2  # one message
    second = cli(*args, str(tmp_path / "b.img"))
    assert second.exit_code == 0 and "faketime" not in second.stderr
    assert run(udfinfo, tmp_path / "b.img").returncode == 0


# --- a file above 1 GiB ----------------------------------------------------------------------


def sha256(fp: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in fp:
        digest.update(chunk)
    return digest.hexdigest()


def chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fp:
        while block := fp.read(1 << 20):
            yield block


def test_a_file_above_1_gib_is_split_into_extents_and_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "DICOMDIR").write_bytes(b"not read here")
    big = folder / "BIG.BIN"
    size = EXTENT_MAX + 5 * 2**20 + 123  # two extents (4/14.14.1: each below 2^30)
    with big.open("wb") as fp:  # sparse, with marks either side of the extent boundary
        for offset in (0, EXTENT_MAX - 3, size - 7):
            fp.seek(offset)
            fp.write(os.urandom(7))
    image = tmp_path / "big.img"
    made = udf.pack(folder, image, medium="bd", volume_id="BIG",
                    date=datetime(2024, 3, 12, tzinfo=UTC), capacity=None)  # fmt: skip
    assert (made.files, made.revision) == (2, "2.60")
    want = sha256(chunks(big))
    listing = run("7z", "l", "-slt", image).stdout.decode()
    assert f"Path = BIG.BIN\nFolder = -\nSize = {size}\n" in listing, listing
    seven = [oracles.require_tool("7z"), "x", "-so", str(image), "BIG.BIN"]
    with subprocess.Popen(seven, stdout=subprocess.PIPE) as streamed:
        out = streamed.stdout
        assert out is not None
        assert sha256(iter(lambda: out.read(1 << 20), b"")) == want
    assert streamed.returncode == 0
    with open_media(image) as reader:
        entry = next(e for e in reader.entries() if e.path == "BIG.BIN")
        with reader.open(entry) as fp:
            assert sha256(iter(lambda: fp.read(1 << 20), b"")) == want


# --- hostile images ----------------------------------------------------------------------------


def fid_offsets(data: bytes | bytearray, name: str) -> list[int]:
    """Where the File Identifier Descriptors of ``name`` start (both metadata copies)."""
    ident = b"\x08" + name.encode()
    out = []
    for match in re.finditer(re.escape(ident), data):
        start = match.start() - 38
        if start >= 0 and data[start : start + 2] == b"\x01\x01" and data[start + 19] == len(ident):
            out.append(start)
    return out


def retag(data: bytearray, start: int, length: int) -> None:
    """Recompute the tag of the descriptor at ``start`` (ECMA-167 3/7.2) after a change."""
    ident, version, serial, _crc, _len, location = struct.unpack_from("<HH2xHHHI", data, start)
    body = bytes(data[start + 16 : start + length])
    data[start : start + length] = ecma167.tag(ident, version, serial, location, body)


def point_fid(data: bytearray, name: str, block: int) -> None:
    offsets = fid_offsets(data, name)
    assert offsets, name
    for start in offsets:
        struct.pack_into("<I", data, start + 24, block)
        retag(data, start, 38 + len(name) + 1 + (-(38 + len(name) + 1) % 4))


def validated(image: Path) -> tuple[int, list[tuple[str, str, str | None]]]:
    result = cli("validate", str(image), "--json")
    assert "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    return result.exit_code, [(f["code"], f["message"], f["where"]) for f in doc["findings"]]


def test_a_truncated_image_is_a_finding(images: dict[str, Path], tmp_path: Path) -> None:
    cut = tmp_path / "cut.img"
    cut.write_bytes(images["bd"].read_bytes()[: (PARTITION_START + 40) * 2048])
    code, found = validated(cut)
    assert code == 1
    damaged = [f for f in found if f[0] == "media.udf-damaged"]
    assert damaged and all("beyond the end of the image" in m for _, m, _ in damaged), found


def test_a_fid_outside_its_partition_is_not_followed(
    images: dict[str, Path], tmp_path: Path
) -> None:
    data = bytearray(images["dvd-ram"].read_bytes())
    point_fid(data, "README.TXT", 0x7FFFFF00)
    bad = tmp_path / "outside.img"
    bad.write_bytes(bytes(data))
    code, found = validated(bad)
    assert code == 1
    assert ("media.udf-damaged", "an extent at block 2147483392 runs past the end of its "
            "partition; not read", "README.TXT") in found  # fmt: skip
    with open_media(bad) as reader:
        assert "README.TXT" not in {e.path for e in reader.entries()}
        assert "DICOMDIR" in {e.path for e in reader.entries()}


def root_block(data: bytes) -> int:
    """The root directory's ICB block: the parent FID (4/14.4.3, characteristics 0x0A) that
    opens the directory holding DICOMDIR points to the root itself (UDF 2.3.4.3)."""
    dicomdir = fid_offsets(data, "DICOMDIR")[0]
    parents = [m.start() for m in re.finditer(b"\x01\x01", data[:dicomdir])
               if data[m.start() + 18] == 0x0A and data[m.start() + 19] == 0]  # fmt: skip
    return int(struct.unpack_from("<I", data, parents[-1] + 24)[0])


def test_a_directory_that_contains_itself_is_refused(
    images: dict[str, Path], tmp_path: Path
) -> None:
    data = bytearray(images["bd"].read_bytes())
    point_fid(data, "DICOM", root_block(bytes(data)))  # DICOM is the root: a loop
    looped = tmp_path / "loop.img"
    looped.write_bytes(bytes(data))
    code, found = validated(looped)
    assert code == 1
    assert ("media.udf-damaged", "a directory that contains itself (loop); not followed",
            "DICOM") in found  # fmt: skip
    with open_media(looped) as reader:
        assert isinstance(reader, UdfReader)
        assert not any(e.path.startswith("DICOM/") for e in reader.entries())


def test_a_bad_tag_crc_is_a_finding(images: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(images["dvd-ram"].read_bytes())
    block = struct.unpack_from("<I", data, fid_offsets(data, "README.TXT")[0] + 24)[0]
    entry = (PARTITION_START + block) * 2048  # UDF 1.50: the File Entry in partition 0
    assert struct.unpack_from("<H", data, entry)[0] == ecma167.FE
    data[entry + 100] ^= 0xFF
    bad = tmp_path / "crc.img"
    bad.write_bytes(bytes(data))
    code, found = validated(bad)
    assert code == 1
    assert ("media.udf-damaged", f"File Entry at block {block}: bad descriptor CRC; not read",
            "README.TXT") in found  # fmt: skip
    for sector in (32 + 3, 48 + 3):  # the Logical Volume Descriptor, Main and Reserve
        data[sector * 2048 + 30] ^= 0xFF
    bad.write_bytes(bytes(data))
    code, found = validated(bad)
    assert code == 1
    assert [c for c, _, _ in found] == ["media.udf-damaged"]
    assert found[0][1] == (
        "descriptor at sector 35: bad descriptor CRC; descriptor at sector 51: bad descriptor CRC"
    )
    listed = cli("import", str(bad), "--list")
    assert listed.exit_code == 2 and "Traceback" not in listed.stderr
    assert listed.stderr.startswith(f"Error: cannot read UDF image {str(bad)!r}: descriptor at")


# --- PS3.12 Annex X: no VAT, no sparing table on a BD --------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "revision", "message"),
    [
        pytest.param("bdr", "2.50", "a VAT (UDF virtual partition): mediatool does not read it, "
                     "and PS3.12 Annex X forbids it on a BD", id="vat"),
        pytest.param("cdrw", "2.01", "the volume has a sparing table; PS3.12 Annex X forbids it "
                     "on a BD", id="sparing"),
    ],
)  # fmt: skip
def test_a_bd_with_a_vat_or_a_sparing_table_breaks_annex_x(
    tmp_path: Path, media_type: str, revision: str, message: str
) -> None:
    image = tmp_path / "mkudffs.img"
    image.write_bytes(b"")
    os.truncate(image, 50 * 2**20)
    made = run("mkudffs", f"--media-type={media_type}", f"--udfrev={revision}", image)
    assert made.returncode == 0, made.stderr
    result = cli("validate", str(image), "--profile", "STD-GEN-BD", "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 1
    assert ("media.udf-layout", message) in {(f["code"], f["message"]) for f in doc["findings"]}


# --- spanning: tests/media/test_filesystems.py (dvd and bd) ------------------------------------


def test_an_image_beyond_the_capacity_is_refused_before_writing(
    images: dict[str, Path], tmp_path: Path
) -> None:
    disc = tmp_path / "DISC"
    with open_media(images["bd"]) as reader:  # the File-set as a folder, from our own image
        for entry in reader.entries():
            target = disc / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with reader.open(entry) as fp:
                target.write_bytes(fp.read())
    size = udf.image_size(disc, "X", "bd")
    assert size == images["bd"].stat().st_size
    with pytest.raises(OutputError, match=rf"^the File-set needs {size} bytes; the medium holds"):
        udf.pack(disc, tmp_path / "x.img", medium="bd", volume_id="X", date=None,
                 capacity=size - 2048)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DISC"]
    made = udf.pack(disc, tmp_path / "x.img", medium="bd", volume_id="X", date=None, capacity=size)
    assert made.size == size
