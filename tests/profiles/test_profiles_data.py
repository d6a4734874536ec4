"""Profiles as data: every shipped file loads, malformed files are refused with a clear
message, ``mediatool profiles`` lists and shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from profile_helpers import run

from mediatool import profiles
from mediatool.errors import ProfileError
from mediatool.resources import data_dir

REQUIRED = {
    "STD-GEN-CD", "STD-GEN-DVD-JPEG", "STD-GEN-DVD-J2K", "STD-GEN-USB-JPEG", "STD-GEN-USB-J2K",
    "STD-GEN-BD-JPEG", "STD-GEN-BD-J2K", "STD-XABC-CD", "STD-CTMR-CD", "STD-CTMR-DVD",
    "STD-US-ID-SF-CDR", "STD-US-SC-MF-DVD", "STD-US-CC-MF-CDR",
}  # fmt: skip
GOOD = (
    'id = "X"\ntitle = "t"\nsource = "s"\nmedia = "cd"\n'
    '[transfer_syntaxes]\nallowed = ["ExplicitVRLittleEndian"]\n'
)


def test_every_shipped_profile_loads_with_its_provenance() -> None:
    found = profiles.list_profiles()
    ids = {p.id for p in found}
    assert ids >= REQUIRED
    readme = (data_dir("profiles") / "README.md").read_text(encoding="utf-8")
    for p in found:
        assert Path(p.path).stem == p.id
        assert p.source.startswith("PS3.11 Annex") and p.edition and p.transcribed_from
        assert p.convert_to in p.ts_allowed
        assert f"| {p.id}.toml |" in readme, f"{p.id} missing from profiles/README.md"
        assert profiles.load(p.id) == p


def test_profile_rules_as_transcribed() -> None:
    xabc = profiles.load("STD-XABC-CD")
    assert xabc.allowed_ts("1.2.840.10008.5.1.4.1.1.12.1") == ("1.2.840.10008.1.2.4.70",)
    assert xabc.icons is not None and (xabc.icons.size, xabc.icons.required) == (128, True)
    ctmr = profiles.load("STD-CTMR-CD")
    assert ctmr.icons is not None and (ctmr.icons.size, ctmr.icons.required) == (64, False)
    assert ctmr.allowed_ts("1.2.840.10008.5.1.4.1.1.2") == (
        "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.4.70",
    )  # fmt: skip
    assert ctmr.allowed_ts("1.2.840.10008.5.1.4.1.1.11.1") == ("1.2.840.10008.1.2.1",)
    dvd = profiles.load("STD-GEN-DVD-JPEG")
    assert dvd.key_types["IMAGE"]["Rows"] == "1"
    assert (dvd.lossless_compress_to or "").endswith(".70")
    assert profiles.load("STD-GEN-USB-J2K").lossless_compress_to == "1.2.840.10008.1.2.4.90"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(GOOD + '[sop_classes]\nallowed = ["CTImageStorag"]\n',
                     "unknown UID keyword 'CTImageStorag' (did you mean 'CTImageStorage'?)",
                     id="sop-class-typo"),
        pytest.param(GOOD + "[sop_classes.transfer_syntaxes]\nCTImageStorage = "
                     '["JPEGLosslesSV1"]\n',
                     "did you mean 'JPEGLosslessSV1'?", id="per-class-ts-typo"),
        pytest.param(GOOD + '[sop_classes]\nallowed = ["MRImageStorage"]\n'
                     '[sop_classes.transfer_syntaxes]\n'
                     'CTImageStorage = ["ExplicitVRLittleEndian"]\n',
                     "the SOP Class is not in sop_classes.allowed",
                     id="per-class-not-allowed"),
        pytest.param(GOOD + 'lossless_compress_to = "JPEGBaseline8Bit"\n',
                     "lossless_compress_to 'JPEG Baseline (Process 1)' is lossy",
                     id="lossy-as-lossless"),
        pytest.param(GOOD + 'lossless_compress_to = "JPEG2000Lossless"\n',
                     "lossless_compress_to is allowed for no SOP Class", id="target-not-allowed"),
        pytest.param(GOOD + "[icons]\nsize = 4\n", "icons.size must be a number of pixels",
                     id="icon-size"),
        pytest.param(GOOD + "[icons]\nsize = 64\nbits = 16\n", "icons.bits must be 8",
                     id="icon-bits"),
        pytest.param(GOOD + "[icons]\nsize = 64\nsise = 3\n",
                     "unknown key `icons.sise` (did you mean 'size'?)", id="icon-key"),
        pytest.param(GOOD + '[dicomdir.keys.IMAGE]\nRows = "3"\n', "Type must be one of 1, 1C, 2",
                     id="key-type"),
        pytest.param(GOOD + '[dicomdir.keys.IMAGES]\nRows = "1"\n',
                     "unknown record type 'IMAGES' (did you mean 'IMAGE'?)", id="record-type"),
        pytest.param(GOOD + "[[image_rules]]\nmax_row = 5\n",
                     "unknown key `max_row` (did you mean 'max_rows'?)", id="image-rule-key"),
        pytest.param(GOOD.replace('media = "cd"', 'media = "dvdr"'),
                     "`media` must be one of bd, cd, dvd, dvd-ram, usb (did you mean 'dvd'?)",
                     id="media"),
        pytest.param(GOOD.replace("ExplicitVRLittleEndian", "CTImageStorage"),
                     "'CT Image Storage' is not a Transfer Syntax", id="class-as-ts"),
    ],
)  # fmt: skip
def test_malformed_profile_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "X.toml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        profiles.load_file(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_profiles_command_lists_and_shows() -> None:
    listed = run("profiles")
    assert listed.exit_code == 0
    for pid in REQUIRED:
        assert pid in listed.stdout
    shown = run("profiles", "show", "STD-XABC-CD")
    assert shown.exit_code == 0
    assert "128x128" in shown.stdout and "PS3.11 Annex A" in shown.stdout
    doc = json.loads(run("profiles", "show", "STD-CTMR-CD", "--json").stdout)
    assert doc["schema"] == "mediatool.profile/1" and doc["icons"]["size"] == 64
    assert doc["dicomdir_keys"]["IMAGE"]["Rows"] == "1"
    everything = json.loads(run("profiles", "--json").stdout)
    assert {p["id"] for p in everything["profiles"]} >= REQUIRED


def test_profiles_show_unknown_says_did_you_mean() -> None:
    result = run("profiles", "show", "STD-GEN-DVD-JPG")
    assert result.exit_code == 2
    assert "unknown Application Profile 'STD-GEN-DVD-JPG' (did you mean 'STD-GEN-DVD-JPEG'?)" in (
        result.stderr
    )


def test_user_profile_directory(tmp_path: Path) -> None:
    (tmp_path / "AUG-MY-CD.toml").write_text(GOOD.replace('"X"', '"AUG-MY-CD"'))
    listed = run("profiles", "--profile-dir", tmp_path)
    assert "AUG-MY-CD" in listed.stdout and "STD-GEN-CD" in listed.stdout
    (tmp_path / "AUG-BAD-CD.toml").write_text("colour = 1\n" + GOOD.replace('"X"', '"AUG-BAD-CD"'))
    bad = run("profiles", "--profile-dir", tmp_path)
    assert bad.exit_code == 2 and "unknown key `colour`" in bad.stderr
