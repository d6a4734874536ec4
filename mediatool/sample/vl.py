"""Visible Light objects of the sample (PS3.3 A.32): an endoscopy frame (Modality ES) and an
external-camera photograph (Modality XC), both one small RGB frame, so the sample carries
modalities beyond the radiology ones (issue 18)."""

from __future__ import annotations

import numpy as np
from pydicom import Dataset
from pydicom.sequence import Sequence

from mediatool.sample.objects import Ref, code, composite, pixels


def _vl(ref: Ref, rgb: np.ndarray, image_type: list[str]) -> Dataset:
    """Composite modules, General Image, Image Pixel, Acquisition Context and VL Image
    (PS3.3 C.7.6.1, C.7.6.3, C.7.6.14, C.8.12.1)."""
    ds = composite(ref)
    ds.ImageType = image_type
    ds.AcquisitionDateTime = ref.series.study.date + ref.series.time
    ds.PatientOrientation = ""
    pixels(ds, rgb, bits_stored=8, color=True)
    ds.LossyImageCompression = "00"
    ds.BurnedInAnnotation = "NO"
    ds.AcquisitionContextSequence = Sequence()
    return ds


def endoscopy_image(ref: Ref, rng: np.random.Generator) -> Dataset:
    """VL Endoscopic Image IOD (PS3.3 A.32.1): a reddish lumen with a dark centre."""
    y, x = np.mgrid[-24:24, -32:32]
    radius = np.hypot(x, y * 1.3)
    base = np.clip(220 - radius * 3 + rng.normal(0, 8, radius.shape), 0, 255)
    rgb = np.stack([base, base * 0.45, base * 0.35], axis=-1).astype(np.uint8)
    ds = _vl(ref, rgb, ["ORIGINAL", "PRIMARY"])
    ds.AnatomicRegionSequence = Sequence([code("69695003", "SCT", "Stomach")])
    return ds


def photo_image(ref: Ref, rng: np.random.Generator) -> Dataset:
    """VL Photographic Image IOD (PS3.3 A.32.4): skin with a lesion, as a clinic photographs."""
    y, x = np.mgrid[-24:24, -32:32]
    lesion = np.hypot(x - 4, y + 2) < 9
    skin = np.array([224, 172, 150], dtype=np.float64) + rng.normal(0, 5, (48, 64, 1))
    rgb = np.where(lesion[..., None], skin * 0.55, skin).clip(0, 255).astype(np.uint8)
    ds = _vl(ref, rgb, ["ORIGINAL", "PRIMARY"])
    ds.AnatomicRegionSequence = Sequence([code("40983000", "SCT", "Upper arm")])
    ds.Laterality = "R"  # General Series, Type 2C: the upper arm is a paired body part
    return ds
