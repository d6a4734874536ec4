"""``mediatool update`` (issue 16, the FSU role): add to and remove from a File-set in place.

Oracles: pydicom's ``FileSet`` (it reads the DICOMDIR we write), dicom3tools ``dciodvfy`` (the
DICOMDIR's IOD), DCMTK ``dcmmkdir`` (writes the foreign File-set; ``+A`` appends the same files
to a copy: the same records must result), and ``mediatool validate``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import oracles
import pytest
from click.testing import CliRunner, Result
from factories import make_instance, uid, write_instance
from pydicom import dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.filewriter import dcmwrite
from pydicom.uid import UID, ExplicitVRLittleEndian

from mediatool.cli import main
from mediatool.update import naming
from mediatool.update.commit import KILL_AFTER_ENV


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def digests(root: Path) -> dict[str, str]:
    """Every file below ``root/sub`` (or the DICOM files of the File-set) → its SHA-256."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.name != "DICOMDIR"
        and not p.relative_to(root)
        .parts[0]
        .startswith(("IHE_PDI", "VIEWER", "REPORTS", "INDEX.HTM", "README.TXT"))
    }


def listed(root: Path) -> set[str]:
    """SOP Instance UIDs the DICOMDIR lists, as pydicom's FileSet reads it."""
    fs = FileSet(dcmread(root / "DICOMDIR"))
    try:
        return {i.SOPInstanceUID for i in fs}
    finally:  # FileSet keeps a staging TemporaryDirectory; left to the GC it warns later
        fs._stage["t"].cleanup()


def records(dicomdir: Path) -> set[tuple[str, str]]:
    """(record type, what it stands for) of every record: the referenced SOP Instance UID, or
    the key of a PATIENT, STUDY or SERIES record."""
    keys = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID"}
    out = set()
    for rec in dcmread(dicomdir).DirectoryRecordSequence:
        kind = rec.DirectoryRecordType
        key = keys.get(kind, "ReferencedSOPInstanceUIDInFile")
        out.add((kind, str(rec.get(key, ""))))
    return out


def instances(folder: Path, specs: list[tuple[int, int, int, int]], **overrides: Any) -> Path:
    for p, st, se, n in specs:
        write_instance(folder / f"p{p}s{st}e{se}i{n}.dcm", make_instance(p, st, se, n, **overrides))
    return folder


def checked(root: Path) -> None:
    """validate passes without warnings, dciodvfy finds no error in the DICOMDIR."""
    result = run("validate", root, "--json", "--fail-on", "warning")
    report = json.loads(result.stdout)
    assert result.exit_code == 0, [f for f in report["findings"] if f["severity"] != "info"]
    dicomdir = oracles.dciodvfy(root / "DICOMDIR")
    assert dicomdir.errors == [], dicomdir.describe()


@pytest.fixture
def ours(tmp_path: Path) -> Path:
    """A File-set of ours: patient 1 with a study of two series (2 + 1 images), patient 2."""
    src = instances(tmp_path / "src", [(1, 1, 1, 1), (1, 1, 1, 2), (1, 1, 2, 1), (2, 1, 1, 1)])
    result = run("build", src, "--out", tmp_path / "disc", "-q")
    assert result.exit_code == 0, result.stderr
    return tmp_path / "disc"


def update_json(*args: object) -> tuple[Result, dict[str, Any]]:
    result = run("update", *args, "--json", "-q")
    return result, json.loads(result.stdout)


