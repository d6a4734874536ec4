"""Web content never costs a disc (issue 17, mediatool/build/webfit.py).

A synthesized CT set (256x256 noise: its JPEGs are large) and capacities measured from builds of
the same set: the DICOM File-set fits, DICOM and the full web content do not. The build makes
one volume with its web content reduced, says which steps, validates clean and its pages and
viewer still open; a set whose DICOM does not fit still spans; a set that fits is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from factories import make_instance, write_instance
from web_helpers import (
    assert_offline_and_clean,
    check_links_resolve,
    check_well_formed_xhtml,
    chromium_executable,
)
from webcdp import Browser, Page, chromium

from mediatool.build.webfit import Step, estimator, fit_web_content, steps
from mediatool.cli import main
from mediatool.findings import Finding
from mediatool.pixels.render import JpegSettings
from mediatool.web import write_web_content
from mediatool.web.content import MIN_ESTIMATED, estimate_web, plan_jobs, read_dicomdir
from mediatool.writers.iso import image_size

COMMON = ("--date", "2024-03-12", "--invent", "-q", "--json")
SECTOR = 2048


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def web_findings(result: Result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)["findings"]
    return [f for f in found if f["code"] in ("web.degraded", "web.left-out")]


def check_viewer_data(root: Path) -> None:
    data = (root / "VIEWER" / "DATA.JS").read_text(encoding="ascii")
    disc = json.loads(data.removeprefix("window.MEDIATOOL_DISC = ").rstrip().removesuffix(";"))
    for series in (se for p in disc["patients"] for st in p["studies"] for se in st["series"]):
        for name in series["files"]:
            assert (root / "VIEWER" / series["dir"].upper() / name.upper()).resolve().is_file()
        assert series["presets"] == []


def viewer_images(root: Path) -> int:
    data = (root / "VIEWER" / "DATA.JS").read_text(encoding="ascii")
    disc = json.loads(data.removeprefix("window.MEDIATOOL_DISC = ").rstrip().removesuffix(";"))
    return sum(
        len(se["files"]) for p in disc["patients"] for st in p["studies"] for se in st["series"]
    )


@pytest.fixture(scope="module")
def ct_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 CT images of 256x256 12-bit noise (fixed seed) in 3 series."""
    root = tmp_path_factory.mktemp("ctnoise") / "in"
    rng = np.random.default_rng(17)
    for k in range(1, 31):
        pixels = rng.integers(0, 4096, (256, 256), dtype="<u2")
        ds = make_instance(1, 1, 1 + (k - 1) // 10, k, Rows=256, Columns=256)
        ds.PixelData = pixels.tobytes()
        write_instance(root / f"CT{k:03d}.dcm", ds)
    return root


@pytest.fixture(scope="module")
def sizes(ct_set: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ISO images of the set on a CD (nothing has to give way): full, without presets, no web."""
    base = tmp_path_factory.mktemp("sizes")
    images = {}
    for name, extra in (
        ("full", ()),
        ("nopresets", ("--window-presets", "off")),
        ("dicom", ("--no-web",)),
    ):
        image = base / f"{name}.iso"
        assert run("build", ct_set, "--iso", image, *extra, *COMMON).exit_code == 0
        images[name] = image
    full, dicom = (images[k].stat().st_size for k in ("full", "dicom"))
    assert full > 2 * dicom  # the web content is larger than the DICOM File-set
    return images


def test_presets_give_way_first(ct_set: Path, sizes: dict[str, Path], tmp_path: Path) -> None:
    """Room for everything but the presets: the image is the one built without presets."""
    capacity = sizes["nopresets"].stat().st_size
    image = tmp_path / "cd.iso"
    result = run("build", ct_set, "--iso", image, "--capacity", str(capacity), *COMMON)
    found = web_findings(result)
    assert [(f["code"], f["severity"]) for f in found] == [("web.degraded", "info")]
    assert found[0]["message"].endswith("beside the DICOM File-set: CT window presets left out")
    assert "volumes" not in json.loads(result.stdout)
    assert image.read_bytes() == sizes["nopresets"].read_bytes()
    assert run("validate", image, "-q").exit_code == 0


@pytest.fixture(scope="module")
def reduced(
    ct_set: Path, sizes: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Result]:
    """A folder whose capacity leaves less room than the web content without presets needs."""
    capacity = sizes["nopresets"].stat().st_size - 40 * SECTOR
    out = tmp_path_factory.mktemp("reduced") / "disc"
    result = run("build", ct_set, "--out", out, "--capacity", str(capacity), *COMMON)
    return out, result


def test_then_the_jpegs_shrink_keeping_every_image(
    ct_set: Path, reduced: tuple[Path, Result], tmp_path: Path
) -> None:
    out, result = reduced
    found = web_findings(result)
    assert [f["code"] for f in found] == ["web.degraded"]
    assert "CT window presets left out, JPEG quality " in found[0]["message"]
    assert "volumes" not in json.loads(result.stdout)
    full = tmp_path / "full"
    assert run("build", ct_set, "--out", full, *COMMON).exit_code == 0
    jpegs = sorted(p.relative_to(out) for p in (out / "IHE_PDI").rglob("IMG*.JPG"))
    assert jpegs == sorted(p.relative_to(full) for p in (full / "IHE_PDI").rglob("IMG*.JPG"))
    assert len(jpegs) == 30  # every image kept, for the pages and the viewer
    assert sum((out / j).stat().st_size for j in jpegs) < sum(
        (full / j).stat().st_size for j in jpegs
    )
    assert not list((out / "VIEWER").rglob("SOFT")) and list((full / "VIEWER").rglob("SOFT"))
    assert run("validate", out, "-q").exit_code == 0
    check_well_formed_xhtml(out)
    check_links_resolve(out)
    check_viewer_data(out)  # every image folder and file the viewer names is on the disc
    assert viewer_images(out) == 30


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium(chromium_executable()) as b:
        yield b


@pytest.mark.oracle
def test_the_reduced_disc_opens_in_a_browser(
    reduced: tuple[Path, Result], browser: Browser
) -> None:
    out, _ = reduced
    page = Page(browser)
    page.open((out / "INDEX.HTM").as_uri())
    page.open((out / "VIEWER" / "VIEWER.HTM").as_uri())
    ready = "(() => { const i = document.getElementById('image'); return i.complete && i.naturalWidth > 0 && i.getAttribute('src'); })()"  # noqa: E501
    assert page.wait_for(ready).endswith("SE0001/IMG00001.JPG")
    assert_offline_and_clean(page, out)


def test_last_the_web_content_is_left_out(
    ct_set: Path, sizes: dict[str, Path], tmp_path: Path
) -> None:
    capacity = sizes["dicom"].stat().st_size + 2 * SECTOR
    image = tmp_path / "cd.iso"
    result = run("build", ct_set, "--iso", image, "--capacity", str(capacity), *COMMON)
    found = web_findings(result)
    assert [(f["code"], f["severity"]) for f in found] == [("web.left-out", "warning")]
    assert "CT window presets left out, JPEG quality 40" in found[0]["message"]
    assert "volumes" not in json.loads(result.stdout)
    assert image.read_bytes() == sizes["dicom"].read_bytes()  # as --no-web
    assert run("validate", image, "-q").exit_code == 0
    failed = run(
        "build",
        ct_set,
        "--iso",
        tmp_path / "x.iso",
        "--capacity",
        str(capacity),
        "--fail-on",
        "warning",
        *COMMON,
    )
    assert failed.exit_code == 1


def test_a_set_whose_dicom_does_not_fit_still_spans(
    ct_set: Path, sizes: dict[str, Path], tmp_path: Path
) -> None:
    capacity = sizes["dicom"].stat().st_size * 2 // 3
    result = run("build", ct_set, "--out", tmp_path / "out", "--capacity", str(capacity), *COMMON)
    assert web_findings(result) == []
    volumes = json.loads(result.stdout)["volumes"]
    assert len(volumes) >= 2
    for volume in sorted((tmp_path / "out").iterdir()):
        assert (volume / "INDEX.HTM").is_file()  # each volume keeps its web content
        assert run("validate", volume, "-q").exit_code == 0


def test_a_set_that_fits_is_unchanged(ct_set: Path, sizes: dict[str, Path], tmp_path: Path) -> None:
    """With room for everything, a capacity changes nothing: the folder is byte-identical to
    one built without a capacity (no web content step), the image to the CD's."""
    plain, fitted = tmp_path / "plain", tmp_path / "fitted"
    assert run("build", ct_set, "--out", plain, *COMMON).exit_code == 0
    capacity = str(sizes["full"].stat().st_size)
    result = run("build", ct_set, "--out", fitted, "--capacity", capacity, *COMMON)
    assert web_findings(result) == []
    assert digest(fitted) == digest(plain)
    image = tmp_path / "exact.iso"
    assert run("build", ct_set, "--iso", image, "--capacity", capacity, *COMMON).exit_code == 0
    assert image.read_bytes() == sizes["full"].read_bytes()


def test_the_steps_are_fixed_and_presets_on_goes_last() -> None:
    def shown(presets: str) -> list[tuple[bool, int, int]]:
        return [(s.presets, s.jpeg.quality, s.jpeg.max_edge) for s in steps(presets)]

    reduced = [(70, 1024), (50, 512), (40, 256)]
    assert shown("auto") == [(True, 85, 1024), (False, 85, 1024)] + [(False, *r) for r in reduced]
    assert shown("off") == [(False, 85, 1024)] + [(False, *r) for r in reduced]
    assert shown("on") == [(True, 85, 1024)] + [(True, *r) for r in reduced] + [(False, 40, 256)]


def test_presets_asked_for_give_way_before_the_web_content(
    ct_set: Path, sizes: dict[str, Path], tmp_path: Path
) -> None:
    capacity = sizes["nopresets"].stat().st_size - 40 * SECTOR
    out = tmp_path / "out"
    result = run(
        "build",
        ct_set,
        "--out",
        out,
        "--capacity",
        str(capacity),
        "--window-presets",
        "on",
        *COMMON,
    )
    found = web_findings(result)
    assert [f["code"] for f in found] == ["web.degraded"]
    assert found[0]["message"].endswith(
        ": CT window presets left out, JPEG quality 40, images at most 256 pixels"
    )
    assert viewer_images(out) == 30


@pytest.fixture(scope="module")
def ct_many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 CT images of 64x64 12-bit noise (fixed seed) in 4 series: enough for the estimate
    from a sample (content.MIN_ESTIMATED)."""
    root = tmp_path_factory.mktemp("ctmany") / "in"
    rng = np.random.default_rng(170)
    for k in range(1, 121):
        ds = make_instance(1, 1, 1 + (k - 1) // 30, k, Rows=64, Columns=64)
        ds.PixelData = rng.integers(0, 4096, (64, 64), dtype="<u2").tobytes()
        write_instance(root / f"CT{k:03d}.dcm", ds)
    return root


def test_the_estimate_from_a_sample_is_close(ct_many: Path, tmp_path: Path) -> None:
    """Every 25th image decoded and encoded gives the JPEG bytes of all within 10 %."""
    out = tmp_path / "disc"
    assert run("build", ct_many, "--out", out, *COMMON).exit_code == 0
    tree, _ = read_dicomdir(out)
    assert len(plan_jobs(tree, True)) >= MIN_ESTIMATED
    guess = estimate_web(out, tree, JpegSettings(), jobs_n=2)
    assert guess is not None

    def on_disc(paths: list[Path]) -> int:
        return sum(-(-p.stat().st_size // SECTOR) * SECTOR for p in paths)

    images = on_disc(list((out / "IHE_PDI").rglob("IMG*.JPG")))
    presets = on_disc(list((out / "VIEWER").rglob("IMG*.JPG")))
    assert presets > 0 and abs(guess.images - images) <= images // 10
    assert abs(guess.presets - presets) <= presets // 10
    assert estimate_web(out, tree[:0], JpegSettings(), jobs_n=1) is None  # too few to sample


def test_a_step_that_surely_does_not_fit_is_not_rendered(ct_many: Path, tmp_path: Path) -> None:
    """Room for everything but the presets: only the step without them is rendered (one
    decode per image), and the disc is the one the whole ladder gives."""
    ladder_out, fitted = tmp_path / "nopresets", tmp_path / "fitted"
    off = ("--window-presets", "off")
    made = run("build", ct_many, "--out", ladder_out, "--iso", tmp_path / "a.iso", *off, *COMMON)
    assert made.exit_code == 0
    capacity = (tmp_path / "a.iso").stat().st_size
    assert run("build", ct_many, "--out", fitted, "--no-web", *COMMON).exit_code == 0
    tree, found = read_dicomdir(fitted)
    rendered: list[tuple[bool, int]] = []

    def render(step: Step, replace: bool) -> list[Finding]:
        rendered.append((step.presets, step.jpeg.quality))
        return write_web_content(
            fitted, site=None, presets=step.presets, replace=replace, shown=(tree, found),
            jpeg=step.jpeg,
        )  # fmt: skip

    result = fit_web_content(
        fitted,
        render,
        lambda: image_size(fitted, "FITTED"),
        capacity,
        "one CD",
        "auto",
        estimate=estimator(fitted, tree, 2),
    )
    assert rendered == [(False, 85)]
    assert result is not None and [f.code for f in result] == ["web.degraded"]
    assert "CT window presets left out" in result[0].message
    web = ("IHE_PDI", "VIEWER", "INDEX.HTM", "README.TXT")
    assert {k: v for k, v in digest(fitted).items() if k.startswith(web)} == {
        k: v for k, v in digest(ladder_out).items() if k.startswith(web)
    }
