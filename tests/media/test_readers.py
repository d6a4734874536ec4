"""The media readers (folder, ISO 9660 image, zip archive): one suite over all of them.

Every medium is built in ``tmp_path`` from the same small tree, so the readers must list the same
entries with the same content. Hostile cases (traversal, links, special files, corrupt containers,
zip bombs, names that are not ISO 9660 Level 1) are checked by finding ``code`` and ``where``.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pycdlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom import dcmread
from pydicom.data import get_testdata_file

from mediatool.errors import MediaError
from mediatool.media import FolderReader, IsoReader, MediaReader, ZipReader, open_media
from mediatool.media.base import EntryIndex, MediaEntry
from mediatool.media.iso import _ExtentReader

#: media path → content; the File-set every medium below carries
TREE: dict[str, bytes] = {
    "DICOMDIR": b"DICOMDIR bytes",
    "DICOM/PT000001/IM000001": b"first image",
    "DICOM/PT000001/IM000002": b"second image" * 100,
    "DICOM/PT000002/IM000001": b"",
    "README.TXT": b"read me",
}
PATHS = sorted(TREE)


def _iso_name(path: str) -> str:
    """ISO 9660 Level 1 form of a media path: ``/DICOM/IM1.;1``, ``/README.TXT;1``."""
    return "/" + path + (";1" if "." in path.rsplit("/", 1)[-1] else ".;1")


def write_folder(root: Path, tree: dict[str, bytes] = TREE) -> Path:
    for path, content in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return root


def write_pycdlib_iso(
    dest: Path, tree: dict[str, bytes] = TREE, *, interchange_level: int = 1
) -> Path:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=interchange_level, vol_ident="MEDIATOOL")
    made: set[str] = set()
    for path in sorted(tree):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/" + "/".join(parts[:depth])
            if folder not in made:
                iso.add_directory(folder)
                made.add(folder)
        iso.add_fp(io.BytesIO(tree[path]), len(tree[path]), _iso_name(path))
    iso.write(str(dest))
    iso.close()
    return dest


def write_zip(dest: Path, tree: dict[str, bytes] = TREE) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in tree.items():
            archive.writestr(path, content)
    return dest


def genisoimage(source: Path, dest: Path, *options: str) -> Path:
    subprocess.run(
        ["genisoimage", "-quiet", *options, "-o", str(dest), str(source)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return dest


def _folder(tmp: Path) -> Path:
    return write_folder(tmp / "folder")


def _iso(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    return write_pycdlib_iso(tmp / "media.iso")


def _genisoimage(tmp: Path) -> Path:
    source = write_folder(tmp / "src")
    return genisoimage(source, tmp / "genisoimage.iso", "-iso-level", "1", "-V", "GEN")


def _zip(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    return write_zip(tmp / "media.zip")


BUILDERS: dict[str, Callable[[Path], Path]] = {
    "folder": _folder,
    "iso": _iso,
    "genisoimage": _genisoimage,
    "zip": _zip,
}
KINDS = {"folder": "folder", "iso": "iso", "genisoimage": "iso", "zip": "zip"}


@pytest.fixture(params=sorted(BUILDERS))
def media(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MediaReader]:
    with open_media(BUILDERS[request.param](tmp_path)) as reader:
        yield reader


def _codes(reader: MediaReader) -> set[tuple[str, str | None]]:
    return {(f.code, f.where) for f in reader.container_findings()}


def _entry(reader: MediaReader, path: str) -> MediaEntry:
    (entry,) = (e for e in reader.entries() if e.path == path)
    return entry


# --- the same tree through every reader --------------------------------------------------------


def test_entries_are_listed_identically(media: MediaReader) -> None:
    entries = list(media.entries())
    assert [e.path for e in entries] == PATHS
    assert [e.size for e in entries] == [len(TREE[p]) for p in PATHS]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_open_media_picks_the_reader_by_kind(kind: str, tmp_path: Path) -> None:
    with open_media(BUILDERS[kind](tmp_path)) as reader:
        assert reader.kind == KINDS[kind]


def test_content_is_read_and_seekable(media: MediaReader) -> None:
    for entry in media.entries():
        with media.open(entry) as fp:
            assert fp.read() == TREE[entry.path]
            assert fp.seek(0, os.SEEK_END) == entry.size
            fp.seek(min(3, entry.size))
            assert fp.read(4) == TREE[entry.path][3:7]


def test_streams_can_be_interleaved(media: MediaReader) -> None:
    first, second = (media.resolve(tuple(p.split("/")))[0] for p in PATHS[1:3])
    assert first is not None and second is not None
    with media.open(first) as a, media.open(second) as b:
        parts = [a.read(2), b.read(2), a.read(), b.read()]
    assert parts[0] + parts[2] == TREE[first.path]
    assert parts[1] + parts[3] == TREE[second.path]


def test_a_clean_medium_has_no_error_findings(media: MediaReader) -> None:
    assert {code for code, _ in _codes(media)} <= {"media.iso-system-id"}  # genisoimage: LINUX


def test_iso_raw_names_keep_version_and_dot(tmp_path: Path) -> None:
    with open_media(_iso(tmp_path)) as reader:
        raw = {e.path: e.raw_name for e in reader.entries()}
    assert raw["DICOM/PT000001/IM000001"] == "DICOM/PT000001/IM000001.;1"
    assert raw["README.TXT"] == "README.TXT;1"
    assert raw["DICOMDIR"] == "DICOMDIR.;1"


@pytest.mark.parametrize("kind", ["folder", "iso", "zip"])
def test_pydicom_reads_through_the_reader(kind: str, tmp_path: Path) -> None:
    ct = Path(get_testdata_file("CT_small.dcm") or "").read_bytes()
    tree = {"DICOM/PT000001/IM000001": ct}
    builders: dict[str, Callable[[Path, dict[str, bytes]], Path]] = {
        "folder": write_folder,
        "iso": write_pycdlib_iso,
        "zip": write_zip,
    }
    build = builders[kind]
    path = build(tmp_path / ("folder" if kind == "folder" else f"media.{kind}"), tree)
    with open_media(path) as reader:
        entry, _ = reader.resolve(("DICOM", "PT000001", "IM000001"))
        assert entry is not None
        with reader.open(entry) as fp:
            ds = dcmread(fp, stop_before_pixels=True)
    assert ds.Modality == "CT"


# --- resolve -------------------------------------------------------------------------------------


def test_resolve_exact(media: MediaReader) -> None:
    for path in PATHS:
        entry, exact = media.resolve(tuple(path.split("/")))
        assert entry is not None and entry.path == path and exact


@pytest.mark.parametrize(
    "components",
    [("dicom", "pt000001", "im000001"), ("Dicom", "PT000001", "im000001"), ("dicomdir",)],
    ids=["lower", "mixed", "dicomdir"],
)
def test_resolve_case_insensitive(media: MediaReader, components: tuple[str, ...]) -> None:
    entry, exact = media.resolve(components)
    assert entry is not None and entry.path.lower() == "/".join(components).lower()
    assert not exact


LOWER_TREE = {
    "dicomdir": b"d",
    "dicom/pt000001/im000001.dcm": b"1",
    "dicom/pt000001/IM000002.": b"2",
    "dicom/pt000001/IM000003;1": b"3",
    "dicom/pt000001/IM000004.;1": b"4",
    "dicom/pt000001/IM000005.DCM": b"5",
    "dicom/pt000001/im000006": b"6a",
    "dicom/pt000001/IM000006.dcm": b"6b",
}


@pytest.mark.parametrize(
    ("components", "found"),
    [
        (("DICOMDIR",), "dicomdir"),
        (("DICOM", "PT000001", "IM000001"), "dicom/pt000001/im000001.dcm"),
        (("DICOM", "PT000001", "IM000002"), "dicom/pt000001/IM000002."),
        (("DICOM", "PT000001", "IM000003"), "dicom/pt000001/IM000003;1"),
        (("DICOM", "PT000001", "IM000004"), "dicom/pt000001/IM000004.;1"),
        (("DICOM", "PT000001", "IM000005"), "dicom/pt000001/IM000005.DCM"),
        (("DICOM", "PT000001", "IM000006"), "dicom/pt000001/im000006"),  # case beats extension
        (("dicom", "pt000001", "IM000005.DCM"), "dicom/pt000001/IM000005.DCM"),
        (("DICOM", "PT000001", "IM000003;1"), "dicom/pt000001/IM000003;1"),
    ],
)
def test_resolve_tolerates_copied_folders(
    tmp_path: Path, components: tuple[str, ...], found: str
) -> None:
    with FolderReader(write_folder(tmp_path / "lower", LOWER_TREE)) as reader:
        entry, exact = reader.resolve(components)
    assert entry is not None and entry.path == found
    assert exact == ("/".join(components) == found)


def test_resolve_prefers_the_exact_entry(tmp_path: Path) -> None:
    tree = {"DICOM/IM1": b"upper", "dicom/im1": b"lower", "DICOM/IM1.DCM": b"ext"}
    with FolderReader(write_folder(tmp_path / "f", tree)) as reader:
        for path in tree:
            assert reader.resolve(tuple(path.split("/"))) == (_entry(reader, path), True)


@pytest.mark.parametrize(
    "components",
    [
        (),
        ("",),
        ("..", "etc", "passwd"),
        ("DICOM", "..", "README.TXT"),
        ("/etc/passwd",),
        ("/README.TXT",),
        ("DICOM/PT000001", "IM000001"),
        ("DICOM\\PT000001", "IM000001"),
        ("DICOM", "PT000001", "IM000001", ""),
        (".", "README.TXT"),
        ("DICOM", "PT000001", "IM000001\x00"),
        ("DICOM", "PT000001", "NOPE"),
    ],
)
def test_resolve_refuses_what_leaves_the_root(
    media: MediaReader, components: tuple[str, ...]
) -> None:
    assert media.resolve(components) == (None, False)


@pytest.fixture(scope="module")
def readers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[MediaReader]]:
    tmp = tmp_path_factory.mktemp("readers")
    opened = [open_media(BUILDERS[kind](tmp / kind)) for kind in ("folder", "iso", "zip")]
    yield opened
    for reader in opened:
        reader.close()


_components = st.lists(
    st.one_of(
        st.sampled_from(
            ["DICOM", "dicom", "PT000001", "IM000001", "..", ".", "", "/", "README.TXT"]
        ),
        st.text(max_size=12),
    ),
    max_size=6,
).map(tuple)


@settings(max_examples=300, deadline=None)
@given(components=_components)
def test_resolve_never_leaves_the_root(
    readers: list[MediaReader], components: tuple[str, ...]
) -> None:
    for reader in readers:
        entry, exact = reader.resolve(components)
        if entry is None:
            assert not exact
            continue
        assert entry in set(reader.entries())
        assert not any(c in ("", ".", "..") or "/" in c or "\\" in c for c in components)


def test_resolve_is_constant_time_per_file_id() -> None:
    entries = [
        MediaEntry(f"DICOM/P{p:07d}/IM{i:06d}", "", 1) for p in range(100) for i in range(100)
    ]
    index = EntryIndex(entries)
    for entry in entries:  # 10,000 tolerant look-ups; a linear scan would take minutes
        found, exact = index.resolve(tuple(entry.path.lower().split("/")))
        assert found is entry and not exact


# --- hostile folders -----------------------------------------------------------------------------


def test_folder_link_leaving_the_root_is_reported_not_opened(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "f")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"secret")
    (root / "DICOM" / "LINK").symlink_to(secret)
    (root / "DICOM" / "UP").symlink_to("../..")
    (root / "DICOM" / "INSIDE").symlink_to("../README.TXT")
    (root / "DICOM" / "FOLDER").symlink_to("PT000001")
    (root / "DICOM" / "DANGLING").symlink_to("nowhere")
    with FolderReader(root) as reader:
        paths = [e.path for e in reader.entries()]
        assert _codes(reader) == {
            ("media.link-outside-root", "DICOM/LINK"),
            ("media.link-outside-root", "DICOM/UP"),
            ("media.link-not-followed", "DICOM/FOLDER"),
            ("media.link-not-followed", "DICOM/DANGLING"),
        }
        assert "DICOM/LINK" not in paths and "DICOM/UP" not in paths
        assert reader.resolve(("DICOM", "LINK")) == (None, False)
        with pytest.raises(OSError, match="is not an entry of"):
            reader.open(MediaEntry("DICOM/LINK", "DICOM/LINK", 6))
        inside, _ = reader.resolve(("DICOM", "INSIDE"))
        assert inside is not None
        with reader.open(inside) as fp:
            assert fp.read() == TREE["README.TXT"]


def test_folder_link_swapped_after_listing_is_refused(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "f")
    (root / "DICOM" / "INSIDE").symlink_to("../README.TXT")
    outside = tmp_path / "outside"
    outside.write_bytes(b"x")
    with FolderReader(root) as reader:
        entry, _ = reader.resolve(("README.TXT",))
        assert entry is not None
        (root / "README.TXT").unlink()
        (root / "README.TXT").symlink_to(outside)
        with pytest.raises(OSError, match="now points outside the media root"):
            reader.open(entry)


def test_folder_special_files_are_not_opened(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "f")
    os.mkfifo(root / "DICOM" / "FIFO")
    with FolderReader(root) as reader:
        assert _codes(reader) == {("media.special-file", "DICOM/FIFO")}
        assert "DICOM/FIFO" not in [e.path for e in reader.entries()]


def test_folder_permission_errors_are_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_folder(tmp_path / "f")
    real_access, real_open = os.access, os.open

    def access(path: str, mode: int, **kw: object) -> bool:
        return not str(path).endswith("IM000002") and real_access(path, mode, **kw)  # type: ignore[arg-type]

    def open_(path: str, flags: int, *args: object, **kw: object) -> int:
        # the folder reader opens each folder by name, relative to its parent's descriptor
        if str(path).endswith(("PT000002", "locked")):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(os, "open", open_)
    with FolderReader(root) as reader:
        assert _codes(reader) == {
            ("media.unreadable", "DICOM/PT000001/IM000002"),
            ("media.unreadable", "DICOM/PT000002"),
        }
        assert [e.path for e in reader.entries()] == [
            "DICOM/PT000001/IM000001",
            "DICOMDIR",
            "README.TXT",
        ]
    locked = write_folder(tmp_path / "locked")
    with pytest.raises(
        MediaError, match=rf"^cannot read folder {re.escape(repr(str(locked)))}: Permission denied$"
    ):
        FolderReader(locked)


def test_folder_backslash_names_are_unsafe(tmp_path: Path) -> None:
    root = write_folder(tmp_path / "f", {"DICOM/..\\EVIL": b"x", "OK": b"y"})
    with FolderReader(root) as reader:
        assert _codes(reader) == {("media.unsafe-name", "DICOM/..\\EVIL")}
        assert [e.path for e in reader.entries()] == ["OK"]


# --- hostile zip archives ------------------------------------------------------------------------


def test_zip_traversal_members_are_reported_not_opened(tmp_path: Path) -> None:
    dest = write_zip(tmp_path / "evil.zip")
    with zipfile.ZipFile(dest, "a") as archive:
        for name in ("../evil", "/etc/passwd", "C:/Windows/evil", "DICOM/../../evil", "a\\..\\b"):
            archive.writestr(zipfile.ZipInfo(name), b"evil")
    with open_media(dest) as reader:
        assert _codes(reader) == {
            ("media.unsafe-name", "../evil"),
            ("media.unsafe-name", "/etc/passwd"),
            ("media.unsafe-name", "C:/Windows/evil"),
            ("media.unsafe-name", "DICOM/../../evil"),
            ("media.unsafe-name", "a\\..\\b"),
        }
        assert [e.path for e in reader.entries()] == PATHS
        for name in ("../evil", "/etc/passwd"):
            assert reader.resolve(tuple(name.split("/"))) == (None, False)
            with pytest.raises(OSError, match="is not an entry of"):
                reader.open(MediaEntry(name, name, 4))


def test_zip_backslash_names_are_separators_and_duplicates_reported(tmp_path: Path) -> None:
    dest = tmp_path / "win.zip"
    with zipfile.ZipFile(dest, "w") as archive:
        archive.writestr("DICOM\\IM1", b"first")
        archive.writestr("DICOM/IM1", b"second")
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(dest, "a") as archive,
    ):
        archive.writestr("DICOM/IM1", b"third")
    with open_media(dest) as reader:
        (entry,) = reader.entries()
        assert (entry.path, entry.raw_name) == ("DICOM/IM1", "DICOM\\IM1")
        assert _codes(reader) == {("media.duplicate-name", "DICOM/IM1")}
        with reader.open(entry) as fp:
            assert fp.read() == b"first"


def test_zip_links_and_encrypted_members_are_not_opened(tmp_path: Path) -> None:
    dest = tmp_path / "odd.zip"
    link = zipfile.ZipInfo("LINK")
    link.create_system = 3
    link.external_attr = (0o120777) << 16
    with zipfile.ZipFile(dest, "w") as archive:
        archive.writestr(link, "/etc/passwd")
        archive.writestr("SECRET", b"x")
    # zipfile cannot write encrypted members: set bit 0 of the general purpose flags of SECRET's
    # central directory header (the one zipfile reads back)
    data = bytearray(dest.read_bytes())
    header = data.rindex(b"PK\x01\x02")
    data[header + 8] |= 0x1
    dest.write_bytes(bytes(data))
    with open_media(dest) as reader:
        assert list(reader.entries()) == []
        assert _codes(reader) == {
            ("media.link-not-followed", "LINK"),
            ("media.zip-member-unsupported", "SECRET"),
        }


def test_zip_bomb_is_reported_and_not_read(tmp_path: Path) -> None:
    dest = write_zip(tmp_path / "bomb.zip")
    with zipfile.ZipFile(dest, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("DICOM/BOMB", "w") as member:
            zeros = bytes(1024**2)
            for _ in range(50):
                member.write(zeros)
        archive.writestr("DICOM/BIG", bytes(range(256)) * 64)  # 16 KiB, ratio ~ 1
    with open_media(dest) as reader:
        assert _codes(reader) == {("media.zip-too-large", "DICOM/BOMB")}
        assert "DICOM/BOMB" not in [e.path for e in reader.entries()]
        with pytest.raises(OSError, match="is not an entry of"):
            reader.open(MediaEntry("DICOM/BOMB", "DICOM/BOMB", 50 * 1024**2))
    with ZipReader(dest, member_limit=8 * 1024) as reader:
        assert _codes(reader) == {
            ("media.zip-too-large", "DICOM/BOMB"),
            ("media.zip-too-large", "DICOM/BIG"),
        }
        assert [e.path for e in reader.entries()] == PATHS


def test_zip_member_growing_past_the_limit_while_read_is_refused(tmp_path: Path) -> None:
    dest = write_zip(tmp_path / "m.zip", {"IM1": b"x" * 4096})
    with ZipReader(dest) as reader:
        (entry,) = reader.entries()
        reader._member_limit = 1000  # as if the header had lied about the size
        with pytest.raises(OSError, match=r"^zip member 'IM1' inflates past the limit$"):
            reader.open(entry)


def test_zip_corrupt_member_is_an_oserror(tmp_path: Path) -> None:
    dest = write_zip(tmp_path / "c.zip", {"IM1": b"content " * 100})
    with zipfile.ZipFile(dest) as archive:
        info = archive.getinfo("IM1")
    start = info.header_offset + 30 + len("IM1")  # the deflated data after the local header
    data = bytearray(dest.read_bytes())
    data[start : start + info.compress_size] = b"\xff" * info.compress_size
    dest.write_bytes(bytes(data))
    with ZipReader(dest) as reader:
        (entry,) = reader.entries()
        with pytest.raises(OSError, match=r"^zip member 'IM1' is damaged: "):
            reader.open(entry)


# --- corrupt or unknown containers ---------------------------------------------------------------


def test_corrupt_iso_is_a_media_error(tmp_path: Path) -> None:
    good = _iso(tmp_path).read_bytes()
    truncated = tmp_path / "truncated.iso"
    truncated.write_bytes(good[:40000])
    garbage = tmp_path / "garbage.iso"
    garbage.write_bytes(good[:32768] + b"\x01CD001" + b"\xff" * 5000)
    for bad in (truncated, garbage):
        with pytest.raises(
            MediaError, match=rf"^cannot read ISO image {re.escape(repr(str(bad)))}: \S"
        ):
            open_media(bad)


def test_corrupt_zip_is_a_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(
        MediaError,
        match=rf"^cannot read zip archive {re.escape(repr(str(bad)))}: File is not a zip file$",
    ):
        open_media(bad)


def test_missing_unknown_and_special_paths_are_media_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(
        MediaError, match=rf"^cannot open media {re.escape(repr(str(missing)))}: does not exist$"
    ):
        open_media(missing)
    text = tmp_path / "notes.iso"
    text.write_bytes(b"hello")
    with pytest.raises(
        MediaError, match=r": not a folder, ISO 9660, UDF or FAT image, or zip archive$"
    ):
        open_media(text)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(MediaError, match=r": not a folder or a regular file$"):
        open_media(fifo)
    udf = tmp_path / "udf.img"
    udf.write_bytes(bytes(32769) + b"BEA01" + bytes(100))
    with pytest.raises(  # a UDF-only image is read by our UDF reader (issue 16): no anchor here
        MediaError, match=r": no Anchor Volume Descriptor Pointer: sector 256 lies beyond the end"
    ):
        open_media(udf)


def test_closed_readers_refuse_to_open(tmp_path: Path) -> None:
    for path in (_iso(tmp_path / "i"), _zip(tmp_path / "z")):
        reader = open_media(path)
        entry = next(reader.entries())
        reader.close()
        with pytest.raises(OSError):
            reader.open(entry)


# --- ISO 9660 container findings -----------------------------------------------------------------


def test_iso_volume_and_system_identifier(tmp_path: Path) -> None:
    with open_media(_iso(tmp_path)) as reader:
        assert (reader.volume_id, getattr(reader, "system_id", None)) == ("MEDIATOOL", "")
    with open_media(_genisoimage(tmp_path)) as reader:
        assert isinstance(reader, IsoReader)
        assert (reader.volume_id, reader.system_id) == ("GEN", "LINUX")
        assert _codes(reader) == {("media.iso-system-id", None)}
    with open_media(_folder(tmp_path)) as reader:
        assert reader.volume_id is None


def test_iso_relaxed_names_are_reported(tmp_path: Path) -> None:
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=4, vol_ident="RELAXED", joliet=3, rock_ridge="1.09")
    iso.add_directory("/dicom", rr_name="dicom", joliet_path="/dicom")
    names = ["im000001.dcm;1", "IM000002;1", "IM000003", "LONGNAME123.;1", "IM000004.;2", "OK.;1"]
    for name in names:
        iso.add_fp(
            io.BytesIO(b"x"), 1, f"/dicom/{name}", rr_name=name, joliet_path=f"/dicom/{name}"
        )
    iso.set_hidden(iso_path="/dicom/OK.;1")
    iso.write(str(tmp_path / "relaxed.iso"))
    iso.close()
    with open_media(tmp_path / "relaxed.iso") as reader:
        assert [e.path for e in reader.entries()] == [
            "dicom/IM000002",
            "dicom/IM000003",
            "dicom/IM000004",
            "dicom/LONGNAME123",
            "dicom/OK",
            "dicom/im000001.dcm",
        ]
        assert _codes(reader) == {
            ("media.iso-extensions", None),
            ("media.iso-not-level1", "dicom"),
            ("media.iso-not-level1", "dicom/im000001.dcm"),
            ("media.iso-not-level1", "dicom/LONGNAME123"),
            ("media.iso-name-form", "dicom/IM000002"),
            ("media.iso-name-form", "dicom/IM000003"),
            ("media.iso-name-form", "dicom/IM000004"),
            ("media.hidden-file", "dicom/OK"),
        }
        assert reader.resolve(("DICOM", "IM000003")) == (_entry(reader, "dicom/IM000003"), False)


@pytest.mark.oracle
def test_genisoimage_level4_names_are_reported(tmp_path: Path) -> None:
    source = write_folder(
        tmp_path / "src", {"DICOM/PT000001/IM000001": b"1", "DICOM/lower.dcm": b"2"}
    )
    with open_media(genisoimage(source, tmp_path / "l4.iso", "-iso-level", "4")) as reader:
        assert [(e.path, e.raw_name) for e in reader.entries()] == [
            ("DICOM/PT000001/IM000001", "DICOM/PT000001/IM000001"),
            ("DICOM/lower.dcm", "DICOM/lower.dcm"),
        ]
        assert _codes(reader) == {
            ("media.iso-system-id", None),
            ("media.iso-name-form", "DICOM/PT000001/IM000001"),
            ("media.iso-name-form", "DICOM/lower.dcm"),
            ("media.iso-not-level1", "DICOM/lower.dcm"),
        }


def test_iso_deeper_than_eight_levels_is_reported(tmp_path: Path) -> None:
    deep = "/".join(f"D{i}" for i in range(9))
    write_pycdlib_iso(tmp_path / "deep.iso", {f"{deep}/IM1": b"x"}, interchange_level=4)
    with open_media(tmp_path / "deep.iso") as reader:
        assert _codes(reader) == {("media.iso-too-deep", "D0/D1/D2/D3/D4/D5/D6/D7")}
        assert [e.path for e in reader.entries()] == [f"{deep}/IM1"]


def test_iso_reads_in_place_without_loading_the_image(tmp_path: Path) -> None:
    big = bytes(range(256)) * (8 * 4096)  # 8 MiB
    path = write_pycdlib_iso(tmp_path / "big.iso", {"DICOM/BIG": big, "DICOM/SMALL": b"s"})
    tracemalloc.start()
    try:
        with open_media(path) as reader:
            entry, _ = reader.resolve(("DICOM", "BIG"))
            assert entry is not None
            with reader.open(entry) as fp:
                fp.seek(5 * 1024**2 + 7)
                assert fp.read(16) == big[5 * 1024**2 + 7 : 5 * 1024**2 + 23]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1024**2


def test_iso_file_in_several_extents_reads_across_them() -> None:
    image = io.BytesIO(b"abcXXXXXXXdefgYYYY")
    with _ExtentReader(image, [(0, 3), (10, 4)]) as fp:
        assert fp.read(5) == b"abcde"
        assert fp.seek(-2, os.SEEK_END) == 5
        assert fp.read() == b"fg"
        fp.seek(1)
        assert fp.read(100) == b"bcdefg"
        assert fp.read(1) == b""
    with _ExtentReader(io.BytesIO(b"abc"), [(1, 10)]) as fp:  # image shorter than the file
        assert fp.read() == b"bc"
