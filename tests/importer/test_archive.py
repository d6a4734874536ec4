"""``mediatool import --into DIR``: broken and good media into an archive folder, and --list."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import make_instance, study_folder, write_instance
from hypothesis import given
from hypothesis import strategies as st
from pacs_peers import build_fileset, tree_digest
from pydicom import dcmread

from mediatool.cli import main
from mediatool.importer import ArchiveTarget, RunOptions, import_media, same_content
from mediatool.importer.run import run_import
from mediatool.importer.select import Selection, plan_import
from mediatool.importer.survey import survey_media
from mediatool.media import open_media


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["import", *args])


def doc(result: Result) -> dict:  # type: ignore[type-arg]
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def outcomes(document: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {f["path"]: f["outcome"] for f in document["files"]}


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conformant File-set (DICOMDIR) of 2 patients, 2 series each, 3 images a series."""
    base = tmp_path_factory.mktemp("disc")
    return build_fileset(study_folder(base / "src"), base / "disc")


def _archive_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.dcm"))


def test_import_into_a_folder_then_again_adds_nothing(disc: Path, tmp_path: Path) -> None:
    before = tree_digest(disc)
    first = run(str(disc), "--into", str(tmp_path / "arch"), "--json")
    assert first.exit_code == 0, first.output
    d = doc(first)
    assert d["schema"] == "mediatool.import/1" and d["ok"] is True
    assert d["summary"]["imported"] == 12 and d["summary"]["skipped"] == 1
    assert outcomes(d)["DICOMDIR"] == "skipped"
    files = _archive_files(tmp_path / "arch")
    assert len(files) == 12
    # layout: patient / date_study / modality_number_series / SOP Instance UID .dcm
    rel = files[0].relative_to(tmp_path / "arch").parts
    assert rel[0] == "PID0001" and rel[1].startswith("20240312_") and rel[2].startswith("CT_1_")
    ds = dcmread(files[0])
    assert rel[3] == f"{ds.SOPInstanceUID}.dcm"
    assert str(ds.file_meta.ImplementationVersionName).startswith("MEDIATOOL")
    assert not list((tmp_path / "arch").rglob(".*"))  # no temporary file left
    second = run(str(disc), "--into", str(tmp_path / "arch"), "--json")
    assert second.exit_code == 0
    d2 = doc(second)
    assert d2["summary"]["imported"] == 0 and d2["summary"]["already_present"] == 12
    assert "already there: 12" in run(str(disc), "--into", str(tmp_path / "arch")).stdout
    assert tree_digest(disc) == before  # the media is never modified


def _broken(tmp_path: Path, kind: str, disc: Path) -> Path:
    """Broken media as found at reception desks."""
    root = tmp_path / kind
    if kind == "no-dicomdir":  # lower-case names with .dcm, nested folders, no DICOMDIR
        study_folder(root, patients=1)
    elif kind == "lowercase-fileset":  # DICOMDIR whose File IDs resolve only ignoring case
        shutil.copytree(disc, root)
        for p in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
            if p.name != "DICOMDIR":
                p.rename(p.with_name(p.name.lower()))
    elif kind == "orphan-dicomdir":  # the DICOMDIR lists files that are gone
        shutil.copytree(disc, root)
        for p in sorted(root.rglob("IM*"))[:2]:
            p.unlink()
    return root


@pytest.mark.parametrize(
    ("kind", "imported", "missing", "code"),
    [
        pytest.param("no-dicomdir", 6, 0, 0, id="no-dicomdir-lowercase-dcm"),
        pytest.param("lowercase-fileset", 12, 0, 0, id="lowercase-fileset"),
        pytest.param("orphan-dicomdir", 10, 2, 1, id="orphan-dicomdir"),
    ],
)
def test_broken_media(
    disc: Path, tmp_path: Path, kind: str, imported: int, missing: int, code: int
) -> None:
    media = _broken(tmp_path, kind, disc)
    result = run(str(media), "--into", str(tmp_path / "arch"), "--json")
    assert result.exit_code == code, result.output
    d = doc(result)
    s = d["summary"]
    assert (s["imported"], s["listed_missing"]) == (imported, missing)
    assert s["imported"] + s["already_present"] + s["skipped"] + s["not_imported"] == s["files"]
    assert len(_archive_files(tmp_path / "arch")) == imported
    if missing:
        assert [f["code"] for f in d["findings"]].count("import.listed-missing") == missing
        assert (
            "NOT everything was imported"
            in run(str(media), "--into", str(tmp_path / "arch")).stdout
        )


