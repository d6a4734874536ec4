"""The printable disc label."""

from __future__ import annotations

import io
import shutil
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


def test_the_content_type_is_dicom_only_without_web_content(
    demo_fileset: Path, demo_web: Path, site: Site, tmp_path: Path
) -> None:
    """pdi.md 2.6: "DICOM ONLY" or "DICOM PLUS WEB", as the disc is (INDEX.HTM at its root)."""
    _, bottom = label_lines([], site, (1, 1), None, web=False)
    assert "DICOM ONLY  ·  Disc 1 of 1" in [t for t, *_ in bottom]
    assert not any("WEB" in t for t, *_ in bottom)
    assert not (demo_fileset / "INDEX.HTM").exists() and (demo_web / "INDEX.HTM").is_file()
    only = make_label(demo_fileset, site=site, created="20240315")
    plus = make_label(demo_web, site=site, created="20240315")
    assert plus != only
    shutil.copytree(demo_fileset, tmp_path / "disc")
    (tmp_path / "disc" / "INDEX.HTM").write_text("<html></html>", encoding="ascii")
    assert make_label(tmp_path / "disc", site=site, created="20240315") == plus  # only that


def test_label_without_site_says_so() -> None:
    top, _ = label_lines([], Site(), (1, 1), None)
    assert top[0][0] == "No institution configured"
