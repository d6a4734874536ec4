"""Every page of the station, as each desk's browser shows it: at 1280x800 and on a tablet
(768x1024) with no sideways scrolling, every form field labelled, the keyboard reaching the
controls, and in Brazilian Portuguese with no English sentence of the catalog left."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from babel.messages.pofile import read_po
from starlette.routing import Route
from station_peers import StationServer, sign_in

from mediatool.station import config as cfg
from mediatool.station.app import create_app
from mediatool.station.i18n import CATALOGS

pytestmark = pytest.mark.oracle

VIEWPORTS = {"desktop": (1280, 800), "tablet": (768, 1024)}


def _pages(station: StationServer) -> list[str]:
    """The pages a person opens (GET routes without parameters), the admin's view."""
    app = create_app(cfg.merge(cfg.DEFAULT, data=station.data), run_jobs=False)
    paths = sorted(
        r.path
        for r in app.routes
        if isinstance(r, Route) and "GET" in (r.methods or ()) and "{" not in r.path
    )
    pages = [p for p in paths if p not in ("/login", "/first-run") and "." not in p]
    return [*pages, "/login"]  # not the downloads (audit.csv)


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.type !== 'submit' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_every_page_fits_is_labelled_and_keyboard_usable(
    station: StationServer, browser: Any, viewport: str
) -> None:
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    page = context.new_page()
    try:
        sign_in(page, station, "admin")
        problems = []
        for path in _pages(station):
            if path == "/login":
                continue
            response = page.goto(station.url + path)
            assert response is not None and response.status == 200, (path, response)
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if wide > 2:
                problems.append(f"{path}: {wide}px wider than the {viewport} screen")
            unlabelled = page.evaluate(UNLABELLED)
            if unlabelled:
                problems.append(f"{path}: fields without a label: {unlabelled}")
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement && document.activeElement.tagName")
            if focused in (None, "BODY"):
                problems.append(f"{path}: Tab reaches no control")
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def _english_sentences() -> list[str]:
    """The catalog's English messages long enough to be recognised, with a different pt-BR."""
    with (CATALOGS / "pt_BR.po").open("rb") as f:
        catalog = read_po(f, locale="pt_BR")
    out: list[str] = []
    for m in catalog:
        if not isinstance(m.id, str) or not m.id or "%(" in m.id or len(m.id) < 16:
            continue
        if m.string and m.string != m.id:
            out.append(m.id)
    return out


def test_every_page_speaks_brazilian_portuguese(station: StationServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    page = context.new_page()
    try:
        page.goto(station.url + "/login")
        assert page.locator("html").get_attribute("lang") == "pt-BR"
        assert "Entrar" in page.inner_text("main")
        sign_in(page, station, "admin")
        english = _english_sentences()
        leftovers = []
        for path in _pages(station):
            if path == "/login":
                continue
            page.goto(station.url + path)
            text = html.unescape(re.sub(r"\s+", " ", page.inner_text("body")))
            leftovers += [f"{path}: {s!r}" for s in english if s in text]
        assert not leftovers, "\n".join(leftovers)
    finally:
        context.close()