def test_damaged_and_foreign_files_are_accounted(tmp_path: Path) -> None:
    media = tmp_path / "media"
    write_instance(media / "ok.dcm", make_instance(1, 1, 1, 1))
    raw = write_instance(media / "raw", make_instance(1, 1, 1, 2), meta=False)  # no meta
    write_instance(media / "implicit", make_instance(1, 1, 1, 3), implicit=True)
    cut = write_instance(tmp_path / "cut.dcm", make_instance(1, 1, 1, 4)).read_bytes()
    (media / "truncated.dcm").write_bytes(cut[:-10])  # the Pixel Data ends too soon
    (media / "viewer.exe").write_bytes(b"MZ" + b"\0" * 100)
    result = run(str(media), "--into", str(tmp_path / "arch"), "--json")
    assert result.exit_code == 1  # the truncated file is DICOM and was not imported
    d = doc(result)
    by_path = {f["path"]: f for f in d["files"]}
    assert by_path["truncated.dcm"]["outcome"] == "not-imported"
    assert by_path["truncated.dcm"]["code"] == "import.damaged"
    assert by_path["viewer.exe"]["code"] == "import.not-dicom"
    assert {by_path[p]["outcome"] for p in ("ok.dcm", "raw", "implicit")} == {"imported"}
    stored = {dcmread(p).SOPInstanceUID: dcmread(p) for p in _archive_files(tmp_path / "arch")}
    assert len(stored) == 3
    for ds in stored.values():  # the raw data set got a Part 10 header
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert raw.exists()
    text = run(str(media), "--into", str(tmp_path / "arch2")).stdout
    assert "truncated.dcm: the DICOM file is damaged" in text


@pytest.mark.parametrize("container", ["iso", "zip"])
def test_iso_and_zip_media(disc: Path, tmp_path: Path, container: str) -> None:
    if container == "iso":
        media = tmp_path / "disc.iso"
        build_fileset(disc.parent / "src", tmp_path / "out", "--iso", str(media))
    else:
        media = tmp_path / "disc.zip"
        with zipfile.ZipFile(media, "w") as zf:
            for p in sorted(disc.rglob("*")):
                if p.is_file():
                    zf.write(p, p.relative_to(disc).as_posix().lower())
    result = run(str(media), "--into", str(tmp_path / "arch"), "--json")
    assert result.exit_code == 0, result.output
    assert doc(result)["summary"]["imported"] == 12


