"""The station's job kinds run against real peers: survey of a disc with thumbnails, import
into Orthanc with Storage Commitment (receipt, identity, resume, cancel), build from Orthanc
and the validate kind on the ISO it made and on a damaged ISO."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from factories import make_instance, study_folder, write_instance
from kinds_helpers import context, run
from pacs_peers import Orthanc
from PIL import Image

from mediatool.cli import main
from mediatool.station.jobs.context import JobCancelled, JobFailed
from mediatool.station.jobs.kinds import describe

pytestmark = pytest.mark.oracle


@pytest.fixture
def pacs(orthanc: Orthanc) -> Orthanc:
    orthanc.reset()
    return orthanc


@pytest.fixture(scope="module")
def disc_iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One patient, two series of three CT images, with the web content: an ISO image."""
    base = tmp_path_factory.mktemp("disc")
    src = study_folder(base / "src", patients=1, series=2, instances=3)
    iso = base / "disc.iso"
    done = CliRunner().invoke(main, ["build", str(src), "--iso", str(iso), "-q", "--jobs", "1"])
    assert done.exit_code == 0, done.output
    return iso


def _import(pacs: Orthanc, media: Path, state: Path, **extra: Any) -> dict[str, Any]:
    return {
        "media": str(media),
        "pacs": pacs.peer,
        "calling_aet": pacs.scu_aet,
        "timeout": 10,
        "commit": True,
        "listen_port": pacs.report_port,
        "state_folder": str(state),
        "studies": [],
        "identities": {},
        "accession": "",
        "no_pacs_check": False,
    } | extra


def test_survey_lists_the_disc_with_a_thumbnail_per_series(disc_iso: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path)
    result = run("survey", {"media": str(disc_iso)}, ctx)
    (patient,) = result["patients"]
    assert patient["patient_id"] == "PID0001"
    (study,) = patient["studies"]
    assert len(study["series"]) == 2
    for series in study["series"]:
        assert series["thumbnail_problem"] is None
        with Image.open(ctx.folder / series["thumbnail"]) as image:
            assert image.format == "JPEG" and max(image.size) <= 160
    assert result["ok"] is True and result["problems"] == []
    assert "viewer and web pages (expected)" in result["expected"]
    assert ctx.audits == [("view disc", "PID0001", "Test^Patient1", "ok")]
    assert ctx.events and ctx.events[-1] == (2, 2, "thumbnails")


def test_a_series_that_cannot_be_decoded_says_why(tmp_path: Path) -> None:
    media = tmp_path / "media"
    write_instance(media / "good.dcm", make_instance(1, 1, 1, 1))
    # PALETTE COLOR without its lookup tables: the header reads, the pixels cannot be shown
    write_instance(
        media / "bad.dcm", make_instance(1, 1, 2, 1, PhotometricInterpretation="PALETTE COLOR")
    )
    ctx = context(tmp_path)
    result = run("survey", {"media": str(media)}, ctx)
    by_number = {s["number"]: s for s in result["patients"][0]["studies"][0]["series"]}
    assert by_number["1"]["thumbnail"] is not None
    assert by_number["2"]["thumbnail"] is None
    assert "palette" in by_number["2"]["thumbnail_problem"]
    assert sorted(p.name for p in (ctx.folder / "thumbs").iterdir()) == ["0001.jpg"]


def test_a_missing_disc_fails_the_job_in_words(tmp_path: Path) -> None:
    with pytest.raises(JobFailed) as failed:
        run("survey", {"media": str(tmp_path / "nothing.iso")}, context(tmp_path))
    assert "nothing.iso" in str(failed.value)