def test_add_to_our_fileset_continues_its_file_ids(ours: Path, tmp_path: Path) -> None:
    before = digests(ours)
    copy = tmp_path / "copy"
    shutil.copytree(ours, copy)
    old = dcmread(ours / "DICOMDIR")
    new = instances(
        tmp_path / "new", [(1, 1, 1, 3), (1, 1, 3, 1), (1, 2, 1, 1), (3, 1, 1, 1), (3, 1, 1, 2)]
    )
    result, doc = update_json(ours, "--add", new)
    assert result.exit_code == 0, result.stderr
    ids = {a["sop_instance_uid"]: a["file_id"] for a in doc["added"]}
    assert ids == {
        uid(1, 1, 1, 3): "DICOM/PT000001/ST000001/SE000001/IM000003",  # its series' folder
        uid(1, 1, 3, 1): "DICOM/PT000001/ST000001/SE000003/IM000001",  # a new series
        uid(1, 2, 1, 1): "DICOM/PT000001/ST000002/SE000001/IM000001",  # a new study
        uid(3, 1, 1, 1): "DICOM/PT000003/ST000001/SE000001/IM000001",  # a new patient
        uid(3, 1, 1, 2): "DICOM/PT000003/ST000001/SE000001/IM000002",
    }
    after = digests(ours)
    assert {k: after[k] for k in before} == before  # existing files byte for byte
    assert set(after) - set(before) == set(ids.values())
    now = dcmread(ours / "DICOMDIR")
    assert now.file_meta.MediaStorageSOPInstanceUID == old.file_meta.MediaStorageSOPInstanceUID
    assert now.FileSetID == old.FileSetID
    assert now.FileSetConsistencyFlag == 0
    assert listed(ours) == {
        uid(1, 1, 1, 1), uid(1, 1, 1, 2), uid(1, 1, 2, 1), uid(2, 1, 1, 1), *ids
    }  # fmt: skip
    for file_id in ids.values():  # made Part 10 as build makes it (our File Meta)
        meta = dcmread(ours / file_id, stop_before_pixels=True).file_meta
        assert meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
        assert meta.ImplementationClassUID == old.file_meta.ImplementationClassUID
    checked(ours)
    # the web content shows the new patient
    assert "Patient3" in (ours / "INDEX.HTM").read_text(encoding="utf-8")
    assert doc["web_content"] is True
    assert records(ours / "DICOMDIR") == dcmmkdir_append(copy, ours, ids.values())


def test_remove_a_study_and_a_series(ours: Path) -> None:
    before = digests(ours)
    result, doc = update_json(ours, "--remove-study", uid(2, 1), "--remove-series", uid(1, 1, 2))
    assert result.exit_code == 0, result.stderr
    gone = {r["file_id"] for r in doc["removed"]}
    assert gone == {
        "DICOM/PT000002/ST000001/SE000001/IM000001",
        "DICOM/PT000001/ST000001/SE000002/IM000001",
    }
    assert not (ours / "DICOM" / "PT000002").exists()  # empty folders go too
    assert not (ours / "DICOM" / "PT000001" / "ST000001" / "SE000002").exists()
    after = digests(ours)
    assert after == {k: v for k, v in before.items() if k not in gone}
    assert listed(ours) == {uid(1, 1, 1, 1), uid(1, 1, 1, 2)}
    kinds = {kind for kind, _ in records(ours / "DICOMDIR")}
    assert ("PATIENT", "PID0002") not in records(ours / "DICOMDIR")
    assert kinds == {"PATIENT", "STUDY", "SERIES", "IMAGE"}
    checked(ours)


