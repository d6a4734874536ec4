"""End to end in a real browser: headless Chromium opens the disc from file:// with no network.

INDEX.HTM, a study page and the viewer load with no console error and request nothing but
files of the disc; the viewer draws its first image (a screenshot of the image area that is not
blank), and ArrowRight shows the next image.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from web_helpers import assert_offline_and_clean, chromium_executable
from webcdp import Browser, Page, chromium

pytestmark = pytest.mark.oracle
#: Images in the first screen are loaded (the series pages load the others lazily).
VISIBLE_IMAGES_LOADED = (
    "[...document.images].filter(i => i.getBoundingClientRect().top < innerHeight)"
    ".every(i => i.complete && i.naturalWidth > 0)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(chromium_executable()) as b:
        yield b


def image_area(page: Page) -> np.ndarray:
    rect = page.evaluate(
        "(() => { const r = document.getElementById('viewport').getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}; })()"
    )
    png = page.screenshot(rect)
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int16)


def test_index_and_pages_open_offline(browser: Browser, demo_web: Path) -> None:
    page = Page(browser)
    page.open((demo_web / "INDEX.HTM").as_uri())
    assert page.evaluate("document.querySelectorAll('.patient').length") == 5
    page.wait_for(VISIBLE_IMAGES_LOADED)  # lazily: after the inline script set their case
    for relative in (
        "IHE_PDI/P0001/S0001/INDEX.HTM",
        "IHE_PDI/P0001/S0001/SE0001.HTM",
        "IHE_PDI/P0002/S0001/SR0001.HTM",
    ):
        page.open((demo_web / relative).as_uri())
        page.wait_for(VISIBLE_IMAGES_LOADED)
    assert_offline_and_clean(page, demo_web)


def test_viewer_draws_and_arrow_key_moves(browser: Browser, demo_web: Path) -> None:
    page = Page(browser)
    page.open((demo_web / "VIEWER" / "VIEWER.HTM").as_uri())
    ready = "(() => { const i = document.getElementById('image'); return i.complete && i.naturalWidth > 0 && i.getAttribute('src'); })()"  # noqa: E501
    first_src = page.wait_for(ready)
    assert first_src.endswith("SE0001/IMG00001.JPG")
    first = image_area(page)
    assert first.std() > 10, "the image area is blank"
    assert (first > 60).mean() > 0.05, "nothing bright is drawn"

    page.press("ArrowRight", 39)
    second_src = page.wait_for(ready)
    assert second_src.endswith("SE0001/IMG00002.JPG")
    second = image_area(page)
    assert np.abs(first - second).mean() > 0.5, "the picture did not change"
    frames = len(list((demo_web / "VIEWER" / first_src).resolve().parent.glob("IMG*.JPG")))
    assert frames > 2
    assert page.evaluate("document.getElementById('ov-bl').textContent").endswith(f"2 / {frames}")

    page.press("3", 51)  # the second CT preset: lung (soft tissue is the images' own window)
    assert page.wait_for(ready).endswith("/VIEWER/P0001/S0001/SE0001/LUNG/IMG00002.JPG")
    page.press("2", 50)
    assert page.wait_for(ready).endswith("/IHE_PDI/P0001/S0001/SE0001/IMG00002.JPG")
    assert_offline_and_clean(page, demo_web)


def test_viewer_wheel_zoom_and_reports(browser: Browser, demo_web: Path) -> None:
    page = Page(browser)
    page.open((demo_web / "VIEWER" / "VIEWER.HTM").as_uri() + "#P0002/S0001")
    page.wait_for("document.getElementById('image').complete")
    page.send(
        "Input.dispatchMouseEvent",
        {"type": "mouseWheel", "x": 700, "y": 500, "deltaX": 0, "deltaY": 100},
    )
    page.wait_for("document.getElementById('image').getAttribute('src').endsWith('IMG00002.JPG')")
    width = page.evaluate("document.getElementById('image').getBoundingClientRect().width")
    page.press("+", 187)
    zoomed = page.evaluate("document.getElementById('image').getBoundingClientRect().width")
    assert zoomed > width * 1.2
    page.press("r", 82)
    assert page.evaluate("!document.getElementById('reports').hidden")
    text = page.evaluate("document.getElementById('reports-body').textContent")
    assert "Diagnostic imaging report" in text and "Normální nález MR mozku." in text
    assert_offline_and_clean(page, demo_web)
