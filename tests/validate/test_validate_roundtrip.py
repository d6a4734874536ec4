"""What ``mediatool build`` writes, ``mediatool validate`` passes: no error and no warning, on a
folder, its ISO 9660 image and a zip archive of it alike.

Inputs: pydicom's bundled files (many SOP Classes, encodings and character sets, foreign and
imperfect) and the sample set of ``mediatool sample``.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from factories import make_instance, write_instance
from pydicom.data import get_charset_files, get_testdata_file
from validate_helpers import build, codes, problems, small_fileset, validate, where

from mediatool.cli import main
from mediatool.profiles import load
from mediatool.sample import generate_sample
from mediatool.validate import Report

#: pydicom files with distinct SOP Instance UIDs that need no decompression to fit STD-GEN-CD.
PYDICOM_FILES = (
    "CT_small.dcm",
    "MR_small.dcm",
    "rtplan.dcm",
    "rtstruct.dcm",
    "rtdose_1frame.dcm",
    "reportsi.dcm",
    "waveform_ecg.dcm",
    "examples_palette.dcm",
    "liver_1frame.dcm",
    "image_dfl.dcm",
    "ExplVR_BigEnd.dcm",
    "SC_rgb_small_odd.dcm",
)
#: One of each character set (PS3.3 C.12.1.1.2): Arabic, Latin-1, Greek, ISO 2022 IR 87/13,
#: Hebrew, Korean, Cyrillic, GB18030, GBK.
CHARSET_FILES = (
    "chrArab",
    "chrFren",
    "chrGerm",
    "chrGreek",
    "chrH31",
    "chrH32",
    "chrHbrw",
    "chrI2",
    "chrJapMulti",
    "chrKoreanMulti",
    "chrRuss",
    "chrX1",
    "chrX2",
)


def clean(report: Report) -> None:
    assert [f for f in report.findings if f.severity >= 20] == [], problems(report)


@pytest.fixture(scope="module")
def pydicom_fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pydicom")
    (root / "in").mkdir()
    for name in PYDICOM_FILES:
        shutil.copy(str(get_testdata_file(name, download=False)), root / "in" / name)
    for name in CHARSET_FILES:
        shutil.copy(get_charset_files(f"{name}.dcm")[0], root / "in" / f"{name}.dcm")
    return build(root / "in", root / "out", "--invent", "--fileset-id", "PYDICOM")


def test_pydicom_files(pydicom_fileset: Path) -> None:
    report = validate(pydicom_fileset)
    clean(report)
    assert report.inventory.counts()["instances"] == len(PYDICOM_FILES) + len(CHARSET_FILES)
    clean(validate(pydicom_fileset, load("STD-GEN-CD")))


def test_names_decoded_with_each_records_character_set(pydicom_fileset: Path) -> None:
    names = {p.name for p in validate(pydicom_fileset).inventory.patients.values()}
    assert {
        "Yamada^Tarou=山田^太郎=やまだ^たろう",  # ISO 2022 IR 87
        "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう",  # ISO 2022 IR 13
        "Wang^XiaoDong=王^小東",  # GB18030
        "Wang^XiaoDong=王^小东",  # GBK
        "Hong^Gildong=洪^吉洞=홍^길동",  # ISO 2022 IR 149
        "Buc^Jérôme",  # Latin-1
        "Люкceмбypг",  # Cyrillic
        "Διονυσιος",  # Greek
        "שרון^דבורה",  # Hebrew
        "قباني^لنزار",  # Arabic
    } <= names


@pytest.mark.parametrize("name", ["JPEG2000.dcm", "SC_rgb_rle.dcm"])
def test_decompressed_files(name: str, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    shutil.copy(str(get_testdata_file(name, download=False)), tmp_path / "in" / name)
    clean(validate(build(tmp_path / "in", tmp_path / "out", "--invent")))


@pytest.fixture(scope="module")
def sample_fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    generate_sample(root / "in", instances=150, seed=3)
    return build(root / "in", root / "out", "--fileset-id", "SAMPLE")


def test_sample_set(sample_fileset: Path) -> None:
    report = validate(sample_fileset, jobs=2)
    clean(report)
    assert report.inventory.counts()["instances"] >= 100
    clean(validate(sample_fileset, load("STD-GEN-CD")))


def test_same_answer_on_folder_iso_and_zip(sample_fileset: Path, tmp_path: Path) -> None:
    iso = tmp_path / "disc.iso"
    result = CliRunner().invoke(
        main, ["iso", str(sample_fileset), str(iso), "--date", "2024-05-01"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    archive = tmp_path / "disc.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(sample_fileset.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(sample_fileset).as_posix())
    reports = {kind: validate(path, jobs=2) for kind, path in
               (("folder", sample_fileset), ("iso", iso), ("zip", archive))}  # fmt: skip
    for kind, report in reports.items():
        clean(report)
        assert report.media.kind == kind
    inventories = [r.inventory.as_dict() for r in reports.values()]
    for inventory in inventories:
        del inventory["counts"]["bytes"]  # an ISO image pads nothing, but a zip has no sizes
    assert inventories[1] == inventories[0]
    assert inventories[2] == inventories[0]


def test_deterministic(sample_fileset: Path) -> None:
    a, b = validate(sample_fileset, jobs=1), validate(sample_fileset, jobs=2)
    assert a.as_dict() == b.as_dict()


def _iso(folder: Path, iso: Path, volume_id: str) -> Path:
    import pycdlib

    image = pycdlib.PyCdlib()
    image.new(interchange_level=1, vol_ident=volume_id)
    for p in sorted(folder.rglob("*")):
        name = "/" + p.relative_to(folder).as_posix()
        if p.is_dir():
            image.add_directory(name)
        else:
            image.add_file(str(p), name + ".;1")
    image.write(str(iso))
    image.close()
    return iso


def test_volume_identifier_is_the_fileset_id(tmp_path: Path) -> None:
    """A05 (PS3.12 F.1.1): checked on ISO images only."""
    folder = small_fileset(tmp_path / "fs")
    assert "dicomdir.volume-id" not in codes(validate(_iso(folder, tmp_path / "a.iso", "TESTCD")))
    report = validate(_iso(folder, tmp_path / "b.iso", "OTHER"))
    assert "dicomdir.volume-id" in codes(report), problems(report)


def test_unreferenced_file_names(tmp_path: Path) -> None:
    """A15: names of DICOM files that no record names follow the File ID rules too."""
    folder = small_fileset(tmp_path / "fs")
    write_instance(folder / "DICOM" / "extra-file.dcm", make_instance(3, 1, 1, 1))
    report = validate(folder)
    assert "DICOM/extra-file.dcm" in where(report, "fileid.bad-character")
    assert "DICOM/extra-file.dcm" in where(report, "file.not-referenced")
