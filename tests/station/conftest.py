"""Fixtures of the station's tests: a server with its data folder, and a browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pacs_peers import Orthanc
from station_peers import StationServer, chromium


@pytest.fixture
def station(tmp_path: Path) -> Iterator[StationServer]:
    """A station (no configuration file) with one account of each role: admin, reception,
    burn, qa (password station_peers.PASSWORD)."""
    server = StationServer(tmp_path / "data")
    for role in ("admin", "reception", "burn", "qa"):
        server.add_user(role, role)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    """A plain Orthanc for one test module (test_burn.py has its own, loaded with studies)."""
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        yield server
    finally:
        server.stop()
