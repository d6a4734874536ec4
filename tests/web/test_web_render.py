"""Rendering DICOM pixel data to 8-bit pictures: Modality LUT, VOI LUT/window, photometric."""

from __future__ import annotations

import numpy as np
import pytest
from factories import make_instance
from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from mediatool.pixels import render
from mediatool.pixels.render import CT_PRESETS, RenderError, Window


def bundled(name: str) -> Dataset:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} is not bundled with pydicom"
    return dcmread(path)


def gray(**overrides: object) -> Dataset:
    """A 4x4 CT whose stored values are 0, 100, ..., 1500 (HU -1024 ... 476)."""
    ds = make_instance(**overrides)  # type: ignore[arg-type]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.PixelData = (np.arange(16, dtype="<u2") * 100).tobytes()
    ds.BitsStored = 16
    ds.HighBit = 15
    return ds


def pixels(ds: Dataset, presets: tuple[render.Preset, ...] = ()) -> np.ndarray:
    return np.asarray(render.render(ds, presets).frames[0])


def test_window_center_width_after_rescale() -> None:
    # window 0 HU / width 200: stored 1024 (0 HU) is mid grey, < -100 HU black, > 100 HU white
    ds = gray(WindowCenter=0, WindowWidth=200)
    ds.PixelData = np.array([0, 924, 1024, 1124, 2000, 1024, 1024, 1024] * 2, "<u2").tobytes()
    out = pixels(ds).ravel()
    assert out[0] == 0 and out[1] == 0
    assert 126 <= out[2] <= 129
    assert out[3] == 255 and out[4] == 255


def test_first_of_several_windows_is_used() -> None:
    ds = gray(WindowCenter=[-1024 + 750, 0], WindowWidth=[1500, 10])
    out = pixels(ds).ravel()
    assert out.min() < 10 and out.max() > 245
    assert len(np.unique(out)) > 10  # a wide window keeps the ramp; the narrow second one would not


def test_rescale_slope_is_applied() -> None:
    # slope 2: stored 0..1500 → HU -1024..1976; window centred at 0 HU splits the ramp at 512
    ds = gray(RescaleSlope=2, WindowCenter=0, WindowWidth=2)
    out = pixels(ds).ravel()
    stored = np.arange(16) * 100
    assert (out[stored * 2 - 1024 > 1] == 255).all()
    assert (out[stored * 2 - 1024 < -1] == 0).all()


def test_min_max_without_window() -> None:
    out = pixels(gray(WindowCenter=None, WindowWidth=None))
    assert out.min() == 0 and out.max() == 255


def test_monochrome1_is_inverted() -> None:
    mono2 = pixels(gray(WindowCenter=None, WindowWidth=None))
    mono1 = pixels(
        gray(WindowCenter=None, WindowWidth=None, PhotometricInterpretation="MONOCHROME1")
    )
    assert (mono1.astype(int) + mono2.astype(int) == 255).all()


def test_voi_lut_sequence_wins_over_window() -> None:
    ds = gray(WindowCenter=0, WindowWidth=1)
    item = Dataset()
    item.LUTDescriptor = [2048, 0, 12]
    item.LUTData = [4095 - min(v, 4095) * 2 if v < 2048 else 0 for v in range(2048)]
    ds.VOILUTSequence = Sequence([item])
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    out = pixels(ds).ravel()
    assert out[0] == 255  # stored 0 → LUT 4095 → white (an inverting LUT)
    assert out[15] == round(1095 * 255 / 4095)  # 1500 → LUT 4095 - 3000, scaled from 12 bits
    assert (np.diff(out.astype(int)) <= 0).all()


@pytest.mark.parametrize("function", ["LINEAR_EXACT", "SIGMOID"])
def test_voi_lut_functions(function: str) -> None:
    out = pixels(gray(WindowCenter=-274, WindowWidth=1500, VOILUTFunction=function)).ravel()
    assert (np.diff(out.astype(int)) >= 0).all() and out[0] < 40 and out[-1] > 215


def test_ct_presets_are_rendered_per_window() -> None:
    result = render.render(gray(), CT_PRESETS)
    assert set(result.presets) == {"SOFT", "LUNG", "BONE", "BRAIN"}
    lung = np.asarray(result.presets["LUNG"][0]).ravel()
    brain = np.asarray(result.presets["BRAIN"][0]).ravel()
    assert len(np.unique(lung)) > len(np.unique(brain))  # a wide window keeps more grey levels


def test_lookup_table_path_equals_direct_windowing() -> None:
    ds = bundled("CT_small.dcm")
    frame = next(render.iter_gray_frames(ds))
    window = Window(-600, 1500)
    direct = render.window_to_8bit(frame.modality_values(), window)
    assert (frame.windowed(window) == direct).all()


def test_rgb_testdata() -> None:
    out = pixels(bundled("SC_rgb_rle_16bit.dcm"))
    assert out.shape == (100, 100, 3) and out.dtype == np.uint8
    assert tuple(out[0, 0]) == (255, 0, 0)  # 16-bit red scaled to 8 bits


def test_ybr_is_shown_as_rgb() -> None:
    out = pixels(bundled("SC_ybr_full_422_uncompressed.dcm"))
    assert tuple(out[0, 0]) == pytest.approx((254, 0, 0), abs=3)


def test_palette_color() -> None:
    out = pixels(bundled("examples_palette.dcm"))
    assert out.ndim == 3 and 5 < out.mean() < 250


def test_multi_frame_gives_one_picture_per_frame() -> None:
    ds = bundled("examples_ybr_color.dcm")
    assert len(render.render(ds).frames) == 30
    assert len(render.render(bundled("rtdose.dcm")).frames) == 15


def test_non_square_pixels_keep_their_shape() -> None:
    ds = gray(PixelSpacing=[1.0, 0.5])
    assert render.render(ds).frames[0].size == (4, 8)


def test_large_images_are_scaled_down() -> None:
    ds = gray(Rows=2048, Columns=1024, PixelSpacing=None)
    ds.PixelData = np.zeros((2048, 1024), "<u2").tobytes()
    assert render.render(ds).frames[0].size == (512, 1024)


def test_undecodable_pixels_raise_render_error() -> None:
    ds = gray()
    ds.PixelData = b"\x00\x01"  # far too short
    with pytest.raises(RenderError):
        render.render(ds)


def test_no_pixels_raise_render_error() -> None:
    ds = gray()
    del ds.PixelData
    with pytest.raises(RenderError):
        render.render(ds)


def test_jpeg_is_deterministic_and_has_no_metadata() -> None:
    image = render.render(bundled("CT_small.dcm")).frames[0]
    first, second = render.encode_jpeg(image), render.encode_jpeg(image)
    assert first == second
    assert first[:2] == b"\xff\xd8" and b"Exif" not in first
