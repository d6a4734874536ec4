"""The web content and the label take the build's in-memory tree (issue 13): a build never reads
its DICOMDIR back, and the tree it hands over is the one the DICOMDIR reader finds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import pytest
from profile_helpers import run
from pydicom import dcmread

from mediatool import build as build_mod
from mediatool import profiles
from mediatool.build.plan import MediaPlan
from mediatool.dicom import dicomdir_read
from mediatool.sample import generate_sample
from mediatool.web import fileset, write_web_content

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _common import generate


class ReadBack(Exception):
    """Raised by the DICOMDIR reader while a test forbids it."""


def _forbid_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> NoReturn:
        raise ReadBack("the DICOMDIR was read back")

    monkeypatch.setattr(dicomdir_read, "parse", refuse)
    monkeypatch.setattr(dicomdir_read, "load", refuse)


def test_build_with_web_and_label_never_reads_its_dicomdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_sample(tmp_path / "in")
    _forbid_reading(monkeypatch)
    out, label = tmp_path / "disc", tmp_path / "label.png"
    args = ("--iso", tmp_path / "disc.iso", "--label", label, "--date", "2024-03-12", "--invent")
    result = run("build", tmp_path / "in", "--out", out, *args, "-q")
    assert result.exit_code == 0, result.stderr
    assert (out / "IHE_PDI" / "P0001" / "INDEX.HTM").is_file() and (out / "DICOMDIR").is_file()
    assert label.read_bytes().startswith(b"\x89PNG")
    # the reader is really out of reach: the path without a build does call it
    with pytest.raises(ReadBack):
        write_web_content(out, site=None, jobs=1, replace=True)


def test_spanned_build_never_reads_its_dicomdirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = generate(tmp_path / "in", 60, 20, size=128)
    _forbid_reading(monkeypatch)
    out = tmp_path / "out"
    args = ("--capacity", "1M", "--fileset-id", "SPAN", "--label", tmp_path / "label.png", "-q")
    result = run("build", src, "--out", out, *args)
    assert result.exit_code == 0, result.stderr
    volumes = sorted(out.iterdir())
    assert len(volumes) >= 3
    for k, folder in enumerate(volumes, 1):
        assert (folder / "INDEX.HTM").is_file() and (tmp_path / f"label_{k}.png").is_file()


def _built(sources: Path, out: Path, **settings: object) -> MediaPlan:
    request = build_mod.BuildRequest(
        sources=(str(sources),),
        out=out,
        profile=profiles.load(str(settings.pop("profile", profiles.DEFAULT_PROFILE))),
        web=False,
        **settings,  # type: ignore[arg-type]
    )
    return build_mod.run(request)


def _read(folder: Path) -> list[fileset.PatientNode]:
    return fileset.read_tree(dicomdir_read.parse((folder / "DICOMDIR").read_bytes()))


def test_the_tree_handed_over_is_the_one_the_reader_finds(tmp_path: Path) -> None:
    """The sample: every object kind, three character sets, records at the root."""
    generate_sample(tmp_path / "in")
    plan = _built(tmp_path / "in", tmp_path / "disc", invent=True)
    shown = fileset.from_tree(plan.tree, plan.file_ids)
    assert shown == _read(tmp_path / "disc")
    names = {p.name for p in shown}
    assert len(names) >= 3 and any(not n.isascii() for n in names)


def test_lossy_derived_images_are_shown_as_written(tmp_path: Path) -> None:
    """Lossy derived images get new SOP Instance UIDs: the tree shows the files as written."""
    src = generate(tmp_path / "in", 4, 2, size=64)
    plan = _built(
        src, tmp_path / "disc", profile="STD-GEN-DVD-J2K", compress="lossy", allow_lossy=True
    )
    shown = fileset.from_tree(plan.tree, plan.file_ids)
    assert shown == _read(tmp_path / "disc")
    leaves = [lf for p in shown for st in p.studies for se in st.series for lf in se.leaves]
    assert leaves and all(lf.sop_instance_uid in plan.file_ids for lf in leaves)
    assert len(plan.file_ids) == len(leaves)
    sources = {str(dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in src.rglob("*.dcm")}
    assert len(sources) == len(leaves) and sources.isdisjoint(lf.sop_instance_uid for lf in leaves)


@pytest.mark.parametrize(
    "value",
    [b"0005", b"5 ", b" 12", b"+7", b"-3", b"00", b"1\\2", b"abc", b"99999999999", b""],
)
def test_instance_numbers_read_from_the_keys_as_pydicom_shows_them(value: bytes) -> None:
    """The leaf's Instance Number comes from the encoded keys without a Dataset when it is a
    plain number, and is then what pydicom shows; anything else goes through pydicom."""
    import io
    import struct

    from pydicom.filereader import read_dataset

    from mediatool.dicom.values import text

    padded = value + b" " * (len(value) % 2)
    before = struct.pack("<HH2sH", 0x0008, 0x0018, b"UI", 4) + b"1.2\0"
    before += struct.pack("<HH2sHI", 0x0008, 0x1115, b"SQ", 0, 0)  # a long-VR header, empty
    keys = before + struct.pack("<HH2sH", 0x0020, 0x0013, b"IS", len(padded)) + padded
    keys += struct.pack("<HH2sH", 0x0020, 0x0020, b"CS", 2) + b"A "
    shown = text(read_dataset(io.BytesIO(keys), False, True), "InstanceNumber")
    plain = fileset._plain_instance_number(keys)
    assert plain is None or plain == shown
    assert (plain is None) == (value in (b"1\\2", b"abc", b"99999999999"))
    assert fileset._plain_instance_number(keys[: len(before)]) == ""
