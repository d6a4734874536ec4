"""Issue 10 (and two items of issue 12) against a real Orthanc: an import that can never file a
patient's images twice or under a second patient, truthful outcomes, messages for a desk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from factories import study_folder
from pacs_peers import Orthanc, build_fileset

from mediatool.cli import main

pytestmark = pytest.mark.oracle


class RightsOrthanc(Orthanc):
    """Also knows the AE title NOFIND, which may store but not query (``AllowFind`` false)."""

    def config(self) -> dict[str, Any]:
        cfg = super().config()
        cfg["DicomModalities"]["nofind"] = {
            "AET": "NOFIND",
            "Host": "127.0.0.1",
            "Port": 1,
            "AllowFind": False,
            "AllowStore": True,
        }
        return cfg


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = RightsOrthanc(tmp_path_factory.mktemp("orthanc")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pacs(orthanc: Orthanc) -> Orthanc:
    orthanc.reset()
    return orthanc


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("disc")
    return build_fileset(study_folder(base / "src", patients=1, series=2, instances=3), base / "d")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["import", *args])


def to_pacs(disc: Path, pacs: Orthanc, state: Path, *more: str) -> Result:
    return run(str(disc), "--to-pacs", pacs.peer, "--state", str(state), *more)


def filed(pacs: Orthanc) -> dict[str, set[str]]:
    """Patient ID → SOP Instance UIDs, as the PACS holds them."""
    out: dict[str, set[str]] = {}
    for tags in pacs.instances():
        out.setdefault(tags["PatientID"], set()).add(tags["SOPInstanceUID"])
    return out


def test_case1_corrected_id_is_refused_not_already_there(
    pacs: Orthanc, disc: Path, tmp_path: Path
) -> None:
    """Case 1: the receptionist corrects the ID; the journal must not say "already there"."""
    first = to_pacs(disc, pacs, tmp_path / "s", "--patient-id", "LOCAL-0001")
    assert first.exit_code == 0, first.output
    before = filed(pacs)
    assert list(before) == ["LOCAL-0001"] and len(before["LOCAL-0001"]) == 6
    second = to_pacs(disc, pacs, tmp_path / "s", "--patient-id", "LOCAL-0009")
    assert second.exit_code == 1, second.output
    text = second.stdout
    assert "REFUSED: study 2024-03-12" in text
    assert "under Patient ID 'LOCAL-0001'" in text and "under 'LOCAL-0009'" in text
    assert "import with --patient-id LOCAL-0001" in text
    assert "already there: 0" in text and "Everything that is DICOM" not in text
    assert filed(pacs) == before
    d = json.loads(
        to_pacs(disc, pacs, tmp_path / "s", "--patient-id", "LOCAL-0009", "--json").stdout
    )
    assert d["ok"] is False and d["destination_checked"] is True
    [conflict] = d["conflicts"]
    assert conflict["patient_id"] == "LOCAL-0009"
    assert conflict["destination_patient_ids"] == ["LOCAL-0001"]
    assert d["summary"]["by_reason"] == {"import.dicomdir": 1, "import.other-patient": 6}
    # the ID the PACS has is accepted: everything is there
    same = to_pacs(disc, pacs, tmp_path / "s", "--patient-id", "LOCAL-0001")
    assert same.exit_code == 0 and "already there: 6" in same.stdout


def test_case2_second_desk_with_its_own_journal_is_refused(
    pacs: Orthanc, disc: Path, tmp_path: Path
) -> None:
    """Case 2: another workstation (no shared journal), another local ID: refused, PACS
    unchanged; the same disc with the same ID from there is "already there"."""
    assert to_pacs(disc, pacs, tmp_path / "desk1", "--patient-id", "LOCAL-0001").exit_code == 0
    before = filed(pacs)
    other = to_pacs(disc, pacs, tmp_path / "desk2", "--patient-id", "LOCAL-0002")
    assert other.exit_code == 1, other.output
    assert "REFUSED" in other.stdout and "'LOCAL-0001'" in other.stdout
    assert filed(pacs) == before
    again = to_pacs(disc, pacs, tmp_path / "desk3", "--patient-id", "LOCAL-0001", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["summary"]["already_present"] == 6
    assert filed(pacs) == before


def test_case2_archive_refuses_another_patient_too(disc: Path, tmp_path: Path) -> None:
    archive = tmp_path / "arch"
    assert run(str(disc), "--into", str(archive), "--patient-id", "A-1").exit_code == 0
    files = sorted(p.relative_to(archive) for p in archive.rglob("*.dcm"))
    other = run(str(disc), "--into", str(archive), "--patient-id", "B-2")
    assert other.exit_code == 1
    assert "REFUSED" in other.stdout and "'A-1'" in other.stdout
    assert sorted(p.relative_to(archive) for p in archive.rglob("*.dcm")) == files


def test_issue12_wiped_pacs_gets_everything_again(
    pacs: Orthanc, disc: Path, tmp_path: Path
) -> None:
    """Issue 12: after a completed import the PACS loses its data; the journal says "sent", the
    PACS is asked, and everything is sent again."""
    assert to_pacs(disc, pacs, tmp_path / "s", "--patient-id", "L-7").exit_code == 0
    pacs.reset()
    assert pacs.sop_uids() == set()
    again = to_pacs(disc, pacs, tmp_path / "s", "--patient-id", "L-7", "--json")
    assert again.exit_code == 0, again.output
    summary = json.loads(again.stdout)["summary"]
    assert (summary["imported"], summary["already_present"]) == (6, 0)
    assert len(filed(pacs)["L-7"]) == 6


@pytest.mark.parametrize("where", ["pacs", "archive"])
def test_case3_folder_without_dicom_is_not_a_success(
    pacs: Orthanc, tmp_path: Path, where: str
) -> None:
    folder = tmp_path / "not-a-disc"
    folder.mkdir()
    (folder / "notes.txt").write_text("hello\n")
    listed = run(str(folder), "--list")
    assert listed.exit_code == 1 and "No images were found on the disc." in listed.stdout
    dest = (
        ["--to-pacs", pacs.peer, "--state", str(tmp_path / "s")]
        if where == "pacs"
        else ["--into", str(tmp_path / "arch")]
    )
    result = run(str(folder), *dest)
    assert result.exit_code == 1, result.output
    assert "No images were found on the disc." in result.stdout
    assert "Everything that is DICOM" not in result.stdout
    assert json.loads(run(str(folder), *dest, "--json").stdout)["ok"] is False


@pytest.mark.parametrize("aet", ["DESK2", "NOFIND"])
def test_pacs_refusing_c_find_needs_no_pacs_check(
    pacs: Orthanc, disc: Path, tmp_path: Path, aet: str
) -> None:
    """Orthanc allows C-STORE from any AE title but C-FIND only from known ones
    (DicomAlwaysAllowFind false: DESK2), and not from a known one with AllowFind false
    (NOFIND): then we cannot ask what the PACS holds."""
    base = ["--calling-aet", aet, "--patient-id", "L-1"]
    refused = to_pacs(disc, pacs, tmp_path / "s", *base)
    assert refused.exit_code == 2, refused.output
    assert "cannot be asked which of these studies it already holds" in refused.stderr
    assert "nothing was sent" in refused.stderr
    assert "(aborted, not a time-out)" in refused.stderr
    assert "--no-pacs-check" in refused.stderr
    assert pacs.sop_uids() == set()
    forced = to_pacs(disc, pacs, tmp_path / "s", *base, "--no-pacs-check", "--json")
    assert forced.exit_code == 0, forced.output
    d = json.loads(forced.stdout)
    assert d["destination_checked"] is False
    assert [f["code"] for f in d["findings"]] == ["import.pacs-not-checked"]
    assert len(filed(pacs)["L-1"]) == 6
    # the journal (the only guide without the check) never says "already there" for another ID
    other = to_pacs(disc, pacs, tmp_path / "s", "--calling-aet", aet, "--patient-id", "L-2",
                    "--no-pacs-check", "--json")  # fmt: skip
    assert json.loads(other.stdout)["summary"]["already_present"] == 0


def test_case4_commitment_without_report_is_sent_not_confirmed(
    pacs: Orthanc, disc: Path, tmp_path: Path
) -> None:
    args = ["--calling-aet", pacs.scu_aet, "--commit", "--commit-timeout", "1"]
    result = to_pacs(disc, pacs, tmp_path / "s", *args)
    assert result.exit_code == 1
    out = result.stdout
    assert "NOT imported: 0" in out and "sent, not confirmed: 6" in out
    assert "Sent, but NOT confirmed by the PACS: keep the disc" in out
    err = result.stderr
    assert f"our AE title {pacs.scu_aet!r} with host 127.0.0.1" in err
    assert "--listen-port PORT" in err and f"mediatool echo {pacs.peer}" in err
    d = json.loads(to_pacs(disc, pacs, tmp_path / "s", *args, "--json").stdout)
    assert d["summary"]["sent_not_confirmed"] == 6 and d["summary"]["not_imported"] == 0
    assert {f["outcome"] for f in d["files"] if f["sop_instance_uid"]} == {"sent-not-confirmed"}
    assert len(pacs.get("/instances")) == 6


def test_case8_list_calls_a_discs_viewer_and_pages_expected(tmp_path: Path) -> None:
    """Case 8: a perfect disc with its IHE PDI pages and viewer (mediatool's own layout), plus a
    foreign viewer folder and an autorun file: no problem, one line saying they are expected."""
    import shutil

    src = study_folder(tmp_path / "src", patients=1, series=1, instances=2)
    built = CliRunner().invoke(main, ["build", str(src), "--out", str(tmp_path / "d"), "-q"])
    assert built.exit_code == 0, built.output
    disc = tmp_path / "copy"
    shutil.copytree(tmp_path / "d", disc)
    (disc / "AUTORUN.INF").write_text("[autorun]\nopen=VIEWER.EXE\n")
    (disc / "WEASIS").mkdir()
    (disc / "WEASIS" / "weasis.jar").write_bytes(b"PK\x03\x04")
    web = sum(1 for p in disc.rglob("*") if p.is_file() and "DICOM" not in p.parts) - 1
    listed = run(str(disc), "--list")
    assert listed.exit_code == 0, listed.output
    assert f"Also on the disc: {web} file(s) of viewer and web pages (expected)." in listed.stdout
    assert "No problems found." in listed.stdout
    assert "not medical images" not in listed.stdout
    d = json.loads(run(str(disc), "--list", "--json").stdout)
    assert d["viewer_and_web_files"] == web and d["problems"] == []
    (disc / "holiday.jpg").write_bytes(b"\xff\xd8\xff")
    mixed = run(str(disc), "--list")
    assert "1 file(s) are not medical images" in mixed.stdout


def test_case5_pacs_killed_mid_import_then_resumed(tmp_path: Path) -> None:
    """Case 5: kill -9 of Orthanc while importing: a short screen (one line per cause, the full
    list in a log file), accounting that adds up; after a restart the same command sends the
    rest, asked of the PACS itself."""
    import os
    import subprocess
    import sys
    import time

    disc = build_fileset(
        study_folder(tmp_path / "src", patients=1, series=4, instances=60), tmp_path / "d"
    )
    (tmp_path / "o").mkdir()
    first = Orthanc(tmp_path / "o").start()
    second: Orthanc | None = None
    cmd = [sys.executable, "-m", "mediatool", "import", str(disc), "--to-pacs", first.peer,
           "--state", str(tmp_path / "s"), "--patient-id", "L-5", "--retries", "1",
           "--retry-delay", "0.1", "--timeout", "5"]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        deadline = time.monotonic() + 60
        while first.get("/statistics")["CountInstances"] < 30:
            assert proc.poll() is None and time.monotonic() < deadline, "import ended too soon"
            time.sleep(0.02)
        assert first.proc is not None
        first.proc.kill()  # SIGKILL
        first.proc.wait(10)
        first.proc = None
        out, err = proc.communicate(timeout=120)
        screen = (out + err).decode()
        assert proc.returncode == 1, screen
        assert len(screen.splitlines()) < 20, screen
        assert "files: the PACS cannot be reached: nothing accepts connections" in screen
        assert "(connection refused)" in screen and "Run the same command again" in screen
        log = next(line for line in screen.splitlines() if line.startswith("Every file"))
        logged = Path(log.split(": ", 1)[1]).read_text().splitlines()
        assert len(logged) == 1 + 241  # a header line, then every file of the media
        second = Orthanc(
            tmp_path / "o",
            dicom_port=first.dicom_port,
            http_port=first.http_port,
            report_port=first.report_port,
        ).start()
        kept = second.sop_uids()  # what the PACS kept across the kill (asked, not assumed)
        # an Orthanc just back from a kill can be slow: a time-out the resume must not hit
        resume = [*cmd[:-2], "--timeout", "60", "--json"]
        again = subprocess.run(resume, capture_output=True, env=env, timeout=180)
        assert again.returncode == 0, again.stderr
        s = json.loads(again.stdout)["summary"]
        assert (s["already_present"], s["imported"], s["not_imported"]) == (
            len(kept),
            240 - len(kept),
            0,
        )
        assert s["files"] == s["already_present"] + s["imported"] + s["skipped"] == 241
        assert len(second.sop_uids()) == 240
    finally:
        first.stop()
        if second is not None:
            second.stop()


def test_issue12_archive_temporary_files_removed_on_error_and_next_run(
    disc: Path, tmp_path: Path
) -> None:
    """A write that fails (here: the file size limit, EFBIG, standing in for a full disk) leaves
    no ``.<uid>.<pid>.tmp``; one left by a killed run is removed by the next run, which says so."""
    import os
    import resource
    import signal
    import subprocess
    import sys

    archive = tmp_path / "arch"

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[2]))
    cmd = [sys.executable, "-m", "mediatool", "import", str(disc), "--into", str(archive),
           "--patient-id", "T-1", "--state", str(tmp_path / "s")]  # fmt: skip
    failed = subprocess.run(cmd, capture_output=True, env=env, timeout=120, preexec_fn=small_files)
    assert failed.returncode == 1, failed.stderr
    assert "NOT imported: 6" in failed.stdout.decode()
    assert "File too large" in failed.stdout.decode()
    assert [p for p in archive.rglob("*") if p.is_file()] == []
    # a run killed while writing leaves its temporary file (its PID is gone)
    folder = archive / "T-1" / "x"
    folder.mkdir(parents=True)
    stale = folder / f".1.2.3.{2**22 + 1}.tmp"
    stale.write_bytes(b"half a file")
    ok = run(str(disc), "--into", str(archive), "--patient-id", "T-1")
    assert ok.exit_code == 0, ok.output
    assert not stale.exists()
    assert "removed 1 temporary file(s) an earlier, stopped import left" in ok.stderr
    assert len(list(archive.rglob("*.dcm"))) == 6


def test_other_studies_of_a_refused_import_are_held_back(pacs: Orthanc, tmp_path: Path) -> None:
    """One study of the disc is at the PACS under another ID: the disc's other study is not
    sent either (it would be filed under the same, doubtful, ID)."""
    from factories import make_instance, uid, write_instance

    media = tmp_path / "media"
    for study in (1, 2):
        for n in (1, 2):
            write_instance(media / f"s{study}_{n}.dcm", make_instance(1, study, 1, n))
    first = run(str(media), "--to-pacs", pacs.peer, "--state", str(tmp_path / "s"),
                "--study", uid(1, 1), "--patient-id", "L-1")  # fmt: skip
    assert first.exit_code == 0, first.output
    second = run(str(media), "--to-pacs", pacs.peer, "--state", str(tmp_path / "s"),
                 "--patient-id", "L-2", "--json")  # fmt: skip
    assert second.exit_code == 1
    reasons = json.loads(second.stdout)["summary"]["by_reason"]
    assert reasons == {"import.other-patient": 2, "import.held-back": 2}
    assert filed(pacs) == {"L-1": {uid(1, 1, 1, 1), uid(1, 1, 1, 2)}}


def test_issue12_another_pacs_at_the_same_address_gets_everything(
    disc: Path, tmp_path: Path
) -> None:
    """Issue 12: a fresh PACS (empty storage) now answers at the address the journal knows."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    old = Orthanc(tmp_path / "a").start()
    try:
        assert to_pacs(disc, old, tmp_path / "s", "--patient-id", "L-8").exit_code == 0
    finally:
        old.stop()
    new = Orthanc(tmp_path / "b", dicom_port=old.dicom_port, http_port=old.http_port).start()
    try:
        again = to_pacs(disc, new, tmp_path / "s", "--patient-id", "L-8", "--json")
        assert again.exit_code == 0, again.output
        assert json.loads(again.stdout)["summary"]["imported"] == 6
        assert len(new.sop_uids()) == 6
    finally:
        new.stop()
