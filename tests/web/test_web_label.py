"""The printable disc label."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from mediatool.web import Site, make_label
from mediatool.web.label import SIZE, label_lines


def test_label_is_a_deterministic_300_dpi_png(demo_fileset: Path, site: Site) -> None:
    first = make_label(demo_fileset, site=site, disc=(1, 2), created="20240315")
    assert first == make_label(demo_fileset, site=site, disc=(1, 2), created="20240315")
    image = Image.open(io.BytesIO(first))
    assert image.format == "PNG" and image.size == (SIZE, SIZE)
    assert round(image.info["dpi"][0]) == 300
    pixels = np.asarray(image.convert("L"))
    assert (pixels < 100).sum() > 2000  # there is text


def test_label_content(site: Site) -> None:
    patients = [("Müller^Jürgen", "4711", "19580214", [("20240312", "CT Thorax")])]
    top, bottom = label_lines(patients, site, (2, 3), "20240315")
    text = "\n".join(t for t, *_ in top + bottom)
    for expected in (
        "St. Example Hospital",
        "Müller, Jürgen",
        "Born 14 Feb 1958",
        "ID 4711",
        "12 Mar 2024  CT Thorax",
        "DICOM PLUS WEB",
        "Disc 2 of 3",
        "Created 15 Mar 2024",
    ):
        assert expected in text


def test_label_without_site_says_so() -> None:
    top, _ = label_lines([], Site(), (1, 1), None)
    assert top[0][0] == "No institution configured"
