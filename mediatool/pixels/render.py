"""A DICOM image → 8-bit pictures: the one pipeline for the web content's JPEGs (one per
frame), the viewer's CT window presets and the directory records' icons
(:mod:`mediatool.pixels.icons`). :class:`Picture` decodes the pixel data once
(:func:`decode`, the only call of pydicom's decoders here) and serves every rendering of it.

The grayscale pipeline of PS3.4 Annex N, in the order a display applies it:

1. Modality LUT (PS3.3 C.11.1): (0028,3000) Modality LUT Sequence, else (0028,1053) Rescale
   Slope and (0028,1052) Rescale Intercept (per frame from the functional groups of an enhanced
   multi-frame image);
2. VOI LUT (PS3.3 C.11.2): the first item of (0028,3010) VOI LUT Sequence, else the first
   value of (0028,1050) Window Center / (0028,1051) Window Width with (0028,1056) VOI LUT
   Function, else the frame's own minimum and maximum;
3. MONOCHROME1 is inverted (PS3.3 C.7.6.3.1.2: minimum sample value is white).

Colour images (RGB; YBR_FULL/_422 which pydicom's ``pixel_array`` converts to RGB with its
default ``as_rgb=True``, so :func:`pydicom.pixels.convert_color_space` is not needed; PALETTE
COLOR through :func:`pydicom.pixels.apply_color_lut`) are scaled to 8 bits per sample. The same
functions render the CT window presets the viewer offers.

Pure: ``Dataset`` in, ``numpy`` arrays and JPEG bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi
from pydicom.pixels.utils import pixel_array

#: JPEG settings: fixed, so two runs give byte-identical files (Pillow writes no timestamp).
JPEG_QUALITY: Final = 85
#: Longest edge of a rendering; larger images (CR, DX, MG) are scaled down for the browser.
MAX_EDGE: Final = 1024
THUMB_EDGE: Final = 160


@dataclass(frozen=True, slots=True)
class JpegSettings:
    """How the web content's JPEGs are made: lowered when the web content must fit the medium
    beside the DICOM File-set (:mod:`mediatool.build.webfit`)."""

    quality: int = JPEG_QUALITY
    max_edge: int = MAX_EDGE


#: The web content's JPEGs as made when nothing has to give way.
WEB_JPEG: Final = JpegSettings()


@dataclass(frozen=True, slots=True)
class Window:
    """A VOI window in the units after the Modality LUT (Hounsfield units for CT)."""

    center: float
    width: float
    function: str = "LINEAR"


@dataclass(frozen=True, slots=True)
class Preset:
    key: str  # directory name on the disc (≤ 8 characters, A-Z)
    label: str
    window: Window


#: CT window presets offered by the viewer (centre/width in HU, common radiology values).
CT_PRESETS: Final = (
    Preset("SOFT", "Soft tissue", Window(40, 400)),
    Preset("LUNG", "Lung", Window(-600, 1500)),
    Preset("BONE", "Bone", Window(400, 1800)),
    Preset("BRAIN", "Brain", Window(40, 80)),
)


class RenderError(Exception):
    """The pixel data cannot be turned into a picture (the caller makes it a finding)."""


def _first(value: Any) -> float:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            raise RenderError("empty multi-valued element")
        value = value[0]
    return float(value)


def _frame_groups(ds: Dataset, frame: int) -> list[Dataset]:
    """Functional group items that apply to ``frame``: per-frame first, then shared."""
    groups: list[Dataset] = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and frame < len(per_frame):
        groups.append(per_frame[frame])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        groups.append(shared[0])
    return groups


def _from_groups(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    for group in _frame_groups(ds, frame):
        seq = group.get(sequence)
        if seq:
            item: Dataset = seq[0]
            return item
    return None


def rescale(ds: Dataset, frame: int = 0) -> tuple[float, float] | None:
    """(slope, intercept) of the frame, or None when there is no linear Modality LUT."""
    source: Dataset = ds
    item = _from_groups(ds, frame, "PixelValueTransformationSequence")
    if item is not None and "RescaleSlope" in item:
        source = item
    if "RescaleSlope" not in source or "RescaleIntercept" not in source:
        return None
    try:
        slope = _first(source.RescaleSlope)
        intercept = _first(source.RescaleIntercept)
    except (TypeError, ValueError) as exc:
        raise RenderError(f"unusable Rescale Slope/Intercept: {exc}") from exc
    if slope == 0:
        return None
    return slope, intercept


def stored_window(ds: Dataset, frame: int = 0) -> Window | None:
    """The first window the file itself asks for (frame VOI first, then the image level)."""
    source: Dataset = ds
    item = _from_groups(ds, frame, "FrameVOILUTSequence")
    if item is not None and "WindowCenter" in item:
        source = item
    if "WindowCenter" not in source or "WindowWidth" not in source:
        return None
    try:
        center = _first(source.WindowCenter)
        width = _first(source.WindowWidth)
    except (TypeError, ValueError, RenderError):
        return None
    function = str(source.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
    if width <= 0 or (function == "LINEAR" and width < 1):
        return None
    if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID"):
        function = "LINEAR"
    return Window(center, width, function)


def _to_u8(values: np.ndarray) -> np.ndarray:
    """Round and clip to 0..255 as ``uint8``."""
    out: np.ndarray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return out


def window_to_8bit(values: np.ndarray, window: Window) -> np.ndarray:
    """PS3.3 C.11.2.1.2 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT), C.11.2.1.3.1 (SIGMOID) → 0..255."""
    x = values.astype(np.float32, copy=False)
    c, w = window.center, window.width
    if window.function == "SIGMOID":
        out = 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
    elif window.function == "LINEAR_EXACT":
        out = ((x - c) / w + 0.5) * 255.0
    else:
        out = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0
    return _to_u8(out)


def _minmax_8bit(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(values.shape, np.uint8)
    scaled = (values.astype(np.float32) - lo) * (255.0 / (hi - lo))
    return _to_u8(scaled)


def _lut_bits(lut_max: int, nominal: int) -> int:
    """Bits actually used by a LUT's output (some writers declare 16 and use 12)."""
    bits = nominal if nominal in (8, *range(10, 17)) else 16
    used = max(int(lut_max), 1).bit_length()
    return used if used < bits - 1 else bits


