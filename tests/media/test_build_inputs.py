"""Build inputs are read by the media readers: ``build`` and ``validate`` accept and refuse the
same folders and zip archives, with the same codes and words (issue 13, "rules written twice")."""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factories import make_instance, write_instance

from mediatool.build import sources
from mediatool.cli import main
from mediatool.limits import ZIP_RATIO_LIMIT
from mediatool.media import FolderReader, ZipReader
from mediatool.media.zip import ZipMembers
from mediatool.model import SourceRef
from mediatool.scan import ScanOptions, open_source, scan_all, scan_one

#: Build's own codes for two reader findings on zip inputs (kept from before the shared readers).
BUILD_CODE = {
    "media.unsafe-name": "source.zip-unsafe-member",
    "media.zip-too-large": "source.zip-too-large",
}


def cli(*args: str | Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, [*map(str, args), "--json"], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def build(source: Path, tmp: Path) -> dict[str, Any]:
    return cli("build", source, "--out", tmp / "out", "--dry-run")


def findings(doc: dict[str, Any], prefix: str = "") -> set[tuple[str, str, str]]:
    """(code, where without the input's own name, message) of the media and source findings."""
    return {
        (f["code"], f["where"][len(prefix) :], f["message"])
        for f in doc["findings"]
        if f["code"].startswith(("media.", "source.")) and f["where"].startswith(prefix)
    }


def blank_ct(tmp: Path) -> Path:
    """One blank 512x512 CT: 512 KiB of zeros deflate far beyond the ratio limit."""
    ds = make_instance(1, 1, 1, 1, Rows=512, Columns=512, PixelData=bytes(512 * 512 * 2))
    path: Path = write_instance(tmp / "CT1", ds)
    return path


def odd_zip(tmp: Path) -> Path:
    """A blank CT, a symbolic link member and an encrypted member (flag bit 0 set)."""
    ct = blank_ct(tmp)
    dest = tmp / "odd.zip"
    link = zipfile.ZipInfo("LINK")
    link.create_system = 3
    link.external_attr = 0o120777 << 16
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(ct, "CT1")
        archive.writestr(link, "/etc/passwd")
        archive.writestr("SECRET", ct.read_bytes())
    # zipfile cannot write encrypted members: set the flag in SECRET's central directory header
    data = bytearray(dest.read_bytes())
    data[data.rindex(b"PK\x01\x02") + 8] |= 0x1
    dest.write_bytes(bytes(data))
    return dest


def test_blank_ct_zip_is_read_by_build_and_validate(tmp_path: Path) -> None:
    ct = blank_ct(tmp_path)
    archive = tmp_path / "blank.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(ct, "CT1")
    with zipfile.ZipFile(archive) as zf:
        (info,) = zf.infolist()
    assert info.file_size > ZIP_RATIO_LIMIT * info.compress_size  # the old build refused it
    built, checked = build(archive, tmp_path), cli("validate", archive)
    assert built["ok"] is True and built["counts"]["instances"] == 1
    assert checked["inventory"]["counts"]["instances"] == 1
    assert findings(built) == findings(checked) == set()


def test_encrypted_and_link_members_are_refused_alike(tmp_path: Path) -> None:
    archive = odd_zip(tmp_path)
    built, checked = build(archive, tmp_path), cli("validate", archive)
    expected = {
        ("media.link-not-followed", "LINK", "member is a symbolic link"),
        (
            "media.zip-member-unsupported",
            "SECRET",
            "member is encrypted or compressed with method 8",
        ),
    }
    assert findings(built, f"{archive}!") == findings(checked) == expected
    assert built["ok"] is False  # an input that cannot be read refuses the build, as before
    assert built["counts"]["instances"] == checked["inventory"]["counts"]["instances"] == 1


def test_folder_links_are_judged_alike(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write_instance(root / "A" / "CT1", make_instance(1, 1, 1, 1))
    (root / "OUT").symlink_to(tmp_path)  # a folder outside the root
    (root / "ESCAPE").symlink_to("/etc/passwd")
    (root / "INSIDE").symlink_to("A/CT1")  # stays inside: read, as validate reads it
    built, checked = build(root, tmp_path), cli("validate", root)
    expected = {
        ("media.link-outside-root", "ESCAPE", "link to '/etc/passwd' leaves the media root"),
        ("media.link-outside-root", "OUT", f"link to {str(tmp_path)!r} leaves the media root"),
    }
    assert findings(built, f"{root}/") == findings(checked) == expected
    refs, _ = sources.collect([str(root)])
    assert [r.path for r in refs] == [str(root / "A" / "CT1"), str(root / "INSIDE")]


@pytest.mark.parametrize(
    "name",
    ["../evil", "/abs", "C:/drive", "a/../../b", "a\\..\\..\\b", "ok/./x"],
)
def test_zip_member_names_follow_the_reader(tmp_path: Path, name: str) -> None:
    """Every member the reader refuses, build refuses (under its stable code), and vice versa."""
    archive = tmp_path / "names.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("GOOD", b"x")
        zf.writestr(name, b"y")
    refs, found = sources.collect([str(archive)])
    with ZipReader(archive) as reader:
        listed = [SourceRef(str(archive), e.raw_name) for e in reader.entries()]
        refused = {(BUILD_CODE.get(f.code, f.code), f.message) for f in reader.container_findings()}
    assert refs == listed
    assert {(f.code, f.message) for f in found} == refused
    assert refused, f"{name!r} should be refused"


def test_folder_inputs_are_the_readers_entries(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for name in ("B/IM2", "A/IM1", "A/nested.zip", "C D/ü"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    os.mkfifo(root / "FIFO")
    with zipfile.ZipFile(root / "A" / "nested.zip", "w") as zf:
        zf.writestr("M1", b"m")
    refs, found = sources.collect([str(root)])
    with FolderReader(root) as reader:
        paths = [e.path for e in reader.entries()]
        codes = {f.code for f in reader.container_findings()}
    assert paths == ["A/IM1", "A/nested.zip", "B/IM2", "C D/ü"]
    assert [r.display for r in refs] == [
        str(root / "A" / "IM1"),
        f"{root / 'A' / 'nested.zip'}!M1",
        str(root / "B" / "IM2"),
        str(root / "C D" / "ü"),
    ]
    assert {f.code for f in found} == codes == {"media.special-file"}


def test_zip_members_are_read_under_the_reader_rules(tmp_path: Path) -> None:
    archive = odd_zip(tmp_path)
    options = ScanOptions()
    with ZipMembers() as members:
        with members.open(str(archive), "CT1") as fp:
            assert fp.read() == (tmp_path / "CT1").read_bytes()
        with pytest.raises(OSError, match="'SECRET' is not read: member is encrypted"):
            members.open(str(archive), "SECRET")
        with pytest.raises(OSError, match="has no member 'NONE'"):
            members.open(str(archive), "NONE")
    # scan reports a refused member as a finding, never a traceback (it used to raise
    # RuntimeError: zipfile asks for a password)
    (result,) = scan_one(SourceRef(str(archive), "SECRET"), options)  # type: ignore[misc]
    assert result.code == "source.not-dicom" and "encrypted" in result.message
    refs = [SourceRef(str(archive), "CT1")] * 3
    assert len(scan_all(refs, options, jobs=1).instances) == 3


def test_duplicate_member_names_read_the_first_alike(tmp_path: Path) -> None:
    archive = tmp_path / "dup.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(archive, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it writes
        zf.writestr("IM1", b"first")
        zf.writestr("IM1", b"second")
    refs, found = sources.collect([str(archive)])
    assert refs == [SourceRef(str(archive), "IM1")]
    assert [(f.code, f.where) for f in found] == [("media.duplicate-name", f"{archive}!IM1")]
    with open_source(refs[0]) as fp:
        assert fp.read() == b"first"
    with ZipReader(archive) as reader:
        (entry,) = reader.entries()
        with reader.open(entry) as fp:
            assert fp.read() == b"first"
