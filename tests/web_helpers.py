"""Helpers of the web content tests (tests/web): a File-set built with the real pipeline, the
hostile text, and Chromium."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from mediatool import build as build_mod
from mediatool import profiles

EVIL = "<script>alert(1)</script>"


def build_fileset(sources: Path, out: Path) -> Path:
    request = build_mod.BuildRequest(
        sources=(str(sources),),
        out=out,
        profile=profiles.load(profiles.DEFAULT_PROFILE),
        fileset_id="WEBTEST",
        force=True,
        web=False,  # the tests write the web content themselves
    )
    build_mod.run(request)
    return out


def chromium_executable() -> str:
    """The browser for the end-to-end tests; missing is a failure (scripts/test.sh installs it)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "Chromium is not installed (Debian package 'chromium'; scripts/test.sh installs "
        "it): the viewer cannot be tested"
    )


# --- the disc's web content, checked the same way in every language (tests/web) ----------


def generated(root: Path) -> list[Path]:
    """Every file except the DICOM File-set itself."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.name != "DICOMDIR" and p.relative_to(root).parts[0] != "DICOM"
    )


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append(value)


def check_well_formed_xhtml(demo_web: Path) -> None:
    pages = [demo_web / "INDEX.HTM", *(demo_web / "IHE_PDI").rglob("*.HTM")]
    for page in pages:
        ET.fromstring(page.read_bytes())  # raises on any well-formedness error


def check_links_resolve(demo_web: Path) -> None:
    pages = [
        *demo_web.glob("*.HTM"),
        *(demo_web / "IHE_PDI").rglob("*.HTM"),
        demo_web / "VIEWER" / "VIEWER.HTM",
    ]
    for page in pages:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for url in parser.urls:
            if url == "data:,":  # the viewer's empty favicon: no request at all
                continue
            assert ":" not in url and not url.startswith("/"), (page, url)
            path = url.split("#")[0]
            assert path == path.lower(), (page, url)  # lower case: links.py says why
            target = (page.parent / path.upper()).resolve()  # the names as written
            assert target.is_relative_to(demo_web.resolve()), (page, url)
            assert target.is_file(), (page, url)


def check_viewer_data(demo_web: Path) -> None:
    data = (demo_web / "VIEWER" / "DATA.JS").read_text(encoding="ascii")
    refs = re.findall(r'"(\.\./[a-z0-9_/]+/)"', data)  # image folders, in lower case
    refs += re.findall(r'"(\.\./[a-z0-9_/]+\.(?:jpg|pdf|htm))"', data)
    assert len(refs) > 20
    for ref in refs:
        assert (demo_web / "VIEWER" / ref.upper()).resolve().exists(), ref
    assert "http" not in data


def check_no_network(demo_web: Path) -> None:
    for path in generated(demo_web):
        if path.suffix in (".HTM", ".JS", ".CSS"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path
            assert "url(http" not in text and "@import" not in text, path


def assert_offline_and_clean(page: Any, root: Path) -> None:
    """A webcdp Page loaded no error and requested nothing but files below ``root``."""
    assert page.errors() == []
    requests = page.requests()
    assert requests, "the page loaded nothing"
    for url in requests:
        assert url.startswith(f"{root.as_uri()}/") or url.startswith("data:"), url