def _voi_lut_8bit(values: np.ndarray, ds: Dataset) -> np.ndarray:
    item = ds.VOILUTSequence[0]
    descriptor = item.LUTDescriptor
    ints = np.rint(values).astype(np.int64) if values.dtype.kind == "f" else values
    out = apply_voi(ints, ds, 0)
    bits = _lut_bits(int(out.max()) if out.size else 0, int(descriptor[2]))
    return _to_u8(out.astype(np.float32) * (255.0 / (2**bits - 1)))


class GrayFrame:
    """One grayscale frame with its Modality LUT applied lazily through a lookup table.

    Integer stored values with a linear rescale go through a table indexed by the stored value
    (≤ 65,536 entries), which is several times faster than float arithmetic on every pixel;
    that matters when CT presets render each image five times.
    """

    def __init__(self, ds: Dataset, stored: np.ndarray, frame: int) -> None:
        self.ds = ds
        self.stored = stored
        self.frame = frame
        self._modality: np.ndarray | None = None
        self._range: tuple[int, int] | None = None
        self._index: np.ndarray | None = None
        self._default: np.ndarray | None = None

    def modality_values(self) -> np.ndarray:
        if self._modality is None:
            if self.ds.get("ModalityLUTSequence"):
                self._modality = apply_modality_lut(self.stored, self.ds)
            else:
                params = rescale(self.ds, self.frame)
                if params is None:
                    self._modality = self.stored
                else:
                    slope, intercept = params
                    self._modality = self.stored.astype(np.float32) * slope + intercept
        return self._modality

    def windowed(self, window: Window) -> np.ndarray:
        """8-bit rendering of the frame through ``window`` (no MONOCHROME1 inversion)."""
        stored = self.stored
        if stored.dtype.kind in "iu" and not self.ds.get("ModalityLUTSequence"):
            if self._range is None:
                self._range = int(stored.min()), int(stored.max())
            lo, hi = self._range
            if hi - lo < 1 << 16:
                # A table of every stored value in use: one numpy.take a rendering, shared
                # range and index by the default rendering and every preset of the frame.
                base = 0 if lo >= 0 and hi < 1 << 16 else lo
                levels = np.arange(base, hi + 1, dtype=np.float32)
                params = rescale(self.ds, self.frame)
                if params is not None:
                    levels = levels * params[0] + params[1]
                table = window_to_8bit(levels, window)
                taken: np.ndarray = np.take(table, self._table_index(base))
                return taken
        return window_to_8bit(self.modality_values(), window)

    def _table_index(self, base: int) -> np.ndarray:
        """The stored values as indexes into a table that starts at ``base`` (made once)."""
        if base == 0:
            return self.stored  # unsigned values index the table as they are
        if self._index is None:
            self._index = self.stored.astype(np.intp) - base
        return self._index

    def default(self) -> np.ndarray:
        """The rendering the file asks for: VOI LUT, else window, else min/max (made once: the
        web JPEG and the record's icon show the same rendering; callers never write into it)."""
        if self._default is None:
            self._default = self._make_default()
        return self._default

    def _make_default(self) -> np.ndarray:
        if self.ds.get("VOILUTSequence"):
            return _voi_lut_8bit(self.modality_values(), self.ds)
        window = stored_window(self.ds, self.frame)
        if window is not None:
            return self.windowed(window)
        return _minmax_8bit(self.modality_values())


