"""Icon Image Sequence (0088,0200) items for directory records (PS3.3 F.7).

An icon is one item: Samples per Pixel 1, MONOCHROME2, Rows = Columns = the profile's size
(the image scaled with its aspect kept, centred and padded with black), Bits Allocated = Bits
Stored = 8, High Bit 7, Pixel Representation 0, Pixel Data OB, uncompressed (the DICOMDIR is
Explicit VR Little Endian). The grey levels are the image's own rendering: Modality LUT, then
its VOI LUT or window, else its minimum and maximum (the web content's pipeline,
:mod:`mediatool.pixels.render`); MONOCHROME1 is inverted, colour becomes luminance. A multi-frame
image is represented by its Representative Frame Number (0028,6010), else by the frame about a
third of the way through (PS3.11 A.3.3.2).

Made in the worker that writes the instance (the pixel data is read there anyway); the
DICOMDIR is encoded after all workers are done.
"""

from __future__ import annotations

import struct
from typing import Any, Final

ICON_TAG: Final = 0x00880200


def representative_frame(ds: Any) -> int:
    """0-based index of the frame an icon shows (PS3.11 A.3.3.2)."""
    try:
        frames = max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        frames = 1
    try:
        chosen = int(ds.get("RepresentativeFrameNumber", 0) or 0)
    except (TypeError, ValueError):
        chosen = 0
    if 1 <= chosen <= frames:
        return chosen - 1
    return (frames - 1) // 3


def _frame_8bit(ds: Any, frame: int) -> Any:
    """The frame as 8-bit grey values (H, W)."""
    import numpy as np
    from PIL import Image
    from pydicom.pixels.processing import apply_color_lut

    from mediatool.pixels import render

    frames = render.frame_count(ds)
    arr = ds.pixel_array
    if frames > 1:
        arr = arr[frame]
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        rgb8 = (rgb >> max(bits - 8, 0)).astype(np.uint8) if rgb.dtype != np.uint8 else rgb
        return np.asarray(Image.fromarray(rgb8, "RGB").convert("L"))
    if arr.ndim == 3:  # colour (pydicom returns RGB for YBR)
        if arr.dtype != np.uint8:
            shift = max(int(ds.get("BitsStored", 8) or 8) - 8, 0)
            arr = (arr.astype(np.uint32) >> shift).astype(np.uint8)
        return np.asarray(Image.fromarray(arr, "RGB").convert("L"))
    gray = render.GrayFrame(ds, arr, frame).default()
    if render.is_inverted(ds):
        gray = 255 - gray
    return gray


def icon_pixels(ds: Any, size: int) -> bytes:
    """``size`` x ``size`` 8-bit pixels of the icon of ``ds`` (row by row)."""
    from PIL import Image

    gray = _frame_8bit(ds, representative_frame(ds))
    image = Image.fromarray(gray, "L")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (size, size), 0)
    canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return canvas.tobytes()


def _element(tag: int, vr: bytes, value: bytes) -> bytes:
    if vr in (b"OB", b"SQ"):
        return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value


def encode_icon(pixels: bytes, size: int) -> bytes:
    """The whole (0088,0200) element, Explicit VR Little Endian, explicit lengths."""
    us = struct.Struct("<H").pack
    item = b"".join(
        (
            _element(0x00280002, b"US", us(1)),
            _element(0x00280004, b"CS", b"MONOCHROME2 "),
            _element(0x00280010, b"US", us(size)),
            _element(0x00280011, b"US", us(size)),
            _element(0x00280100, b"US", us(8)),
            _element(0x00280101, b"US", us(8)),
            _element(0x00280102, b"US", us(7)),
            _element(0x00280103, b"US", us(0)),
            _element(0x7FE00010, b"OB", pixels + (b"\x00" if len(pixels) % 2 else b"")),
        )
    )
    sequence = struct.pack("<HHL", 0xFFFE, 0xE000, len(item)) + item
    return _element(ICON_TAG, b"SQ", sequence)


def make_icon(ds: Any, size: int) -> bytes:
    """The encoded Icon Image Sequence of ``ds`` (raises on undecodable pixel data)."""
    return encode_icon(icon_pixels(ds, size), size)


_LONG: Final = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)
_UNDEFINED: Final = 0xFFFFFFFF


def _tag_at(blob: bytes, pos: int) -> tuple[int, int]:
    group, elem, length = struct.unpack_from("<HHL", blob, pos)
    return group << 16 | elem, length


def _skip_sequence(blob: bytes, pos: int) -> int:
    """Past the items of an undefined-length value and its (FFFE,E0DD)."""
    while pos + 8 <= len(blob):
        tag, length = _tag_at(blob, pos)
        if tag == 0xFFFEE0DD:
            return pos + 8
        if tag != 0xFFFEE000:
            break
        pos = _skip_item(blob, pos + 8) if length == _UNDEFINED else pos + 8 + length
    return len(blob)


def _skip_item(blob: bytes, pos: int) -> int:
    """Past the elements of an undefined-length item and its (FFFE,E00D)."""
    while pos + 8 <= len(blob):
        tag, _ = _tag_at(blob, pos)
        if tag == 0xFFFEE00D:
            return pos + 8
        pos = _skip_element(blob, pos)
    return len(blob)


def _skip_element(blob: bytes, pos: int) -> int:
    if blob[pos + 4 : pos + 6] in _LONG:
        long_length: int = struct.unpack_from("<L", blob, pos + 8)[0]
        pos += 12
        return _skip_sequence(blob, pos) if long_length == _UNDEFINED else pos + long_length
    length: int = struct.unpack_from("<H", blob, pos + 6)[0]
    return pos + 8 + length


def insert_element(blob: bytes, element: bytes, tag: int) -> bytes:
    """Put an encoded element into a record's keys (Explicit VR LE, ascending tags)."""
    pos = 0
    while pos + 8 <= len(blob):
        found, _ = _tag_at(blob, pos)
        if found > tag:
            break
        pos = _skip_element(blob, pos)
    return blob[:pos] + element + blob[pos:]
