"""A waveform (e.g. 12-lead ECG, PS3.3 C.10.9) → a picture on ECG paper.

The first multiplex group is drawn at the usual paper speed of 25 mm/s and gain of 10 mm/mV
(4 pixels a millimetre), one row per channel, labelled with the channel source's Code Meaning.
Pure: ``Dataset`` in, Pillow image out.
"""

from __future__ import annotations

from typing import Final

import numpy as np
from PIL import Image, ImageDraw
from pydicom.dataset import Dataset

from mediatool.pixels.render import RenderError

PX_PER_MM: Final = 4
SPEED_MM_S: Final = 25
GAIN_MM_MV: Final = 10
ROW_MM: Final = 25
LABEL_PX: Final = 90
MAX_SECONDS: Final = 12.0
MAX_CHANNELS: Final = 16
_UNIT_TO_MV: Final = {"uV": 0.001, "mV": 1.0, "V": 1000.0}


def _label(channel: Dataset, number: int) -> str:
    seq = channel.get("ChannelSourceSequence")
    if seq:
        meaning = str(seq[0].get("CodeMeaning", "")).strip()
        if meaning:
            return meaning.removeprefix("Lead ").strip()
    return f"Ch {number}"


def _to_mv(channel: Dataset) -> float:
    seq = channel.get("ChannelSensitivityUnitsSequence")
    unit = str(seq[0].get("CodeValue", "")).strip() if seq else ""
    return _UNIT_TO_MV.get(unit, 0.001)


def _grid(draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    step = PX_PER_MM
    for x in range(LABEL_PX, width, step):
        major = (x - LABEL_PX) % (5 * step) == 0
        draw.line([(x, 0), (x, height)], fill=(240, 170, 170) if major else (252, 226, 226))
    for y in range(0, height, step):
        major = y % (5 * step) == 0
        draw.line([(LABEL_PX, y), (width, y)], fill=(240, 170, 170) if major else (252, 226, 226))


def render_waveform(ds: Dataset) -> Image.Image:
    """Draw the first multiplex group of (5400,0100) Waveform Sequence."""
    groups = ds.get("WaveformSequence")
    if not groups:
        raise RenderError("the object has no waveform")
    group = groups[0]
    try:
        data = np.asarray(ds.waveform_array(0), dtype=np.float64)
        rate = float(group.SamplingFrequency)
    except Exception as exc:
        raise RenderError(f"cannot decode the waveform: {exc}") from exc
    if data.ndim != 2 or rate <= 0:
        raise RenderError("unexpected waveform layout")
    channels = list(group.get("ChannelDefinitionSequence") or [])[:MAX_CHANNELS]
    samples = min(data.shape[0], int(rate * MAX_SECONDS))
    px_per_s = SPEED_MM_S * PX_PER_MM
    width = LABEL_PX + int(samples / rate * px_per_s) + PX_PER_MM
    row = ROW_MM * PX_PER_MM
    height = row * max(len(channels), 1)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    _grid(draw, width, height)
    xs = LABEL_PX + np.arange(samples) / rate * px_per_s
    for n, channel in enumerate(channels):
        mv = data[:samples, n] * _to_mv(channel)
        mv = mv - float(np.median(mv))
        baseline = n * row + row / 2
        ys = np.clip(baseline - mv * GAIN_MM_MV * PX_PER_MM, n * row + 1, (n + 1) * row - 1)
        draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(20, 20, 20), width=2)
        draw.text((8, baseline - 6), _label(channel, n + 1), fill=(0, 0, 0))
    return image
