"""Image IOD builders for the sample generator (``mediatool.sample``).

Each builder returns one composite instance with the Type 1 and Type 2 attributes of the modules
its IOD requires in PS3.3 Annex A (Patient, General Study, General Series, General Equipment,
Frame of Reference, General Image, Image Plane, Image Pixel, the modality module, SOP Common).
Everything is derived from the arguments: no clock, no global random state.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from pydicom import Dataset
from pydicom.sequence import Sequence

# Shape list for the synthetic phantoms: (centre x, centre y, radius x, radius y, value),
# coordinates in [-1, 1]; later shapes paint over earlier ones.
Shape = tuple[float, float, float, float, float]

#: (manufacturer, model, station, software) per modality; fictional vendors on purpose.
_EQUIPMENT: Final[dict[str, tuple[str, str, str, str]]] = {
    "CT": ("Voxelworks", "VX Scan 64", "CT01", "VX 4.2.1"),
    "MR": ("Magnetix", "Magnetix Aura 1.5T", "MR_NORD", "MX 11"),
    "US": ("Sonora", "Sonora Vivid", "ECHO3", "SV 2.0"),
    "CR": ("Radiant", "Radiant CR 500", "CR_ROOM2", "RC 7.1"),
    "MG": ("Radiant", "Radiant Mammo DR", "MAMMO1", "RM 3.3"),
    "PT": ("Voxelworks", "VX PET/CT", "PETCT1", "VX 4.2.1"),
    "XA": ("Angiomed", "Angiomed Flux", "CATHLAB1", "AF 5"),
}
_DEFAULT_EQUIPMENT: Final = ("ForeignPACS", "Archive", "PACS1", "2.0")


@dataclass(frozen=True, slots=True)
class Patient:
    """Patient module values (PS3.3 C.7.1.1); ``charset`` is (0008,0005), empty for the default."""

    name: str
    patient_id: str
    birth_date: str
    sex: str
    charset: tuple[str, ...] = ()
    referring: str = "Weber^Anna^^Dr."


@dataclass(frozen=True, slots=True)
class Study:
    """General Study module values (PS3.3 C.7.2.1)."""

    patient: Patient
    uid: str
    date: str
    time: str
    study_id: str
    accession: str
    description: str


@dataclass(frozen=True, slots=True)
class Series:
    """General Series values plus the series' Frame of Reference UID (PS3.3 C.7.3.1, C.7.4.1)."""

    study: Study
    uid: str
    number: int
    modality: str
    description: str
    frame_of_reference: str
    time: str


@dataclass(frozen=True, slots=True)
class Ref:
    """One SOP Instance: what a builder makes and what other objects point at."""

    series: Series
    sop_class: str
    sop_instance: str
    number: int
    z: float = 0.0


def ds_str(value: float) -> str:
    """A Decimal String (DS) value: at most 16 characters (PS3.5 Table 6.2-1)."""
    return f"{value:.6g}"


def code(value: str, scheme: str, meaning: str) -> Dataset:
    """One Code Sequence item (PS3.3 Table 8.8-1)."""
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def sop_ref(ref: Ref) -> Dataset:
    """SOP Instance Reference Macro item (PS3.3 Table 10-11)."""
    item = Dataset()
    item.ReferencedSOPClassUID = ref.sop_class
    item.ReferencedSOPInstanceUID = ref.sop_instance
    return item


def composite(ref: Ref) -> Dataset:
    """Patient, General Study, General Series, General Equipment and SOP Common modules."""
    series, study = ref.series, ref.series.study
    patient = study.patient
    ds = Dataset()
    if patient.charset:
        ds.SpecificCharacterSet = list(patient.charset)
    ds.SOPClassUID = ref.sop_class
    ds.SOPInstanceUID = ref.sop_instance
    ds.InstanceCreationDate = study.date
    ds.InstanceCreationTime = series.time
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.StudyInstanceUID = study.uid
    ds.StudyDate = study.date
    ds.StudyTime = study.time
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession
    ds.StudyDescription = study.description
    ds.ReferringPhysicianName = patient.referring
    ds.Modality = series.modality
    ds.SeriesInstanceUID = series.uid
    ds.SeriesNumber = series.number
    ds.SeriesDescription = series.description
    ds.SeriesDate = study.date
    ds.SeriesTime = series.time
    ds.InstanceNumber = ref.number
    ds.ContentDate = study.date
    ds.ContentTime = series.time
    maker, model, station, software = _EQUIPMENT.get(series.modality, _DEFAULT_EQUIPMENT)
    ds.Manufacturer = maker
    ds.ManufacturerModelName = model
    ds.StationName = station
    ds.SoftwareVersions = software
    ds.InstitutionName = "St. Elsewhere Hospital"
    ds.DeviceSerialNumber = "SN-0042"
    return ds


