"""build --profile converts what it lawfully can and refuses the rest; validate --profile holds
the result to the same rules. Pixel data must survive every lossless conversion unchanged."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import oracles
import pytest
from profile_helpers import build_json, errors, make_xa, pixels_by_uid, run, uid_of, validate_json
from pydicom import dcmread
from pydicom.uid import UID

from mediatool.dicom.elements import insert_element

ELE = "1.2.840.10008.1.2.1"
JPEG_LOSSLESS = "1.2.840.10008.1.2.4.70"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"


def _dciodvfy_new_errors(source: Path, written: Path) -> list[str]:
    """IOD errors of the written file that its input did not already have (an input dciodvfy
    cannot read, e.g. deflated, is compared as pydicom re-encodes it)."""
    report = oracles.dciodvfy(source)
    if any("read failed" in e for e in report.errors):
        plain = written.with_name(written.name + ".reference")
        reference = dcmread(source)
        reference.file_meta.TransferSyntaxUID = UID(ELE)
        reference.save_as(plain, implicit_vr=False, little_endian=True)
        report = oracles.dciodvfy(plain)
        plain.unlink()
    before = set(report.errors)
    return [e for e in oracles.dciodvfy(written).errors if e not in before]


def _instances(out: Path) -> list[Path]:
    return sorted(p for p in (out / "DICOM").rglob("*") if p.is_file())


def _assert_same_pixels(src: Path, out: Path) -> None:
    before, after = pixels_by_uid(src), pixels_by_uid(out / "DICOM")
    assert set(after) == set(before)
    for uid, arr in before.items():
        assert arr.shape == after[uid].shape, uid
        assert np.array_equal(arr, after[uid]), uid


def _assert_icon_shows_its_frame(out: Path, record: Any, icon: Any) -> None:
    """The icon is a picture of the representative frame (PS3.11 A.3.3.2: a third of the way
    through) of the instance its record references, not of another frame or instance."""
    image = dcmread(out.joinpath(*record.ReferencedFileID))
    assert image.SOPInstanceUID == record.ReferencedSOPInstanceUIDInFile
    frames = image.pixel_array.reshape(-1, image.Rows, image.Columns).astype(np.float64)
    shown = np.frombuffer(icon.PixelData, np.uint8).reshape(128, 128).astype(np.float64)
    likeness = [float(np.corrcoef(shown.ravel(), f.ravel())[0, 1]) for f in frames]
    expected = (len(frames) - 1) // 3
    assert likeness[expected] > 0.99, likeness
    assert all(v < likeness[expected] for i, v in enumerate(likeness) if i != expected), likeness


@pytest.fixture(scope="module")
def gen_cd(
    pydicom_inputs: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("gen-cd") / "out"
    result, doc = build_json(pydicom_inputs, "--out", out, "--invent")
    assert result.exit_code == 0, result.stderr
    return out, doc


def test_std_gen_cd_decodes_everything_to_explicit_vr_little_endian(
    gen_cd: tuple[Path, dict[str, Any]], pydicom_inputs: Path
) -> None:
    out, doc = gen_cd
    assert doc["counts"]["actions"].get("decompress", 0) >= 10
    for path in _instances(out):
        assert str(dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID) == ELE
    _assert_same_pixels(pydicom_inputs, out)


def test_lossy_input_decoded_stays_marked_lossy(gen_cd: tuple[Path, dict[str, Any]]) -> None:
    out, _ = gen_cd
    uid = uid_of(next(p for p in out.parent.parent.glob("**/JPGExtended.dcm")))
    ds = next(d for d in (dcmread(p) for p in _instances(out)) if str(d.SOPInstanceUID) == uid)
    assert ds.LossyImageCompression == "01"  # PS3.3 C.7.6.1.1.5: once lossy, always marked


@pytest.mark.oracle
def test_converted_std_gen_cd_passes_dciodvfy_and_validate(
    gen_cd: tuple[Path, dict[str, Any]], pydicom_inputs: Path
) -> None:
    out, _ = gen_cd
    report = oracles.dciodvfy(out / "DICOMDIR")
    assert report.errors == [], report.describe()
    by_uid = {uid_of(p): p for p in pydicom_inputs.iterdir()}
    for path in _instances(out):
        assert _dciodvfy_new_errors(by_uid[uid_of(path)], path) == [], path
    assert errors(validate_json(out, "STD-GEN-CD")) == []


@pytest.mark.parametrize(
    ("profile", "target"),
    [("STD-GEN-DVD-JPEG", JPEG_LOSSLESS), ("STD-GEN-USB-J2K", J2K_LOSSLESS)],
)
def test_compress_lossless_to_the_profile_syntax(
    pydicom_inputs: Path, tmp_path: Path, profile: str, target: str
) -> None:
    out = tmp_path / "out"
    result, _ = build_json(
        pydicom_inputs, "--out", out, "--invent", "--profile", profile, "--compress", "lossless"
    )
    assert result.exit_code == 0, result.stderr
    lossy = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.91"}
    for path in _instances(out):
        ts = str(dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
        assert ts == target or ts in lossy, (path, ts)  # lossy input kept when allowed
    _assert_same_pixels(pydicom_inputs, out)
    assert errors(validate_json(out, profile)) == []
    assert oracles.dciodvfy(out / "DICOMDIR").errors == []


def test_input_a_profile_allows_is_kept_as_is(pydicom_inputs: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("JPEG2000.dcm", "MR_small_jp2klossless.dcm"):
        shutil.copy(pydicom_inputs / name, src / name)
    result, doc = build_json(src, "--out", tmp_path / "out", "--profile", "STD-GEN-DVD-J2K")
    assert result.exit_code == 0, result.stderr
    assert doc["counts"]["actions"] == {"copy": 2}
    for path in _instances(tmp_path / "out"):
        original = src / next(
            n
            for n in ("JPEG2000.dcm", "MR_small_jp2klossless.dcm")
            if uid_of(src / n) == uid_of(path)
        )
        assert dcmread(path).PixelData == dcmread(original).PixelData


@pytest.mark.oracle
def test_our_jpeg_lossless_decodes_identically_in_dcmtk_and_gdcm(
    pydicom_inputs: Path, tmp_path: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in (
        "MR_small_bigendian.dcm",
        "SC_rgb_rle_2frame.dcm",
        "JPEG2000.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "examples_jpeg2k.dcm",
    ):
        shutil.copy(pydicom_inputs / name, src / name)
    out = tmp_path / "out"
    result, _ = build_json(
        src,
        "--out",
        out,
        "--profile",
        "STD-GEN-DVD-JPEG",
        "--compress",
        "lossless",
        "--invent",
        "--no-web",
    )
    assert result.exit_code == 0, result.stderr
    expected = pixels_by_uid(src)
    for path in _instances(out):
        assert str(dcmread(path).file_meta.TransferSyntaxUID) == JPEG_LOSSLESS
        for tool, args in (("dcmdjpeg", []), ("gdcmconv", ["--raw"])):
            decoded = tmp_path / f"{path.name}.{tool}.dcm"
            oracles.require_tool(tool)
            import subprocess

            subprocess.run([tool, *args, str(path), str(decoded)], check=True, capture_output=True)
            ds = dcmread(decoded)
            assert np.array_equal(ds.pixel_array, expected[str(ds.SOPInstanceUID)]), (tool, path)


def test_xabc_compresses_xa_and_adds_128_icons(
    xa_folder: Callable[..., Path], tmp_path: Path
) -> None:
    src = xa_folder({}, {"frames": 9})
    out = tmp_path / "out"
    result, doc = build_json(src, "--out", out, "--profile", "STD-XABC-CD")
    assert result.exit_code == 0, result.stderr
    assert doc["counts"]["actions"] == {"compress": 2}
    for path in _instances(out):
        assert str(dcmread(path).file_meta.TransferSyntaxUID) == JPEG_LOSSLESS
    _assert_same_pixels(src, out)
    dicomdir = dcmread(out / "DICOMDIR")
    images = [r for r in dicomdir.DirectoryRecordSequence if r.DirectoryRecordType == "IMAGE"]
    assert len(images) == 2
    for record in images:
        (icon,) = record.IconImageSequence
        assert (icon.Rows, icon.Columns, icon.BitsAllocated, icon.BitsStored, icon.HighBit) == (
            128, 128, 8, 8, 7,
        )  # fmt: skip
        assert icon.PhotometricInterpretation == "MONOCHROME2" and icon.SamplesPerPixel == 1
        assert icon.PixelRepresentation == 0 and len(icon.PixelData) == 128 * 128
        assert icon["PixelData"].VR == "OB"
        assert np.frombuffer(icon.PixelData, np.uint8).std() > 0  # a picture, not blank
        _assert_icon_shows_its_frame(out, record, icon)
    assert errors(validate_json(out, "STD-XABC-CD")) == []
    report = oracles.dciodvfy(out / "DICOMDIR")
    assert report.errors == [], report.describe()
    for path in _instances(out):
        source = next(p for p in src.iterdir() if uid_of(p) == uid_of(path))
        assert _dciodvfy_new_errors(source, path) == []


def test_icon_of_a_multiframe_image_is_its_representative_frame() -> None:
    from mediatool.pixels.icons import representative_frame

    ds = make_xa(1, frames=9)
    assert representative_frame(ds) == 2  # a third of the way through (A.3.3.2)
    ds.RepresentativeFrameNumber = 7
    assert representative_frame(ds) == 6


def test_xabc_refuses_what_it_cannot_fit(
    xa_folder: Callable[..., Path], pydicom_inputs: Path, tmp_path: Path
) -> None:
    src = xa_folder({"bits": 12})
    shutil.copy(pydicom_inputs / "MR_small_RLE.dcm", src / "mr.dcm")
    result, doc = build_json(src, "--out", tmp_path / "out", "--profile", "STD-XABC-CD")
    assert result.exit_code == 1
    found = {(f["code"], Path(f["where"]).name) for f in errors(doc)}
    assert ("profile.sop-class-not-allowed", "mr.dcm") in found
    assert ("profile.image-constraint", "xa1.dcm") in found
    assert not (tmp_path / "out").exists()


def test_ctmr_icons_and_validate_d12_g07(pydicom_inputs: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("MR_small_RLE.dcm", "MR_small_bigendian.dcm"):
        shutil.copy(pydicom_inputs / name, src / name)
    out = tmp_path / "out"
    result, _ = build_json(src, "--out", out, "--profile", "STD-CTMR-CD", "--invent")
    assert result.exit_code == 0, result.stderr
    records = dcmread(out / "DICOMDIR").DirectoryRecordSequence
    icons = [r.IconImageSequence[0] for r in records if "IconImageSequence" in r]
    assert len(icons) == 2 and {(i.Rows, i.Columns) for i in icons} == {(64, 64)}
    assert errors(validate_json(out, "STD-CTMR-CD")) == []
    # the same disc held to a profile that wants 32x32 icons on every IMAGE record (D12) ...
    mine = tmp_path / "profiles"
    mine.mkdir()
    text = (Path(__file__).parents[2] / "profiles" / "STD-CTMR-CD.toml").read_text()
    (mine / "AUG-ICON32-CD.toml").write_text(
        text.replace('id = "STD-CTMR-CD"', 'id = "AUG-ICON32-CD"')
        .replace("size = 64", "size = 32")
        .replace("required = false", "required = true")
    )
    doc = validate_json(out, "AUG-ICON32-CD", "--profile-dir", mine)
    assert {f["code"] for f in errors(doc)} == {"profile.icon-form"}
    # ... and a disc without icons to one that requires them (G07)
    plain = tmp_path / "plain"
    assert run("build", src, "--out", plain, "--invent", "-q").exit_code == 0
    doc = validate_json(plain, "AUG-ICON32-CD", "--profile-dir", mine)
    # (STD-GEN-CD records also lack the profile's Type 1 Rows and Columns: D04)
    assert {f["code"] for f in errors(doc)} == {"profile.icon-missing", "profile.key-missing"}


def test_validate_d12_on_a_bad_icon_record() -> None:
    from mediatool.pixels.icons import encode_icon

    icon = encode_icon(bytes(64 * 64), 64)
    keys = b"\x20\x00\x13\x00IS\x02\x001 "
    assert insert_element(keys, icon, 0x00880200) == keys + icon
    assert insert_element(icon, keys, 0x00200013) == keys + icon


def test_lossy_only_when_allowed(pydicom_inputs: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(pydicom_inputs / "MR_small_bigendian.dcm", src / "mr.dcm")
    refused = run(
        "build", src, "--out", tmp_path / "x", "--profile", "STD-GEN-DVD-J2K", "--compress", "lossy"
    )
    assert refused.exit_code == 2 and "--allow-lossy" in refused.stderr
    out = tmp_path / "out"
    result, doc = build_json(
        src,
        "--out",
        out,
        "--profile",
        "STD-GEN-DVD-J2K",
        "--invent",
        "--compress",
        "lossy",
        "--allow-lossy",
    )
    assert result.exit_code == 0, result.stderr
    assert "build.lossy" in {f["code"] for f in doc["findings"]}
    (path,) = _instances(out)
    ds = dcmread(path)
    original = dcmread(src / "mr.dcm")
    assert str(ds.file_meta.TransferSyntaxUID) == "1.2.840.10008.1.2.4.91"
    assert ds.SOPInstanceUID != original.SOPInstanceUID
    assert ds.LossyImageCompression == "01"
    assert ds.LossyImageCompressionMethod == "ISO_15444_1"
    assert float(ds.LossyImageCompressionRatio) > 1
    assert ds.ImageType[0] == "DERIVED"
    (source,) = ds.SourceImageSequence
    assert source.ReferencedSOPInstanceUID == original.SOPInstanceUID
    assert source.PurposeOfReferenceCodeSequence[0].CodeValue == "121320"
    assert errors(validate_json(out, "STD-GEN-DVD-J2K")) == []
    assert oracles.dciodvfy(out / "DICOMDIR").errors == []
