"""Unit tests of the pure stages: File IDs, file meta, profiles, VR checks, hierarchy."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediatool import hierarchy, profiles
from mediatool.dicom import fileids, filemeta, values
from mediatool.errors import ProfileError
from mediatool.model import InstanceInfo, SourceRef

# --- File IDs (PS3.10 §8.2, §8.5) ----------------------------------------------------------


def _instance(p: int, s: int, e: int, i: int) -> InstanceInfo:
    return InstanceInfo(
        source=SourceRef(f"/in/{p}/{s}/{e}/{i}"),
        size=1,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        sop_instance_uid=f"1.2.3.{p}.{s}.{e}.{i}",
        transfer_syntax="1.2.840.10008.1.2.1",
        dataset_offset=0,
        record_type="IMAGE",
        patient_id=f"P{p}",
        patient_name="",
        birth_date="",
        sex="",
        study_uid=f"1.2.3.{p}.{s}",
        study_date="20240101",
        study_time="",
        study_id="1",
        accession="",
        study_description="",
        series_uid=f"1.2.3.{p}.{s}.{e}",
        modality="CT",
        series_number=str(e),
        series_description="",
        instance_number=str(i),
        related_general_sop_classes="",
        keys=(b"", b"", b"", b""),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 40)),
        min_size=1,
        max_size=80,
        unique=True,
    ),
    st.randoms(use_true_random=False),
)
def test_file_ids_conformant_unique_and_order_independent(
    keys: list[tuple[int, int, int, int]], rnd: random.Random
) -> None:
    instances = [_instance(*k) for k in keys]
    ids = fileids.assign(hierarchy.build_tree(instances))
    assert len(set(ids.values())) == len(instances)
    assert all(
        fileids.is_conformant(fid) and not fileids.check_file_id(fid) for fid in ids.values()
    )
    shuffled = instances[:]
    rnd.shuffle(shuffled)
    assert fileids.assign(hierarchy.build_tree(shuffled)) == ids


@pytest.mark.parametrize(
    ("components", "code"),
    [
        pytest.param(("dicom", "IM1"), "fileid.bad-character", id="lowercase"),
        pytest.param(("DICOM", "IMAGE0001"), "fileid.component-length", id="nine-chars"),
        pytest.param(("DICOM", ""), "fileid.component-length", id="empty"),
        pytest.param(("A",) * 9, "fileid.too-many-components", id="nine-components"),
        pytest.param(("IM1.DCM",), "fileid.bad-character", id="extension"),
        pytest.param(("..", "X"), "fileid.bad-character", id="dotdot"),
    ],
)
def test_file_id_rules(components: tuple[str, ...], code: str) -> None:
    assert code in {f.code for f in fileids.check_file_id(components, "x")}
    assert not fileids.is_conformant(components)


def test_fileset_id_rules() -> None:
    assert fileids.check_fileset_id("") == []
    assert fileids.check_fileset_id("A" * 16) == []
    assert [f.code for f in fileids.check_fileset_id("A" * 17)] == ["fileid.fileset-id"]
    assert [f.code for f in fileids.check_fileset_id("MY DISC")] == ["fileid.fileset-id"]


# --- File Meta Information (PS3.10 §7.1) ------------------------------------------------------


def test_meta_encoder_matches_pydicom() -> None:
    for uid in ("1.2.3", "1.2.34"):  # odd and even lengths (padding)
        args = ("1.2.840.10008.5.1.4.1.1.2", uid, "1.2.840.10008.1.2.1")
        assert filemeta.encode(*args) == filemeta.encode_with_pydicom(*args)


def _meta(**changes: bytes) -> bytes:
    data = bytearray(filemeta.encode("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4", "1.2.840.10008.1.2.1"))
    for old, new in changes.items():
        data = data.replace(bytes.fromhex(old), new)
    return bytes(data) + b"\x08\x00\x05\x00CS\x00\x00"


def _codes(data: bytes, **kw: str | None) -> set[str]:
    args = {
        "sop_class_uid": "1.2.840.10008.5.1.4.1.1.2",
        "sop_instance_uid": "1.2.3.4",
        "encoding_ts": "1.2.840.10008.1.2.1",
    } | kw
    meta = filemeta.parse(data)
    return {f.code for f in filemeta.check(meta, where="f", **args)}


def test_meta_check_clean_and_mismatches() -> None:
    data = _meta()
    assert _codes(data) == set()
    assert _codes(data, sop_instance_uid="1.2.3.5") == {"meta.sop-instance-mismatch"}
    assert _codes(data, sop_class_uid="1.2.840.10008.5.1.4.1.1.4") == {"meta.sop-class-mismatch"}
    assert _codes(data, encoding_ts="1.2.840.10008.1.2") == {"meta.transfer-syntax-mismatch"}
    assert _codes(b"\x08\x00" * 100) == {"meta.no-preamble"}


def test_meta_check_group_length_version_preamble_name() -> None:
    data = bytearray(_meta())
    struct.pack_into("<L", data, 140, 999)  # (0002,0000) value
    assert "meta.group-length" in _codes(bytes(data))
    data = bytearray(_meta())
    data[0:2] = b"MZ"
    assert "meta.preamble-executable" in _codes(bytes(data))
    data = bytearray(_meta())
    data[0:4] = b"\x01\x02\x03\x04"
    assert "meta.preamble-not-zero" in _codes(bytes(data))
    version = _meta().replace(
        b"OB\x00\x00\x02\x00\x00\x00\x00\x01", b"OB\x00\x00\x02\x00\x00\x00\x00\x02"
    )
    assert "meta.version" in _codes(version)
    name = _meta().replace(b"MEDIATOOL_0_1_0 ", b"mediatool 0.1.0 ")
    assert "meta.version-name" in _codes(name)


def test_meta_parse_never_raises_on_garbage() -> None:
    rnd = random.Random(7)
    base = _meta()
    for _ in range(500):
        data = bytearray(base)
        for _ in range(rnd.randint(1, 8)):
            data[rnd.randrange(128, len(data))] = rnd.randrange(256)
        meta = filemeta.parse(bytes(data[: rnd.randrange(0, len(data) + 1)]))
        filemeta.check(
            meta, sop_class_uid=None, sop_instance_uid=None, encoding_ts=None, where=None
        )


# --- Application Profiles as data ----------------------------------------------------------


def test_default_profile_loads() -> None:
    profile = profiles.load("STD-GEN-CD")
    assert profile.ts_allowed == frozenset({"1.2.840.10008.1.2.1"})
    assert profile.extra_keys["IMAGE"] == ("ImageType", "ReferencedImageSequence")
    assert [p.id for p in profiles.list_profiles()] == sorted(
        p.id for p in profiles.list_profiles()
    )


def test_unknown_profile_did_you_mean() -> None:
    with pytest.raises(
        ProfileError,
        match=r"unknown Application Profile 'STD-GEN-DC' \(did you "
        r"mean 'STD-GEN-CD'\?\)",
    ):
        profiles.load("STD-GEN-DC")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            'id="X"\ntitle="t"\nsource="s"\nmedia="cd"\nfoo=1\n'
            '[transfer_syntaxes]\nallowed=["ExplicitVRLittleEndian"]',
            "unknown key `foo`",
            id="unknown-key",
        ),
        pytest.param(
            'id="X"\ntitle="t"\nsource="s"\nmedia="cd"\n'
            '[transfer_syntaxes]\nallowed=["ExplicitVRLitleEndian"]',
            "did you mean 'ExplicitVRLittleEndian'",
            id="uid-typo",
        ),
        pytest.param(
            'id="X"\ntitle="t"\nsource="s"\nmedia="floppy"\n'
            '[transfer_syntaxes]\nallowed=["ExplicitVRLittleEndian"]',
            "`media` must be one of",
            id="media",
        ),
        pytest.param(
            'id="X"\ntitle="t"\nsource="s"\nmedia="cd"\n'
            '[transfer_syntaxes]\nallowed=["ExplicitVRLittleEndian"]\n'
            '[dicomdir.keys]\nIMAGE=["ImageTipe"]',
            "did you mean 'ImageType'",
            id="keyword-typo",
        ),
        pytest.param("id = [", "not valid TOML", id="toml"),
    ],
)
def test_malformed_profile_messages(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "X.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message.replace("(", r"\(").replace("?", r"\?")):
        profiles.load_file(path)


# --- VR checks (PS3.5 §6.2) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vr_name", "value", "ok"),
    [
        ("DA", "20240229", True),
        ("DA", "2024-02-29", False),
        ("DA", "20241301", False),
        ("TM", "101500.123", True),
        ("TM", "10:15", False),
        ("UI", "1.2.840.10008", True),
        ("UI", "1.02.3", False),
        ("CS", "ORIGINAL\\PRIMARY", True),
        ("CS", "lower", False),
        ("IS", " 12 ", True),
        ("IS", "1.5", False),
        ("DS", "-1.5e3", True),
    ],
)
def test_vr_problem(vr_name: str, value: str, ok: bool) -> None:
    assert (values.problem(vr_name, value) is None) is ok


def test_vr_normalise_legacy_forms() -> None:
    assert values.normalise("DA", "1997.04.24") == "19970424"
    assert values.normalise("TM", "14:04:38") == "140438"
    assert values.normalise("DA", "24/04/1997") is None
