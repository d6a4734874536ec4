"""``mediatool find`` and ``build --from-pacs`` against a real PACS (Orthanc on 127.0.0.1),
with C-GET and C-MOVE; a Q/R peer that fails sub-operations gives refusal and accounting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pydicom import dcmread
from retrieve_peers import PartialQR, RetrieveOrthanc

from mediatool.cli import main
from mediatool.findings import Severity
from mediatool.media import open_media
from mediatool.modalities import label as modality_label
from mediatool.sample import generate_sample
from mediatool.validate.report import validate_media

pytestmark = pytest.mark.oracle


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_sample(out, instances=60)
    return out


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory, sample: Path) -> Iterator[RetrieveOrthanc]:
    server = RetrieveOrthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        assert server.upload(sample) > 50
        yield server
    finally:
        server.stop()


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _biggest_patient(pacs: RetrieveOrthanc) -> tuple[str, list[str]]:
    by_patient: dict[str, list[str]] = {}
    for s in pacs.studies():
        pid = s["PatientMainDicomTags"].get("PatientID", "")
        by_patient.setdefault(pid, []).append(s["MainDicomTags"]["StudyInstanceUID"])
    pid = max(by_patient, key=lambda p: (len(by_patient[p]), p))
    return pid, by_patient[pid]


def _disc_uids(root: Path) -> set[str]:
    uids = set()
    for p in (root / "DICOM").rglob("*") if (root / "DICOM").exists() else root.rglob("*"):
        if p.is_file() and p.name != "DICOMDIR":
            try:
                uids.add(str(dcmread(p, stop_before_pixels=True).SOPInstanceUID))
            except Exception:
                continue
    return uids


def _no_errors(path: Path) -> None:
    with open_media(path) as reader:
        report = validate_media(reader, jobs=1)
    errors = [f for f in report.findings if f.severity >= Severity.ERROR]
    assert not errors, errors


def test_find_by_patient_and_accession(pacs: RetrieveOrthanc) -> None:
    pid, study_uids = _biggest_patient(pacs)
    result = cli("find", pacs.peer, "--patient-id", pid, "--json", "--timeout", "10")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {s["study_uid"] for s in doc["studies"]} == set(study_uids)
    one = doc["studies"][0]
    assert one["instances"] == len(pacs.study_sop_uids(one["study_uid"]))
    assert one["modalities"] and one["date"]
    text = cli("find", pacs.peer, "--accession", one["accession"])
    assert text.exit_code == 0, text.output
    assert one["study_uid"] in text.stdout and one["accession"] in text.stdout
    assert text.stdout.count("study UID") == 1
    for code in one["modalities"]:  # JSON keeps the code; the text names it (issue 18)
        assert modality_label(code) != code and modality_label(code) in text.stdout
    down = cli("find", f"X@127.0.0.1:{pacs.http_port}", "--patient-id", pid, "--timeout", "2")
    assert down.exit_code == 2 and "Error:" in down.stderr


def test_build_with_c_get_iso_and_folder(pacs: RetrieveOrthanc, tmp_path: Path) -> None:
    pid, study_uids = _biggest_patient(pacs)
    chosen = sorted(study_uids)[0]
    out, iso = tmp_path / "disc", tmp_path / "disc.iso"
    result = cli(
        "build", "--from-pacs", pacs.peer, "--patient-id", pid, "--study", chosen,
        "--out", str(out), "--iso", str(iso), "--jobs", "1", "--timeout", "20",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _disc_uids(out) == pacs.study_sop_uids(chosen)
    _no_errors(out)
    _no_errors(iso)
    assert "Not on this disc" not in (out / "README.TXT").read_text()


def test_build_with_c_move(pacs: RetrieveOrthanc, tmp_path: Path) -> None:
    pid, study_uids = _biggest_patient(pacs)
    out = tmp_path / "disc"
    result = cli(
        "build", "--from-pacs", pacs.peer, "--patient-id", pid, "--retrieve", "move",
        "--move-aet", pacs.move_aet, "--port", str(pacs.move_port), "--listen-host",
        "127.0.0.1", "--out", str(out), "--jobs", "1", "--timeout", "20", "--no-web",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = set().union(*(pacs.study_sop_uids(u) for u in study_uids))
    assert _disc_uids(out) == expected
    _no_errors(out)


def test_unreachable_pacs_exits_2(tmp_path: Path) -> None:
    from ports import reserve_port

    result = cli("build", "--from-pacs", f"PACS@127.0.0.1:{reserve_port()}", "--patient-id",
                 "X", "--out", str(tmp_path / "d"), "--timeout", "2")  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Error:" in result.stderr
    assert not (tmp_path / "d").exists()


@pytest.fixture
def partial(sample: Path) -> Iterator[tuple[PartialQR, str, set[str]]]:
    files, study = [], None
    for p in sorted(sample.rglob("*")):
        try:
            ds = dcmread(p, stop_before_pixels=True)
            uid, sop, pid = str(ds.StudyInstanceUID), str(ds.SOPInstanceUID), str(ds.PatientID)
        except Exception:
            continue
        study = study or (uid, pid)
        if uid == study[0]:
            files.append((p, sop))
    assert study is not None and len(files) >= 3
    fail = {files[1][1]}
    peer = PartialQR([p for p, _ in files], fail).start()
    try:
        yield peer, study[1], fail
    finally:
        peer.stop()


def test_partial_retrieve_refused_then_allowed(
    partial: tuple[PartialQR, str, set[str]], tmp_path: Path
) -> None:
    peer, pid, fail = partial
    out = tmp_path / "disc"
    args = ["build", "--from-pacs", peer.peer, "--patient-id", pid, "--out", str(out),
            "--jobs", "1", "--timeout", "10"]  # fmt: skip
    refused = cli(*args)
    assert refused.exit_code == 1, refused.output
    assert "retrieve.sub-operations-failed" in refused.stderr
    assert "failed 1" in refused.stderr and next(iter(fail)) in refused.stderr
    assert not out.exists()
    allowed = cli(*args, "--allow-partial")
    assert allowed.exit_code == 0, allowed.output
    readme = " ".join((out / "README.TXT").read_text().split())
    assert "Not on this disc" in readme
    assert "1 instance(s) failed" in readme and next(iter(fail))[:20] in readme
    uids = _disc_uids(out)
    assert uids and not uids & fail
    _no_errors(out)
