"""Tests for ``mediatool.sample``: the deterministic set of foreign DICOM files."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from mediatool.errors import OutputError
from mediatool.sample import SampleFile, SampleResult, generate_sample

DICOM_KINDS = (
    "CT",
    "MR",
    "US",
    "CR",
    "MG",
    "PET",
    "XA",
    "RTSTRUCT",
    "RTPLAN",
    "RTDOSE",
    "SR",
    "PDF",
    "ECG",
    "GSPS",
    "KOS",
    "EC",
    "ES",
    "XC",
    "raw-dataset",
    "implicit-vr",
    "duplicate",
)
ALL_KINDS = frozenset({*DICOM_KINDS, "not-dicom"})
FOREIGN_IMPLEMENTATIONS = {"1.2.826.0.1.3680043.9.7433.1.1", "1.2.276.0.7230010.3.0.3.6.4"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleResult]:
    root = tmp_path_factory.mktemp("sample")
    return root, generate_sample(root)


def _read(root: Path, entry: SampleFile) -> Dataset:
    return dcmread(root / entry.path, force=entry.kind == "raw-dataset")


def _first(result: SampleResult, kind: str) -> SampleFile:
    return next(entry for entry in result.files if entry.kind == kind)


def _dicom_files(result: SampleResult) -> Iterator[SampleFile]:
    return (entry for entry in result.files if entry.kind != "not-dicom")


def _snapshot(root: Path) -> dict[str, str]:
    """File path -> content digest, independent of directory listing order."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    first = generate_sample(tmp_path / "a", instances=40, seed=7)
    second = generate_sample(tmp_path / "b", instances=40, seed=7)
    assert first == second
    assert _snapshot(tmp_path / "a") == _snapshot(tmp_path / "b")