def _image(ds: Dataset, ref: Ref, image_type: Seq[str]) -> None:
    """General Image and General Acquisition module values (PS3.3 C.7.6.1, C.7.10.1)."""
    ds.ImageType = list(image_type)
    ds.AcquisitionNumber = 1
    ds.AcquisitionDate = ref.series.study.date
    ds.AcquisitionTime = ref.series.time
    ds.BurnedInAnnotation = "NO"


def pixels(
    ds: Dataset, frames: NDArray[np.generic], *, bits_stored: int, color: bool = False
) -> None:
    """Image Pixel module (PS3.3 C.7.6.3) from a ([frames,] rows, columns[, 3]) array."""
    ds.SamplesPerPixel = 3 if color else 1
    if color:
        ds.PhotometricInterpretation = "RGB"
        ds.PlanarConfiguration = 0
    rows, columns = frames.shape[-3:-1] if color else frames.shape[-2:]
    ds.Rows, ds.Columns = int(rows), int(columns)
    bits = frames.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if frames.dtype.kind == "i" else 0
    data = frames.astype(frames.dtype.newbyteorder("<")).tobytes()
    ds.add_new(0x7FE00010, "OB" if bits == 8 else "OW", data + b"\0" * (len(data) % 2))


def plane(ds: Dataset, ref: Ref, spacing: float, size: int, *, sagittal: bool = False) -> None:
    """Frame of Reference and Image Plane modules (PS3.3 C.7.4.1, C.7.6.2)."""
    ds.FrameOfReferenceUID = ref.series.frame_of_reference
    ds.PositionReferenceIndicator = ""
    half = spacing * size / 2
    if sagittal:
        ds.ImageOrientationPatient = ["0", "1", "0", "0", "0", "-1"]
        ds.ImagePositionPatient = [ds_str(ref.z), ds_str(-half), ds_str(half)]
    else:
        ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        ds.ImagePositionPatient = [ds_str(-half), ds_str(-half), ds_str(ref.z)]
    ds.PixelSpacing = [ds_str(spacing), ds_str(spacing)]
    ds.SliceLocation = ds_str(ref.z)


def window(ds: Dataset, center: float, width: float) -> None:
    """VOI LUT module window (PS3.3 C.11.2)."""
    ds.WindowCenter = ds_str(center)
    ds.WindowWidth = ds_str(width)


def phantom(
    size: int, shapes: Seq[Shape], noise: float, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Ellipses painted on a zero background plus Gaussian noise: a cheap synthetic phantom."""
    y, x = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    img = np.zeros((size, size))
    for cx, cy, rx, ry, value in shapes:
        img[((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0] = value
    return img + rng.normal(0.0, noise, img.shape)


def _thorax(z_frac: float) -> list[Shape]:
    lung = 0.28 * (1.0 - 0.5 * abs(z_frac - 0.5))
    return [
        (0.0, 0.05, 0.85, 0.62, 1064.0),  # soft tissue, HU 40 + 1024
        (-0.4, 0.0, lung, lung * 1.4, 174.0),  # lungs, HU -850
        (0.4, 0.0, lung, lung * 1.4, 174.0),
        (0.08, 0.05, 0.2, 0.18, 1074.0),  # heart
        (0.0, 0.5, 0.1, 0.1, 1724.0),  # spine, HU 700
    ]


def ct_image(ref: Ref, rng: np.random.Generator, *, z_frac: float, signed: bool = False) -> Dataset:
    """CT Image IOD (PS3.3 A.3), 64x64, stored 12-bit unsigned or 16-bit signed."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY", "AXIAL"])
    plane(ds, ref, 7.8125, 64)
    ds.SliceThickness = "5"
    ds.PatientPosition = "HFS"
    ds.BodyPartExamined = "CHEST"
    ds.PhotometricInterpretation = "MONOCHROME2"
    stored = np.clip(phantom(64, _thorax(z_frac), 12.0, rng), 0, 4095)
    if signed:  # stored values are HU (Rescale Intercept 0), as some vendors write them
        pixels(ds, (stored - 1024).astype(np.int16), bits_stored=16)
        ds.RescaleIntercept = "0"
    else:
        pixels(ds, stored.astype(np.uint16), bits_stored=12)
        ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.KVP = "120"
    ds.XRayTubeCurrent = 200
    ds.ExposureTime = 500
    ds.ConvolutionKernel = "B30f"
    ds.ScanOptions = "HELICAL"
    window(ds, 40, 400)
    return ds


