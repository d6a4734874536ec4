"""Small synthetic instances with fixed UIDs (no randomness), for unit and CLI tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian

ROOT = "1.2.826.0.1.3680043.10.1137"  # fixed test root; these UIDs only ever live in tests


def uid(*parts: int) -> str:
    return ".".join([ROOT, *(str(p) for p in parts)])


def make_instance(
    patient: int = 1, study: int = 1, series: int = 1, number: int = 1, **overrides: Any
) -> Dataset:
    """A tiny valid CT image (4x4, 16-bit) with UIDs derived from the numbers given."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = uid(patient, study, series, number)
    ds.StudyDate = "20240312"
    ds.StudyTime = "101500"
    ds.AccessionNumber = f"A{patient}{study}"
    ds.Modality = "CT"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "CT Thorax"
    ds.PatientName = f"Test^Patient{patient}"
    ds.PatientID = f"PID{patient:04d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyInstanceUID = uid(patient, study)
    ds.SeriesInstanceUID = uid(patient, study, series)
    ds.StudyID = f"S{study}"
    ds.SeriesNumber = series
    ds.InstanceNumber = number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 4
    ds.Columns = 4
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.PixelData = (np.arange(16, dtype="<u2") * (number + 1)).tobytes()
    for key, value in overrides.items():
        if value is None:
            if key in ds:
                delattr(ds, key)
        else:
            setattr(ds, key, value)
    return ds


def write_instance(path: Path, ds: Dataset, *, meta: bool = True, implicit: bool = False) -> Path:
    """Write ``ds`` as a Part 10 file (or, with ``meta=False``, a raw data set)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ts = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    if meta:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ts
        ds.file_meta.ImplementationClassUID = UID(ROOT + ".99")
        dcmwrite(path, ds, enforce_file_format=True)
    else:
        dcmwrite(path, ds, implicit_vr=implicit, little_endian=True)
    return path


def study_folder(root: Path, *, patients: int = 2, series: int = 2, instances: int = 3) -> Path:
    """A messy folder of instances: nested, lower case, with extensions."""
    for p in range(1, patients + 1):
        for s in range(1, series + 1):
            for i in range(1, instances + 1):
                write_instance(
                    root / f"patient {p}" / f"series_{s}" / f"img-{i:03d}.dcm",
                    make_instance(p, 1, s, i),
                )
    return root