def test_seed_changes_uids_and_pixels(tmp_path: Path, sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    other = generate_sample(tmp_path / "seed2", seed=2)
    uids = {entry.sop_instance_uid for entry in result.files} - {None}
    other_uids = {entry.sop_instance_uid for entry in other.files} - {None}
    assert uids.isdisjoint(other_uids)
    ct = _first(result, "CT").path
    assert dcmread(root / ct).PixelData != dcmread(tmp_path / "seed2" / ct).PixelData


def test_listing_matches_the_folder(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    paths = [entry.path for entry in result.files]
    assert paths == sorted(set(paths))
    assert set(paths) == set(_snapshot(root))


def test_counts_match_the_files(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    datasets = [_read(root, entry) for entry in _dicom_files(result)]
    assert (result.patients, result.studies, result.series, result.instances) == (5, 8, 21, 120)
    assert len({ds.PatientID for ds in datasets}) == result.patients
    assert len({ds.StudyInstanceUID for ds in datasets}) == result.studies
    assert len({ds.SeriesInstanceUID for ds in datasets}) == result.series
    assert len({ds.SOPInstanceUID for ds in datasets}) == result.instances
    assert len(datasets) == result.instances + 1  # the duplicate


@pytest.mark.parametrize(("asked", "made"), [(0, 31), (31, 31), (32, 32), (57, 57), (301, 301)])
def test_instances_sets_the_number_of_instances(tmp_path: Path, asked: int, made: int) -> None:
    result = generate_sample(tmp_path, instances=asked)
    assert result.instances == made
    assert len(result.files) == made + 3  # + duplicate, notes.txt, photo.jpg
    assert {entry.kind for entry in result.files} == ALL_KINDS


def test_every_kind_is_present(sample: tuple[Path, SampleResult]) -> None:
    _, result = sample
    assert {entry.kind for entry in result.files} == ALL_KINDS


def test_every_dicom_file_reads_and_matches_its_listing(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    for entry in _dicom_files(result):
        ds = _read(root, entry)
        assert ds.SOPInstanceUID == entry.sop_instance_uid, entry.path
        if entry.kind == "raw-dataset":
            continue
        meta = ds.file_meta
        assert meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert meta.MediaStorageSOPClassUID == ds.SOPClassUID
        assert meta.ImplementationClassUID in FOREIGN_IMPLEMENTATIONS
        assert re.fullmatch(r"[A-Z0-9_]{1,16}", str(meta.ImplementationVersionName))
        syntax = ImplicitVRLittleEndian if entry.kind == "implicit-vr" else ExplicitVRLittleEndian
        assert meta.TransferSyntaxUID == syntax
        if "PixelData" in ds:
            assert ds.pixel_array.shape[-2:] in {(ds.Rows, ds.Columns), (ds.Columns, 3)}


def test_pixel_formats(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    us = _read(root, _first(result, "US"))
    assert (us.PhotometricInterpretation, us.PlanarConfiguration) == ("RGB", 0)
    assert us.pixel_array.shape == (us.Rows, us.Columns, 3)
    xa = _read(root, _first(result, "XA"))
    assert xa.PhotometricInterpretation == "MONOCHROME2"
    assert xa.pixel_array.shape == (xa.NumberOfFrames, xa.Rows, xa.Columns)
    assert xa.NumberOfFrames > 1
    assert _read(root, _first(result, "CR")).PhotometricInterpretation == "MONOCHROME1"
    ct = _read(root, _first(result, "CT"))
    hounsfield = ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept)
    assert hounsfield.min() < -800 and hounsfield.max() > 300  # air, lung and bone
    signed = _read(root, _first(result, "implicit-vr"))
    assert signed.PixelRepresentation == 1 and signed.pixel_array.min() < 0


@pytest.mark.parametrize(
    ("kind", "name", "charset", "encoded"),
    [
        ("CT", "Müller^Jürgen", "ISO_IR 100", "Müller".encode("latin-1")),
        ("SR", "Dvořák^Antonín", "ISO_IR 192", "Dvořák".encode()),
        (
            "ECG",
            "Yamada^Tarou=山田^太郎=やまだ^たろう",
            ["ISO 2022 IR 6", "ISO 2022 IR 87"],
            b"Yamada^Tarou=\x1b$B;3ED\x1b(B^",
        ),
    ],
    ids=["latin-1", "utf-8", "iso-2022-jp"],
)
def test_non_ascii_names_decode(
    sample: tuple[Path, SampleResult], kind: str, name: str, charset: object, encoded: bytes
) -> None:
    root, result = sample
    entry = _first(result, kind)
    ds = _read(root, entry)
    assert ds.SpecificCharacterSet == charset
    assert str(ds.PatientName) == name
    assert encoded in (root / entry.path).read_bytes()


def test_defective_inputs(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    raw = (root / _first(result, "raw-dataset").path).read_bytes()
    assert raw.startswith(b"\x08\x00\x05\x00")  # (0008,0005) first: no preamble, no DICM
    with pytest.raises(InvalidDicomError):
        dcmread(root / _first(result, "raw-dataset").path)
    duplicate = _first(result, "duplicate")
    original = next(
        e
        for e in result.files
        if e.sop_instance_uid == duplicate.sop_instance_uid and e.kind != "duplicate"
    )
    assert (root / duplicate.path).read_bytes() == (root / original.path).read_bytes()
    others = {e.path: root / e.path for e in result.files if e.kind == "not-dicom"}
    assert set(others) == {"notes.txt", "misc/photo.jpg"}
    assert others["notes.txt"].read_text(encoding="ascii").startswith("Export from")
    with Image.open(others["misc/photo.jpg"]) as photo:
        assert photo.format == "JPEG"
    for path in others.values():
        with pytest.raises(InvalidDicomError):
            dcmread(path)


def test_messy_names(sample: tuple[Path, SampleResult]) -> None:
    _, result = sample
    paths = [entry.path for entry in result.files]
    assert any(" " in path for path in paths)
    assert any(path.endswith(".DCM") and path.count("/") >= 5 for path in paths)
    assert any("." not in path.rsplit("/", 1)[-1] for path in paths)
    assert any(len(path.rsplit("/", 2)[-2]) > 64 for path in paths)


def test_rt_objects_refer_to_the_ct_series(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    ct = {e.sop_instance_uid: _read(root, e) for e in result.files if e.kind == "CT"}
    rs, rp, rd = (_read(root, _first(result, k)) for k in ("RTSTRUCT", "RTPLAN", "RTDOSE"))
    assert rs.StructureSetLabel and rs.StructureSetDate and rs.StructureSetTime
    frame = rs.ReferencedFrameOfReferenceSequence[0]
    series = frame.RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]
    contour_uids = {item.ReferencedSOPInstanceUID for item in series.ContourImageSequence}
    assert contour_uids <= ct.keys()
    assert {ct[uid].SeriesInstanceUID for uid in contour_uids} == {series.SeriesInstanceUID}
    assert {ct[uid].FrameOfReferenceUID for uid in contour_uids} == {frame.FrameOfReferenceUID}
    assert rp.RTPlanLabel and rp.RTPlanDate and rp.RTPlanTime
    assert rp.ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == rs.SOPInstanceUID
    assert rd.DoseSummationType == "PLAN"
    assert rd.ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == rp.SOPInstanceUID
    assert rd.FrameOfReferenceUID == frame.FrameOfReferenceUID
    assert rs.StudyInstanceUID == rp.StudyInstanceUID == rd.StudyInstanceUID
    assert rs.StudyInstanceUID == ct[next(iter(contour_uids))].StudyInstanceUID


def test_presentation_state_and_key_objects_refer_to_sample_images(
    sample: tuple[Path, SampleResult],
) -> None:
    root, result = sample
    images = {e.sop_instance_uid: e for e in result.files if e.kind in {"CT", "implicit-vr"}}
    series_uids = {_read(root, e).SeriesInstanceUID for e in images.values()}
    pr = _read(root, _first(result, "GSPS"))
    assert pr.PresentationCreationDate and pr.PresentationCreationTime and pr.ContentLabel
    referenced = pr.ReferencedSeriesSequence[0]
    assert referenced.SeriesInstanceUID in series_uids
    assert {i.ReferencedSOPInstanceUID for i in referenced.ReferencedImageSequence} <= images.keys()
    ko = _read(root, _first(result, "KOS"))
    assert ko.ConceptNameCodeSequence[0].CodeValue == "113000"
    content = [i.ReferencedSOPSequence[0] for i in ko.ContentSequence if i.ValueType == "IMAGE"]
    assert content and {i.ReferencedSOPInstanceUID for i in content} <= images.keys()
    evidence = ko.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence
    evidence_uids = {i.ReferencedSOPInstanceUID for s in evidence for i in s.ReferencedSOPSequence}
    assert evidence_uids == {i.ReferencedSOPInstanceUID for i in content}


def test_documents_and_waveform(sample: tuple[Path, SampleResult]) -> None:
    root, result = sample
    sr = _read(root, _first(result, "SR"))
    assert (sr.CompletionFlag, sr.VerificationFlag) == ("COMPLETE", "VERIFIED")
    relations = [item.RelationshipType for item in sr.ContentSequence]
    assert relations.count("HAS CONCEPT MOD") == 1
    assert [i.ValueType for i in sr.ContentSequence if i.RelationshipType == "CONTAINS"] == [
        "TEXT"
    ] * 3
    pdf = _read(root, _first(result, "PDF"))
    assert pdf.MIMETypeOfEncapsulatedDocument == "application/pdf" and pdf.DocumentTitle
    document = pdf.EncapsulatedDocument[: pdf.EncapsulatedDocumentLength]
    assert document.startswith(b"%PDF-1.4\n") and document.endswith(b"%%EOF\n")
    _check_pdf_xref(document)
    ecg = _read(root, _first(result, "ECG"))
    waveform = ecg.waveform_array(0)
    assert waveform.shape == (ecg.WaveformSequence[0].NumberOfWaveformSamples, 12)
    assert ecg.ContentDate and ecg.ContentTime


def _check_pdf_xref(document: bytes) -> None:
    """Every xref offset points at its object and startxref at the table (ISO 32000-1 §7.5)."""
    start = int(re.search(rb"startxref\n(\d+)\n", document).group(1))  # type: ignore[union-attr]
    assert document[start:].startswith(b"xref\n")
    offsets = re.findall(rb"(\d{10}) 00000 n \n", document[start:])
    assert offsets
    for number, offset in enumerate(offsets, 1):
        assert document[int(offset) :].startswith(b"%d 0 obj\n" % number)


def test_progress_reports_every_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int | None, str]] = []
    result = generate_sample(tmp_path, instances=30, progress=lambda *a: calls.append(a))
    assert [done for done, _, _ in calls] == list(range(1, len(result.files) + 1))
    assert {total for _, total, _ in calls} == {len(result.files)}
    assert sorted(label for _, _, label in calls) == [e.path for e in result.files]


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match=rf"^{re.escape(str(tmp_path))} is not an empty folder$"):
        generate_sample(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.oracle
@pytest.mark.parametrize("kind", DICOM_KINDS)
def test_dciodvfy_reports_no_errors(sample: tuple[Path, SampleResult], kind: str) -> None:
    tool = shutil.which("dciodvfy")
    if tool is None:
        pytest.fail("dciodvfy (dicom3tools) is not installed; the oracle test needs it")
    root, result = sample
    run = subprocess.run(
        [tool, str(root / _first(result, kind).path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
        check=False,
    )
    lines = (run.stdout + run.stderr).splitlines()
    assert [line for line in lines if line.startswith("Error")] == []
