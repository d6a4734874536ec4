"""IHE PDI web content written into a File-set: layout, names, escaping, links, determinism."""

from __future__ import annotations

import hashlib
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from web_helpers import (
    EVIL,
    check_links_resolve,
    check_no_network,
    check_viewer_data,
    check_well_formed_xhtml,
    generated,
)

from mediatool.errors import MediatoolError
from mediatool.findings import Severity
from mediatool.web import Site, write_web_content

NAME_83 = re.compile(r"^[A-Z0-9_]{1,8}(\.[A-Z0-9_]{1,3})?$")
DIR_8 = re.compile(r"^[A-Z0-9_]{1,8}$")


def digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def evil_web(evil_fileset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("evil-web") / "disc"
    shutil.copytree(evil_fileset, root)
    write_web_content(root, site=Site(name=EVIL, department="<i>Radiology</i>"), jobs=1)
    return root


def test_layout(demo_web: Path) -> None:
    for name in (
        "INDEX.HTM",
        "README.TXT",
        "VIEWER/VIEWER.HTM",
        "VIEWER/DATA.JS",
        "VIEWER/VIEWER.JS",
        "VIEWER/VIEWER.CSS",
        "IHE_PDI/LOGO.JPG",
        "IHE_PDI/P0001/INDEX.HTM",
        "IHE_PDI/P0001/S0001/INDEX.HTM",
        "IHE_PDI/P0001/S0001/SE0001.HTM",
        "IHE_PDI/P0001/S0001/SE0001/IMG00001.JPG",
        "IHE_PDI/P0001/S0001/SE0001/THUMB.JPG",
        "VIEWER/P0001/S0001/SE0001/LUNG/IMG00001.JPG",
    ):
        assert (demo_web / name).is_file(), name
    assert not (demo_web / "AUTORUN.INF").exists()  # only with a third-party viewer
    # the images' own window is soft tissue: that preset reuses the default renderings
    assert not (demo_web / "VIEWER/P0001/S0001/SE0001/SOFT").exists()
    data = (demo_web / "VIEWER/DATA.JS").read_text(encoding="ascii")
    assert '"key":"SOFT","label":"Soft tissue","dir":"../ihe_pdi/p0001/s0001/se0001/"' in data


def test_names_are_iso9660_level1(demo_web: Path) -> None:
    for path in generated(demo_web):
        parts = path.relative_to(demo_web).parts
        assert len(parts) <= 8, path
        assert all(DIR_8.match(p) for p in parts[:-1]), path
        assert NAME_83.match(parts[-1]), path


def test_ihe_pdi_holds_only_xhtml_and_jpeg(demo_web: Path) -> None:
    suffixes = {p.suffix for p in (demo_web / "IHE_PDI").rglob("*") if p.is_file()}
    assert suffixes == {".HTM", ".JPG"}
    for path in (demo_web / "IHE_PDI").rglob("*.JPG"):
        assert path.read_bytes()[:3] == b"\xff\xd8\xff", path


def test_pdf_report_is_outside_ihe_pdi(demo_web: Path) -> None:
    pdf = demo_web / "REPORTS" / "RPT00001.PDF"
    assert pdf.read_bytes().startswith(b"%PDF")
    study = (demo_web / "IHE_PDI/P0005/S0003/INDEX.HTM").read_text(encoding="utf-8")
    assert 'href="../../../reports/rpt00001.pdf"' in study  # links in lower case (links.py)


def test_pages_are_well_formed_xhtml(demo_web: Path) -> None:
    check_well_formed_xhtml(demo_web)


def test_links_are_relative_and_resolve(demo_web: Path) -> None:
    check_links_resolve(demo_web)


def test_viewer_data_points_at_existing_images(demo_web: Path) -> None:
    check_viewer_data(demo_web)


def test_no_network_resource_anywhere(demo_web: Path) -> None:
    check_no_network(demo_web)


def test_readme_is_ascii_with_contact_version_and_content(demo_web: Path) -> None:
    data = (demo_web / "README.TXT").read_bytes()
    text = data.decode("ascii")
    assert "\r\n" in text
    for expected in (
        "St. Example Hospital",
        "Phone: +1 555 0100",
        "mediatool 0.1.0",
        "Muller, Jurgen",
        "Dvorak, Antonin",
        "INDEX.HTM",
        "DICOMDIR",
        "Disclaimer",
    ):
        assert expected in text


def test_everything_from_the_data_is_escaped(evil_web: Path) -> None:
    files = [p for p in generated(evil_web) if p.suffix in (".HTM", ".JS")]
    assert len(files) > 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text, path
        assert "<b>ID</b>" not in text and "<i>Radiology</i>" not in text, path
    index = (evil_web / "INDEX.HTM").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "A&amp;B" in index
    series = (evil_web / "IHE_PDI/P0001/S0001/SE0001.HTM").read_text(encoding="utf-8")
    assert "&lt;/script&gt;&#34;&#39;&amp;" in series
    data = (evil_web / "VIEWER/DATA.JS").read_text(encoding="ascii")
    assert "\\u003cscript\\u003ealert(1)" in data
    ET.fromstring((evil_web / "INDEX.HTM").read_bytes())


def test_two_runs_are_byte_identical(demo_fileset: Path, site: Site, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    shutil.copytree(demo_fileset, one)
    shutil.copytree(demo_fileset, two)
    write_web_content(one, site=site, jobs=1)
    write_web_content(two, site=site, jobs=2)
    assert digest(one) == digest(two)


def test_third_party_viewer_and_autorun(demo_fileset: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "LIB").mkdir(parents=True)
    (app / "VIEWER.EXE").write_bytes(b"MZ")
    (app / "LIB" / "CORE.DLL").write_bytes(b"x")
    root = tmp_path / "disc"
    shutil.copytree(demo_fileset, root)
    write_web_content(root, site=Site(name="St. Example"), viewer_dir=app, jobs=1)
    assert (root / "APP" / "LIB" / "CORE.DLL").read_bytes() == b"x"
    autorun = (root / "AUTORUN.INF").read_bytes().decode("ascii")
    assert "open=APP\\VIEWER.EXE\r\n" in autorun and "label=St. Example" in autorun
    assert "APP\\VIEWER.EXE" in (root / "README.TXT").read_text(encoding="ascii")
    assert "APP\\VIEWER.EXE" in (root / "INDEX.HTM").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (["VIEWER.EXE", "support_for_my_app.dll"], r"cannot hold: 'support_for_my_app.dll'"),
        (["README.TXT"], r"needs exactly one \.EXE .* \(found: none\)"),
        (["A.EXE", "B.EXE"], r"\(found: A.EXE, B.EXE\)"),
    ],
)
def test_unusable_third_party_viewer_is_refused_before_writing(
    demo_fileset: Path, tmp_path: Path, files: list[str], message: str
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for name in files:
        (app / name).write_bytes(b"x")
    root = tmp_path / "disc"
    shutil.copytree(demo_fileset, root)
    with pytest.raises(MediatoolError, match=message):
        write_web_content(root, site=None, viewer_dir=app)
    assert not (root / "INDEX.HTM").exists()


def test_not_a_fileset(tmp_path: Path) -> None:
    with pytest.raises(MediatoolError, match=r"no DICOMDIR"):
        write_web_content(tmp_path, site=None)


def test_a_broken_image_is_a_finding_not_an_abort(demo_fileset: Path, tmp_path: Path) -> None:
    root = tmp_path / "disc"
    shutil.copytree(demo_fileset, root)
    victim = root / "DICOM/PT000002/ST000001/SE000001/IM000001"
    victim.write_bytes(victim.read_bytes()[:-2000])  # cut into the pixel data
    findings = write_web_content(root, site=None, jobs=1)
    broken = [f for f in findings if f.code in ("web.render-failed", "web.unreadable")]
    assert [f.where for f in broken] == ["DICOM/PT000002/ST000001/SE000001/IM000001"]
    assert all(f.severity == Severity.WARNING for f in broken)
    assert (root / "IHE_PDI/P0002/S0001/SE0001/IMG00002.JPG").is_file()
    assert not (root / "IHE_PDI/P0002/S0001/SE0001/IMG00001.JPG").exists()
    index = (root / "INDEX.HTM").read_text(encoding="utf-8")
    assert "No institution is configured" in index


def test_existing_web_content_is_refused_or_replaced(demo_fileset: Path, tmp_path: Path) -> None:
    root = tmp_path / "disc"
    shutil.copytree(demo_fileset, root)
    seen: list[tuple[int, int | None, str]] = []
    write_web_content(root, site=None, jobs=1, progress=lambda *a: seen.append(a))
    assert seen[-1][0] == seen[-1][1]
    first = digest(root)
    (root / "IHE_PDI" / "STALE.HTM").write_text("x")
    with pytest.raises(MediatoolError, match=r"already has README.TXT, INDEX.HTM, IHE_PDI"):
        write_web_content(root, site=None)
    write_web_content(root, site=None, jobs=1, replace=True)
    assert digest(root) == first
