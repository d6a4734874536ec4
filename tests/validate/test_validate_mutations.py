"""One defect at a time on a File-set built by mediatool: each gives its finding code.

The base File-set (2 patients, 2 series each, 3 CT images per series) validates clean; every
mutator below breaks one rule, and the test asserts the code (and where it points, when that is
not obvious). Records are numbered as items of the Directory Record Sequence (1-based, depth
first as mediatool writes them): 1 PATIENT, 2 STUDY, 3 SERIES, 4-6 IMAGE, 7 SERIES, 8-10 IMAGE,
11 PATIENT, ...
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from factories import make_instance, uid, write_instance
from validate_helpers import Dicomdir, codes, problems, small_fileset, validate, where

from mediatool.profiles import load

IMAGE1 = "DICOM/PT000001/ST000001/SE000001/IM000001"
NEXT, IN_USE, LOWER, RTYPE = 0x00041400, 0x00041410, 0x00041420, 0x00041430
FILE_ID, REF_CLASS, REF_INSTANCE, REF_TS = 0x00041500, 0x00041510, 0x00041511, 0x00041512
ROOT_FIRST, ROOT_LAST, CONSISTENCY, FILESET_ID = 0x00041200, 0x00041202, 0x00041212, 0x00041130


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_fileset(tmp_path_factory.mktemp("base"))


@pytest.fixture
def fileset(base: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "media"))


def test_base_is_clean(base: Path) -> None:
    report = validate(base)
    assert report.findings == (), problems(report)
    assert report.inventory.counts()["instances"] == 12


def dd(root: Path, change: Callable[[Dicomdir], None]) -> None:
    d = Dicomdir(root / "DICOMDIR")
    change(d)
    d.save()


# --- mutators: each takes the File-set folder ---------------------------------------------------


def no_dicomdir(root: Path) -> None:
    (root / "DICOMDIR").unlink()


def lowercase_dicomdir(root: Path) -> None:
    (root / "DICOMDIR").rename(root / "dicomdir")


def nested_fileset(root: Path) -> None:
    (root / "CD").mkdir()
    for name in ("DICOMDIR", "DICOM"):
        (root / name).rename(root / "CD" / name)


def second_dicomdir(root: Path) -> None:
    shutil.copy(root / "DICOMDIR", root / "DICOM" / "DICOMDIR")


def dicomdir_without_preamble(root: Path) -> None:
    path = root / "DICOMDIR"
    path.write_bytes(path.read_bytes()[132:])


def truncated_dicomdir(root: Path) -> None:
    path = root / "DICOMDIR"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage_dicomdir(root: Path) -> None:
    (root / "DICOMDIR").write_bytes(b"this is not DICOM at all\n" * 10)


def sop_class(root: Path) -> None:
    data = (
        (root / "DICOMDIR")
        .read_bytes()
        .replace(b"1.2.840.10008.1.3.10", b"1.2.840.10008.1.3.11", 1)
    )
    (root / "DICOMDIR").write_bytes(data)


def consistency_ffff(root: Path) -> None:
    dd(root, lambda d: d.set_us(None, CONSISTENCY, 0xFFFF))


def fileset_id_lower(root: Path) -> None:
    dd(root, lambda d: d.set_value(None, FILESET_ID, b"testcd"))


def root_first_zero(root: Path) -> None:
    dd(root, lambda d: d.set_ul(None, ROOT_FIRST, 0))


def root_first_into_item(root: Path) -> None:
    dd(root, lambda d: d.set_ul(None, ROOT_FIRST, d.record(1) + 8))


def root_last_wrong(root: Path) -> None:
    dd(root, lambda d: d.set_ul(None, ROOT_LAST, d.record(1)))


def next_to_itself(root: Path) -> None:
    dd(root, lambda d: d.set_ul(1, NEXT, d.record(1)))


def lower_to_itself(root: Path) -> None:
    dd(root, lambda d: d.set_ul(1, LOWER, d.record(1)))


def lower_to_ancestor(root: Path) -> None:
    dd(root, lambda d: d.set_ul(3, LOWER, d.record(2)))


def study_next_to_patient2(root: Path) -> None:
    dd(root, lambda d: d.set_ul(2, NEXT, d.record(11)))


def study_lower_zero(root: Path) -> None:
    dd(root, lambda d: d.set_ul(2, LOWER, 0))


def image_inactive(root: Path) -> None:
    dd(root, lambda d: d.set_us(4, IN_USE, 0))


def in_use_other(root: Path) -> None:
    dd(root, lambda d: d.set_us(4, IN_USE, 0x1234))


def unknown_type(root: Path) -> None:
    dd(root, lambda d: d.set_value(2, RTYPE, b"FOOBAR"))


def retired_type(root: Path) -> None:
    dd(root, lambda d: d.set_value(2, RTYPE, b"TOPIC"))


def series_as_image(root: Path) -> None:
    dd(root, lambda d: d.set_value(3, RTYPE, b"IMAGE"))


def patient_as_private(root: Path) -> None:
    dd(root, lambda d: d.set_value(1, RTYPE, b"PRIVATE"))


def next_element_missing(root: Path) -> None:
    dd(root, lambda d: d.retag(4, NEXT, 0x00041401))


def patient_id_missing(root: Path) -> None:
    dd(root, lambda d: d.retag(1, 0x00100020, 0x00100021))


def patient_id_blank(root: Path) -> None:
    dd(root, lambda d: d.set_value(1, 0x00100020, b""))


def study_description_missing(root: Path) -> None:
    dd(root, lambda d: d.retag(2, 0x00081030, 0x00081031))


def bad_study_date(root: Path) -> None:
    dd(root, lambda d: d.set_value(2, 0x00080020, b"2024-3-1"))


def charset_unknown(root: Path) -> None:
    dd(root, lambda d: d.set_value(11, 0x00080005, b"ISO_IR 999"))


def charset_missing(root: Path) -> None:
    dd(root, lambda d: d.retag(11, 0x00080005, 0x00080004))


def file_reference_incomplete(root: Path) -> None:
    dd(root, lambda d: d.retag(4, REF_TS, 0x00041513))


def image_without_file_id(root: Path) -> None:
    dd(root, lambda d: d.retag(4, FILE_ID, 0x00041501))


def file_id_lowercase(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, FILE_ID, d.value(4, FILE_ID).rstrip().lower()))


def file_id_dotdot(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, FILE_ID, b"..\\..\\..\\ETC\\PASSWD"))


def file_id_absolute(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, FILE_ID, b"\\ETC\\PASSWD"))


def file_id_dicomdir(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, FILE_ID, b"DICOMDIR"))


def file_referenced_twice(root: Path) -> None:
    dd(root, lambda d: d.set_value(5, FILE_ID, d.value(4, FILE_ID)))


def file_deleted(root: Path) -> None:
    (root / IMAGE1).unlink()


def file_lowercase_on_disk(root: Path) -> None:
    (root / IMAGE1).rename(root / IMAGE1.replace("IM000001", "im000001"))


def file_with_extension(root: Path) -> None:
    (root / IMAGE1).rename(root / (IMAGE1 + ".dcm"))


def orphan_file(root: Path) -> None:
    write_instance(root / "DICOM" / "EXTRA", make_instance(1, 1, 1, 99))


def identical_copy(root: Path) -> None:
    shutil.copy(root / IMAGE1, root / "DICOM" / "COPY1")


def conflicting_copy(root: Path) -> None:
    write_instance(root / "DICOM" / "COPY1", make_instance(1, 1, 1, 1, StudyDescription="Other"))


def readme(root: Path) -> None:
    (root / "README.TXT").write_text("hello\n")


def record_sop_instance_wrong(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, REF_INSTANCE, uid(7, 7, 7, 7).encode(), b"\0"))


def record_sop_class_wrong(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, REF_CLASS, b"1.2.840.10008.5.1.4.1.1.4", b"\0"))


def record_ts_wrong(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, REF_TS, b"1.2.840.10008.1.2.2", b"\0"))


def record_type_for_sr(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, RTYPE, b"PLAN"))


def patient_name_differs(root: Path) -> None:
    dd(root, lambda d: d.set_value(1, 0x00100010, b"Test^Other"))


def study_description_differs(root: Path) -> None:
    dd(root, lambda d: d.set_value(2, 0x00081030, b"Other"))


def patient_id_differs(root: Path) -> None:
    dd(root, lambda d: d.set_value(1, 0x00100020, b"PID9999"))


def instance_number_differs(root: Path) -> None:
    dd(root, lambda d: d.set_value(4, 0x00200013, b"9"))


def duplicate_study(root: Path) -> None:
    dd(root, lambda d: d.set_value(12, 0x0020000D, d.value(2, 0x0020000D), b"\0"))


def meta_group_length(root: Path) -> None:
    path = root / IMAGE1
    data = bytearray(path.read_bytes())
    data[140:144] = b"\x10\x00\x00\x00"
    path.write_bytes(bytes(data))


def pixel_data_truncated(root: Path) -> None:
    path = root / IMAGE1
    path.write_bytes(path.read_bytes()[:-10])


def header_truncated(root: Path) -> None:
    path = root / IMAGE1
    path.write_bytes(path.read_bytes()[:400])


def not_dicom(root: Path) -> None:
    (root / IMAGE1).write_bytes(b"just text\n")


def patient_conflict(root: Path) -> None:
    ds = make_instance(1, 1, 1, 1, PatientName="Other^Name")
    write_instance(root / IMAGE1, ds)


CASES = [
    pytest.param(no_dicomdir, "dicomdir.missing", "DICOMDIR", id="no-dicomdir"),
    pytest.param(lowercase_dicomdir, "dicomdir.name-case", "dicomdir", id="lowercase-dicomdir"),
    pytest.param(nested_fileset, "dicomdir.not-at-root", "CD/DICOMDIR", id="dicomdir-in-folder"),
    pytest.param(second_dicomdir, "dicomdir.several", "DICOM/DICOMDIR", id="second-dicomdir"),
    pytest.param(dicomdir_without_preamble, "meta.no-preamble", "DICOMDIR", id="no-preamble"),
    pytest.param(truncated_dicomdir, "dicomdir.truncated", "DICOMDIR", id="truncated-dicomdir"),
    pytest.param(garbage_dicomdir, "dicomdir.unreadable", "DICOMDIR", id="garbage-dicomdir"),
    pytest.param(sop_class, "dicomdir.sop-class", "DICOMDIR", id="wrong-sop-class"),
    pytest.param(consistency_ffff, "dicomdir.consistency-flag-set", "DICOMDIR", id="flag-ffff"),
    pytest.param(fileset_id_lower, "fileid.fileset-id", "DICOMDIR", id="fileset-id-lower"),
    pytest.param(root_first_zero, "dicomdir.sequence-order", "DICOMDIR", id="root-first-zero"),
    pytest.param(root_first_into_item, "dicomdir.bad-offset", "DICOMDIR", id="root-into-item"),
    pytest.param(root_last_wrong, "dicomdir.root-offsets", "DICOMDIR", id="root-last-wrong"),
    pytest.param(next_to_itself, "dicomdir.offset-cycle", None, id="next-cycle"),
    pytest.param(lower_to_itself, "dicomdir.offset-cycle", None, id="lower-cycle"),
    pytest.param(lower_to_ancestor, "dicomdir.offset-cycle", None, id="lower-to-ancestor"),
    pytest.param(study_next_to_patient2, "dicomdir.record-reached-twice", None, id="shared"),
    pytest.param(study_lower_zero, "dicomdir.unreachable-record", None, id="orphan-records"),
    pytest.param(study_lower_zero, "dicomdir.unreachable-empty-record", None, id="orphan-series"),
    pytest.param(image_inactive, "record.inactive", None, id="inactive-record"),
    pytest.param(image_inactive, "file.not-referenced", IMAGE1, id="inactive-file-orphan"),
    pytest.param(in_use_other, "record.in-use-value", None, id="in-use-1234"),
    pytest.param(unknown_type, "record.unknown-type", None, id="unknown-type"),
    pytest.param(retired_type, "record.retired-type", None, id="retired-type"),
    pytest.param(series_as_image, "record.bad-parent", None, id="image-under-study"),
    pytest.param(series_as_image, "record.no-file-reference", None, id="image-without-file"),
    pytest.param(patient_as_private, "record.private-uid", None, id="private-without-uid"),
    pytest.param(next_element_missing, "record.missing-element", None, id="no-next-element"),
    pytest.param(patient_id_missing, "record.missing-key", None, id="patient-id-absent"),
    pytest.param(patient_id_blank, "record.missing-key", None, id="patient-id-blank"),
    pytest.param(study_description_missing, "record.missing-type2-key", None, id="type2-absent"),
    pytest.param(bad_study_date, "record.bad-value", None, id="bad-da"),
    pytest.param(charset_unknown, "record.charset-unknown", None, id="charset-unknown"),
    pytest.param(charset_missing, "record.charset-missing", None, id="charset-missing"),
    pytest.param(file_reference_incomplete, "record.file-reference", None, id="no-ref-ts"),
    pytest.param(image_without_file_id, "record.no-file-reference", None, id="no-file-id"),
    pytest.param(file_id_lowercase, "fileid.bad-character", None, id="lowercase-file-id"),
    pytest.param(file_id_lowercase, "file.tolerant-name", None, id="lowercase-file-id-found"),
    pytest.param(file_id_dotdot, "file.outside-fileset", "../../../ETC/PASSWD", id="dotdot"),
    pytest.param(file_id_absolute, "file.outside-fileset", "/ETC/PASSWD", id="absolute"),
    pytest.param(file_id_dicomdir, "file.outside-fileset", "DICOMDIR", id="refs-dicomdir"),
    pytest.param(file_referenced_twice, "file.referenced-twice", None, id="referenced-twice"),
    pytest.param(file_deleted, "file.missing", IMAGE1, id="missing-file"),
    pytest.param(file_lowercase_on_disk, "file.tolerant-name", IMAGE1, id="lowercase-name"),
    pytest.param(file_with_extension, "file.tolerant-name", IMAGE1, id="dcm-extension"),
    pytest.param(orphan_file, "file.not-referenced", "DICOM/EXTRA", id="orphan-file"),
    pytest.param(identical_copy, "file.duplicate-identical", "DICOM/COPY1", id="identical-copy"),
    pytest.param(conflicting_copy, "hierarchy.duplicate-conflict", None, id="conflicting-copy"),
    pytest.param(readme, "file.non-dicom", None, id="non-dicom-file"),
    pytest.param(record_sop_instance_wrong, "file.sop-instance-mismatch", IMAGE1, id="e19"),
    pytest.param(record_sop_class_wrong, "file.sop-class-mismatch", IMAGE1, id="e18"),
    pytest.param(record_ts_wrong, "file.transfer-syntax-mismatch", IMAGE1, id="e20"),
    pytest.param(record_type_for_sr, "file.record-type", IMAGE1, id="e21"),
    pytest.param(patient_name_differs, "record.ancestor-mismatch", None, id="d07-name"),
    pytest.param(study_description_differs, "record.ancestor-differs", None, id="d08-description"),
    pytest.param(patient_id_differs, "record.ancestor-mismatch", None, id="d07-patient-id"),
    pytest.param(instance_number_differs, "record.key-mismatch", IMAGE1, id="d06"),
    pytest.param(duplicate_study, "record.duplicate-study", None, id="f06"),
    pytest.param(meta_group_length, "meta.group-length", IMAGE1, id="meta-group-length"),
    pytest.param(pixel_data_truncated, "file.pixel-data-truncated", IMAGE1, id="pixels-cut"),
    pytest.param(header_truncated, "read.truncated", IMAGE1, id="header-cut"),
    pytest.param(not_dicom, "file.not-dicom", IMAGE1, id="not-dicom"),
    pytest.param(patient_conflict, "hierarchy.patient-conflict", None, id="f08"),
]


@pytest.mark.parametrize(("mutate", "code", "at"), CASES)
def test_defect_is_reported(
    fileset: Path, mutate: Callable[[Path], None], code: str, at: str | None
) -> None:
    mutate(fileset)
    report = validate(fileset)
    assert code in codes(report), problems(report)
    if at is not None:
        assert at in where(report, code)


def test_profile_checks_only_when_claimed(fileset: Path) -> None:
    """G01 and D04 apply under --profile only: an Implicit VR file; an IMAGE record without
    the (0008,0008) Image Type that STD-GEN-CD adds (PS3.11 Table D.3-2)."""
    ds = make_instance(1, 1, 1, 1)
    write_instance(fileset / IMAGE1, ds, implicit=True)
    dd(fileset, lambda d: d.set_value(4, REF_TS, b"1.2.840.10008.1.2", b"\0"))
    dd(fileset, lambda d: d.retag(5, 0x00080008, 0x00080009))
    plain = validate(fileset)
    assert not {"profile.ts-not-allowed", "profile.key-missing"} & codes(plain), problems(plain)
    claimed = validate(fileset, load("STD-GEN-CD"))
    assert IMAGE1 in where(claimed, "profile.ts-not-allowed")
    assert "DICOM/PT000001/ST000001/SE000001/IM000002" in where(claimed, "profile.key-missing")
    assert claimed.media.profile == "STD-GEN-CD"


def test_inactive_subtree_is_skipped(fileset: Path) -> None:
    dd(fileset, lambda d: d.set_us(3, IN_USE, 0))  # a SERIES: its 3 IMAGE records go with it
    report = validate(fileset)
    assert len(where(report, "record.inactive")) == 1
    assert len(where(report, "file.not-referenced")) == 3


def test_sequence_order_fallback_still_checks_files(fileset: Path) -> None:
    dd(fileset, lambda d: d.set_ul(None, ROOT_FIRST, 0))
    (fileset / IMAGE1).unlink()
    report = validate(fileset)
    assert "dicomdir.sequence-order" in codes(report)
    assert IMAGE1 in where(report, "file.missing")
    assert "file.not-referenced" not in codes(report)
    assert report.inventory.counts()["instances"] == 11


def test_no_dicomdir_inventory_from_files(fileset: Path) -> None:
    (fileset / "DICOMDIR").unlink()
    report = validate(fileset)
    assert codes(report) == {"dicomdir.missing"}, problems(report)
    assert report.inventory.counts()["instances"] == 12


def test_empty_folder(tmp_path: Path) -> None:
    report = validate(tmp_path)
    assert codes(report) == {"dicomdir.missing", "inventory.empty"}
