"""Icon Image Sequence (0088,0200) items for directory records (PS3.3 F.7).

An icon is one item: Samples per Pixel 1, MONOCHROME2, Rows = Columns = the profile's size
(the image scaled with its aspect kept, centred and padded with black), Bits Allocated = Bits
Stored = 8, High Bit 7, Pixel Representation 0, Pixel Data OB, uncompressed (the DICOMDIR is
Explicit VR Little Endian). The grey levels are the image's own rendering: Modality LUT, then
its VOI LUT or window, else its minimum and maximum, MONOCHROME1 inverted, palette and colour
to 8 bits (the one pipeline of :mod:`mediatool.pixels.render`, shared with the web content);
colour becomes luminance. A multi-frame image is represented by its Representative Frame
Number (0028,6010), else by the frame about a third of the way through (PS3.11 A.3.3.2).

Made where the image's pixel data is decoded anyway, from that one decode: by the worker that
renders its web pictures when the disc has web content (an :class:`IconOrder`), else by the
worker that writes the instance. The DICOMDIR is encoded after all workers are done.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mediatool.dicom.elements import ICON_IMAGE_SEQUENCE, element, sequence, us

if TYPE_CHECKING:  # numpy and Pillow load only when an icon is made
    from mediatool.pixels.render import Picture


@dataclass(slots=True)
class IconOrder:
    """Icons asked of the web content's workers (by SOP Instance UID), and what they made."""

    sizes: Mapping[str, int]
    made: dict[str, bytes] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # why no icon, in the decoder's words


def placeholder(size: int) -> bytes:
    """An encoded black icon: exactly as long as the real one, to size a DICOMDIR early."""
    return encode_icon(bytes(size * size), size)


def failure(exc: BaseException) -> str:
    """Why an icon could not be made (a decoder's own words, not our wrapping of them)."""
    from mediatool.pixels.render import RenderError

    cause = exc.__cause__ if isinstance(exc, RenderError) and exc.__cause__ else exc
    text = str(cause)
    return text.splitlines()[0][:200] if text else type(cause).__name__


def representative_frame(ds: Any) -> int:
    """0-based index of the frame an icon shows (PS3.11 A.3.3.2)."""
    from mediatool.pixels.render import frame_count

    frames = frame_count(ds)
    try:
        chosen = int(ds.get("RepresentativeFrameNumber", 0) or 0)
    except (TypeError, ValueError):
        chosen = 0
    if 1 <= chosen <= frames:
        return chosen - 1
    return (frames - 1) // 3


def icon_pixels(ds: Any, size: int) -> bytes:
    """``size`` x ``size`` 8-bit pixels of the icon of ``ds`` (row by row)."""
    from mediatool.pixels.render import Picture

    return icon_of(Picture(ds), size)


def icon_of(picture: Picture, size: int) -> bytes:
    """The icon's pixels from an image already decoded (for its web renderings, say)."""
    from PIL import Image

    pixels = picture.default(representative_frame(picture.ds))
    image = Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB")
    if image.mode != "L":
        image = image.convert("L")  # colour becomes luminance (ITU-R 601)
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (size, size), 0)
    canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2))
    return canvas.tobytes()


def encode_icon(pixels: bytes, size: int) -> bytes:
    """The whole (0088,0200) element, Explicit VR Little Endian, explicit lengths (PS3.3 F.7)."""
    body = b"".join(
        (
            element(0x00280002, b"US", us(1)),
            element(0x00280004, b"CS", b"MONOCHROME2 "),
            element(0x00280010, b"US", us(size)),
            element(0x00280011, b"US", us(size)),
            element(0x00280100, b"US", us(8)),
            element(0x00280101, b"US", us(8)),
            element(0x00280102, b"US", us(7)),
            element(0x00280103, b"US", us(0)),
            element(0x7FE00010, b"OB", pixels + (b"\x00" if len(pixels) % 2 else b"")),
        )
    )
    return sequence(ICON_IMAGE_SEQUENCE, [body])


def make_icon(ds: Any, size: int) -> bytes:
    """The encoded Icon Image Sequence of ``ds`` (raises on undecodable pixel data)."""
    return encode_icon(icon_pixels(ds, size), size)
