"""The disc in real readers (issue 11): links work whatever case the names are read in.

Linux mounts an ISO 9660 Level 1 image with every name in lower case (isofs ``map=normal``);
Windows, macOS and FAT are case-insensitive; a folder copy on a case-sensitive disk keeps
the case it was made with. Headless Chromium opens ``index.htm`` of an extraction whose names
were all lower-cased, and ``INDEX.HTM`` of the upper-case folder build wrote, follows the links
to a study page and to the viewer, and sees an image. Every page parses as XHTML.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import oracles
import pytest
from click.testing import CliRunner
from web_helpers import chromium_executable
from webcdp import Browser, Page, chromium

from mediatool.cli import main
from mediatool.sample import generate_sample

pytestmark = pytest.mark.oracle
XHTML = "{http://www.w3.org/1999/xhtml}"
IMAGE_SHOWN = (
    "(() => { const i = document.getElementById('image');"
    " return i.complete && i.naturalWidth > 0 && i.getAttribute('src'); })()"
)
LOADED = "[...document.images].every(i => i.complete && i.naturalWidth > 0)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(chromium_executable()) as b:
        yield b


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample built by the CLI as a folder and an image (same content)."""
    base = tmp_path_factory.mktemp("case")
    generate_sample(base / "in", instances=40)
    result = CliRunner().invoke(
        main,
        [
            "build",
            str(base / "in"),
            "--out",
            str(base / "DISC"),
            "--iso",
            str(base / "disc.iso"),
            "--date",
            "2024-03-12",
            "--invent",
            "-q",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return base / "DISC", base / "disc.iso"


def lower_cased(root: Path) -> None:
    """Every name below ``root`` in lower case, as Linux shows a Level 1 image."""
    for folder, dirs, files in os.walk(root, topdown=False):
        Path(folder).chmod(0o755)  # extracted without Rock Ridge: read-only
        for name in [*files, *dirs]:
            Path(folder, name).rename(Path(folder, name.lower()))


@pytest.fixture(scope="module")
def mounted_on_linux(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("linux") / "cdrom"
    report = oracles.xorriso_extract(built[1], out)
    assert report.returncode == 0 and not report.errors, report
    assert (out / "INDEX.HTM").is_file()
    lower_cased(out)
    assert (out / "index.htm").is_file() and not (out / "INDEX.HTM").exists()
    return out


def follow(page: Page, root: Path, start: str) -> None:
    """index → first patient → first study page (thumbnails load) → viewer (an image shows)."""
    page.open((root / start).as_uri())
    page.wait_for(LOADED)
    page.open(page.evaluate("document.querySelector('a.pname').href"))
    page.open(page.evaluate("document.querySelector('td a').href"))
    page.wait_for(LOADED)
    assert page.evaluate("document.querySelectorAll('.card img').length") > 0
    page.open(page.evaluate("document.querySelector('.cta a.button').href"))
    shown = page.wait_for(IMAGE_SHOWN)
    assert shown.lower().endswith(".jpg")
    assert page.evaluate("getComputedStyle(document.getElementById('toolbar')).display") == "flex"
    assert page.errors() == []
    for url in page.requests():
        assert url.startswith(f"{root.as_uri()}/") or url.startswith("data:"), url


def test_lower_cased_extraction_works_in_chromium(browser: Browser, mounted_on_linux: Path) -> None:
    page = Page(browser)
    follow(page, mounted_on_linux, "index.htm")
    assert all("/ihe_pdi/" in u or "/viewer/" in u or u.endswith("index.htm")
               for u in page.requests() if u.endswith((".jpg", ".htm")))  # fmt: skip


def test_upper_case_folder_works_in_chromium(browser: Browser, built: tuple[Path, Path]) -> None:
    page = Page(browser)
    follow(page, built[0], "INDEX.HTM")
    assert page.evaluate("location.pathname").endswith("/VIEWER/VIEWER.HTM")


def test_every_page_is_well_formed_xhtml(built: tuple[Path, Path]) -> None:
    """PDI web content is XHTML (pdi.md 2.3): every page parses with an XML parser and its
    root is the XHTML namespace's html element."""
    folder = built[0]
    pages = [
        folder / "INDEX.HTM",
        *(folder / "IHE_PDI").rglob("*.HTM"),
        folder / "VIEWER" / "VIEWER.HTM",
    ]
    assert len(pages) > 10
    for page in pages:
        root = ET.parse(page).getroot()
        assert root.tag == f"{XHTML}html", page
        assert root.find(f"{XHTML}head/{XHTML}title") is not None, page
        links = [
            e.get("href") or e.get("src") or ""
            for e in root.iter()
            if e.get("href") or e.get("src")
        ]
        paths = [link.split("#")[0] for link in links if ":" not in link]
        assert paths and all(path == path.lower() for path in paths), page


def test_lower_links_keeps_fragments_and_absolute_urls() -> None:
    from mediatool.web.links import lower_links, lower_path

    assert lower_path("../IHE_PDI/P0001/INDEX.HTM#P0001/S0001") == (
        "../ihe_pdi/p0001/index.htm#P0001/S0001"
    )
    for kept in ("data:,", "#top", "/ABS/PATH.HTM", "HTTPS://EXAMPLE.ORG/A.HTM"):
        assert lower_path(kept) == kept
    markup = (
        '<a href="VIEWER/VIEWER.HTM#P0002/S0001">Viewer</a><img src="IHE_PDI/LOGO.JPG" alt="A"/>'
    )
    assert lower_links(markup) == (
        '<a href="viewer/viewer.htm#P0002/S0001">Viewer</a><img src="ihe_pdi/logo.jpg" alt="A"/>'
    )
