"""A build with record icons and web content decodes each image once (issue 13)."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from factories import make_instance, study_folder, write_instance
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, JPEGLosslessSV1

from mediatool.cli import main
from mediatool.pixels import render, transcode

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
ICONS = """
[icons]
required = false
records = ["IMAGE"]
size = 16
bits = 8
photometric = ["MONOCHROME2"]
"""


def icon_profile(folder: Path) -> Path:
    """STD-GEN-CD with 16x16 icons on IMAGE records, under another id."""
    text = (PROFILES / "STD-GEN-CD.toml").read_text(encoding="utf-8")
    folder.mkdir()
    (folder / "X-ICONS.toml").write_text(
        text.replace('id = "STD-GEN-CD"', 'id = "X-ICONS"') + ICONS, encoding="utf-8"
    )
    return folder


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    original: Callable[[Dataset], np.ndarray] = render.decode

    def decode(ds: Dataset) -> np.ndarray:
        calls[str(ds.SOPInstanceUID)] += 1
        return original(ds)

    monkeypatch.setattr(render, "decode", decode)
    return calls


def build(src: Path, out: Path, profiles: Path, *extra: str) -> None:
    args = ["build", str(src), "--out", str(out), "--profile-dir", str(profiles)]
    args += ["--profile", "X-ICONS", "--date", "2024-03-12", "--jobs", "1", "-q", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def icons_of(dicomdir: Path) -> dict[str, bytes]:
    records = dcmread(dicomdir).DirectoryRecordSequence
    return {
        str(r.ReferencedSOPInstanceUIDInFile): bytes(r.IconImageSequence[0].PixelData)
        for r in records
        if "IconImageSequence" in r
    }


def test_icons_and_web_pictures_come_from_one_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = study_folder(tmp_path / "in", patients=1, series=2, instances=3)
    profiles = icon_profile(tmp_path / "profiles")
    calls = count_decodes(monkeypatch)
    build(src, tmp_path / "web", profiles)
    made = icons_of(tmp_path / "web" / "DICOMDIR")
    assert len(made) == 6 and all(len(p) == 16 * 16 for p in made.values())
    assert set(calls) == set(made) and set(calls.values()) == {1}, calls
    assert len(list((tmp_path / "web" / "IHE_PDI").rglob("IMG*.JPG"))) == 6

    calls.clear()  # without web content the writer makes them, from its own (only) decode
    build(src, tmp_path / "noweb", profiles, "--no-web")
    assert set(calls.values()) == {1} and len(calls) == 6
    assert (tmp_path / "noweb" / "DICOMDIR").read_bytes() == (
        tmp_path / "web" / "DICOMDIR"
    ).read_bytes()


def test_a_raw_data_set_is_converted_and_gets_its_icon(tmp_path: Path) -> None:
    """No File Meta (no preamble, no 'DICM'): the Transfer Syntax the scan found decodes it."""
    ds = make_instance()
    ds.PixelData = (np.arange(16, dtype="<u2") * 200).tobytes()
    path = write_instance(tmp_path / "raw", ds, meta=False)
    assert path.read_bytes()[128:132] != b"DICM"
    out = transcode.convert(
        path.read_bytes(),
        source_ts=ExplicitVRLittleEndian,
        target_ts=JPEGLosslessSV1,
        icon_size=16,
    )
    assert out.icon_error is None and out.icon is not None
    written = dcmread(io.BytesIO(out.data))
    assert written.file_meta.TransferSyntaxUID == JPEGLosslessSV1
    assert (written.pixel_array == np.arange(16).reshape(4, 4) * 200).all()
