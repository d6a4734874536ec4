"""Inputs for the profile tests: pydicom's bundled compressed files (each with a SOP Instance UID
of its own: several of them share one), and synthetic X-Ray Angiographic images."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, XRayAngiographicImageStorage

from mediatool.cli import main
from mediatool.dicom.uids import derive_uid

#: pydicom's compressed (and oddly encoded) test files that build converts for STD-GEN-CD.
COMPRESSED = (
    "JPEG2000.dcm",  # JPEG 2000 (lossy syntax), 16-bit signed
    "MR_small_jp2klossless.dcm",  # JPEG 2000 lossless
    "MR_small_RLE.dcm",  # RLE
    "SC_rgb_rle.dcm",  # RLE colour
    "SC_rgb_rle_2frame.dcm",  # RLE colour, 2 frames
    "SC_rgb_rle_16bit.dcm",  # RLE colour 16-bit
    "JPGExtended.dcm",  # JPEG Extended 12-bit
    "MR_small_jpeg_ls_lossless.dcm",  # JPEG-LS lossless
    "SC_rgb_jpeg_dcmtk.dcm",  # JPEG baseline YBR_FULL
    "SC_rgb_dcmtk_+eb+cy+np.dcm",  # JPEG baseline YBR_FULL_422
    "image_dfl.dcm",  # deflated
    "MR_small_bigendian.dcm",  # Explicit VR Big Endian
    "examples_jpeg2k.dcm",  # JPEG 2000 colour (US)
)
ROOT = "1.2.826.0.1.3680043.10.1137.55"


def run(*args: Any) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def build_json(*args: Any) -> tuple[Result, dict[str, Any]]:
    result = run("build", *args, "--json", "-q")
    return result, json.loads(result.stdout) if result.stdout.strip() else {}


def validate_json(path: Path, profile: str, *extra: Any) -> dict[str, Any]:
    result = run("validate", path, "--profile", profile, "--json", *extra)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def errors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["severity"] == "error"]


@pytest.fixture(scope="session")
def pydicom_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The compressed files, each with its own SOP Instance UID (derived from its name)."""
    src = tmp_path_factory.mktemp("pydicom-inputs") / "in"
    src.mkdir()
    for name in COMPRESSED:
        path = get_testdata_file(name, download=False)
        assert path, name
        ds = dcmread(path)
        ds.SOPInstanceUID = derive_uid("profiles-test", name)
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(src / name.replace("+", "_"))
    return src


def uid_of(path: Path) -> str:
    return str(dcmread(path, stop_before_pixels=True).SOPInstanceUID)


def pixels_by_uid(folder: Path) -> dict[str, np.ndarray]:
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        ds = dcmread(path)
        if "PixelData" in ds and "DirectoryRecordSequence" not in ds:
            out[str(ds.SOPInstanceUID)] = ds.pixel_array
    return out


def make_xa(number: int, *, frames: int = 1, bits: int = 8, size: int = 128) -> Dataset:
    """An X-Ray Angiographic image with what its IOD asks for, in Explicit VR Little Endian."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]
    ds.SOPClassUID = XRayAngiographicImageStorage
    ds.SOPInstanceUID = f"{ROOT}.1.1.{number}"
    ds.StudyDate, ds.StudyTime, ds.ContentDate, ds.ContentTime = (
        "20240101",
        "120000",
        "20240101",
        "120000",
    )
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.Manufacturer = "ACC", "", "Test"
    ds.Modality = "XA"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = (
        "Cardio^Test",
        "XA01",
        "19600101",
        "M",
    )
    ds.StudyInstanceUID, ds.SeriesInstanceUID = f"{ROOT}.1", f"{ROOT}.1.1"
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, number
    ds.Laterality = ""
    ds.PatientOrientation = ""
    ds.KVP = 80
    ds.RadiationSetting = "GR"
    ds.PositionerMotion = "STATIC"
    ds.PositionerPrimaryAngle = 0
    ds.PositionerSecondaryAngle = 0
    ds.PixelIntensityRelationship = "LIN"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated = 8 if bits == 8 else 16
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, 0
    y, x = np.mgrid[0:size, 0:size]
    arr = np.stack([(x * 3 + y * 5 + f * 11 + number) % (1 << bits) for f in range(frames)])
    arr = arr.astype(np.uint8 if bits == 8 else np.uint16)
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameIncrementPointer = 0x00181063
        ds.FrameTime = 33.3
        ds.CineRate = 30
    ds.PixelData = arr.tobytes()
    return ds


@pytest.fixture
def xa_folder(tmp_path: Path) -> Callable[..., Path]:
    def make(*specs: dict[str, Any]) -> Path:
        folder = tmp_path / "xa-in"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for n, spec in enumerate(specs, 1):
            make_xa(n, **spec).save_as(folder / f"xa{n}.dcm", enforce_file_format=True)
        return folder

    return make
