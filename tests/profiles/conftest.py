"""Inputs for the profile tests: pydicom's bundled compressed files (each with a SOP Instance UID
of its own: several of them share one), and synthetic X-Ray Angiographic images."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from profile_helpers import make_xa
from pydicom import dcmread
from pydicom.data import get_testdata_file

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
