"""pixels/render: the one 8-bit pipeline (PS3.4 Annex N order), on tiny synthetic images.

Expected values are computed here from the standard's formulas (PS3.3 C.11.1 Modality LUT,
C.11.2.1.2 LINEAR window, C.11.2 VOI LUT, C.7.6.3.1.2 MONOCHROME1, C.7.6.3.1.5 palette), not
taken from the code under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from mediatool.pixels import icons, render
from mediatool.pixels.render import Picture, RenderError


def image(values: Any, *, dtype: str = "<u2", bits: int = 16, **keys: Any) -> Dataset:
    """A native image whose Pixel Data holds ``values`` (rows x columns [x samples])."""
    arr = np.asarray(values, dtype=dtype)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID = "1.2.3.4"
    ds.Rows, ds.Columns = arr.shape[0], arr.shape[1]
    ds.SamplesPerPixel = arr.shape[2] if arr.ndim == 3 else 1
    if arr.ndim == 3:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = "MONOCHROME2" if arr.ndim == 2 else "RGB"
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored, ds.HighBit = bits, bits - 1
    ds.PixelRepresentation = 1 if arr.dtype.kind == "i" else 0
    ds.PixelData = arr.tobytes()
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def u8(values: Any) -> np.ndarray:
    return np.clip(np.rint(np.asarray(values, dtype=np.float64)), 0, 255).astype(np.uint8)


def minmax(values: Any) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    return u8((v - v.min()) * 255 / (v.max() - v.min()))


RAMP = [[0, 100, 200, 300], [400, 500, 600, 700]]


def test_min_max_when_the_file_asks_for_nothing() -> None:
    out = Picture(image(RAMP)).default(0)
    assert out.dtype == np.uint8 and (out == minmax(RAMP)).all()


def test_monochrome1_is_inverted() -> None:
    mono1 = Picture(image(RAMP, PhotometricInterpretation="MONOCHROME1")).default(0)
    assert (mono1 == 255 - minmax(RAMP)).all()
    assert mono1[0, 0] == 255  # the minimum sample value is white (C.7.6.3.1.2)


def test_rescale_then_linear_window() -> None:
    slope, intercept, c, w = 2.0, -500.0, 100.0, 400.0
    ds = image(RAMP, RescaleSlope=slope, RescaleIntercept=intercept)
    ds.WindowCenter, ds.WindowWidth = c, w
    x = np.asarray(RAMP, np.float64) * slope + intercept
    expected = u8(((x - (c - 0.5)) / (w - 1) + 0.5) * 255)  # C.11.2.1.2.1
    assert (Picture(ds).default(0) == expected).all()


def test_rescale_with_monochrome1_window_is_inverted_after_the_window() -> None:
    ds = image(RAMP, RescaleSlope=1, RescaleIntercept=0, PhotometricInterpretation="MONOCHROME1")
    ds.WindowCenter, ds.WindowWidth = 350, 700
    x = np.asarray(RAMP, np.float64)
    assert (Picture(ds).default(0) == 255 - u8(((x - 349.5) / 699 + 0.5) * 255)).all()


def test_voi_lut_sequence_wins_over_the_window() -> None:
    ds = image([[0, 1], [2, 3]], bits=8, dtype="<u2", WindowCenter=1, WindowWidth=1)
    item = Dataset()
    item.LUTDescriptor = [4, 0, 8]  # 4 entries, first maps stored value 0, 8 bits
    item.LUTData = [0, 50, 100, 200]
    ds.VOILUTSequence = Sequence([item])
    assert Picture(ds).default(0).ravel().tolist() == [0, 50, 100, 200]


def test_palette_colour_through_its_tables() -> None:
    ds = image([[0, 1], [2, 0]], bits=8, dtype="u1", PhotometricInterpretation="PALETTE COLOR")
    for colour, entries in (("Red", [255, 0, 0]), ("Green", [0, 255, 0]), ("Blue", [0, 0, 65535])):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [3, 0, 16])
        setattr(ds, f"{colour}PaletteColorLookupTableData", np.array(entries, "<u2").tobytes())
    out = Picture(ds).default(0)
    # 16-bit entries are shown by their 8 high bits
    assert out.shape == (2, 2, 3)
    assert out[0, 0].tolist() == [0, 0, 0]  # red entry 255 of 65535 is dark
    assert out[0, 1].tolist() == [0, 0, 0] and out[1, 0].tolist() == [0, 0, 255]


def test_rgb_16_bits_shown_by_its_high_bits() -> None:
    rgb = [[[65535, 0, 256], [4096, 8192, 512]]]
    out = Picture(image(rgb)).default(0)
    assert out.tolist() == [[[255, 0, 1], [16, 32, 2]]]


def test_rgb_8_bits_unchanged() -> None:
    rgb = [[[10, 20, 30], [200, 100, 0]]]
    assert Picture(image(rgb, dtype="u1", bits=8)).default(0).tolist() == rgb


def test_ybr_full_is_shown_as_rgb() -> None:
    # pure red in YCbCr (ITU-R BT.601 full range): Y 76, Cb 85, Cr 255
    ds = image([[[76, 85, 255]] * 2] * 2, dtype="u1", bits=8, PhotometricInterpretation="YBR_FULL")
    assert Picture(ds).default(0)[0, 0].tolist() == pytest.approx([254, 0, 0], abs=3)


def test_retired_ybr_partial_is_refused() -> None:
    ds = image([[[76, 85, 255]] * 2] * 2, dtype="u1", bits=8)
    ds.PhotometricInterpretation = "YBR_PARTIAL_422"
    with pytest.raises(RenderError, match="YBR_PARTIAL_422"):
        Picture(ds)


def test_two_samples_per_pixel_are_refused() -> None:
    ds = image([[[1, 2]] * 2] * 2, dtype="u1", bits=8)
    with pytest.raises(RenderError, match="Samples per Pixel"):
        Picture(ds)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every decode (the one function that calls pydicom's decoders)."""
    calls: list[str] = []
    original: Callable[[Dataset], np.ndarray] = render.decode

    def decode(ds: Dataset) -> np.ndarray:
        calls.append(str(ds.SOPInstanceUID))
        return original(ds)

    monkeypatch.setattr(render, "decode", decode)
    return calls


def test_icon_and_web_pictures_share_one_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch)
    ds = image(np.arange(64 * 32).reshape(32, 64) % 4096, bits=12)
    picture = Picture(ds)
    icon = icons.icon_of(picture, 16)
    web = render.render_picture(picture)
    assert calls == ["1.2.3.4"]
    # the icon is the web picture's 8-bit frame, scaled into a 16x16 black square
    expected = Image.fromarray(picture.default(0), "L")
    expected.thumbnail((16, 16), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (16, 16), 0)
    canvas.paste(expected, (0, 4))
    assert icon == canvas.tobytes()
    assert np.asarray(web.frames[0]).tolist() == picture.default(0).tolist()


def test_colour_icon_is_the_luminance_of_the_same_pipeline() -> None:
    rgb = np.zeros((8, 8, 3), "<u2")
    rgb[..., 0] = 65535
    picture = Picture(image(rgb))
    pixels = np.frombuffer(icons.icon_of(picture, 8), np.uint8)
    assert set(pixels.tolist()) == {round(0.299 * 255)}  # ITU-R 601 luminance of red