def mr_image(ref: Ref, rng: np.random.Generator, *, t2: bool) -> Dataset:
    """MR Image IOD (PS3.3 A.4): head phantom, T1 axial spin echo or T2 sagittal turbo spin echo."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY", "OTHER"])
    plane(ds, ref, 3.75, 64, sagittal=t2)
    fluid, brain = (1400.0, 700.0) if t2 else (250.0, 600.0)
    shapes = [
        (0.0, 0.0, 0.8, 0.92, 900.0),
        (0.0, 0.0, 0.72, 0.84, brain),
        (0.0, 0.0, 0.12, 0.3, fluid),
    ]
    pixels(ds, np.clip(phantom(64, shapes, 20.0, rng), 0, 4095).astype(np.uint16), bits_stored=12)
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = ["SK", "SP"]
    ds.ScanOptions = "PFP"
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "*tse2d1_15" if t2 else "*se2d1"
    ds.RepetitionTime = "4000" if t2 else "500"
    ds.EchoTime = "98" if t2 else "12"
    ds.EchoTrainLength = 15 if t2 else 1
    ds.EchoNumbers = 1
    ds.AngioFlag = "N"
    ds.SliceThickness = "5"
    ds.SpacingBetweenSlices = "6"
    ds.MagneticFieldStrength = "1.5"
    ds.ImagingFrequency = "63.6"
    ds.ImagedNucleus = "1H"
    ds.FlipAngle = "150" if t2 else "90"
    ds.PatientPosition = "HFS"
    ds.BodyPartExamined = "HEAD"
    window(ds, fluid / 2 + 300, fluid + 400)
    return ds


def us_image(ref: Ref, rng: np.random.Generator) -> Dataset:
    """US Image IOD (PS3.3 A.6): one RGB frame with a speckled sector, Planar Configuration 0."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY", "CHEST", "0001"])
    ds.PatientOrientation = ""
    y, x = np.mgrid[0:64, -32:32]
    radius = np.hypot(x, y)
    sector = (radius < 60) & (np.abs(np.arctan2(x, y + 1e-9)) < 0.6)
    gray = np.where(sector, rng.gamma(2.0, 40.0, (64, 64)).clip(0, 255), 0).astype(np.uint8)
    rgb = np.stack([gray, gray, gray], axis=-1)
    rgb[2:6, 2:20] = (255, 200, 0)  # a coloured label bar, as real echo screens have
    pixels(ds, rgb, bits_stored=8, color=True)
    ds.LossyImageCompression = "00"
    ds.TransducerData = "S5-1"
    ds.BodyPartExamined = "HEART"
    ds.HeartRate = 72
    return ds