def test_import_with_commitment_and_identity_then_again(
    pacs: Orthanc, disc_iso: Path, tmp_path: Path
) -> None:
    local = {"PID0001": {"patient_id": "LOCAL-7", "issuer": "HOSP", "name": "Local^Seven"}}
    params = _import(pacs, disc_iso, tmp_path / "state", identities=local)
    assert describe("import", params) == "Import disc.iso for patient LOCAL-7 -> ORTHANC"
    first = run("import", params, context(tmp_path / "1"))
    assert first["ok"] is True and first["committed"] is True
    assert first["summary"]["imported"] == 6
    receipt = first["receipt"]
    assert receipt["safe_to_return"] is True
    (patient,) = receipt["patients"]
    assert (patient["local_patient_id"], patient["outcome"]) == ("LOCAL-7", "imported")
    assert [s["status"] for s in patient["studies"]] == ["imported"]
    held = pacs.instances()
    assert len(held) == 6 and {i["PatientID"] for i in held} == {"LOCAL-7"}

    ctx = context(tmp_path / "2")
    again = run("import", params, ctx)
    assert again["summary"]["imported"] == 0 and again["summary"]["already_present"] == 6
    assert again["receipt"]["safe_to_return"] is True
    assert again["receipt"]["patients"][0]["studies"][0]["status"] == "already there"
    assert ctx.audits == [("import", "PID0001", "Test^Patient1", "already there")]
    assert len(pacs.instances()) == 6


def test_a_study_under_another_patient_is_refused(
    pacs: Orthanc, disc_iso: Path, tmp_path: Path
) -> None:
    run("import", _import(pacs, disc_iso, tmp_path / "s1", commit=False), context(tmp_path / "1"))
    other = {"PID0001": {"patient_id": "SOMEONE-ELSE"}}
    result = run(
        "import",
        _import(pacs, disc_iso, tmp_path / "s2", identities=other),
        context(tmp_path / "2"),
    )
    receipt = result["receipt"]
    assert receipt["safe_to_return"] is False
    (study,) = receipt["patients"][0]["studies"]
    assert study["status"] == "refused" and "'PID0001'" in study["reasons"][0]
    assert {i["PatientID"] for i in pacs.instances()} == {"PID0001"}


def test_cancel_during_the_import_then_resume(pacs: Orthanc, tmp_path: Path) -> None:
    media = study_folder(tmp_path / "media", patients=1, series=4, instances=10)  # 40 images
    params = _import(pacs, media, tmp_path / "state")
    ctx = context(tmp_path / "1", cancel_after=2, cancel_stage="importing")
    with pytest.raises(JobCancelled):
        run("import", params, ctx)
    sent = len(pacs.instances())
    assert 0 < sent < 40  # the senders stop after the instance each one was sending
    done = run("import", params, context(tmp_path / "2"))
    summary = done["summary"]
    assert (summary["imported"], summary["already_present"]) == (40 - sent, sent)
    assert done["receipt"]["safe_to_return"] is True and len(pacs.instances()) == 40


def test_import_into_an_archive_folder(disc_iso: Path, tmp_path: Path) -> None:
    params = {"media": str(disc_iso), "into": str(tmp_path / "archive")}
    result = run("import", params, context(tmp_path))
    assert result["destination"]["kind"] == "archive"
    assert result["receipt"]["safe_to_return"] is True
    assert len(list((tmp_path / "archive").rglob("*.dcm"))) == 6


def test_build_from_orthanc_gives_an_iso_that_validates(
    pacs: Orthanc, disc_iso: Path, tmp_path: Path
) -> None:
    run("import", _import(pacs, disc_iso, tmp_path / "state"), context(tmp_path / "imp"))
    params: dict[str, Any] = {
        "from_pacs": {
            "pacs": pacs.peer, "calling_aet": pacs.scu_aet, "timeout": 10,
            "patient_id": "PID0001", "accession": "", "study_uids": [], "method": "get",
        },
        "profile": "STD-GEN-CD", "media": "cd", "web": True, "site": None,
        "fileset_id": "PATIENT_CD", "copies": 2,
    }  # fmt: skip
    assert describe("build", params) == "Build a CD of patient PID0001 from ORTHANC, 2 copies"
    ctx = context(tmp_path / "build")
    built = run("build", params, ctx)
    assert built["ok"] is True and built["counts"]["instances"] == 6
    assert built["files"] == ["disc", "disc.iso", "label.png"]
    with Image.open(ctx.folder / "label.png") as label:
        assert label.format == "PNG"
    assert ctx.audits == [("build", "PID0001", "Test^Patient1", "done")]

    qa = context(tmp_path / "qa")
    report = run("validate", {"media": str(ctx.folder / "disc.iso"), "profile": "STD-GEN-CD"}, qa)
    assert report["ok"] is True and report["inventory"]["counts"]["instances"] == 6
    assert "<html" in (qa.folder / report["html"]).read_text(encoding="utf-8").lower()
    assert qa.audits == [("validate", "PID0001", "Test^Patient1", "passed")]


