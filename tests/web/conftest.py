"""Fixtures of the web content tests: File-sets built with the real pipeline, and Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from factories import make_instance, write_instance
from PIL import Image
from web_helpers import EVIL, build_fileset

from mediatool.sample import generate_sample
from mediatool.web import Site, load_site, write_web_content


@pytest.fixture(scope="session")
def site_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    Image.new("RGBA", (120, 40), (18, 64, 107, 255)).save(folder / "logo.png")
    (folder / "site.toml").write_text(
        'name = "St. Example Hospital"\n'
        'department = "Department of Radiology"\n'
        'address = ["1 Example Street", "12345 Example City"]\n'
        'phone = "+1 555 0100"\n'
        'email = "imaging@example.org"\n'
        'website = "www.example.org"\n'
        'logo = "logo.png"\n',
        encoding="utf-8",
    )
    return folder / "site.toml"


@pytest.fixture(scope="session")
def site(site_file: Path) -> Site:
    return load_site(site_file)


@pytest.fixture(scope="session")
def demo_fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample (every object kind, three character sets) built as a File-set."""
    base = tmp_path_factory.mktemp("demo")
    generate_sample(base / "incoming")
    return build_fileset(base / "incoming", base / "disc")


@pytest.fixture(scope="session")
def demo_web(demo_fileset: Path, site: Site, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample File-set with its web content and viewer written."""
    root = tmp_path_factory.mktemp("demo-web") / "disc"
    shutil.copytree(demo_fileset, root)
    write_web_content(root, site=site, jobs=2)
    return root


@pytest.fixture(scope="session")
def evil_fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A File-set whose names and descriptions are HTML/JS injection attempts."""
    base = tmp_path_factory.mktemp("evil")
    for n in range(1, 4):
        ds = make_instance(
            1,
            1,
            1,
            n,
            PatientName=EVIL,
            PatientID="<b>ID</b>",
            StudyDescription=EVIL,
            SeriesDescription=f"{EVIL}\"'&",
            AccessionNumber="A&B",
        )
        write_instance(base / "in" / f"{n}.dcm", ds)
    return build_fileset(base / "in", base / "disc")


@pytest.fixture(scope="session")
def demo_web_pt(
    demo_fileset: Path, site_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The sample File-set with its web content written for a site whose language is pt-BR."""
    folder = tmp_path_factory.mktemp("site-pt")
    text = site_file.read_text(encoding="utf-8").replace("St. Example", "São Example")
    (folder / "site.toml").write_text(f'{text}language = "pt-BR"\n', encoding="utf-8")
    shutil.copy(site_file.parent / "logo.png", folder / "logo.png")
    root = tmp_path_factory.mktemp("demo-web-pt") / "disc"
    shutil.copytree(demo_fileset, root)
    write_web_content(root, site=load_site(folder / "site.toml"), jobs=2)
    return root
