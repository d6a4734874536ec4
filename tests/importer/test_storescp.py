"""Import into DCMTK's storescp (refusing Transfer Syntaxes, aborting associations) and into a
pynetdicom peer that drops the association midway or disappears; resuming afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from factories import ROOT, make_instance, write_instance
from pacs_peers import AbortingPeer, Storescp, running
from pydicom import dcmread
from pydicom.dataset import FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from mediatool.cli import main

pytestmark = pytest.mark.oracle

FAST = ["--timeout", "5", "--retries", "2", "--retry-delay", "0.05", "--associations", "1"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["import", *args])


def _media(root: Path, n: int = 4, rle: bool = False) -> Path:
    for i in range(1, n + 1):
        ds = make_instance(1, 1, 1, i)
        if rle and i == 1:
            ds.file_meta = FileMetaDataset()
            ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.file_meta.ImplementationClassUID = UID(ROOT + ".99")
            ds.compress(RLELossless)
            root.mkdir(parents=True, exist_ok=True)
            ds.save_as(root / f"im{i}.dcm", enforce_file_format=True)
        else:
            write_instance(root / f"im{i}.dcm", ds)
    return root


def _received(peer: Storescp) -> dict[str, object]:
    return {str(ds.SOPInstanceUID): ds for ds in map(dcmread, peer.files())}


def test_refused_compressed_syntax_is_converted_losslessly(tmp_path: Path) -> None:
    """storescp accepts uncompressed syntaxes only (its default): the RLE image is decoded."""
    media = _media(tmp_path / "media", rle=True)
    with running(Storescp(tmp_path / "scp")) as scp:
        result = run(str(media), "--to-pacs", scp.peer, "--no-pacs-check",
                     "--state", str(tmp_path / "s"), "--json",
                     *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    files = {f["path"]: f for f in json.loads(result.stdout)["files"]}
    assert files["im1.dcm"]["code"] == "import.converted"
    assert "from RLE Lossless to Explicit VR Little Endian" in files["im1.dcm"]["reason"]
    got = _received(scp)
    assert len(got) == 4
    original = dcmread(media / "im1.dcm")
    sent = got[str(original.SOPInstanceUID)]
    assert sent.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian  # type: ignore[attr-defined]
    assert np.array_equal(sent.pixel_array, original.pixel_array)  # type: ignore[attr-defined]


def test_implicit_only_peer_gets_implicit(tmp_path: Path) -> None:
    """storescp +xi refuses Explicit VR Little Endian: the fallback context converts."""
    media = _media(tmp_path / "media", n=2)
    with running(Storescp(tmp_path / "scp", options=["+xi"])) as scp:
        result = run(str(media), "--to-pacs", scp.peer, "--no-pacs-check",
                     "--state", str(tmp_path / "s"), "--json",
                     *FAST)  # fmt: skip
        assert result.exit_code == 0, result.output
        got = _received(scp)
    codes = {f["code"] for f in json.loads(result.stdout)["files"]}
    assert codes == {"import.converted"}
    assert {ds.file_meta.TransferSyntaxUID for ds in got.values()} == {ImplicitVRLittleEndian}  # type: ignore[attr-defined]


def test_peer_that_always_aborts_fails_every_instance(tmp_path: Path) -> None:
    media = _media(tmp_path / "media", n=2)
    with running(Storescp(tmp_path / "scp", options=["--abort-after"])) as scp:
        result = run(str(media), "--to-pacs", scp.peer, "--no-pacs-check",
                     "--state", str(tmp_path / "s"), "--json",
                     "--timeout", "5", "--retries", "1", "--retry-delay", "0.05",
                     "--associations", "1")  # fmt: skip
    assert result.exit_code == 1
    d = json.loads(result.stdout)
    assert d["summary"]["not_imported"] == 2
    reasons = {f["code"] for f in d["files"]}
    assert reasons == {"import.send-failed"}
    assert all("was lost 2 times" in f["reason"] for f in d["files"])


def test_association_dropped_midway_is_retried(tmp_path: Path) -> None:
    media = _media(tmp_path / "media", n=6)
    with running(AbortingPeer(abort_after=2, times=1)) as peer:
        result = run(str(media), "--to-pacs", peer.peer, "--no-pacs-check",
                     "--state", str(tmp_path / "s"), "--json",
                     *FAST)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["imported"] == 6
    assert peer.aborts == 1
    assert len(peer.stored) == 6


def test_pacs_gone_then_resume_sends_only_what_is_missing(tmp_path: Path) -> None:
    media = _media(tmp_path / "media", n=6)
    state = str(tmp_path / "state")
    gone = AbortingPeer(abort_after=2, times=1, vanish=True)
    with running(gone):
        first = run(
            str(media), "--to-pacs", gone.peer, "--no-pacs-check", "--state", state, "--json", *FAST
        )
    assert first.exit_code == 1
    d = json.loads(first.stdout)
    assert d["summary"]["imported"] == 2 and d["summary"]["not_imported"] == 4
    assert "the PACS cannot be reached" in d["stopped"]
    assert {f["code"] for f in d["files"] if f["outcome"] == "not-imported"} == {
        "import.send-failed"
    }
    back = AbortingPeer(abort_after=1000, port=gone.port)  # the PACS is back, same address
    with running(back):
        second = run(
            str(media), "--to-pacs", back.peer, "--no-pacs-check", "--state", state, "--json", *FAST
        )
    assert second.exit_code == 0, second.output
    s = json.loads(second.stdout)["summary"]
    assert (s["imported"], s["already_present"]) == (4, 2)
    assert len(back.stored) == 4  # only what was missing was sent
    assert set(back.stored).isdisjoint(gone.stored)


def test_parallel_associations_when_the_pacs_goes(tmp_path: Path) -> None:
    """Four associations side by side; the PACS goes away: every file is still accounted for,
    and the resumed run sends each missing instance exactly once."""
    media = _media(tmp_path / "media", n=12)
    state = str(tmp_path / "state")
    args = ["--state", state, "--json", "--timeout", "5", "--retries", "1", "--retry-delay", "0.05"]
    gone = AbortingPeer(abort_after=2, times=1, vanish=True)
    with running(gone):
        first = run(str(media), "--to-pacs", gone.peer, "--no-pacs-check", *args)
    assert first.exit_code == 1
    s = json.loads(first.stdout)["summary"]
    assert s["imported"] + s["not_imported"] == 12
    assert s["imported"] == len(gone.stored) and s["not_imported"] > 0
    back = AbortingPeer(abort_after=1000, port=gone.port)
    with running(back):
        second = run(str(media), "--to-pacs", back.peer, "--no-pacs-check", *args)
    assert second.exit_code == 0, second.output
    s2 = json.loads(second.stdout)["summary"]
    assert (s2["imported"], s2["already_present"]) == (12 - len(gone.stored), len(gone.stored))
    assert set(back.stored) | set(gone.stored) == {
        str(dcmread(p).SOPInstanceUID) for p in media.iterdir()
    }
    assert sorted(back.received) == sorted(set(back.received))  # the resumed run: each once
    assert back.associations <= 4


def test_pacs_that_takes_one_association_at_a_time(tmp_path: Path) -> None:
    """A PACS that rejects every association beyond its first (A-ASSOCIATE-RJ, local limit):
    the import asks for four, sends everything over the one it gets, each instance once."""
    media = _media(tmp_path / "media", n=30)
    args = ["--state", str(tmp_path / "s"), "--json", "--timeout", "5", "--retry-delay", "0.05"]
    with running(AbortingPeer(abort_after=1000, max_associations=1)) as peer:
        result = run(str(media), "--to-pacs", peer.peer, "--no-pacs-check", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["imported"] == 30
    assert sorted(peer.received) == sorted(set(peer.received))  # none sent twice
    assert set(peer.received) == {str(dcmread(p).SOPInstanceUID) for p in media.iterdir()}


def test_ctrl_c_while_sending_is_accounted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mediatool.importer.run as run_module

    media = _media(tmp_path / "media", n=8)
    real = run_module._prepared
    calls = {"n": 0}

    def interrupting(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "_prepared", interrupting)
    with running(AbortingPeer(abort_after=1000)) as peer:
        result = run(
            str(media),
            "--to-pacs",
            peer.peer,
            "--no-pacs-check",
            "--state",
            str(tmp_path / "s"),
            "--json",
        )
    assert result.exit_code == 1
    d = json.loads(result.stdout)
    assert d["stopped"] == "interrupted by the user"
    s = d["summary"]
    assert s["imported"] == len(peer.stored) <= 3  # queued but unsent instances are not sent
    assert s["imported"] + s["by_reason"]["import.interrupted"] == 8


def test_pacs_gone_with_commit_leaves_the_stored_ones_not_confirmed(tmp_path: Path) -> None:
    """Issue 10: with --commit, what was stored before the PACS went away is "sent, not
    confirmed" (keep the disc), never "imported"."""
    media = _media(tmp_path / "media", n=6)
    gone = AbortingPeer(abort_after=2, times=1, vanish=True)
    with running(gone):
        result = run(str(media), "--to-pacs", gone.peer, "--no-pacs-check", "--state",
                     str(tmp_path / "s"), "--commit", "--json", *FAST)  # fmt: skip
    assert result.exit_code == 1
    d = json.loads(result.stdout)
    s = d["summary"]
    assert (s["imported"], s["sent_not_confirmed"], s["not_imported"]) == (0, 2, 4)
    assert d["committed"] is False
