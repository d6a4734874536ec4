"""Helpers of the profile tests (tests/profiles): CLI runs, JSON documents, synthetic XA images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner, Result
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, XRayAngiographicImageStorage

from mediatool.cli import main

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
