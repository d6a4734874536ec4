"""Pixel data encoders for the Transfer Syntaxes profiles ask for, and what each can encode.

- JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1;
  1.2.840.10008.1.2.4.70): **our own encoder** (ITU-T T.81 Annex H, Huffman tables optimised per
  frame by the procedure of Annex K.2), vectorised with numpy. pydicom 3.0 has no encoder for it
  and neither pylibjpeg nor Pillow writes lossless JPEG; GDCM's Python wheel could, but only
  through temporary files. Every stream is checked in the tests by three independent decoders
  (pylibjpeg-libjpeg, DCMTK ``dcmdjpeg``, GDCM ``gdcmconv``).
- JPEG 2000 (.90 lossless, .91 lossy) and RLE Lossless (.5): pydicom's encoders
  (pylibjpeg-openjpeg; pydicom's own RLE encoder).
- JPEG Baseline (.50, lossy, 8-bit): Pillow's libjpeg encoder (YBR_FULL_422 for colour).

PS3.5 A.4: each frame is one fragment of an encapsulated Pixel Data with a Basic Offset Table.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Final

from pydicom import uid as pu

from mediatool.model import PixelInfo

JPEG_LOSSLESS_SV1: Final = pu.JPEGLosslessSV1
JPEG_BASELINE: Final = pu.JPEGBaseline8Bit
J2K_LOSSLESS: Final = pu.JPEG2000Lossless
J2K: Final = pu.JPEG2000
RLE: Final = pu.RLELossless
#: Compression ratio asked of lossy JPEG 2000, and the quality of lossy JPEG Baseline.
J2K_LOSSY_RATIO: Final = 10
JPEG_QUALITY: Final = 90
_ENCODABLE: Final = frozenset({JPEG_LOSSLESS_SV1, JPEG_BASELINE, J2K_LOSSLESS, J2K, RLE})
_COLOR: Final = frozenset({"RGB", "YBR_FULL"})


def cannot_encode(ts: str, pixel: PixelInfo | None) -> str | None:
    """Why pixel data of this form cannot be written in ``ts`` (None: it can)."""
    if pixel is None:
        return "the object has no image pixel data"
    if ts not in _ENCODABLE:
        return "mediatool has no encoder for it"
    spp, bits = pixel.samples_per_pixel, pixel.bits_stored
    if spp not in (1, 3):
        return f"{spp} samples per pixel"
    if spp == 3 and pixel.photometric not in _COLOR:
        return f"colour images in {pixel.photometric!r} are not re-encoded"
    if pixel.bits_allocated not in (8, 16) or not 2 <= bits <= 16:
        return f"{pixel.bits_allocated} bits allocated, {bits} stored"
    if ts == JPEG_BASELINE and (pixel.bits_allocated != 8 or pixel.pixel_representation):
        return "JPEG Baseline holds unsigned 8-bit samples only"
    if ts == RLE and pixel.bits_allocated > 16:
        return "RLE here takes up to 16 bits"
    return None


# --- JPEG Lossless SV1 (T.81 Annex H) ---------------------------------------------------------


def _huffman_lengths(freq: Sequence[int]) -> list[int]:
    """Code lengths of an optimal JPEG Huffman code (T.81 K.2, Figures K.1-K.3), ≤ 16 bits."""
    n = len(freq)
    count = [*freq, 1]  # the reserved symbol keeps the all-ones code unused
    size = [0] * (n + 1)
    others = [-1] * (n + 1)
    while True:
        live = [i for i, c in enumerate(count) if c > 0]
        if len(live) < 2:
            break
        v1 = min(live, key=lambda i: (count[i], -i))
        v2 = min((i for i in live if i != v1), key=lambda i: (count[i], -i))
        count[v1] += count[v2]
        count[v2] = 0
        size[v1] += 1
        while others[v1] != -1:
            v1 = others[v1]
            size[v1] += 1
        others[v1] = v2
        size[v2] += 1
        while others[v2] != -1:
            v2 = others[v2]
            size[v2] += 1
    bits = [0] * 33
    for s in size:
        if s:
            bits[s] += 1
    for i in range(32, 16, -1):  # K.2 Figure K.3: limit lengths to 16
        while bits[i] > 0:
            j = i - 2
            while bits[j] == 0:
                j -= 1
            bits[i] -= 2
            bits[i - 1] += 1
            bits[j + 1] += 2
            bits[j] -= 1
    i = 16
    while bits[i] == 0:
        i -= 1
    bits[i] -= 1  # drop the reserved symbol
    order = sorted((s, v) for v, s in enumerate(size[:n]) if s)
    lengths = [0] * n
    k = 0
    for length in range(1, 17):
        for _ in range(bits[length]):
            lengths[order[k][1]] = length
            k += 1
    return lengths


def _canonical(lengths: Sequence[int]) -> tuple[list[int], list[int], list[int]]:
    """(BITS[1..16], HUFFVAL, code of each symbol) of a canonical code (T.81 Annex C)."""
    symbols = sorted((length, sym) for sym, length in enumerate(lengths) if length)
    counts = [0] * 16
    for length, _ in symbols:
        counts[length - 1] += 1
    codes = [0] * len(lengths)
    code = 0
    previous = symbols[0][0] if symbols else 1
    for length, sym in symbols:
        code <<= length - previous
        previous = length
        codes[sym] = code
        code += 1
    return counts, [sym for _, sym in symbols], codes


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body


def encode_jpeg_lossless(frame: Any, precision: int) -> bytes:
    """One frame (rows, columns[, 3]) of unsigned ``precision``-bit samples → a JPEG stream.

    Predictor 1 (Ra), point transform 0, one interleaved scan; differences modulo 2^16
    (T.81 H.1.2.1); Huffman table built from this frame's statistics (K.2).
    """
    import numpy as np

    img = np.asarray(frame)
    if img.ndim == 2:
        img = img[:, :, None]
    rows, cols, comps = img.shape
    x = img.astype(np.int32)
    pred = np.empty_like(x)
    pred[:, 1:] = x[:, :-1]
    pred[1:, 0] = x[:-1, 0]
    pred[0, 0] = 1 << (precision - 1)
    diff = (x - pred) & 0xFFFF
    diff = np.where(diff >= 0x8000, diff - 0x10000, diff).reshape(-1)
    magnitude = np.abs(diff)
    ssss = np.zeros(magnitude.shape, np.int64)
    nz = magnitude > 0
    ssss[nz] = np.floor(np.log2(magnitude[nz])).astype(np.int64) + 1
    freq = np.bincount(ssss, minlength=17)[:17].tolist()
    lengths = _huffman_lengths(freq)
    counts, values, codes = _canonical(lengths)
    code_of = np.array(codes, np.uint64)[ssss]
    len_of = np.array(lengths, np.int64)[ssss]
    extra_len = np.where(ssss == 16, 0, ssss)
    extra = np.where(diff < 0, diff - 1, diff).astype(np.int64) & ((1 << extra_len) - 1)
    total_len = len_of + extra_len
    value = (code_of << extra_len.astype(np.uint64)) | extra.astype(np.uint64)
    nbits = int(total_len.sum())
    ends = np.cumsum(total_len)
    starts = ends - total_len
    rep_len = np.repeat(total_len, total_len)
    offset = np.arange(nbits, dtype=np.int64) - np.repeat(starts, total_len)
    shift = (rep_len - 1 - offset).astype(np.uint64)
    bits = ((np.repeat(value, total_len) >> shift) & np.uint64(1)).astype(np.uint8)
    pad = (-nbits) % 8
    if pad:
        bits = np.concatenate([bits, np.ones(pad, np.uint8)])  # F.1.2.3: pad with 1-bits
    data = np.packbits(bits)
    ff = np.flatnonzero(data == 0xFF)
    if ff.size:
        data = np.insert(data, ff + 1, 0)  # F.1.2.3: byte stuffing
    sof = bytes((precision,)) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big")
    sof += bytes((comps,)) + b"".join(bytes((c + 1, 0x11, 0)) for c in range(comps))
    dht = bytes((0x00,)) + bytes(counts) + bytes(values)
    sos = bytes((comps,)) + b"".join(bytes((c + 1, 0x00)) for c in range(comps))
    sos += bytes((1, 0, 0))  # Ss = predictor 1, Se = 0, Ah/Al = 0 (no point transform)
    return (
        b"\xff\xd8"
        + _segment(0xC3, sof)
        + _segment(0xC4, dht)
        + _segment(0xDA, sos)
        + data.tobytes()
        + b"\xff\xd9"
    )


def _frames(ds: Any) -> Any:
    import numpy as np

    arr = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    if frames == 1:
        arr = arr[None, ...]
    if spp == 1 and arr.ndim == 4:
        arr = arr[..., 0]
    return np.ascontiguousarray(arr)


def _jpeg_lossless_frames(ds: Any) -> list[bytes]:
    import numpy as np

    arr = _frames(ds)
    stored = int(ds.BitsStored)
    allocated = int(ds.BitsAllocated)
    unsigned = arr.astype(np.int64) & ((1 << allocated) - 1)
    precision = stored if int(unsigned.max(initial=0)) < (1 << stored) else allocated
    masked = unsigned & ((1 << precision) - 1)
    return [encode_jpeg_lossless(frame, max(precision, 2)) for frame in masked]


def _jpeg_baseline_frames(ds: Any, quality: int) -> list[bytes]:
    from PIL import Image

    arr = _frames(ds)
    out: list[bytes] = []
    for frame in arr:
        image = Image.fromarray(frame, "L" if frame.ndim == 2 else "RGB")
        buffer = io.BytesIO()
        options: dict[str, Any] = {"quality": quality}
        if frame.ndim == 3:
            options["subsampling"] = "4:2:2"
        image.save(buffer, "JPEG", **options)
        out.append(buffer.getvalue())
    return out


def _set_encapsulated(ds: Any, fragments: list[bytes], ts: str) -> None:
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    ds.PixelData = encapsulate(fragments, has_bot=True)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = UID(ts)


def compress(ds: Any, ts: str) -> float:
    """Encode the (native) Pixel Data of ``ds`` in ``ts``, in place; returns the compression
    ratio achieved (native bytes / compressed bytes)."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID

    if not hasattr(ds, "file_meta"):
        ds.file_meta = FileMetaDataset()
    native = len(ds.PixelData)
    photometric = str(ds.get("PhotometricInterpretation", ""))
    if ts == JPEG_LOSSLESS_SV1:
        if int(ds.get("SamplesPerPixel", 1)) == 3:
            ds.PlanarConfiguration = 0
        _set_encapsulated(ds, _jpeg_lossless_frames(ds), ts)
    elif ts == JPEG_BASELINE:
        fragments = _jpeg_baseline_frames(ds, JPEG_QUALITY)
        if int(ds.get("SamplesPerPixel", 1)) == 3:
            ds.PlanarConfiguration = 0
            ds.PhotometricInterpretation = "YBR_FULL_422"
        _set_encapsulated(ds, fragments, ts)
    elif ts == J2K:
        ds.compress(UID(ts), j2k_cr=[J2K_LOSSY_RATIO], generate_instance_uid=False)
    else:
        ds.compress(UID(ts), generate_instance_uid=False)
        if ts == J2K_LOSSLESS and photometric in ("RGB", "YBR_FULL"):
            ds.PhotometricInterpretation = photometric  # no colour transform (.90: RCT optional)
    compressed = len(ds.PixelData)
    return native / compressed if compressed else 1.0
