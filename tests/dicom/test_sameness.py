"""dicom/sameness.py: the one "same content" rule for two files under one SOP Instance UID
(checklist F04): equal data sets for build and import, equal bytes for validate."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from factories import make_instance, write_instance

from mediatool.dicom.sameness import Stored, same_file, same_instance
from mediatool.model import InstanceInfo, SourceRef
from mediatool.scan import ScanOptions, scan_one


def _stored(path: Path) -> Stored:
    info = scan_one(SourceRef(str(path)), ScanOptions())
    assert isinstance(info, InstanceInfo), info

    def opener() -> BinaryIO:
        return path.open("rb")

    return Stored(opener, path.stat().st_size, info.dataset_offset, info.transfer_syntax)


def _write(
    path: Path, *, meta: bool = True, implicit: bool = False, description: str = "CT Thorax"
) -> Stored:
    ds = make_instance(StudyDescription=description)
    return _stored(write_instance(path, ds, meta=meta, implicit=implicit))


def test_byte_identical_copies_are_the_same_for_all(tmp_path: Path) -> None:
    a, b = _write(tmp_path / "a.dcm"), _write(tmp_path / "b.dcm")
    assert same_file(a, b) and same_instance(a, b)


def test_other_file_meta_is_the_same_instance_but_another_file(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.dcm")
    path = tmp_path / "b.dcm"
    ds = make_instance()
    write_instance(path, ds)
    ds.file_meta.SourceApplicationEntityTitle = "OTHER_AE"  # File Meta only (PS3.10 7.1)
    ds.save_as(path, enforce_file_format=True)
    b = _stored(path)
    assert b.dataset_offset != a.dataset_offset
    assert same_instance(a, b)
    assert not same_file(a, b)


def test_another_encoding_of_equal_values_is_the_same_instance(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.dcm")
    raw = _write(tmp_path / "raw.dcm", meta=False, implicit=True)
    implicit = _write(tmp_path / "implicit.dcm", implicit=True)
    assert raw.dataset_offset == 0
    assert same_instance(a, raw) and same_instance(raw, a)
    assert same_instance(a, implicit)
    assert not same_file(a, raw) and not same_file(a, implicit)


def test_other_values_are_different_for_all(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.dcm")
    b = _write(tmp_path / "b.dcm", description="CT Abdomen")
    c = _write(tmp_path / "c.dcm", meta=False, implicit=True, description="CT Abdomen")
    assert not same_instance(a, b) and not same_file(a, b)
    assert not same_instance(a, c)


def test_each_command_asks_its_own_question(tmp_path: Path) -> None:
    """One folder, three files under one SOP Instance UID: a, b (the same data set, another
    File Meta) and c (another Study Description). build and import keep b as a copy of a;
    validate, judging the files on the medium, calls b a conflict; c is a conflict for all."""
    from mediatool.build import _content_equal
    from mediatool.importer import same_content
    from mediatool.importer.select import Selection, plan_import
    from mediatool.importer.survey import survey_media
    from mediatool.media import open_media
    from mediatool.validate import validate_media

    root = tmp_path / "media"
    _write(root / "a.dcm")
    ds = make_instance()
    write_instance(root / "b.dcm", ds)
    ds.file_meta.SourceApplicationEntityTitle = "OTHER_AE"
    ds.save_as(root / "b.dcm", enforce_file_format=True)
    _write(root / "c.dcm", description="CT Abdomen")
    infos = [scan_one(SourceRef(str(root / f"{n}.dcm")), ScanOptions()) for n in "abc"]
    a, b, c = (i for i in infos if isinstance(i, InstanceInfo))
    assert _content_equal(a, b) and not _content_equal(a, c)
    with open_media(root) as reader:
        plan = plan_import(survey_media(reader), Selection(), None, same_content(reader))
        report = validate_media(reader, jobs=1)
    assert {o.path: o.code for o in plan.decided} == {
        "b.dcm": "import.duplicate",
        "c.dcm": "import.duplicate-conflict",
    }
    f04 = {f.where: f.code for f in report.findings if "duplicate" in f.code}
    assert f04 == {"b.dcm": "hierarchy.duplicate-conflict", "c.dcm": "hierarchy.duplicate-conflict"}
