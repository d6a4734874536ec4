"""Issue 12: an ISO file record that claims bytes outside its own extent is never read.

A mediatool-made ISO is patched: one file's both-endian Data Length set to 0xFFFFFFFF (pycdlib
itself shortens such a file silently), or its extent moved onto another patient's file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_media import both_endian, built_iso, mediatool, patch_record, record_offset

from mediatool.media import IsoReader

FIRST = b"IM000001.;1"  # the first patient's first image: DICOM/PT000001/ST000001/SE000001


def _first(reader: IsoReader) -> str:
    return next(
        e.path for e in reader.entries() if e.path.endswith("PT000001/ST000001/SE000001/IM000001")
    )


def test_a_length_past_the_image_is_an_error_and_never_read(tmp_path: Path) -> None:
    iso = built_iso(tmp_path)
    patch_record(iso, FIRST, length=0xFFFFFFFF)
    with IsoReader(iso) as reader:
        path = _first(reader)
        (found,) = [f for f in reader.container_findings() if f.where == path]
        assert found.code == "media.iso-extent-outside"
        assert f"ends beyond the image's {iso.stat().st_size} bytes" in found.message
        entry = next(e for e in reader.entries() if e.path == path)
        with pytest.raises(OSError, match="ends beyond the image"):
            reader.open(entry)
    done = mediatool("validate", iso, "--json")
    assert done.returncode == 1
    codes = {(f["code"], f["where"]) for f in json.loads(done.stdout)["findings"]}
    assert ("media.iso-extent-outside", path) in codes


def test_import_does_not_write_the_file_and_says_why(tmp_path: Path) -> None:
    iso = built_iso(tmp_path)
    patch_record(iso, FIRST, length=0xFFFFFFFF)
    archive = tmp_path / "archive"
    done = mediatool("import", iso, "--into", archive, "--json", "--jobs", "1")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    lost = [o for o in report["files"] if o["outcome"] == "not-imported"]
    assert len(lost) == 1 and lost[0]["path"].endswith("PT000001/ST000001/SE000001/IM000001")
    assert "ends beyond the image" in lost[0]["reason"]
    sizes = [p.stat().st_size for p in archive.rglob("*.dcm")]
    assert len(sizes) == 3 and max(sizes) < 4096  # each image is ~1 KB: nothing appended


def test_an_extent_on_another_patients_file_is_an_error_for_both(tmp_path: Path) -> None:
    iso = built_iso(tmp_path)
    image = iso.read_bytes()
    # the second patient's first image, moved onto the first patient's first image
    first_extent, _ = patch_record(iso, FIRST)
    at = record_offset(image, FIRST, nth=1)
    patched = bytearray(image)
    patched[at + 2 : at + 10] = both_endian(first_extent)
    iso.write_bytes(bytes(patched))
    with IsoReader(iso) as reader:
        refused = {
            f.where for f in reader.container_findings() if f.code == "media.iso-extent-overlap"
        }
        assert len(refused) == 2
        for entry in reader.entries():
            if entry.path in refused:
                with pytest.raises(OSError, match="shares bytes"):
                    reader.open(entry)
    archive = tmp_path / "archive"
    done = mediatool("import", iso, "--into", archive, "--json", "--jobs", "1")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["summary"]["not_imported"] == 2
    assert len(list(archive.rglob("*.dcm"))) == 2


def test_a_sound_image_has_no_extent_findings(tmp_path: Path) -> None:
    iso = built_iso(tmp_path, patients=3)
    with IsoReader(iso) as reader:
        assert not [f for f in reader.container_findings() if "extent" in f.code]
        sizes = {e.path: e.size for e in reader.entries()}
        for entry in reader.entries():
            with reader.open(entry) as fp:
                assert len(fp.read()) == sizes[entry.path]
