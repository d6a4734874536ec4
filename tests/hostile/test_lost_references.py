"""Issue 12: an instance the DICOMDIR references but the media cannot give is never a silent
skip; ``import --list`` and ``import`` count references that leave the root the same way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_media import built_folder, built_iso, file_id, mediatool, patch_record, set_file_id


def _import(disc: Path, tmp: Path) -> tuple[int, dict[str, object]]:
    done = mediatool("import", disc, "--into", tmp / "archive", "--json", "--jobs", "1")
    return done.returncode, json.loads(done.stdout)


def _listing(disc: Path) -> dict[str, object]:
    done = mediatool("import", disc, "--list", "--json")
    return dict(json.loads(done.stdout))


def test_an_empty_referenced_file_is_not_imported_and_fails(tmp_path: Path) -> None:
    disc = built_folder(tmp_path)
    lost = file_id(disc / "DICOMDIR", 0)
    (disc / lost).write_bytes(b"")
    code, report = _import(disc, tmp_path)
    assert code == 1
    files = report["files"]
    assert isinstance(files, list)
    (outcome,) = [o for o in files if o["path"] == lost]
    assert outcome["outcome"] == "not-imported" and outcome["code"] == "import.damaged"
    assert "lists it as an instance, but it is empty (0 bytes)" in outcome["reason"]
    assert _listing(disc)["ok"] is False


def test_an_iso_extent_past_the_end_is_not_imported_and_fails(tmp_path: Path) -> None:
    iso = built_iso(tmp_path)
    patch_record(iso, b"IM000002.;1", extent=(iso.stat().st_size // 2048) + 10)
    code, report = _import(iso, tmp_path)
    assert code == 1
    files = report["files"]
    assert isinstance(files, list)
    (outcome,) = [o for o in files if o["outcome"] != "imported" and o["code"] != "import.dicomdir"]
    assert outcome["code"] == "import.unreadable"
    assert "ends beyond the image" in outcome["reason"]
    assert _listing(iso)["ok"] is False


@pytest.mark.parametrize("reference", [b"..\\..\\ETC\\PASSWD", b"\\ETC\\PASSWD", b"DICOMDIR"])
def test_list_and_import_agree_on_references_that_leave_the_root(
    reference: bytes, tmp_path: Path
) -> None:
    disc = built_folder(tmp_path)
    set_file_id(disc / "DICOMDIR", 0, reference)
    listing = _listing(disc)
    counts = listing["counts"]
    assert isinstance(counts, dict)
    code, report = _import(disc, tmp_path)
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert counts["referenced_missing"] == summary["listed_missing"] == 1
    assert listing["ok"] is False and code == 1