def dcmmkdir_append(copy: Path, updated: Path, file_ids: Any) -> set[tuple[str, str]]:
    """Oracle: DCMTK appends (``+A``) the files our update added, put at the same File IDs in
    a copy of the medium as it was; the records of the DICOMDIR it makes."""
    for file_id in file_ids:
        (copy / file_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(updated / file_id, copy / file_id)
    dcmmkdir = oracles.require_tool("dcmmkdir")
    appended = subprocess.run(
        [dcmmkdir, "-Pgp", "+A", "+id", copy, "+D", copy / "DICOMDIR", *sorted(file_ids)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert appended.returncode == 0, appended.stderr
    return records(copy / "DICOMDIR")


def foreign(tmp_path: Path) -> Path:
    """A File-set DCMTK's dcmmkdir wrote, its files in one folder under 8-character names."""
    root = tmp_path / "foreign"
    for n, spec in enumerate([(5, 1, 1, 1), (5, 1, 1, 2), (6, 1, 1, 1)], 1):
        ds = make_instance(*spec)
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta.ImplementationClassUID = UID(uid(99))
        ds.file_meta.ImplementationVersionName = "FOREIGN_1"  # a conformant one (PS3.10 7.1)
        (root / "IMAGES").mkdir(parents=True, exist_ok=True)
        dcmwrite(root / "IMAGES" / f"IMG{n:05d}", ds, enforce_file_format=True)
    made = oracles.dcmmkdir_build(root, fileset_id="FOREIGN")
    assert made.dicomdir is not None, made.describe()
    return root


def test_add_to_a_dcmmkdir_fileset_and_compare_with_dcmmkdir_append(tmp_path: Path) -> None:
    root = foreign(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    before = digests(root)
    new = instances(tmp_path / "new", [(5, 1, 1, 3), (5, 2, 1, 1), (7, 1, 1, 1)])
    result, doc = update_json(root, "--add", new)
    assert result.exit_code == 0, result.stderr
    ids = {a["sop_instance_uid"]: a["file_id"] for a in doc["added"]}
    # one folder, numbered names: the scheme goes on
    assert sorted(ids.values()) == ["IMAGES/IMG00004", "IMAGES/IMG00005", "IMAGES/IMG00006"]
    after = digests(root)
    assert {k: after[k] for k in before} == before
    assert dcmread(root / "DICOMDIR").FileSetID == "FOREIGN"
    assert listed(root) == {uid(5, 1, 1, 1), uid(5, 1, 1, 2), uid(6, 1, 1, 1), *ids}
    checked(root)
    assert records(root / "DICOMDIR") == dcmmkdir_append(copy, root, ids.values())


def test_an_instance_already_there_is_skipped_a_different_one_refused(
    ours: Path, tmp_path: Path
) -> None:
    dicomdir = (ours / "DICOMDIR").read_bytes()
    same = instances(tmp_path / "same", [(1, 1, 1, 1)])
    result, doc = update_json(ours, "--add", same)
    assert result.exit_code == 0, result.stderr
    assert doc["added"] == [] and doc["skipped"] == [str(same / "p1s1e1i1.dcm")]
    codes = [f["code"] for f in doc["findings"]]
    assert codes == ["update.profile", "update.already-present"]  # the profile: the medium's
    assert (ours / "DICOMDIR").read_bytes() == dicomdir  # nothing to change: nothing written
    other = instances(tmp_path / "other", [(1, 1, 1, 1)], StudyDescription="Changed")
    result = run("update", ours, "--add", other)
    assert result.exit_code == 1
    assert "ERROR update.conflict" in result.stderr
    assert "nothing was changed" in result.stderr
    assert (ours / "DICOMDIR").read_bytes() == dicomdir


def test_mistakes_get_clear_messages(ours: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    instances(plain, [(1, 1, 1, 1)])
    result = run("update", plain, "--add", plain)
    assert result.exit_code == 2
    assert f"Error: {str(plain)!r} is not a File-set: it has no DICOMDIR" in result.stderr
    assert "Hint: make one with: mediatool build" in result.stderr
    image = tmp_path / "disc.iso"
    image.write_bytes(b"")
    result = run("update", image, "--add", plain)
    assert result.exit_code == 2
    assert "update works on a File-set folder or a mounted USB stick" in result.stderr
    assert "Hint: an ISO image cannot be changed: build a new one" in result.stderr
    dicomdir = (ours / "DICOMDIR").read_bytes()
    result = run("update", ours, "--remove-study", "1.2.3.4")
    assert result.exit_code == 1
    assert "ERROR update.not-on-medium" in result.stderr
    assert "no study with Instance UID 1.2.3.4 is on the medium" in result.stderr
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.txt").write_text("not DICOM\n")
    result = run("update", ours, "--add", notes)
    assert result.exit_code == 1
    assert f"no DICOM instance found in {str(notes)!r}; nothing was changed" in result.stderr
    result, doc = update_json(ours, "--add", notes)  # --json: still one document
    assert result.exit_code == 1 and doc["ok"] is False and doc["written"] is False
    result, doc = update_json(plain, "--add", plain)
    assert result.exit_code == 2 and "is not a File-set" in doc["error"]
    result = run("update", ours, "--remove-study", uid(1, 1), "--remove-study", uid(2, 1))
    assert result.exit_code == 1 and "ERROR update.empty" in result.stderr
    result = run("update", ours)
    assert result.exit_code == 2 and "give --add SOURCE" in result.stderr
    assert (ours / "DICOMDIR").read_bytes() == dicomdir
    assert "Traceback" not in result.stderr


def _update_process(disc: Path, source: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mediatool", "update", str(disc), "--add", str(source), "-q"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_kill_mid_update_leaves_a_readable_dicomdir_and_repair_fixes_it(
    ours: Path, tmp_path: Path
) -> None:
    old = listed(ours)
    big = instances(tmp_path / "big", [(4, 1, 1, n) for n in range(1, 25)])
    everything = old | {uid(4, 1, 1, n) for n in range(1, 25)}
    for k, after in enumerate(sorted(random.Random(16).sample(range(1, 24), 3))):
        disc = tmp_path / f"disc{k}"
        shutil.copytree(ours, disc)
        proc = _update_process(disc, big, {KILL_AFTER_ENV: str(after)})
        proc.communicate(timeout=120)
        assert proc.returncode == -9
        ds = dcmread(disc / "DICOMDIR")
        assert ds.FileSetConsistencyFlag == 0xFFFF  # the update had begun
        assert listed(disc) == old  # the old records, readable
        refused = run("update", disc, "--add", big)
        assert refused.exit_code == 1
        assert "ERROR update.inconsistent DICOMDIR: (0004,1212)" in refused.stderr
        assert "run the update again with --repair" in refused.stderr.lower()
        repaired, doc = update_json(disc, "--repair")
        assert repaired.exit_code == 0, repaired.stderr
        assert "update.repaired" in {f["code"] for f in doc["findings"]}
        assert len(listed(disc)) == len(old) + after
        finished = run("update", disc, "--add", big)
        assert finished.exit_code == 0, finished.stderr
        assert listed(disc) == everything
        checked(disc)


def test_a_kill_while_files_are_staged_is_repaired_without_leftovers(
    ours: Path, tmp_path: Path
) -> None:
    """Stopped after writing the added files under the medium's hidden staging folder, before
    any is in place: the repair clears the staging folder (its owner is gone)."""
    old = listed(ours)
    big = instances(tmp_path / "big", [(4, 1, 1, n) for n in range(1, 6)])
    proc = _update_process(ours, big, {"MEDIATOOL_TEST_PAUSE": "update-staged"})
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    while b"paused at update-staged" not in proc.stderr.readline():
        assert time.monotonic() < deadline and proc.poll() is None
    proc.kill()
    proc.communicate(timeout=60)
    assert [p.name for p in ours.glob(".UPDATE.partial-*")] != []  # the stop left it
    assert listed(ours) == old
    fixed = run("update", ours, "--repair", "-q")
    assert fixed.exit_code == 0, fixed.stderr
    assert list(ours.glob(".*")) == []
    assert listed(ours) == old
    checked(ours)


def test_a_kill_at_any_moment_leaves_the_old_or_the_new_dicomdir(
    ours: Path, tmp_path: Path
) -> None:
    old = listed(ours)
    big = instances(tmp_path / "big", [(4, 1, 1, n) for n in range(1, 25)])
    new = old | {uid(4, 1, 1, n) for n in range(1, 25)}
    rng = random.Random(1612)
    for k in range(4):
        disc = tmp_path / f"disc{k}"
        shutil.copytree(ours, disc)
        proc = _update_process(disc, big, {})
        time.sleep(rng.uniform(0.2, 3.0))
        proc.kill()
        proc.communicate(timeout=60)
        ds = dcmread(disc / "DICOMDIR")
        assert listed(disc) in (old, new)
        if ds.FileSetConsistencyFlag != 0:
            assert listed(disc) == old
            fixed = run("update", disc, "--repair", "-q")
            assert fixed.exit_code == 0, fixed.stderr
        again = run("update", disc, "--add", big, "-q")  # finishes the job (or has nothing to do)
        assert again.exit_code == 0, again.stderr
        assert listed(disc) == new
        assert list(disc.glob(".*")) == []  # what a stop left is cleared
        checked(disc)


def test_icons_are_kept_and_made_for_the_profile(tmp_path: Path) -> None:
    """STD-CTMR-CD asks for icons (PS3.3 F.7): the records kept keep theirs byte for byte, the
    added images get theirs as build makes them."""
    src = instances(tmp_path / "src", [(1, 1, 1, 1), (1, 1, 1, 2)])
    disc = tmp_path / "disc"
    built = run("build", src, "--out", disc, "--profile", "STD-CTMR-CD", "-q")
    assert built.exit_code == 0, built.stderr

    def icons() -> dict[str, bytes]:
        return {
            r.ReferencedSOPInstanceUIDInFile: r.IconImageSequence[0].PixelData
            for r in dcmread(disc / "DICOMDIR").DirectoryRecordSequence
            if r.DirectoryRecordType == "IMAGE"
        }

    before = icons()
    new = instances(tmp_path / "new", [(1, 1, 1, 3), (1, 1, 2, 1)])
    result = run("update", disc, "--add", new, "--profile", "STD-CTMR-CD", "-q")
    assert result.exit_code == 0, result.stderr
    after = icons()
    assert {u: after[u] for u in before} == before
    assert set(after) == {*before, uid(1, 1, 1, 3), uid(1, 1, 2, 1)}
    valid = run("validate", disc, "--profile", "STD-CTMR-CD", "--fail-on", "warning")
    assert valid.exit_code == 0, valid.stdout


def test_naming_follows_the_levels_the_file_ids_show() -> None:
    """pydicom's test File-set layout: patient folder / series folder / numbered files."""
    existing = {
        "a1": ("77654033", "CR1", "6154"),
        "a2": ("77654033", "CR2", "6247"),
        "b1": ("98892003", "MR700", "4467"),
        "b2": ("98892003", "MR700", "4528"),
    }
    where = {
        "a1": ("0", "s1", "e1"),
        "a2": ("0", "s1", "e2"),
        "b1": ("1", "s2", "e3"),
        "b2": ("1", "s2", "e3"),
        "n1": ("1", "s2", "e3"),  # into an existing series
        "n2": ("1", "s2", "e4"),  # a new series of an existing study
        "n3": ("2", "s3", "e5"),  # a new patient
        "n4": ("2", "s3", "e5"),
    }
    ids = naming.assign(["n1", "n2", "n3", "n4"], existing, where, lambda folder: [])
    assert ids == {
        "n1": ("98892003", "MR700", "4529"),
        "n2": ("98892003", "MR701", "0001"),
        "n3": ("98892004", "MR001", "0001"),
        "n4": ("98892004", "MR001", "0002"),
    }


def test_naming_never_takes_a_name_the_folder_holds() -> None:
    existing = {"a": ("IMAGES", "IM000001")}
    where = {"a": ("0", "s", "e"), "n": ("0", "s", "e")}
    on_disk: dict[tuple[str, ...], list[str]] = {("IMAGES",): ["IM000001", "im000002", "README"]}
    ids = naming.assign(["n"], existing, where, lambda folder: on_disk.get(folder, []))
    assert ids == {"n": ("IMAGES", "IM000003")}
    assert naming.next_name("IM999999", ["IM999999"]) == "I1000000"
