"""dicom/fileids.py: THE ISO 9660 Level 1 name rule (ECMA-119 7.5.1, 7.6.1, 10.1), as the writer,
the reader and the viewer check use it."""

from __future__ import annotations

import pytest

from mediatool.dicom.fileids import is_level1_directory, is_level1_file
from mediatool.media.iso import _name_problems
from mediatool.writers.iso import _name_findings

FILES: list[tuple[str, bool]] = [
    ("IM000001", True),
    ("README.TXT", True),
    ("DICOMDIR", True),
    ("ABCDEFGH.JPG", True),
    ("NAME.", True),  # empty File Name Extension (ECMA-119 7.5.1)
    (".EXT", True),  # empty File Name, extension present
    ("ABCDEFGHI", False),  # 9 characters
    ("NAME.JPEG", False),  # extension of 4
    ("readme.txt", False),  # lower case is no d-character
    ("A-B.TXT", False),
    ("A.B.C", False),  # one separator only
    (".", False),  # both empty
    ("", False),
]
DIRECTORIES: list[tuple[str, bool]] = [
    ("DICOM", True),
    ("PT000001", True),
    ("IHE_PDI", True),
    ("ABCDEFGHI", False),
    ("DIR.X", False),
    ("Reports", False),
    ("", False),
]


@pytest.mark.parametrize(("name", "ok"), FILES)
def test_file_names(name: str, ok: bool) -> None:
    assert is_level1_file(name) is ok
    # the ISO writer refuses exactly what the rule refuses
    assert (not _name_findings(name, ("X", name), is_dir=False)) is ok
    # the ISO reader (which sees the ;1 version) says the same
    codes = {code for code, _ in _name_problems(name + ";1")}
    assert ("media.iso-not-level1" not in codes) is ok


@pytest.mark.parametrize(("name", "ok"), DIRECTORIES)
def test_directory_names(name: str, ok: bool) -> None:
    assert is_level1_directory(name) is ok
    assert (not _name_findings(name, ("X", name), is_dir=True)) is ok