def cr_image(ref: Ref, rng: np.random.Generator) -> Dataset:
    """CR Image IOD (PS3.3 A.2): PA chest stored as MONOCHROME1."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY"])
    ds.PatientOrientation = ["L", "F"]
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    # MONOCHROME1: the highest stored value is displayed black, so the directly exposed
    # background and the aerated lungs get high values, the mediastinum low ones.
    shapes = [
        (0.0, 0.0, 2.0, 2.0, 3900.0),
        (0.0, 0.15, 0.9, 0.9, 1500.0),
        (-0.42, 0.0, 0.3, 0.55, 3000.0),
        (0.42, 0.0, 0.3, 0.55, 3000.0),
    ]
    stored = np.clip(phantom(64, shapes, 40.0, rng), 0, 4095)
    pixels(ds, stored.astype(np.uint16), bits_stored=12)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.KVP = "125"
    ds.ImagerPixelSpacing = ["6", "6"]
    ds.PlateID = "PLATE-17"
    window(ds, 2048, 4096)
    return ds


def mg_image(ref: Ref, rng: np.random.Generator, *, laterality: str) -> Dataset:
    """Digital Mammography X-Ray Image IOD, For Presentation (PS3.3 A.27), CC view."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY", ""])
    side = -1.0 if laterality == "R" else 1.0
    shapes = [(side, 0.0, 0.95, 0.85, 1800.0), (side * 0.8, 0.1, 0.2, 0.15, 2500.0)]
    pixels(ds, np.clip(phantom(64, shapes, 30.0, rng), 0, 4095).astype(np.uint16), bits_stored=12)
    ds.PhotometricInterpretation = "MONOCHROME2"
    # CC views are displayed lateral side up (row direction nipple-ward or chest-ward)
    ds.PatientOrientation = ["A", "L"] if laterality == "R" else ["P", "R"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageLaterality = laterality
    ds.AnatomicRegionSequence = Sequence([code("76752008", "SCT", "Breast")])
    view = code("399162004", "SCT", "cranio-caudal")
    view.ViewModifierCodeSequence = Sequence()
    ds.ViewCodeSequence = Sequence([view])
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "IDENTITY"
    ds.LossyImageCompression = "00"
    ds.DetectorType = "DIRECT"
    ds.ImagerPixelSpacing = ["0.1", "0.1"]
    ds.PositionerType = "MAMMOGRAPHIC"
    ds.OrganExposed = "BREAST"
    ds.BreastImplantPresent = "NO"
    ds.BodyPartExamined = "BREAST"
    ds.KVP = "28"
    ds.AcquisitionContextSequence = Sequence()
    window(ds, 2000, 3000)
    return ds


def pt_image(ref: Ref, rng: np.random.Generator, *, slices: int) -> Dataset:
    """PET Image IOD (PS3.3 A.21): 32x32 static FDG slice in Bq/ml."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY"])
    plane(ds, ref, 15.625, 32)
    ds.SliceThickness = "5"
    ds.BodyPartExamined = "WHOLEBODY"
    ds.CollimatorType = "NONE"
    shapes = [
        (0.0, 0.05, 0.8, 0.6, 2000.0),
        (0.1, 0.0, 0.2, 0.18, 9000.0),
        (-0.3, 0.2, 0.08, 0.08, 20000.0),
    ]
    pixels(ds, np.clip(phantom(32, shapes, 300.0, rng), 0, 32767).astype(np.uint16), bits_stored=16)
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Units = "BQML"
    ds.CountsSource = "EMISSION"
    ds.SeriesType = ["STATIC", "IMAGE"]
    ds.NumberOfSlices = slices
    ds.ImageIndex = ref.number
    ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    ds.DecayCorrection = "START"
    ds.DecayFactor = "1.05"
    ds.RandomsCorrectionMethod = "DLYD"
    ds.ReconstructionMethod = "OSEM"
    ds.FrameReferenceTime = "0"
    ds.ActualFrameDuration = 180000
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    isotope = Dataset()
    isotope.Radiopharmaceutical = "Fludeoxyglucose F^18^"
    isotope.RadionuclideCodeSequence = Sequence([code("77004003", "SCT", "^18^Fluorine")])
    isotope.RadiopharmaceuticalStartTime = "083000"
    isotope.RadionuclideTotalDose = "250000000"
    isotope.RadionuclideHalfLife = "6586.2"
    isotope.RadionuclidePositronFraction = "0.9673"
    ds.RadiopharmaceuticalInformationSequence = Sequence([isotope])
    orientation = code("102538003", "SCT", "recumbent")
    orientation.PatientOrientationModifierCodeSequence = Sequence(
        [code("40199007", "SCT", "supine")]
    )
    ds.PatientOrientationCodeSequence = Sequence([orientation])
    ds.PatientGantryRelationshipCodeSequence = Sequence([code("102540008", "SCT", "headfirst")])
    window(ds, 6000, 12000)
    return ds


def xa_image(ref: Ref, rng: np.random.Generator, *, frames: int) -> Dataset:
    """X-Ray Angiographic Image IOD (PS3.3 A.14): an 8-bit multi-frame run, 15 frames/s."""
    ds = composite(ref)
    _image(ds, ref, ["ORIGINAL", "PRIMARY", "SINGLE PLANE"])
    ds.PatientOrientation = ""
    stack = []
    for frame in range(frames):
        vessel = (0.1 * frame - 0.2, 0.0, 0.05, 0.9, 40.0)
        stack.append(phantom(64, [(0.0, 0.0, 2.0, 2.0, 170.0), vessel], 6.0, rng))
    pixels(ds, np.clip(np.stack(stack), 0, 255).astype(np.uint8), bits_stored=8)
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = frames
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.FrameTime = "66.67"
    ds.CineRate = 15
    ds.PixelIntensityRelationship = "LIN"
    ds.LossyImageCompression = "00"
    ds.BodyPartExamined = "HEART"
    ds.RadiationSetting = "GR"
    ds.KVP = "80"
    ds.XRayTubeCurrent = 600
    ds.ExposureTime = 8
    ds.PositionerMotion = "STATIC"
    ds.PositionerPrimaryAngle = "-30"
    ds.PositionerSecondaryAngle = "20"
    ds.ContrastBolusAgent = "Iodixanol 320"
    ds.ContrastBolusRoute = "INTRA-ARTERIAL"
    window(ds, 128, 256)
    return ds