def is_inverted(ds: Dataset) -> bool:
    return str(ds.get("PhotometricInterpretation", "")).strip().upper() == "MONOCHROME1"


def _color_8bit(arr: np.ndarray, ds: Dataset, bits: int | None = None) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    bits = bits or int(ds.get("BitsStored", 8) or 8)
    if arr.dtype.kind == "f":
        return _minmax_8bit(arr)
    shift = max(bits - 8, 0)
    return _to_u8(arr.astype(np.uint32) >> shift)


def _aspect(ds: Dataset) -> float:
    """Row spacing / column spacing (non-square pixels are drawn with their true shape)."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        spacing = ds.get(keyword)
        if spacing is not None and len(spacing) == 2:
            try:
                row, col = float(spacing[0]), float(spacing[1])
            except (TypeError, ValueError):
                continue
            if row > 0 and col > 0:
                return row / col
    ratio = ds.get("PixelAspectRatio")
    if ratio is not None and len(ratio) == 2:
        try:
            vertical, horizontal = float(ratio[0]), float(ratio[1])
        except (TypeError, ValueError):
            return 1.0
        if vertical > 0 and horizontal > 0:
            return vertical / horizontal
    return 1.0


def to_image(pixels: np.ndarray, aspect: float = 1.0, max_edge: int = MAX_EDGE) -> Image.Image:
    """8-bit array (H, W) or (H, W, 3) → Pillow image, true aspect, longest edge ≤ max_edge."""
    image = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB")
    width, height = image.size
    if abs(aspect - 1.0) > 0.01:
        height = max(1, round(height * aspect))
    scale = min(1.0, max_edge / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if size != image.size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    """Baseline JPEG, no EXIF/ICC/comment: identical input gives identical bytes."""
    buffer = io.BytesIO()
    # Pillow's fastest baseline path: no optimize (a second Huffman pass, 2.5x the time for
    # files about 7 % smaller), no progressive; the standard tables.
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def thumbnail(image: Image.Image, edge: int = THUMB_EDGE) -> Image.Image:
    thumb = image.copy()
    thumb.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    return thumb


def has_pixels(ds: Dataset) -> bool:
    return any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))


def frame_count(ds: Dataset) -> int:
    try:
        return max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        return 1


def _frames(arr: np.ndarray, ds: Dataset, color: bool) -> list[np.ndarray]:
    frames = frame_count(ds)
    per_frame_ndim = 3 if color else 2
    if arr.ndim == per_frame_ndim + 1:
        return list(arr)
    if arr.ndim == per_frame_ndim and frames == 1:
        return [arr]
    raise RenderError(f"unexpected pixel array shape {arr.shape} for {frames} frame(s)")


def decode(ds: Dataset) -> np.ndarray:
    """The pixel data as stored, decoded: the one place pixels are decoded (pydicom's plugins).

    :func:`pydicom.pixels.pixel_array` with the data set is what ``ds.pixel_array`` runs, less
    its cache on the data set (it looks up twelve elements' ids before and after decoding, a
    tenth of a millisecond and more an image; a Picture decodes once anyway)."""
    try:
        arr: np.ndarray = pixel_array(ds)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise RenderError(f"cannot decode the pixel data: {reason}") from exc
    return arr


def _palette(arr: np.ndarray, ds: Dataset) -> tuple[np.ndarray, int]:
    """PALETTE COLOR through its lookup tables: RGB values and the bits they use."""
    try:
        rgb: np.ndarray = apply_color_lut(arr, ds)
        return rgb, int(ds.RedPaletteColorLookupTableDescriptor[2])
    except Exception as exc:
        raise RenderError(f"cannot apply the palette: {exc}") from exc


class Picture:
    """One image's pixel data, decoded once, and its frames in 8 bits (the one pipeline).

    Palette colour goes through its lookup tables, colour (RGB, or YBR that pydicom converts to
    RGB) is scaled to 8 bits per sample, grayscale goes through :class:`GrayFrame` (Modality
    LUT, VOI LUT or window, else minimum/maximum) and MONOCHROME1 is inverted. Web renderings,
    viewer presets and directory record icons are all made from it.
    """

    def __init__(self, ds: Dataset) -> None:
        if not has_pixels(ds):
            raise RenderError("the object has no pixel data")
        photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        arr = decode(ds)
        self.ds = ds
        self.aspect = _aspect(ds)
        self.color_bits: int | None = None
        if photometric == "PALETTE COLOR":
            arr, self.color_bits = _palette(arr, ds)
            samples = 3
        ybr = photometric.startswith("YBR") and not _converted_by_pydicom(photometric)
        if samples == 3 and ybr:
            raise RenderError(f"colour space {photometric!r} is not displayed")
        if samples not in (1, 3):
            raise RenderError(f"{samples} samples per pixel are not displayed")
        self.color = samples == 3
        self.frames = _frames(arr, ds, color=self.color)
        self.invert = not self.color and is_inverted(ds)
        self._gray: GrayFrame | None = None  # the frame last asked for, with its tables

    def gray(self, index: int) -> GrayFrame:
        """Frame ``index`` of a grayscale image, for its default rendering or a window. The
        last one asked for is kept (one frame's worth): the record's icon and the web JPEG of a
        single-frame image share one rendering, not one each (issue 17)."""
        last = self._gray
        if last is None or last.frame != index or last.stored is not self.frames[index]:
            last = self._gray = GrayFrame(self.ds, self.frames[index], index)
        return last

    def default(self, index: int) -> np.ndarray:
        """Frame ``index`` in 8 bits as the file asks to show it, (H, W) or (H, W, 3)."""
        if self.color:
            return _color_8bit(self.frames[index], self.ds, self.color_bits)
        return _maybe_invert(self.gray(index).default(), self.invert)

    def windowed(self, gray: GrayFrame, window: Window) -> np.ndarray:
        """A grayscale frame through ``window`` in 8 bits (MONOCHROME1 inverted)."""
        return _maybe_invert(gray.windowed(window), self.invert)


@dataclass(frozen=True, slots=True)
class Rendered:
    """Every frame of one image: the default rendering and, when asked, the presets."""

    frames: list[Image.Image]
    presets: dict[str, list[Image.Image]]


def render(ds: Dataset, presets: Sequence[Preset] = ()) -> Rendered:
    """Render every frame of ``ds``; ``presets`` apply to grayscale images only.

    Raises :class:`RenderError` when the pixel data cannot be decoded or has a form we do not
    display (the caller reports it and carries on).
    """
    return render_picture(Picture(ds), presets)


def render_picture(
    picture: Picture, presets: Sequence[Preset] = (), max_edge: int = MAX_EDGE
) -> Rendered:
    """Every frame of a decoded image as a picture for the browser (see :func:`render`), its
    longest edge at most ``max_edge``."""
    aspect = picture.aspect
    if picture.color:
        count = len(picture.frames)
        images = [to_image(picture.default(i), aspect, max_edge) for i in range(count)]
        return Rendered(images, {})
    frames: list[Image.Image] = []
    by_preset: dict[str, list[Image.Image]] = {p.key: [] for p in presets}
    for index in range(len(picture.frames)):
        gray = picture.gray(index)
        default = _maybe_invert(gray.default(), picture.invert)
        frames.append(to_image(default, aspect, max_edge))
        for preset in presets:
            windowed = picture.windowed(gray, preset.window)
            by_preset[preset.key].append(to_image(windowed, aspect, max_edge))
    return Rendered(frames, by_preset)


def _maybe_invert(pixels: np.ndarray, invert: bool) -> np.ndarray:
    return np.subtract(255, pixels, dtype=np.uint8) if invert else pixels


def _converted_by_pydicom(photometric: str) -> bool:
    """pydicom's ``pixel_array`` (``as_rgb=True``, its default) already returns RGB for
    YBR_FULL and YBR_FULL_422, and the JPEG 2000 decoders return RGB for YBR_ICT/YBR_RCT;
    only the retired YBR_PARTIAL_* forms are left, which no decoder here converts."""
    return photometric in ("YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT")


def iter_gray_frames(ds: Dataset) -> Iterator[GrayFrame]:
    """Grayscale frames of ``ds`` (for callers that need the values, e.g. tests)."""
    arr = decode(ds)
    for index, stored in enumerate(_frames(arr, ds, color=False)):
        yield GrayFrame(ds, stored, index)
