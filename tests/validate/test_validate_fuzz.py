"""Hostile input: mutated DICOMDIR and instance bytes never make ``validate_media`` raise, hang or
leak a warning; the result is always a report whose codes are all registered.

Mutations of real DICOMDIRs (pydicom's bundled variants and one mediatool wrote): flip, insert
and delete bytes, truncate, and write chosen values (0, the record's own offset, absurd lengths)
into the offset and length fields the raw reader found. Hypothesis runs derandomized, so CI sees
the same examples every time; the example counts keep the whole module well under 60 s.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.data import get_testdata_file
from validate_helpers import small_fileset

from mediatool.dicom.dicomdir_read import parse
from mediatool.dicom.dicomdir_tree import walk
from mediatool.findings import CODES
from mediatool.media import open_media
from mediatool.validate import Report, validate_media
from mediatool.validate.records import check_records
from mediatool.validate.structure import check_hierarchy

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_DIR = Path(str(get_testdata_file("DICOMDIR", download=False))).parent
SEEDS = {
    name: (_DIR / name).read_bytes()
    for name in ("DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit", "DICOMDIR-nooffset")
}
INTERESTING = (0, 1, 2, 8, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF)


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A seed DICOMDIR with a few random edits."""
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    fields = _fields(bytes(data))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "field", "field"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[pos:]
        elif fields:
            at, size, own = draw(st.sampled_from(fields))
            value = draw(st.sampled_from([*INTERESTING, own, own + 8, len(data)]))
            fmt = "<L" if size == 4 else "<H"
            if at + size <= len(data):
                data[at : at + size] = struct.pack(
                    fmt, value & (0xFFFFFFFF if size == 4 else 0xFFFF)
                )
    return bytes(data)


def _fields(data: bytes) -> list[tuple[int, int, int]]:
    """(position, size, record offset) of every offset value and item length of the records."""
    out: list[tuple[int, int, int]] = []
    directory = parse(data)
    for record in directory.records:
        out.append((record.offset + 4, 4, record.offset))  # the item length
        for element in record.elements.values():
            if element.tag in (0x00041400, 0x00041420) and len(element.value) == 4:
                out.append((element.value_pos, 4, record.offset))
            if element.tag == 0x00041410 and len(element.value) == 2:
                out.append((element.value_pos, 2, record.offset))
    for tag in (0x00041200, 0x00041202):
        root = directory.top.get(tag)
        if root is not None:
            out.append((root.value_pos, 4, 0))
    return out


def assert_report(report: Report) -> None:
    assert isinstance(report, Report)
    assert all(f.code in CODES for f in report.findings)
    assert "validate.check-failed" not in {f.code for f in report.findings}, [
        f.message for f in report.findings if f.code == "validate.check-failed"
    ]
    report.as_dict()


@settings(SETTINGS, max_examples=400)
@given(mutated(SEEDS))
def test_raw_checks_never_raise(data: bytes) -> None:
    directory = parse(data)
    tree, findings = walk(directory)
    findings += check_hierarchy(directory, tree) + check_records(directory, tree)
    assert all(f.code in CODES for f in findings)
    assert len(tree.order) == len(directory.records)  # every record placed exactly once


@pytest.fixture(scope="module")
def fileset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_fileset(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("variant")
    for folder in ("77654033", "98892001", "98892003"):
        shutil.copytree(_DIR / folder, root / folder)
    return root


def _validate(root: Path) -> Report:
    with open_media(root) as reader:
        return validate_media(reader, jobs=1)


_SEED_CACHE: dict[Path, bytes] = {}


@settings(SETTINGS, max_examples=150)
@given(st.data())
def test_validate_mutated_dicomdir(fileset: Path, variant: Path, data: st.DataObject) -> None:
    root = data.draw(st.sampled_from([variant, fileset]))
    target = root / "DICOMDIR"
    if target not in _SEED_CACHE:
        _SEED_CACHE[target] = target.read_bytes() if target.exists() else SEEDS["DICOMDIR"]
    seed = _SEED_CACHE[target]
    target.write_bytes(data.draw(mutated({"seed": seed})))
    try:
        assert_report(_validate(root))
    finally:
        target.write_bytes(seed)


@settings(SETTINGS, max_examples=100)
@given(st.data())
def test_validate_mutated_instance(fileset: Path, data: st.DataObject) -> None:
    target = fileset / "DICOM" / "PT000001" / "ST000001" / "SE000001" / "IM000002"
    original = _SEED_CACHE.setdefault(target, target.read_bytes())
    target.write_bytes(data.draw(mutated({"instance": original})))
    try:
        assert_report(_validate(fileset))
    finally:
        target.write_bytes(original)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x00" * 128 + b"DICM", id="prefix-only"),
        pytest.param(
            b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\xff\xff\xff\xff",
            id="absurd-group-length",
        ),
        pytest.param(
            b"\x00" * 132 + b"\x04\x00\x20\x12SQ\x00\x00\xff\xff\xff\x7f", id="absurd-sequence"
        ),
        pytest.param((b"\xfe\xff\x00\xe0\xff\xff\xff\xff") * 5000, id="open-items"),
    ],
)
def test_hostile_dicomdirs(fileset: Path, content: bytes, tmp_path: Path) -> None:
    root = Path(shutil.copytree(fileset, tmp_path / "media"))
    (root / "DICOMDIR").write_bytes(content)
    assert_report(_validate(root))
