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

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # numpy and Pillow load only when an icon is made
    from mediatool.pixels.render import Picture

ICON_TAG: Final = 0x00880200


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
    """The whole (0088,0200) element, Explicit VR Little Endian, explicit lengths."""
    us = struct.Struct("<H").pack
    item = (
        (0x00280002, b"US", us(1)),
        (0x00280004, b"CS", b"MONOCHROME2 "),
        (0x00280010, b"US", us(size)),
        (0x00280011, b"US", us(size)),
        (0x00280100, b"US", us(8)),
        (0x00280101, b"US", us(8)),
        (0x00280102, b"US", us(7)),
        (0x00280103, b"US", us(0)),
        (0x7FE00010, b"OB", pixels + (b"\x00" if len(pixels) % 2 else b"")),
    )
    return _sequence_of_one_item(ICON_TAG, item)


def _sequence_of_one_item(tag: int, item: Sequence[tuple[int, bytes, bytes]]) -> bytes:
    """Explicit VR Little Endian bytes of a sequence with one item, explicit lengths.

    The only byte encoder here: to be replaced by the project's one element encoder
    (``mediatool.dicom.elements``) once it exists.
    """

    def element(tag: int, vr: bytes, value: bytes) -> bytes:
        if vr in (b"OB", b"SQ"):
            return struct.pack("<HH2sHL", tag >> 16, tag & 0xFFFF, vr, 0, len(value)) + value
        return struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr, len(value)) + value

    body = b"".join(element(*each) for each in item)
    return element(tag, b"SQ", struct.pack("<HHL", 0xFFFE, 0xE000, len(body)) + body)


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
