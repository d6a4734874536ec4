"""The cheap checks that size a disc (issue 17): ``webfit.file_sizes`` walks as ``rglob`` did,
and ``write.image_fits`` answers as the exact layout (``measured_size``) does: a folder within
the upper bound fits, one the bound leaves open is laid out, one that cannot be recorded never
fits, and an ``--image`` is always laid out."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import make_instance, write_instance
from web_helpers import build_fileset

from mediatool import build as build_mod
from mediatool import profiles
from mediatool.build import write
from mediatool.build.webfit import file_sizes, quick_fits
from mediatool.writers.iso import image_size


def rglob_sizes(root: Path) -> list[int]:
    return sorted(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_file_sizes_walk_as_rglob(tmp_path: Path) -> None:
    (tmp_path / "A" / "B").mkdir(parents=True)
    (tmp_path / "A" / "B" / "F1").write_bytes(b"x" * 3000)
    (tmp_path / "A" / "F2").write_bytes(b"y" * 10)
    (tmp_path / "F3").write_bytes(b"")
    (tmp_path / "C").mkdir()
    (tmp_path / "LINKF").symlink_to(tmp_path / "A" / "F2")  # a link to a file counts
    (tmp_path / "LINKD").symlink_to(tmp_path / "A")  # a link to a folder is not entered
    (tmp_path / "BROKEN").symlink_to(tmp_path / "NONE")
    assert sorted(file_sizes(tmp_path)) == rglob_sizes(tmp_path) == [0, 10, 10, 3000]


@pytest.fixture(scope="module")
def fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for n in range(1, 4):
        write_instance(src / f"{n}.dcm", make_instance(number=n))
    return build_fileset(src, tmp_path_factory.mktemp("out") / "FS")


def request_for(
    fileset: Path, image: Path | None = None, media: str | None = None
) -> build_mod.BuildRequest:
    return build_mod.BuildRequest(
        sources=(),
        out=fileset,
        profile=profiles.load(profiles.DEFAULT_PROFILE),
        image=image,
        media=media,
    )


def test_image_fits_as_the_exact_layout(fileset: Path) -> None:
    exact = image_size(fileset, "X")
    assert exact is not None
    request = request_for(fileset)
    wide = exact + (4 << 20)  # the bound: files, 2 sectors each, 2 MB
    assert quick_fits(fileset, wide)
    assert write.image_fits(request, fileset, "X", wide)
    # the bound leaves these open: the layout decides, to the byte
    assert not quick_fits(fileset, exact)
    assert write.image_fits(request, fileset, "X", exact)
    assert not write.image_fits(request, fileset, "X", exact - 1)


def test_a_folder_that_cannot_be_recorded_never_fits(fileset: Path, tmp_path: Path) -> None:
    bad = tmp_path / "FS"
    bad.mkdir()
    for path in fileset.rglob("*"):
        target = bad / path.relative_to(fileset)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    (bad / "not level one.txt").write_bytes(b"x")  # no ISO 9660 Level 1 name
    assert image_size(bad, "X") is None
    assert quick_fits(bad, 10**9)
    assert not write.image_fits(request_for(bad), bad, "X", 10**9)


def test_an_image_is_always_laid_out(
    fileset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_for(fileset, image=tmp_path / "x.img", media="usb")
    calls: list[Path] = []
    measured = write.measured_size

    def spy(req: build_mod.BuildRequest, folder: Path, volume_id: str) -> int | None:
        calls.append(folder)
        return measured(req, folder, volume_id)

    monkeypatch.setattr(write, "measured_size", spy)
    assert write.image_fits(request, fileset, "X", 10**9)
    assert calls == [fileset]