def test_reconciled_import_into_a_folder(disc: Path, tmp_path: Path) -> None:
    result = run(
        str(disc), "--into", str(tmp_path / "arch"), "--patient", "PID0002",
        "--patient-id", "LOCAL-7", "--issuer", "HOSP", "--patient-name", "Local^Seven",
        "--birth-date", "19700102", "--sex", "f", "--accession", "ACC-1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    d = doc(result)
    assert d["summary"]["imported"] == 6 and d["summary"]["by_reason"]["import.not-selected"] == 6
    assert d["identities"]["PID0002"]["patient_id"] == "LOCAL-7"
    files = _archive_files(tmp_path / "arch")
    assert {f.relative_to(tmp_path / "arch").parts[0] for f in files} == {"LOCAL-7"}
    ds = dcmread(files[0])
    assert (ds.PatientID, ds.IssuerOfPatientID, ds.PatientSex, ds.AccessionNumber) == (
        "LOCAL-7", "HOSP", "F", "ACC-1",
    )  # fmt: skip
    assert ds.OtherPatientIDsSequence[0].PatientID == "PID0002"
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert (old.PatientID, old.AccessionNumber) == ("PID0002", "A21")
    assert ds.OriginalAttributesSequence[0].ReasonForTheAttributeModification == "COERCE"


def test_map_file_reconciles_each_patient(disc: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("foreign_id,local_id,issuer\nPID0001,L1,HOSP\n")
    result = run(str(disc), "--into", str(tmp_path / "arch"), "--map", str(mapping), "--json")
    assert result.exit_code == 1  # PID0002 has no local identity: not imported
    d = doc(result)
    assert d["summary"]["imported"] == 6
    assert d["summary"]["by_reason"]["import.no-local-patient"] == 6


def test_interrupted_import_resumes(disc: Path, tmp_path: Path) -> None:
    """Ctrl-C after 5 files: the 7 others are reported; the next run writes only them."""

    def progress(done: int, total: int | None, label: str) -> None:
        if done == 5:
            raise KeyboardInterrupt

    dest = ArchiveTarget(tmp_path / "arch")
    with open_media(disc) as reader:
        survey = survey_media(reader)
        plan = plan_import(survey, Selection(), None, same_content(reader))
        report = run_import(reader, plan, dest, progress=progress)
    assert report.stopped == "interrupted by the user"
    assert (report.summary.imported, report.summary.not_imported) == (5, 7)
    assert report.summary.by_reason["import.interrupted"] == 7
    assert len(_archive_files(tmp_path / "arch")) == 5
    with open_media(disc) as reader:
        again = import_media(reader, dest, options=RunOptions())
    assert (again.summary.imported, again.summary.already_present) == (7, 5)
    assert again.ok


def test_dry_run_writes_nothing(disc: Path, tmp_path: Path) -> None:
    result = run(str(disc), "--into", str(tmp_path / "arch"), "--dry-run")
    assert result.exit_code == 0
    assert "Dry run: nothing was written or sent." in result.stdout
    assert not (tmp_path / "arch").exists()


def test_list_in_plain_words_and_json(tmp_path: Path) -> None:
    media = study_folder(tmp_path / "media", patients=2, series=1, instances=2)
    (media / "notes.txt").write_text("x")
    text = run(str(media), "--list")
    assert text.exit_code == 0, text.output
    assert "Patient Test, Patient1   ID PID0001   born 1970-01-01   sex O" in text.stdout
    study_line = '"CT Thorax"  CT (Computed Tomography)  accession A11  1 series, 2 image(s)'
    assert f"Study 2024-03-12  {study_line}" in text.stdout
    assert "The disc has no index (DICOMDIR)" in text.stdout
    assert "1 file(s) are not medical images" in text.stdout
    d = doc(run(str(media), "--list", "--json"))
    assert d["schema"] == "mediatool.import-list/1" and d["ok"] is True
    study = d["patients"][0]["studies"][0]
    assert (study["date"], study["modalities"], study["series_count"], study["instances"]) == (
        "20240312", ["CT"], 1, 2,
    )  # fmt: skip
    (media / "patient 1" / "series_1" / "img-001.dcm").write_bytes(b"\0" * 128 + b"DICM")
    bad = run(str(media), "--list")
    assert bad.exit_code == 1
    assert "! 1 image file(s) have no identity and cannot be imported." in bad.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param([], "give exactly one of --list, --into DIR or --to-pacs", id="no-dest"),
        pytest.param(["--list", "--into", "x"], "give exactly one of", id="two-dests"),
        pytest.param(["--into", "x", "--issuer", "H"], "--issuer need --patient-id", id="issuer"),
        pytest.param(["--into", "x", "--patient-id", "A", "--map", "m"], "only one of",
                     id="two-sources"),
        pytest.param(["--into", "x", "--commit"], "--commit and --listen-port need --to-pacs",
                     id="commit"),
        pytest.param(["--to-pacs", "nope"], "is not of the form AET@HOST:PORT", id="peer"),
        pytest.param(["--to-pacs", "A@h:99999"], "port 99999", id="port"),
    ],
)  # fmt: skip
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(str(tmp_path), *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_could_not_run_exits_2(disc: Path, tmp_path: Path) -> None:
    missing = run(str(tmp_path / "nowhere"), "--into", str(tmp_path / "a"))
    assert missing.exit_code == 2
    assert "cannot open media" in missing.stderr
    study = run(str(disc), "--into", str(tmp_path / "a"), "--study", "1.2.3")
    assert study.exit_code == 2
    assert "Error: no study '1.2.3' on the media" in study.stderr
    several = run(str(disc), "--into", str(tmp_path / "a"), "--patient-id", "L")
    assert several.exit_code == 2
    assert "the selection holds 2 patients" in several.stderr
    assert not (tmp_path / "a").exists()


def test_not_reconciled_warning_goes_to_stderr(disc: Path, tmp_path: Path) -> None:
    result = run(str(disc), "--into", str(tmp_path / "arch"))
    assert "WARNING import.not-reconciled" in result.stderr
    assert "import.not-reconciled" not in result.stdout
    assert io.StringIO(result.stdout).read().startswith("Imported from ")


@given(st.text(max_size=200))
def test_archive_names_are_always_safe(text: str) -> None:
    from mediatool.importer.archive import file_stem, safe_component

    for name in (safe_component(text), file_stem(text)):
        assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name)
        assert not name.startswith(".")
        assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert file_stem(text) == file_stem(text)  # deterministic: found again on the next run
