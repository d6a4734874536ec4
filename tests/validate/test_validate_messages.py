"""Messages a person can act on (issue 11): where a record sits, values as written, 'absent'."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from validate_helpers import Dicomdir, problems, small_fileset, validate

from mediatool.validate.icon import _problems


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_fileset(tmp_path_factory.mktemp("messages"))


@pytest.fixture
def media(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "media"))


def test_record_location_names_patient_study_series(media: Path) -> None:
    d = Dicomdir(media / "DICOMDIR")
    image = d.index_of("IMAGE", 4)  # patient 1, second series
    d.set_value(image, 0x00041510, b"1.2.3.04")  # D10: a leading zero in a UID component
    d.save()
    report = validate(media)
    bad = [f for f in report.findings if f.code == "record.bad-value"]
    assert len(bad) == 1, problems(report)
    assert bad[0].where == (
        f"DICOMDIR record {image} @{d.record(image)} (patient PID0001, study S1, series CT #2)"
    )


def test_is_values_print_as_written(media: Path) -> None:
    d = Dicomdir(media / "DICOMDIR")
    image = d.index_of("IMAGE")
    d.set_value(image, 0x00200013, b"9")
    d.save()
    report = validate(media)
    hits = [f.message for f in report.findings if f.code == "record.key-mismatch"]
    assert hits == ["(0020,0013) Instance Number is '9' in the IMAGE record, '1' in the file"]


def test_icon_message_says_absent() -> None:
    item = Dataset()
    item.Rows = item.Columns = 2
    item.PhotometricInterpretation = "MONOCHROME2"
    item.PixelData = b"\0" * 4
    found = "; ".join(_problems(item))
    assert "(0028,0002) Samples per Pixel is absent, not 1" in found
    assert "Bits Allocated/Stored are absent/absent" in found
    assert "(0028,0103) Pixel Representation is absent, not 0" in found
    assert "None" not in found
