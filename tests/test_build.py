"""``mediatool build`` end to end through the CLI (CliRunner), on synthetic inputs."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import make_instance, study_folder, uid, write_instance
from pydicom import dcmread
from pydicom.fileset import FileSet

from mediatool.cli import main


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def codes(result: Result) -> set[str]:
    return {f["code"] for f in json.loads(result.stdout)["findings"]}


def test_build_writes_fileset_that_pydicom_reads(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in")
    result = run("build", src, "--out", tmp_path / "out", "--fileset-id", "test_cd")
    assert result.exit_code == 0, result.stderr
    assert "2 patients, 2 studies, 4 series, 12 instances" in result.stdout
    # the only finding: no --site, so no institution contact for README.TXT (issue 11, PDI)
    assert result.stderr.startswith("WARNING web.no-institution: no --site")
    assert result.stderr.count("\n") == 1
    fs = FileSet(tmp_path / "out" / "DICOMDIR")
    assert fs.ID == "TEST_CD"
    assert len(fs) == 12
    for instance in fs:
        ds = instance.load()
        assert ds.SOPInstanceUID == instance.SOPInstanceUID
        assert ds.file_meta.ImplementationVersionName == "MEDIATOOL_0_1_0"
    names = sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    )
    assert names[0] == "DICOM/PT000001/ST000001/SE000001/IM000001"
    top = {n.split("/")[0] for n in names}
    assert top == {"DICOM", "DICOMDIR", "IHE_PDI", "INDEX.HTM", "README.TXT", "VIEWER"}
    assert not (tmp_path / "out" / "AUTORUN.INF").exists()  # only with --viewer


def test_offsets_point_at_item_tags(tmp_path: Path) -> None:
    """PS3.3 F.3.2.2: offsets count from the first byte of the file to the Item tag."""
    run("build", study_folder(tmp_path / "in"), "--out", tmp_path / "out")
    data = (tmp_path / "out" / "DICOMDIR").read_bytes()
    ds = dcmread(tmp_path / "out" / "DICOMDIR")
    starts = {
        ds.DirectoryRecordSequence[i].seq_item_tell for i in range(len(ds.DirectoryRecordSequence))
    }
    positions = starts  # pydicom: the file position of each item's (FFFE,E000) tag
    assert ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity in positions
    for rec in ds.DirectoryRecordSequence:
        for kw in ("OffsetOfTheNextDirectoryRecord", "OffsetOfReferencedLowerLevelDirectoryEntity"):
            value = rec[kw].value
            assert value == 0 or value in positions
            if value:
                assert data[value : value + 4] == b"\xfe\xff\x00\xe0"


def test_same_input_any_order_gives_identical_output(tmp_path: Path) -> None:
    a = study_folder(tmp_path / "a", patients=1)
    b = tmp_path / "b"
    for i in range(1, 4):
        write_instance(b / f"x{i}.dcm", make_instance(2, 1, 1, i))
    assert run("build", a, b, "--out", tmp_path / "o1").exit_code == 0
    assert run("build", b, a, "--out", tmp_path / "o2").exit_code == 0
    assert tree_digest(tmp_path / "o1") == tree_digest(tmp_path / "o2")


def test_sources_are_never_modified(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in")
    write_instance(src / "raw", make_instance(3, 1, 1, 1), meta=False)
    before = tree_digest(src)
    assert run("build", src, "--out", tmp_path / "out").exit_code == 0
    assert tree_digest(src) == before


def test_non_empty_output_refused_unless_force(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    result = run("build", src, "--out", out)
    assert result.exit_code == 2
    assert "is not empty" in result.stderr and "--force" in result.stderr
    assert (out / "keep.txt").exists()
    assert run("build", src, "--out", out, "--force").exit_code == 0
    assert not (out / "keep.txt").exists()
    assert (out / "DICOMDIR").exists()


def test_output_inside_input_refused(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1)
    result = run("build", src, "--out", src / "disc")
    assert result.exit_code == 2
    assert "overlaps the input" in result.stderr


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    result = run("build", tmp_path / "nope", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: input {str(tmp_path / 'nope')!r} does not exist"


def test_nothing_dicom_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("hello")
    result = run("build", tmp_path / "in", "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert "no DICOM instance found" in result.stderr
    assert not (tmp_path / "out").exists()


def test_non_dicom_skipped_with_finding(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1)
    (src / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    result = run("build", src, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    skipped = [f for f in doc["findings"] if f["code"] == "source.not-dicom"]
    assert [Path(f["where"]).name for f in skipped] == ["photo.jpg"]


def test_raw_dataset_gets_file_meta(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_instance(src / "raw", make_instance(1, 1, 1, 1), meta=False, implicit=True)
    result = run("build", src, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    assert "meta.no-preamble" in codes(result)
    out = tmp_path / "out" / "DICOM/PT000001/ST000001/SE000001/IM000001"
    assert out.read_bytes()[128:132] == b"DICM"
    ds = dcmread(out)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert ds.file_meta.MediaStorageSOPInstanceUID == uid(1, 1, 1, 1)


def test_contradicting_meta_corrected_dataset_unchanged(tmp_path: Path) -> None:
    src = tmp_path / "in"
    ds = make_instance(1, 1, 1, 1)
    path = write_instance(src / "a.dcm", ds)
    data = bytearray(path.read_bytes())
    wrong = uid(9, 9, 9, 9).encode()
    right = uid(1, 1, 1, 1).encode()
    assert len(wrong) == len(right)
    meta_end = data.index(b"\x08\x00")  # first data set tag after the meta
    data[:meta_end] = data[:meta_end].replace(right, wrong)
    path.write_bytes(bytes(data))
    result = run("build", src, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    assert "meta.sop-instance-mismatch" in codes(result)
    written = (tmp_path / "out" / "DICOM/PT000001/ST000001/SE000001/IM000001").read_bytes()
    assert dcmread(
        tmp_path / "out" / "DICOM/PT000001/ST000001/SE000001/IM000001"
    ).file_meta.MediaStorageSOPInstanceUID == uid(1, 1, 1, 1)
    assert written.endswith(bytes(data[meta_end:]))  # the data set is not changed


def test_implicit_vr_is_reencoded_losslessly(tmp_path: Path) -> None:
    src = tmp_path / "in"
    original = make_instance(1, 1, 1, 1)
    write_instance(src / "imp.dcm", original, implicit=True)
    result = run("build", src, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    assert "build.reencoded" in codes(result)
    ds = dcmread(tmp_path / "out" / "DICOM/PT000001/ST000001/SE000001/IM000001")
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert not ds.original_encoding[0]
    assert ds.PixelData == original.PixelData
    assert ds.PatientName == original.PatientName


def test_duplicates(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1, series=1)
    (src / "copy.dcm").write_bytes((src / "patient 1/series_1/img-001.dcm").read_bytes())
    result = run("build", src, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    assert "hierarchy.duplicate-identical" in codes(result)
    assert json.loads(result.stdout)["counts"]["instances"] == 3
    write_instance(src / "other.dcm", make_instance(1, 1, 1, 2, StudyDescription="changed"))
    result = run("build", src, "--out", tmp_path / "out2", "--json")
    assert result.exit_code == 1
    assert "hierarchy.duplicate-conflict" in codes(result)
    assert not (tmp_path / "out2").exists()


def test_conflicting_patient_and_study_under_two_patients(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_instance(src / "a", make_instance(1, 1, 1, 1))
    write_instance(src / "b", make_instance(1, 2, 1, 1, PatientName="Other^Name"))
    result = run("build", src, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    assert "hierarchy.patient-conflict" in codes(result)
    write_instance(src / "c", make_instance(2, 1, 1, 5, StudyInstanceUID=uid(1, 1)))
    result = run("build", src, "--out", tmp_path / "out2", "--json")
    assert result.exit_code == 1
    assert "hierarchy.study-two-patients" in codes(result)


def test_missing_type1_key_refused_naming_file_and_attribute(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_instance(src / "good", make_instance(1, 1, 1, 1))
    bad = write_instance(src / "bad", make_instance(1, 1, 1, 2, PatientID=None))
    result = run("build", src, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert (
        f"ERROR hierarchy.missing-key {bad}: Type 1 key PatientID of the PATIENT record is "
        "missing or empty (use --invent to fill it)"
    ) in result.stderr
    assert not (tmp_path / "out").exists()


def test_invent_keeps_one_study_under_one_patient(tmp_path: Path) -> None:
    """DCMTK's +I invents a new Patient ID per file and splits the study; we reuse the
    study's own Patient ID."""
    src = tmp_path / "in"
    write_instance(src / "good", make_instance(1, 1, 1, 1))
    write_instance(src / "bad", make_instance(1, 1, 1, 2, PatientID=None, InstanceNumber=None))
    write_instance(src / "lonely", make_instance(5, 1, 1, 1, PatientID=None, StudyID=None))
    result = run("build", src, "--out", tmp_path / "out", "--invent", "--json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["counts"]["patients"] == 2
    assert doc["counts"]["studies"] == 2
    invented = sorted(
        (Path(f["where"]).name, f["message"])
        for f in doc["findings"]
        if f["code"] == "hierarchy.invented"
    )
    assert invented[0] == ("bad", "InstanceNumber invented as '2'")
    assert invented[1] == ("bad", "PatientID invented as 'PID0001'")
    assert invented[2][0] == "lonely" and invented[2][1].startswith("PatientID invented as 'MT")
    fs = FileSet(tmp_path / "out" / "DICOMDIR")
    for instance in fs:
        ds = instance.load()
        assert ds.PatientID == instance.PatientID  # written into the file and the record
        assert ds.InstanceNumber == instance.InstanceNumber


def test_zip_input(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1, series=1)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(src.rglob("*.dcm")):
            zf.write(p, p.relative_to(src).as_posix())
        zf.writestr("../evil.dcm", b"x")
    result = run("build", archive, "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["counts"]["instances"] == 3
    assert "source.zip-unsafe-member" in codes(result)
    assert not (tmp_path / "evil.dcm").exists()


def test_dry_run_json_writes_nothing(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1, series=1)
    result = run("build", src, "--out", tmp_path / "out", "--dry-run", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema"] == "mediatool.build/1"
    assert doc["ok"] is True and doc["dry_run"] is True
    assert [f["file_id"] for f in doc["files"]] == [
        f"DICOM/PT000001/ST000001/SE000001/IM00000{i}" for i in (1, 2, 3)
    ]
    assert {f["action"] for f in doc["files"]} == {"copy"}
    assert not (tmp_path / "out").exists()


def test_non_ascii_names_carry_specific_character_set(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write_instance(src / "a", make_instance(1, 1, 1, 1, PatientName="Müller^Jürgen"))
    write_instance(src / "b", make_instance(2, 1, 1, 1, SpecificCharacterSet=None))
    assert run("build", src, "--out", tmp_path / "out").exit_code == 0
    ds = dcmread(tmp_path / "out" / "DICOMDIR")
    patients = [r for r in ds.DirectoryRecordSequence if r.DirectoryRecordType == "PATIENT"]
    assert patients[0].SpecificCharacterSet == "ISO_IR 100"
    assert patients[0].PatientName == "Müller^Jürgen"
    assert "SpecificCharacterSet" not in patients[1]


def test_descriptor_file(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1, series=1)
    readme = tmp_path / "readme.txt"
    readme.write_text("Disc made by the test suite, Zürich\n", encoding="latin-1")
    assert run("build", src, "--out", tmp_path / "out", "--descriptor", readme).exit_code == 0
    ds = dcmread(tmp_path / "out" / "DICOMDIR")
    assert ds.FileSetDescriptorFileID == "README"
    assert ds.SpecificCharacterSetOfFileSetDescriptorFile == "ISO_IR 100"
    assert (tmp_path / "out" / "README").read_bytes() == readme.read_bytes()


def test_bad_fileset_id_refused(tmp_path: Path) -> None:
    src = study_folder(tmp_path / "in", patients=1, series=1)
    result = run("build", src, "--out", tmp_path / "out", "--fileset-id", "MY-DISC-ID-THAT-IS-LONG")
    assert result.exit_code == 1
    assert "fileid.fileset-id" in result.stderr


@pytest.mark.parametrize(
    "name", ["CT_small.dcm", "MR_small_bigendian.dcm", "JPEG2000.dcm", "MR_small_implicit.dcm"]
)
def test_pydicom_files_convert_losslessly(tmp_path: Path, name: str) -> None:
    import numpy as np
    from pydicom.data import get_testdata_file

    source = Path(str(get_testdata_file(name, download=False)))
    result = run("build", source, "--out", tmp_path / "out", "--invent")
    assert result.exit_code == 0, result.stderr
    written = next((tmp_path / "out" / "DICOM").rglob("IM*"))
    ds = dcmread(written)
    assert ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert np.array_equal(ds.pixel_array, dcmread(source).pixel_array)


def test_undecodable_input_refused_with_file_named(tmp_path: Path) -> None:
    """12-bit JPEG Extended: no installed decoder reads it, so STD-GEN-CD cannot take it."""
    from pydicom.data import get_testdata_file

    source = Path(str(get_testdata_file("JPEG-lossy.dcm", download=False)))
    result = run("build", source, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert (
        f"ERROR profile.cannot-convert {source}: cannot convert to 'Explicit VR Little "
        "Endian'" in result.stderr
    )
    assert "Traceback" not in result.stderr and "libjpeg error" not in result.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_iso_and_folder_carry_identical_content(tmp_path: Path) -> None:
    import oracles

    src = study_folder(tmp_path / "in", patients=1)
    out, iso = tmp_path / "disc", tmp_path / "disc.iso"
    args = ("build", src, "--fileset-id", "TEST_CD", "--date", "2024-03-12")
    assert run(*args, "--out", out, "--iso", iso).exit_code == 0
    extracted = oracles.xorriso_extract(iso, tmp_path / "x")
    assert extracted.volume_id == "TEST_CD"
    assert tree_digest(tmp_path / "x") == tree_digest(out)
    assert run(*args, "--iso", tmp_path / "only.iso").exit_code == 0
    assert (tmp_path / "only.iso").read_bytes() == iso.read_bytes()
    again = run(*args, "--iso", iso)
    assert again.exit_code == 2 and "exists" in again.stderr


def test_iso_capacity_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mediatool.writers import iso as iso_writer

    src = study_folder(tmp_path / "in", patients=1)
    monkeypatch.setattr(iso_writer, "MEDIA_CAPACITY", {**iso_writer.MEDIA_CAPACITY, "cd": 10_000})
    result = run("build", src, "--iso", tmp_path / "disc.iso")
    assert result.exit_code == 2
    assert "a CD holds" in result.stderr and "--media dvd" in result.stderr
    assert not (tmp_path / "disc.iso").exists()


def test_json_is_one_document_when_the_build_cannot_run_or_is_refused(tmp_path: Path) -> None:
    """--json prints exactly one document: on an error that stops the build (exit 2) it says
    why; on a refused plan (exit 1) it is the plan's report, not a second error document."""
    missing = run("build", tmp_path / "nothing-here", "--out", tmp_path / "out", "--json")
    assert missing.exit_code == 2
    doc = json.loads(missing.stdout)
    assert doc["ok"] is False and "does not exist" in doc["error"]
    src = tmp_path / "in"
    write_instance(src / "a.dcm", make_instance(1, 1, 1, 1))
    write_instance(src / "b.dcm", make_instance(1, 1, 1, 1, PatientID="OTHER"))  # conflict
    refused = run("build", src, "--out", tmp_path / "out2", "--json")
    assert refused.exit_code == 1, refused.output
    doc = json.loads(refused.stdout)  # one document: json.loads fails on two
    assert doc["ok"] is False and doc["findings"] and "error" not in doc