def test_validate_a_damaged_iso_reports_its_finding(disc_iso: Path, tmp_path: Path) -> None:
    data = bytearray(disc_iso.read_bytes())
    data[16 * 2048 + 84] ^= 0x01  # Volume Space Size: the big-endian half disagrees
    damaged = tmp_path / "damaged.iso"
    damaged.write_bytes(bytes(data))
    ctx = context(tmp_path)
    report = run("validate", {"media": str(damaged), "profile": None}, ctx)
    assert report["ok"] is False
    assert [f["code"] for f in report["findings"]] == ["media.iso-damaged"]
    assert (ctx.folder / "report.html").is_file() and ctx.audits == []
    assert report["files"] == ["report.html", "report.json"]
    saved = json.loads((ctx.folder / "report.json").read_text(encoding="utf-8"))
    assert saved["findings"] == report["findings"]


def test_a_build_larger_than_the_medium_is_disc_k_of_n(tmp_path: Path) -> None:
    src = tmp_path / "in"
    pixels = np.random.default_rng(7).integers(0, 4096, 128 * 128, dtype="<u2").tobytes()
    for n in range(40):  # 32 KB each: three or more volumes of 1 MB with the web content
        big = make_instance(1, 1, 1 + n // 10, n, Rows=128, Columns=128, PixelData=pixels)
        write_instance(src / f"im{n:02d}.dcm", big)
    params = {"sources": [str(src)], "capacity": 1_000_000, "fileset_id": "SPAN", "web": True}
    assert describe("build", params) == "Build a disc of in"
    ctx = context(tmp_path / "job")
    built = run("build", params, ctx)
    n = len(built["volumes"])
    assert n >= 2 and built["counts"]["instances"] == 40
    isos = [f"disc_{k}.iso" for k in range(1, n + 1)]
    labels = [f"label_{k}.png" for k in range(1, n + 1)]
    assert built["files"] == sorted(["disc", *isos, *labels])
    assert [v["k"] for v in built["volumes"]] == list(range(1, n + 1))
    for name in isos:
        report = run("validate", {"media": str(ctx.folder / name)}, context(tmp_path / name))
        assert report["ok"] is True


def test_an_ecg_gets_the_drawing_of_its_waveform(tmp_path: Path) -> None:
    from mediatool.sample import generate_sample

    generate_sample(tmp_path / "sample")
    ctx = context(tmp_path)
    result = run("survey", {"media": str(tmp_path / "sample" / "cardio 2024" / "ecg")}, ctx)
    (series,) = result["patients"][0]["studies"][0]["series"]
    with Image.open(ctx.folder / series["thumbnail"]) as image:
        gray = np.asarray(image.convert("L"))
        assert image.format == "JPEG" and int(gray.max()) - int(gray.min()) > 100  # traces


@pytest.mark.parametrize("kind", ["survey", "validate"])
def test_cancel_while_reading_the_disc_ends_the_job(
    kind: str, disc_iso: Path, tmp_path: Path
) -> None:
    """validate turns a failing stage into a finding and carries on: a cancel still ends it."""
    ctx = context(tmp_path, cancel_after=0, cancel_stage="reading headers")
    with pytest.raises(JobCancelled):
        run(kind, {"media": str(disc_iso)}, ctx)
    assert ctx.audits == [] and not (ctx.folder / "report.html").exists()


def test_build_from_an_uploaded_zip(tmp_path: Path) -> None:
    import zipfile

    src = study_folder(tmp_path / "src", patients=2, series=1, instances=2)
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as z:
        for f in sorted(src.rglob("*.dcm")):
            z.write(f, f.relative_to(src).as_posix())
    ctx = context(tmp_path / "job")
    built = run("build", {"sources": [str(upload)], "web": False, "media": "cd"}, ctx)
    assert built["ok"] is True and built["counts"]["patients"] == 2
    assert built["files"] == ["disc", "disc.iso", "label.png"]
    assert sorted(a[1] for a in ctx.audits) == ["PID0001", "PID0002"]
    assert (
        describe("build", {"sources": [str(upload)], "media": "cd"}) == "Build a CD of upload.zip"
    )
