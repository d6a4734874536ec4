"""dicom/dicomdir_write.py: the DICOMDIR bytes, read by pydicom's FileSet (no warning) and by our
own tolerant reader and offset walk (round trip), PS3.3 Annex F, PS3.10 §8.6."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from factories import make_instance, write_instance
from pydicom import dcmread
from pydicom.fileset import FileSet

from mediatool.dicom import dicomdir_read, dicomdir_tree, dicomdir_write, elements, fileids
from mediatool.dicom.uids import EXPLICIT_VR_LITTLE_ENDIAN, derive_uid
from mediatool.hierarchy import Tree, build_tree
from mediatool.model import FileID, InstanceInfo, SourceRef
from mediatool.scan import ScanOptions, scan_one
from mediatool.web.fileset import read_tree


def _icon(level: int) -> bytes:
    """A 2x2 MONOCHROME2 icon (PS3.3 F.7) made with the element encoder."""
    us = elements.us
    body = b"".join(
        (
            elements.element(0x00280002, b"US", us(1)),
            elements.element(0x00280004, b"CS", elements.padded("MONOCHROME2")),
            elements.element(0x00280010, b"US", us(2)),
            elements.element(0x00280011, b"US", us(2)),
            elements.element(0x00280100, b"US", us(8)),
            elements.element(0x00280101, b"US", us(8)),
            elements.element(0x00280102, b"US", us(7)),
            elements.element(0x00280103, b"US", us(0)),
            elements.element(0x7FE00010, b"OB", bytes([level]) * 4),
        )
    )
    return elements.sequence(elements.ICON_IMAGE_SEQUENCE, [body])


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, InstanceInfo]]:
    root = tmp_path_factory.mktemp("in")
    out: list[tuple[Path, InstanceInfo]] = []
    for p, se, n in [(p, se, n) for p in (1, 2) for se in (1, 2) for n in (1, 2, 3)]:
        path = write_instance(root / f"{p}{se}{n}.dcm", make_instance(p, 1, se, n))
        info = scan_one(SourceRef(str(path)), ScanOptions())
        assert isinstance(info, InstanceInfo), info
        out.append((path, info))
    return out


def _encode(tree: Tree, ids: dict[str, FileID], icons: dict[str, bytes]) -> bytes:
    ts = dict.fromkeys(ids, EXPLICIT_VR_LITTLE_ENDIAN)
    return dicomdir_write.encode(
        tree,
        ids,
        ts,
        fileset_uid=derive_uid("test-fileset"),
        fileset_id="TEST_CD",
        icons=dicomdir_write.Icons(icons, ("IMAGE", "SERIES")),
    )


@pytest.fixture(scope="module")
def fileset(
    sources: list[tuple[Path, InstanceInfo]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Tree, dict[str, FileID], bytes]:
    tree = build_tree([info for _, info in sources])
    ids = fileids.assign(tree)
    icons = {info.sop_instance_uid: _icon(n) for n, (_, info) in enumerate(sources)}
    data = _encode(tree, ids, icons)
    root = tmp_path_factory.mktemp("fs")
    (root / "DICOMDIR").write_bytes(data)
    for path, info in sources:
        target = root.joinpath(*ids[info.sop_instance_uid])
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root, tree, ids, data


def test_pydicom_fileset_reads_it_without_warning(
    fileset: tuple[Path, Tree, dict[str, FileID], bytes],
) -> None:
    root, _, ids, _ = fileset
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fs = FileSet(root / "DICOMDIR")
    assert fs.ID == "TEST_CD"
    assert derive_uid("test-fileset") == fs.UID
    assert {str(i.SOPInstanceUID) for i in fs} == set(ids)
    assert {tuple(Path(i.path).relative_to(root).parts) for i in fs} == set(ids.values())
    assert len(fs.find(PatientID="PID0002")) == 6
    records = dcmread(root / "DICOMDIR").DirectoryRecordSequence
    icons = [r.DirectoryRecordType for r in records if "IconImageSequence" in r]
    assert icons.count("IMAGE") == len(ids) and icons.count("SERIES") == 4


def test_round_trip_through_the_tolerant_reader(
    fileset: tuple[Path, Tree, dict[str, FileID], bytes],
) -> None:
    _, tree, ids, data = fileset
    directory = dicomdir_read.parse(data)
    assert directory.findings == []
    assert directory.encoding is not None and directory.encoding.uid == EXPLICIT_VR_LITTLE_ENDIAN
    types = [r.record_type for r in directory.records]
    assert types.count("PATIENT") == 2 and types.count("STUDY") == 2
    assert types.count("SERIES") == 4 and types.count("IMAGE") == 12
    walked, found = dicomdir_tree.walk(directory)
    assert found == []
    assert all(walked.reached) and all(walked.active)
    assert [r.file_id for r in directory.records if r.file_id] == [
        ids[i.sop_instance_uid] for i in tree.instances()
    ]
    series_icons = [r for r in directory.records if r.record_type == "SERIES"]
    assert all(r.has(elements.ICON_IMAGE_SEQUENCE) for r in series_icons)


def test_web_tree_from_the_same_reader(
    fileset: tuple[Path, Tree, dict[str, FileID], bytes],
) -> None:
    _, tree, ids, data = fileset
    patients = read_tree(dicomdir_read.parse(data))
    assert [p.patient_id for p in patients] == [p.patient_id for p in tree.patients]
    leaves = [
        lf.file_id for p in patients for st in p.studies for se in st.series for lf in se.leaves
    ]
    assert leaves == [ids[i.sop_instance_uid] for i in tree.instances()]


def test_same_input_same_bytes(
    sources: list[tuple[Path, InstanceInfo]],
    fileset: tuple[Path, Tree, dict[str, FileID], bytes],
) -> None:
    infos = [info for _, info in reversed(sources)]
    tree = build_tree(infos)
    icons = {info.sop_instance_uid: _icon(n) for n, (_, info) in enumerate(sources)}
    assert _encode(tree, fileids.assign(tree), icons) == fileset[3]


def test_empty_tree_is_a_valid_dicomdir() -> None:
    data = _encode(Tree([], []), {}, {})
    directory = dicomdir_read.parse(data)
    assert directory.findings == [] and directory.records == []
    assert directory.uint(0x00041200) == 0 and directory.uint(0x00041202) == 0
